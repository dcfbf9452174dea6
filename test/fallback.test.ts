/** KIMI_FALLBACK: the same model on the next host when the chosen one fails before any text. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { call, closedAfterEach, connect, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';

const KEY = 'sk-sim-fallback-3e5a7c9b1d2f';
const MODELS = ['kimi-k3', 'kimi-k2.6', 'kimi-k2.5', 'moonshotai/kimi-k2.6'];
let runapi: Simulator;
let moonshot: Simulator;
let openrouter: Simulator;
beforeAll(async () => {
  const start = () => startSimulator({ apiKey: KEY, models: MODELS });
  [runapi, moonshot, openrouter] = await Promise.all([start(), start(), start()]);
});
afterAll(() => Promise.all([runapi, moonshot, openrouter].map((s) => s.close())));

const open = closedAfterEach();
const hosts = (extra: Record<string, string> = {}) => ({
  RUNAPI_KEY: KEY, RUNAPI_BASE_URL: runapi.baseURL,
  MOONSHOT_API_KEY: KEY, MOONSHOT_BASE_URL: moonshot.baseURL,
  OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: openrouter.baseURL,
  KIMI_FALLBACK: 'moonshot,openrouter',
  ...extra,
});
async function kimi(env: Record<string, string>): Promise<Connection> {
  const c = await connect(env);
  open.push(c);
  return c;
}
const chats = (sim: Simulator) => sim.requests.filter((r) => r.path === '/v1/chat/completions');
type Out = { text: string; provider: string; model_id: string; cost_usd: number | null; usage: { prompt_tokens: number; completion_tokens: number }; attempts?: { provider: string; error?: string }[]; partial?: boolean };
const out = (r: CallToolResult) => r.structuredContent as Out;
const unavailable = { status: 503, errorType: 'engine_overloaded_error', errorMessage: 'The engine is currently overloaded', retryAfter: '0' };

describe('host fallback', () => {
  it('on 503 after the retries, answers from the next host, at its price, listing every attempt', async () => {
    const { client } = await kimi(hosts());
    runapi.script(unavailable, unavailable, unavailable, unavailable);
    moonshot.script({ content: 'Answered by the second host.' });
    const before = chats(runapi).length;
    const r = await call(client, 'kimi_chat', { prompt: 'hi' });
    expect(r.isError).toBeFalsy();
    expect(chats(runapi).length - before).toBe(4); // the first try and three retries
    expect(out(r)).toMatchObject({ text: 'Answered by the second host.', provider: 'moonshot', model_id: 'kimi-k2.6' });
    expect(out(r).attempts).toEqual([{ provider: 'runapi', error: expect.stringMatching(/503/) }, { provider: 'moonshot' }]);
    // Moonshot's own price for kimi-k2.6: $0.95 in, $4.00 out per 1M.
    const { prompt_tokens, completion_tokens } = out(r).usage;
    expect(out(r).cost_usd).toBeCloseTo((prompt_tokens * 0.95 + completion_tokens * 4) / 1e6, 12);
    expect(textOf(r)).toMatch(/Hosts tried: runapi \(.*503.*\); moonshot \(answered\)/);
  });

  it('on a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { client } = await kimi(hosts({ RUNAPI_BASE_URL: `http://127.0.0.1:${port}/v1` }));
    moonshot.script({ content: 'Still here.' });
    const r = await call(client, 'kimi_chat', { prompt: 'hi' });
    expect(out(r)).toMatchObject({ text: 'Still here.', provider: 'moonshot' });
    expect(out(r).attempts![0]).toMatchObject({ provider: 'runapi', error: expect.stringMatching(/connect|ECONNREFUSED/i) });
  }, 30_000);

  it("on 401, with the next host's own model id", async () => {
    const { client } = await kimi(hosts({ RUNAPI_KEY: 'sk-wrong-key-000000', KIMI_FALLBACK: 'openrouter' }));
    openrouter.script({ content: 'From OpenRouter.' });
    const r = await call(client, 'kimi_chat', { prompt: 'hi' });
    expect(out(r)).toMatchObject({ text: 'From OpenRouter.', provider: 'openrouter', model_id: 'moonshotai/kimi-k2.6' });
    expect(chats(openrouter).at(-1)!.body!.model).toBe('moonshotai/kimi-k2.6');
    expect(out(r).attempts![0]).toMatchObject({ provider: 'runapi', error: expect.stringMatching(/401/) });
  });

  it('never after the first token: the partial text is returned and no other host is asked', async () => {
    const { client } = await kimi(hosts());
    runapi.script({ content: 'Half of the answer, then the line drops', chunkSize: 8, dropAfterChunks: 2 });
    const before = chats(moonshot).length + chats(openrouter).length;
    const r = await call(client, 'kimi_chat', { prompt: 'hi' });
    expect(r.isError).toBe(true);
    expect(out(r)).toMatchObject({ partial: true, text: 'Half of the answ', provider: 'runapi' });
    expect(chats(moonshot).length + chats(openrouter).length).toBe(before);
  });

  it('skips a host without a key, and one whose rules the call breaks, saying why', async () => {
    const { client } = await kimi(hosts({ KIMI_FALLBACK: 'together,openrouter,moonshot', RUNAPI_KEY: 'sk-wrong-key-000000' }));
    moonshot.script({ content: 'Moonshot answers.' });
    // thinking: false cannot be honoured by OpenRouter (no switch), so it is skipped too.
    const r = await call(client, 'kimi_chat', { prompt: 'hi', thinking: false });
    expect(out(r).provider).toBe('moonshot');
    expect(out(r).attempts).toEqual([
      { provider: 'runapi', error: expect.stringMatching(/401/) },
      { provider: 'together', error: expect.stringMatching(/^skipped: No API key for Together/) },
      { provider: 'openrouter', error: expect.stringMatching(/^skipped: OpenRouter has no switch for thinking/) },
      { provider: 'moonshot' },
    ]);
  });

  it('when every host fails, the error lists each attempt', async () => {
    const { client } = await kimi(hosts({ KIMI_FALLBACK: 'moonshot' }));
    runapi.script(unavailable, unavailable, unavailable, unavailable);
    moonshot.script(unavailable, unavailable, unavailable, unavailable);
    const r = await call(client, 'kimi_chat', { prompt: 'hi' });
    expect(r.isError).toBe(true);
    expect(out(r).attempts).toEqual([
      { provider: 'runapi', error: expect.stringMatching(/503/) },
      { provider: 'moonshot', error: expect.stringMatching(/503/) },
    ]);
  });
});
