/** The spending guard, through real MCP clients and processes, against the simulator. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../src/catalog/load.js';
import { resolveSettings } from '../src/kimi/config.js';
import { SpendingGuard } from '../src/kimi/guard.js';
import { prepareChat } from '../src/kimi/request.js';
import { BOTH_ERAS, call, closedAfterEach, connect, onElicit, ROOT, textOf } from './helpers/mcp.js';
import type { Connection, ElicitQuestion, Era } from './helpers/mcp.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-spend-8c2d4e6f0a1b';
const sim = simulatorForFile({ apiKey: KEY });

const open = closedAfterEach();
const upstream = (stateDir: string) => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir });
async function kimi(env: Record<string, string>, capabilities = {}, era: Era = 'legacy'): Promise<Connection> {
  const c = await connect(env, capabilities, era);
  open.push(c);
  return c;
}
async function spawnServer(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'spender', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'dist/cli.js')], env: { ...getDefaultEnvironment(), ...env }, stderr: 'ignore' }));
  return client;
}
const chatRequests = () => sim.requests.filter((r) => r.path === '/v1/chat/completions').length;
type Out = { cost_usd: number | null; budget?: { spent_usd: number; limit_usd: number; period: string }; notes?: string[] };
const out = (r: CallToolResult) => r.structuredContent as Out;
/** The ledger's cost lines (under a budget, reservation and release lines sit between them). */
const ledgerLines = (stateDir: string) =>
  readFileSync(join(stateDir, 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cost_usd: number; provider: string; model: string }).filter((l) => 'model' in l);

describe('per-call cap', () => {
  it('refuses a call whose worst case is over the cap, with the estimate and what to change, sending nothing', async () => {
    const { client } = await kimi({ ...upstream(tempDir('kimi-spend-')), KIMI_MAX_COST_PER_CALL_USD: '0.10' });
    const before = chatRequests();
    // No max_tokens: the worst case is the whole window of output, ~$0.52 at RunAPI's $2.00 per 1M.
    const r = await call(client, 'kimi_chat', { prompt: 'Summarise the repository.' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Not sent: this call could cost up to \$0\.52\d* \(~\d+ input \+ up to \d+ output tokens on kimi-k2\.6 via runapi at \$0\.48\/\$2\.00 per 1M\), more than KIMI_MAX_COST_PER_CALL_USD=\$0\.10\. To fit, lower max_tokens to \d+ or less/);
    expect(chatRequests()).toBe(before);
    const fits = Number(/lower max_tokens to (\d+)/.exec(textOf(r))![1]);
    expect((await call(client, 'kimi_chat', { prompt: 'Summarise the repository.', max_tokens: fits })).isError).toBeFalsy();
    expect(chatRequests()).toBe(before + 1);
  });

  it('counts an unpublished price at the highest known one, and says so', async () => {
    const { client } = await kimi({ ...upstream(tempDir('kimi-spend-')), KIMI_MAX_COST_PER_CALL_USD: '0.05' });
    // RunAPI publishes no kimi-k3 price; Moonshot's $3/$15 per 1M is the highest known.
    const refused = await call(client, 'kimi_chat', { prompt: 'x', model: 'kimi-k3', max_tokens: 10_000 });
    expect(textOf(refused)).toMatch(/up to \$0\.15\d* .*at \$3\.00\/\$15\.00 per 1M \(runapi has published no USD price, so its highest known price on any host is used\)/);
    const r = await call(client, 'kimi_chat', { prompt: 'x', model: 'kimi-k3', max_tokens: 1000 });
    expect(r.isError).toBeFalsy();
    expect(out(r).cost_usd).toBeNull();
    expect(out(r).notes?.join(' ')).toMatch(/kimi-k3 has no published USD price on runapi; the spending guard counts it at its highest known price/);
  });

  it('refuses outright when no host has published a price for the model', async () => {
    const catalog = structuredClone(loadCatalog(ROOT));
    for (const p of catalog.providers) {
      const offer = p.models['kimi-k2.7-code'];
      if (offer) offer.price = { ...offer.price, input: 'unknown', cached_input: 'unknown', output: 'unknown' };
    }
    const env = { ...upstream(tempDir('kimi-spend-')), KIMI_BUDGET_USD: '5' };
    const ctx = { catalog, settings: resolveSettings(catalog, env), env };
    const prepared = await prepareChat(ctx, { prompt: 'x', model: 'kimi-k2.7-code' });
    await expect(new SpendingGuard(ctx).admit(prepared, 100)).rejects.toThrow(/No price for kimi-k2\.7-code is published by any host, so the spending guard cannot bound this call/);
  });
});

describe('budget', () => {
  it('is reached across a restart of the server: the ledger persists, and the refusal gives the spend so far', async () => {
    const stateDir = tempDir('kimi-budget-');
    const env = { ...upstream(stateDir), KIMI_BUDGET_USD: '0.005' };
    const first = await spawnServer(env);
    try {
      sim.script({ content: 'x'.repeat(8000) }); // 2,000 output tokens: $0.004 at $2.00 per 1M
      const r = await first.callTool({ name: 'kimi_chat', arguments: { prompt: 'Write a lot.', max_tokens: 2400 } });
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as Out).budget).toMatchObject({ limit_usd: 0.005, period: 'day' });
      expect((r.structuredContent as Out).budget!.spent_usd).toBeCloseTo(0.004, 4);
    } finally {
      await first.close();
    }
    const second = await spawnServer(env);
    try {
      const before = chatRequests();
      const r = await second.callTool({ name: 'kimi_chat', arguments: { prompt: 'Write a lot again.', max_tokens: 2400 } });
      expect(r.isError).toBe(true);
      expect(textOf(r as CallToolResult)).toMatch(/Not sent: \$0\.004\d* of today's \$0\.005 budget \(KIMI_BUDGET_USD\) is spent, \$0\.00\d+ is left/);
      expect(chatRequests()).toBe(before);
      // A call small enough for what is left still goes.
      expect((await second.callTool({ name: 'kimi_chat', arguments: { prompt: 'Short.', max_tokens: 100 } })).isError).toBeFalsy();
    } finally {
      await second.close();
    }
  });

  it('two server processes spending at once are both recorded', async () => {
    const stateDir = tempDir('kimi-ledger-');
    const env = { ...upstream(stateDir), KIMI_BUDGET_USD: '10' };
    const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    try {
      await Promise.all(
        [a, b].flatMap((client) => Array.from({ length: 5 }, () => client.callTool({ name: 'kimi_chat', arguments: { prompt: 'hi', max_tokens: 100 } }))),
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const lines = ledgerLines(stateDir);
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.provider === 'runapi' && l.model === 'kimi-k2.6' && l.cost_usd > 0)).toBe(true);
  });
});

// The one input-required step (src/mcp/confirm.ts) in both eras: a legacy client is asked with a
// pushed elicitation/create (the SDK's shim), a 2026-07-28 client gets an input_required result
// and retries the call with the answer.
describe.each(BOTH_ERAS)('confirmation above KIMI_CONFIRM_ABOVE_USD (%s)', (era) => {
  const confirmEnv = () => ({ ...upstream(tempDir('kimi-confirm-')), KIMI_CONFIRM_ABOVE_USD: '0.01' });
  async function elicitingClient(answer: ElicitResult) {
    const asked: ElicitQuestion[] = [];
    const c = await kimi(confirmEnv(), { elicitation: { form: {} } }, era);
    onElicit(c.client, (question) => {
      asked.push(question);
      return answer;
    });
    return { ...c, asked };
  }
  const toolCallResults = (sent: Connection['sent']) => sent.filter((m) => 'result' in m && 'content' in (m.result as object));

  it('asks the user with the model, host and estimate; accept sends', async () => {
    const { client, asked } = await elicitingClient({ action: 'accept', content: { send: true } });
    const before = chatRequests();
    const r = await call(client, 'kimi_chat', { prompt: 'Big job.' });
    expect(r.isError).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toMatch(/Send this Kimi call\? It could cost up to \$0\.52\d*: .* on kimi-k2\.6 via runapi/);
    // One box, ticked by default and not required: accepting the form is the yes.
    expect(asked[0]!.requestedSchema).toEqual({ type: 'object', properties: { send: { type: 'boolean', title: 'Send to kimi-k2.6 on runapi', default: true } } });
    expect(chatRequests()).toBe(before + 1);
    // Below the threshold nobody is asked.
    await call(client, 'kimi_chat', { prompt: 'Small job.', max_tokens: 100 });
    expect(asked).toHaveLength(1);
    expect(chatRequests()).toBe(before + 2);
  });

  it.each([
    ['decline', { action: 'decline' }, /Not sent: the user declined the confirmation for a call that could cost up to \$0\.52/],
    ['cancel', { action: 'cancel' }, /Not sent: the user dismissed the confirmation/],
    ['accept with send: false', { action: 'accept', content: { send: false } }, /Not sent: the user declined/],
  ] as const)('%s sends nothing and says so', async (_label, answer, message) => {
    const { client, asked } = await elicitingClient(answer);
    const before = chatRequests();
    const r = await call(client, 'kimi_chat', { prompt: 'Big job.' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
    expect(asked).toHaveLength(1);
    expect(chatRequests()).toBe(before);
  });

  it.each([
    ['empty content', { action: 'accept', content: {} }],
    ['no content', { action: 'accept' }],
  ] as const)('accept with %s is a clear yes: sent', async (_label, answer) => {
    const { client, asked } = await elicitingClient(answer);
    const before = chatRequests();
    const r = await call(client, 'kimi_chat', { prompt: 'Big job.' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(chatRequests()).toBe(before + 1);
  });

  it('a client without elicitation is refused with how to proceed, and nothing is sent', async () => {
    const { client, sent } = await kimi(confirmEnv(), {}, era);
    const before = chatRequests();
    const r = await call(client, 'kimi_stream', { prompt: 'Big job.' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/above KIMI_CONFIRM_ABOVE_USD=\$0\.01, and the user cannot be asked here .* lower max_tokens to \d+ or less/);
    expect(chatRequests()).toBe(before);
    // Not asked in any form.
    expect(sent.filter((m) => 'method' in m && m.method === 'elicitation/create')).toEqual([]);
    expect(sent.filter((m) => 'result' in m && (m.result as { resultType?: string }).resultType === 'input_required')).toEqual([]);
  });

  it('a client that can only open URLs (no form elicitation) is refused with how to proceed, and nothing is sent', async () => {
    const c = await kimi(confirmEnv(), { elicitation: { url: {} } }, era);
    let asked = 0;
    onElicit(c.client, () => {
      asked++;
      return { action: 'accept' };
    });
    const before = chatRequests();
    const r = await call(c.client, 'kimi_chat', { prompt: 'Big job.' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/above KIMI_CONFIRM_ABOVE_USD=\$0\.01, and the user cannot be asked here .* lower max_tokens to \d+ or less/);
    expect(asked).toBe(0);
    expect(chatRequests()).toBe(before);
  });

  if (era === 'legacy') {
    it('asks a legacy client with one elicitation/create request, then answers the call once', async () => {
      const { client, sent, asked } = await elicitingClient({ action: 'accept', content: { send: true } });
      const before = chatRequests();
      expect((await call(client, 'kimi_chat', { prompt: 'Big job.' })).isError).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(sent.filter((m) => 'method' in m && m.method === 'elicitation/create')).toHaveLength(1);
      expect(toolCallResults(sent)).toHaveLength(1);
      expect(chatRequests()).toBe(before + 1);
    });
  } else {
    it('a 2026-07-28 client answers the input_required result by retrying: asked once, one request upstream', async () => {
      const { client, sent, asked } = await elicitingClient({ action: 'accept', content: { send: true } });
      const before = chatRequests();
      const r = await call(client, 'kimi_chat', { prompt: 'Big job.' });
      expect(r.isError).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(chatRequests()).toBe(before + 1);
      // The server pushed no request: it answered the first tools/call with the question, the retry with the reply.
      expect(sent.filter((m) => 'method' in m && m.method === 'elicitation/create')).toEqual([]);
      const required = sent.filter((m) => 'result' in m && (m.result as { resultType?: string }).resultType === 'input_required');
      expect(required).toHaveLength(1);
      expect(required[0]).toMatchObject({ result: { inputRequests: { confirm_spend: { method: 'elicitation/create', params: { mode: 'form', message: asked[0]!.message } } } } });
      expect(toolCallResults(sent)).toHaveLength(1);
      expect(sent.indexOf(required[0]!)).toBeLessThan(sent.indexOf(toolCallResults(sent)[0]!));
    });
  }
});
