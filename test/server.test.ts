import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, ERAS, textOf } from './helpers/mcp.js';
import type { AnyClient, Connection } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';

const KEY = 'sk-test-0123456789abcdef';

// Every era a client may open with: the 2025 handshake, 2026-07-28 pinned, and negotiated by server/discover.
describe.each(ERAS)('tools over MCP, no key set (%s)', (era) => {
  let client: AnyClient;
  let sent: Connection['sent'];
  let close: () => Promise<void>;
  beforeAll(async () => ({ client, sent, close } = await connect({}, {}, era)));
  afterAll(() => close());

  it('opens in the era asked for, with the server\'s name and instructions', async () => {
    const [opening] = sent as { result: Record<string, unknown> }[];
    if (era === 'legacy') {
      expect(opening!.result).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'kimi-mcp', title: 'Kimi' } });
    } else {
      // No initialize: the answer to server/discover, with the server's identity in _meta.
      expect(opening!.result).toMatchObject({ supportedVersions: ['2026-07-28'], _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'kimi-mcp', title: 'Kimi' } } });
      expect(sent.some((m) => 'result' in m && 'protocolVersion' in (m.result as object))).toBe(false);
    }
    expect(client.getServerVersion()?.name).toBe('kimi-mcp');
    expect(client.getInstructions()).toMatch(/kimi:\/\/skill/);
  });

  it('lists the tools with titles, annotations and output schemas', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['list_models', 'estimate_cost']));
    for (const t of tools) {
      expect(t.title).toBeTruthy();
      expect(t.outputSchema?.type).toBe('object');
      expect(t.annotations?.readOnlyHint).toBe(true);
    }
  });

  it('estimate_cost: a million tokens each way on kimi-k2.6 via RunAPI costs $2.48', async () => {
    const r = await call(client, 'estimate_cost', { model: 'kimi-k2.6', input_tokens: 1_000_000, output_tokens: 1_000_000 });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      model: 'kimi-k2.6',
      provider: 'runapi',
      counted_by: 'given',
      cost: { currency: 'USD', input: 0.48, output: 2, total: 2.48 },
      price: { as_of: '2026-11-23' },
    });
    expect((r.structuredContent as { price: { source: string } }).price.source).toMatch(/runapi\.ai/);
    expect(textOf(r)).toContain('$2.48');
  });

  it('estimate_cost counts text offline, template included, and says so', async () => {
    const r = await call(client, 'estimate_cost', { text: 'Review this diff for race conditions.', output_tokens: 500 });
    const s = r.structuredContent as { counted_by: string; input_tokens: number; model: string; notes: string[]; cost: { total: number } };
    expect(s.counted_by).toBe('estimate');
    expect(s.model).toBe('kimi-k2.6');
    expect(s.input_tokens).toBeGreaterThan(8);
    expect(s.input_tokens).toBeLessThan(20);
    expect(s.notes.join(' ')).toMatch(/offline estimate/i);
    expect(s.cost.total).toBeGreaterThan(0);
  });

  it('estimate_cost counts messages and prices cached tokens at the cached rate', async () => {
    const r = await call(client, 'estimate_cost', {
      messages: [
        { role: 'system', content: 'You are a code reviewer.' },
        { role: 'user', content: [{ type: 'text', text: 'Is this safe?' }] },
      ],
      cached_tokens: 5,
      output_tokens: 0,
    });
    const s = r.structuredContent as { cached_tokens: number; cost: { cached: number } };
    expect(s.cached_tokens).toBe(5);
    expect(s.cost.cached).toBeCloseTo((5 * 0.08) / 1e6, 12);
  });

  it('estimate_cost reports an unknown price as unknown instead of inventing one', async () => {
    const r = await call(client, 'estimate_cost', { model: 'kimi-k3', input_tokens: 1000, output_tokens: 1000 });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ cost: { total: null } });
    expect(textOf(r)).toMatch(/cost unknown/);
  });

  it('estimate_cost prices a China-platform call in yuan, labelled as such', async () => {
    const r = await call(client, 'estimate_cost', { model: 'kimi-k2.6', provider: 'moonshot-cn', input_tokens: 1_000_000 });
    expect(r.structuredContent).toMatchObject({ cost: { currency: 'CNY', input: 6.5 } });
    expect(textOf(r)).toContain('¥6.50');
  });

  it.each([
    [{ model: 'kimi-k2.6' }, /exactly one of input_tokens/],
    [{ input_tokens: 10, text: 'hi' }, /exactly one of input_tokens/],
    [{ model: 'gpt-5', input_tokens: 10 }, /model: .*kimi-k2\.6/],
    [{ input_tokens: -1 }, /input_tokens: .*>=0/],
    [{ provider: 'azure', input_tokens: 10 }, /Unknown provider "azure"\. Use one of: runapi, /],
    [{ model: 'kimi-k3', provider: 'openrouter', input_tokens: 10 }, /openrouter does not serve kimi-k3\. Hosts that do: runapi, moonshot/],
  ])('estimate_cost refuses %j with a message that says what to do', async (args, message) => {
    const r = await call(client, 'estimate_cost', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
  });

  it('refuses a misspelt argument instead of dropping it, naming it, the likely fix and what is accepted', async () => {
    const r = await call(client, 'estimate_cost', { model: 'kimi-k2.6', input_tokens: 10, ouput_tokens: 5 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe('estimate_cost does not take "ouput_tokens" (did you mean output_tokens?); nothing was sent. It accepts: model, provider, input_tokens, text, messages, files, output_tokens, cached_tokens.');
    const models = await call(client, 'list_models', { provider: 'runapi', verbose: true });
    expect(textOf(models)).toMatch(/^list_models does not take "verbose"; nothing was sent\. It accepts: provider, live\.$/);
  });

  it('list_models gives every model its limits and every host its ID and sourced price', async () => {
    const r = await call(client, 'list_models', {});
    const { models } = r.structuredContent as { models: { id: string; max_output: number; hosts: { provider: string; model_id: string; price: { source: string } }[] }[] };
    expect(models.map((m) => m.id)).toEqual(['kimi-k3.1-pro', 'kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5', 'kimi-for-coding']);
    const k26 = models.find((m) => m.id === 'kimi-k2.6')!;
    expect(k26.hosts.find((h) => h.provider === 'fireworks')?.model_id).toBe('accounts/fireworks/models/kimi-k2p6');
    expect(k26.hosts.every((h) => h.price.source.length > 0)).toBe(true);
    expect(textOf(r)).toMatch(/kimi-k2\.6: 262144 ctx/);
  });

  it('list_models filters by host, dropping models the host does not serve', async () => {
    const r = await call(client, 'list_models', { provider: 'openrouter' });
    const { models } = r.structuredContent as { models: { id: string; hosts: { provider: string }[] }[] };
    expect(models.map((m) => m.id)).toEqual(['kimi-k2.6', 'kimi-k2.5']);
    expect(models.flatMap((m) => m.hosts.map((h) => h.provider))).toEqual(['openrouter', 'openrouter']);
  });

  it('list_models live without a key still returns the catalog and says which variable to set', async () => {
    const r = await call(client, 'list_models', { live: true });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { models: unknown[]; live: { provider: string; error: string } };
    expect(s.models).toHaveLength(6);
    expect(s.live.provider).toBe('runapi');
    expect(s.live.error).toMatch(/set RUNAPI_KEY/);
  });
});

describe.each(ERAS)('tools over MCP against the Kimi simulator (%s)', (era) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY, tokenCount: 1234, models: ['kimi-k2.6', 'kimi-k2.5', 'kimi-k2.8-preview'], leakKeyInErrors: true });
  });
  afterAll(() => sim.close());
  const connectTo = (env: Record<string, string>) => connect(env, {}, era);

  it('list_models live marks which catalog IDs the host really lists and shows new ones', async () => {
    const { client, close } = await connectTo({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL });
    try {
      const r = await call(client, 'list_models', { live: true, provider: 'runapi' });
      const s = r.structuredContent as { models: { id: string; hosts: { listed?: boolean }[] }[]; live: { kimi_ids: string[]; error?: string } };
      expect(s.live.error).toBeUndefined();
      expect(s.live.kimi_ids).toEqual(['kimi-k2.5', 'kimi-k2.6', 'kimi-k2.8-preview']);
      expect(s.models.find((m) => m.id === 'kimi-k2.6')!.hosts[0]!.listed).toBe(true);
      expect(s.models.find((m) => m.id === 'kimi-k3')!.hosts[0]!.listed).toBe(false);
      expect(sim.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' });
    } finally {
      await close();
    }
  });

  it('estimate_cost uses Moonshot\'s exact count endpoint when a key is set, and says so', async () => {
    const { client, close } = await connectTo({ MOONSHOT_API_KEY: KEY, MOONSHOT_BASE_URL: sim.baseURL });
    try {
      const r = await call(client, 'estimate_cost', { provider: 'moonshot', text: 'Count me exactly.', output_tokens: 0 });
      expect(r.structuredContent).toMatchObject({ counted_by: 'exact', input_tokens: 1234 });
      const last = sim.requests.at(-1)!;
      expect(last.path).toBe('/v1/tokenizers/estimate-token-count');
      expect(last.body).toEqual({ model: 'kimi-k2.6', messages: [{ role: 'user', content: 'Count me exactly.' }] });
    } finally {
      await close();
    }
  });

  it('falls back to the offline estimate when the count endpoint fails, and never shows the key', async () => {
    const { client, close } = await connectTo({ MOONSHOT_API_KEY: `${KEY}-wrong`, MOONSHOT_BASE_URL: sim.baseURL });
    try {
      const r = await call(client, 'estimate_cost', { provider: 'moonshot', text: 'Count me.', output_tokens: 0 });
      const s = r.structuredContent as { counted_by: string; notes: string[] };
      expect(s.counted_by).toBe('estimate');
      expect(s.notes.join(' ')).toMatch(/Exact count failed.*401.*incorrect_api_key_error/);
      const everything = JSON.stringify(r);
      expect(everything).not.toContain(KEY);
      expect(everything).toContain('[redacted]');
    } finally {
      await close();
    }
  });

  it('sends an OpenAI key only to the host its OPENAI_BASE_URL names', async () => {
    const named = await connectTo({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: sim.baseURL, RUNAPI_BASE_URL: sim.baseURL });
    try {
      const r = await call(named.client, 'list_models', { live: true });
      expect((r.structuredContent as { live: { error?: string } }).live.error).toBeUndefined();
    } finally {
      await named.close();
    }
    const before = sim.requests.length;
    const unnamed = await connectTo({ OPENAI_API_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL });
    try {
      const r = await call(unnamed.client, 'list_models', { live: true });
      expect((r.structuredContent as { live: { error?: string } }).live.error).toMatch(/No API key/);
      expect(sim.requests.length).toBe(before);
    } finally {
      await unnamed.close();
    }
  });

  it('treats an unexpanded ${RUNAPI_KEY} placeholder as unset and explains why', async () => {
    const { client, close } = await connectTo({ RUNAPI_KEY: '${RUNAPI_KEY}', RUNAPI_BASE_URL: sim.baseURL });
    try {
      const r = await call(client, 'list_models', { live: true });
      expect((r.structuredContent as { live: { error: string } }).live.error).toMatch(/unexpanded placeholder/);
    } finally {
      await close();
    }
  });
});
