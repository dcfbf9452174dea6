/**
 * The catalog as of the December 2026 refresh, through the tools against the simulator:
 * kimi-k3.1-pro on Moonshot, kimi-k2.5 deprecated there, the Kimi Code plan (no money, and the
 * spending guard, ledger and usage report say so), what the prompt cache saved, reasoning_effort
 * only where model and host take it, and Preserved Thinking sent back byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { LedgerEntry } from '../src/state/ledger.js';
import { formatUsage, usageReport } from '../src/kimi/usage-report.js';
import { call, closedAfterEach, connect, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-catalog-3e1f9a7c';
const sim = simulatorForFile({ apiKey: KEY });

const open = closedAfterEach();

/** Every host the simulator can play, each with its own key variable and base URL. */
function hosts(stateDir: string): Record<string, string> {
  return {
    RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL,
    MOONSHOT_API_KEY: KEY, MOONSHOT_BASE_URL: sim.baseURL,
    KIMI_CODE_API_KEY: KEY, KIMI_CODE_BASE_URL: sim.baseURL,
    KIMI_MCP_STATE_DIR: stateDir,
  };
}
async function kimi(env: Record<string, string> = {}, stateDir = tempDir('kimi-current-')): Promise<Connection['client']> {
  const c = await connect({ ...hosts(stateDir), ...env });
  open.push(c);
  return c.client;
}
const chatBodies = () => sim.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body!);
type Out = {
  cost: Record<string, unknown> | null; cost_usd: number | null; notes?: string[]; conversation_id?: string;
  usage: { cached_tokens: number } | null; budget?: { spent_usd: number };
};
const out = (r: CallToolResult) => r.structuredContent as Out;

describe('list_models', () => {
  it('shows kimi-k3.1-pro on Moonshot with its sourced price, the Kimi Code plan, and kimi-k2.5 deprecated on Moonshot only', async () => {
    const r = await call(await kimi(), 'list_models', {});
    type Host = { provider: string; price: Record<string, unknown>; deprecated?: { source: string } };
    const { models } = r.structuredContent as { models: { id: string; context_window: number | string; max_output: number | string; hosts: Host[] }[] };
    const byId = new Map(models.map((m) => [m.id, m]));
    expect(models[0]!.id).toBe('kimi-k3.1-pro');
    expect(byId.get('kimi-k3.1-pro')).toMatchObject({ context_window: 1_048_576, max_output: 'unknown' });
    expect(byId.get('kimi-k3.1-pro')!.hosts).toEqual([
      { provider: 'moonshot', model_id: 'kimi-k3.1-pro', price: { input: 2, cached_input: 0.2, output: 10, currency: 'USD', source: expect.stringMatching(/neurolink/), as_of: '2026-09-29' } },
    ]);
    expect(byId.get('kimi-for-coding')!.hosts).toEqual([
      { provider: 'kimi-code', model_id: 'kimi-for-coding', price: { plan: expect.stringMatching(/^Kimi Code membership/), source: expect.any(String), as_of: '2026-12' } },
    ]);
    const deprecated = byId.get('kimi-k2.5')!.hosts.filter((h) => h.deprecated).map((h) => h.provider);
    expect(deprecated).toEqual(['moonshot']);
    expect(byId.get('kimi-k2.5')!.hosts.length).toBeGreaterThan(1);

    const text = textOf(r);
    expect(text).toMatch(/^kimi-k3\.1-pro: 1048576 ctx, unknown max out, text, always thinks, reasoning_effort low\/high\/max; moonshot \$2\.00\/\$0\.20\/\$10\.00$/m);
    expect(text).toMatch(/^kimi-for-coding: unknown ctx, .*; kimi-code no money: Kimi Code membership \(its quota per 5 hours\)$/m);
    expect(text).toMatch(/moonshot \$0\.60\/\$0\.10\/\$3\.00 \(deprecated by this host\)/);
    expect(text).not.toMatch(/kimi-code (\$|\?)/);
  });
});

describe('the Kimi Code plan', () => {
  it('a call reads as covered by the plan, not $0 and not unknown; the budget admits it without counting it, and says so', async () => {
    const stateDir = tempDir('kimi-plan-');
    // Limits so small that any money at all would be refused.
    const client = await kimi({ KIMI_PROVIDER: 'kimi-code', KIMI_MODEL: 'kimi-for-coding', KIMI_BUDGET_USD: '0.000001', KIMI_MAX_COST_PER_CALL_USD: '0.000001' }, stateDir);
    const before = chatBodies().length;
    const r = await call(client, 'kimi_chat', { prompt: 'plan question one' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(out(r).cost).toEqual({ covered_by_plan: expect.stringMatching(/^Kimi Code membership/) });
    expect(out(r).cost_usd).toBeNull();
    const footer = textOf(r).split('\n').at(-1)!;
    expect(footer).toMatch(/^— kimi-for-coding on kimi-code · .* · no money: covered by the Kimi Code membership/);
    expect(footer).not.toMatch(/\$|cost unknown/);
    expect(out(r).notes?.join(' ')).toMatch(/kimi-for-coding on kimi-code is covered by the Kimi Code membership .*: it costs no money, so the spending limits do not count it/);
    expect(out(r).budget?.spent_usd).toBe(0);
    // The plan wants a prompt_cache_key: the conversation's id.
    const [sent] = chatBodies().slice(before);
    expect(sent).toMatchObject({ model: 'kimi-for-coding', prompt_cache_key: out(r).conversation_id });

    const again = await call(client, 'kimi_chat', { prompt: 'plan question two' });
    expect(again.isError, textOf(again)).toBeFalsy();

    const entries = readFileSync(join(stateDir, 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LedgerEntry);
    const settled = entries.filter((e) => e.provider === 'kimi-code' && typeof e.prompt_tokens === 'number');
    expect(settled).toHaveLength(2);
    for (const e of settled) expect(e).toMatchObject({ cost_usd: null, covered_by_plan: expect.stringMatching(/^Kimi Code membership/) });
    const report = formatUsage(usageReport(entries));
    expect(report).toMatch(/\| kimi-for-coding \| kimi-code +\| +2 \| .* \| 2 covered by plan \|/);
    expect(report).toMatch(/2 call\(s\) were covered by a membership plan .*: they cost no money/);
    expect(report).not.toMatch(/unpriced/);
  });

  it('estimate_cost says the plan covers the call, without an amount', async () => {
    const r = await call(await kimi(), 'estimate_cost', { provider: 'kimi-code', model: 'kimi-for-coding', input_tokens: 100_000, output_tokens: 20_000 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ cost: { covered_by_plan: expect.stringMatching(/^Kimi Code membership/) }, price: { plan: expect.any(String) } });
    expect(textOf(r)).toMatch(/^cost: no money: covered by the Kimi Code membership/m);
    expect(textOf(r)).toMatch(/kimi-code bills no tokens: .* costs no money and spending limits do not count it/);
    expect(textOf(r)).not.toMatch(/\$|unknown/);
  });
});

describe('the prompt cache', () => {
  it.each(['top', 'details'] as const)('a reply with cached input (%s layout) shows the cached tokens and the money they saved', async (layout) => {
    const marker = `cache-${layout}`;
    sim.scriptFor(marker, { cachedTokens: 800, cachedLayout: layout });
    const r = await call(await kimi(), 'kimi_chat', { prompt: `${marker} ${'stable prefix '.repeat(400)}` });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(out(r).usage?.cached_tokens).toBe(800);
    // RunAPI kimi-k2.6: 800 tokens at $0.08 instead of $0.48 per 1M.
    expect(out(r).cost).toMatchObject({ currency: 'USD', cached: 0.000064, saved_by_cache: 0.00032 });
    expect(textOf(r)).toMatch(/\(800 cached\) .* · \$0\.\d+, \$0\.00032 saved by the prompt cache ·/);
  });
});

describe('reasoning_effort', () => {
  it('is refused on RunAPI, which takes no reasoning controls, with nothing sent and the host that takes it named', async () => {
    const client = await kimi();
    const before = sim.requests.length;
    const r = await call(client, 'kimi_chat', { model: 'kimi-k3', prompt: 'think hard', reasoning_effort: 'max' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^RunAPI accepts no reasoning controls, so reasoning_effort cannot be sent there; omit it, or use a host that takes it \(moonshot\)\./);
    expect(sim.requests.length).toBe(before);
  });

  it('is refused for a model without the knob, naming the models that have it', async () => {
    const client = await kimi({ KIMI_PROVIDER: 'moonshot' });
    const before = sim.requests.length;
    const r = await call(client, 'kimi_stream', { model: 'kimi-k2.6', prompt: 'hi', reasoning_effort: 'low' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^kimi-k2\.6 takes no reasoning_effort; omit it, or use a model that does \(kimi-k3\.1-pro, kimi-k3\)\./);
    expect(sim.requests.length).toBe(before);
  });

  it('is passed through where model and host take it', async () => {
    const client = await kimi({ KIMI_PROVIDER: 'moonshot' });
    const before = chatBodies().length;
    const r = await call(client, 'kimi_chat', { model: 'kimi-k3.1-pro', prompt: 'effort please', reasoning_effort: 'low', max_tokens: 500 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const [sent] = chatBodies().slice(before);
    expect(sent).toMatchObject({ model: 'kimi-k3.1-pro', reasoning_effort: 'low', max_completion_tokens: 500 });
    expect(sent).not.toHaveProperty('max_tokens');
  });
});

describe('Preserved Thinking', () => {
  // Spaces, CRLF, a tab, quotes, a backslash, accents and an emoji the simulator's chunks cut in half.
  const thought = 'Step 1:  weigh it.\r\n\tThen "quote" a \\ and naïve ünïcødé 🧠 ok  ';

  it('a second turn of kimi-k3.1-pro sends the first reply\'s reasoning back exactly as received; kimi-k2.6 (no Preserved Thinking) gets text only', async () => {
    const client = await kimi({ KIMI_PROVIDER: 'moonshot' });
    sim.scriptFor('preserved first', { reasoning: thought, content: 'First answer.' });
    const first = await call(client, 'kimi_chat', { model: 'kimi-k3.1-pro', prompt: 'preserved first' });
    expect(first.isError, textOf(first)).toBeFalsy();
    const before = chatBodies().length;
    const second = await call(client, 'kimi_chat', { conversation_id: out(first).conversation_id, prompt: 'preserved second' });
    expect(second.isError, textOf(second)).toBeFalsy();
    const [sent] = chatBodies().slice(before);
    expect(sent!.messages).toEqual([
      { role: 'user', content: 'preserved first' },
      { role: 'assistant', content: 'First answer.', reasoning_content: thought },
      { role: 'user', content: 'preserved second' },
    ]);

    sim.scriptFor('plain first', { reasoning: thought, content: 'Plain answer.' });
    const plain = await call(client, 'kimi_chat', { model: 'kimi-k2.6', prompt: 'plain first' });
    const beforePlain = chatBodies().length;
    await call(client, 'kimi_chat', { conversation_id: out(plain).conversation_id, prompt: 'plain second' });
    const [plainSent] = chatBodies().slice(beforePlain);
    expect((plainSent!.messages as unknown[])[1]).toEqual({ role: 'assistant', content: 'Plain answer.' });
  });
});
