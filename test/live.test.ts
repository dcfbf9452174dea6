/** A tiny real call through RunAPI. Skipped unless RUNAPI_KEY is set; never part of CI. */
import { describe, expect, it } from 'vitest';
import { call, connect } from './helpers/mcp.js';

const key = process.env.RUNAPI_KEY;

describe.skipIf(!key)('live RunAPI smoke test', () => {
  it('gets a short answer from kimi-k2.6 with usage and cost', async () => {
    const { client, close } = await connect({ RUNAPI_KEY: key, RUNAPI_BASE_URL: process.env.RUNAPI_BASE_URL });
    try {
      const r = await call(client, 'kimi_chat', { prompt: 'Reply with the single word: pong', thinking: false, max_tokens: 16 });
      expect(r.isError).toBeFalsy();
      const s = r.structuredContent as { text: string; usage: { prompt_tokens: number }; cost_usd: number };
      expect(s.text.toLowerCase()).toContain('pong');
      expect(s.usage.prompt_tokens).toBeGreaterThan(0);
      expect(s.cost_usd).toBeGreaterThan(0);
    } finally {
      await close();
    }
  }, 60_000);
});
