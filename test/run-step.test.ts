/**
 * One kimi_agent step on the call path (src/kimi/run-step.ts), against the simulator through the
 * real openai SDK: tool calls streamed in pieces and reassembled, the history (tool results,
 * reasoning) sent upstream as the loop keeps it, hosts that take no tools refused before anything
 * is sent, fallback only to hosts that take them, the step's own ceiling and the budget, cost and
 * the ledger, and what arrived before a cancel or a broken stream.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/load.js';
import { ChatFailure } from '../src/kimi/chat.js';
import { resolveSettings } from '../src/kimi/config.js';
import type { CallContext } from '../src/kimi/config.js';
import type { ChatMessage } from '../src/kimi/messages.js';
import { runChat } from '../src/kimi/run-chat.js';
import { defaultAgentModel, requireToolSupport, runStep, toolCapableOffers } from '../src/kimi/run-step.js';
import type { StepResult, ToolSpec } from '../src/kimi/run-step.js';
import { ROOT } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-step-4c8e2a6f0b1d3e57';
const catalog = loadCatalog(ROOT);
/** RunAPI as the simulator plays it: K3 and K2.7 Code take basic text only. */
let runapi: Simulator;
let moonshot: Simulator;
let together: Simulator;
beforeAll(async () => {
  [runapi, moonshot, together] = await Promise.all([
    startSimulator({ apiKey: KEY, basicTextOnly: ['kimi-k3', 'kimi-k2.7-code'] }),
    startSimulator({ apiKey: KEY }),
    startSimulator({ apiKey: KEY, models: ['moonshotai/Kimi-K2.6'] }),
  ]);
});
afterAll(() => Promise.all([runapi, moonshot, together].map((s) => s.close())));

function context(extra: Record<string, string> = {}): CallContext {
  const env = {
    RUNAPI_KEY: KEY, RUNAPI_BASE_URL: runapi.baseURL,
    MOONSHOT_API_KEY: KEY, MOONSHOT_BASE_URL: moonshot.baseURL,
    TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: together.baseURL,
    KIMI_MCP_STATE_DIR: tempDir('kimi-step-state-'),
    ...extra,
  };
  return { catalog, settings: resolveSettings(catalog, env), env };
}

const chatRequests = (sim: Simulator) => sim.requests.filter((r) => r.path === '/v1/chat/completions');
const signal = () => new AbortController().signal;

const TOOLS: ToolSpec[] = [
  { name: 'grep', description: 'Search files for a regular expression.', parameters: { type: 'object', properties: { pattern: { type: 'string' }, glob: { type: 'string' } }, required: ['pattern'] } },
  { name: 'read', description: 'Read a file, or path:from-to.', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
];
const TASK: ChatMessage[] = [
  { role: 'system', content: 'You explore a project with read-only tools.' },
  { role: 'user', content: 'Why does the HTTP server drop the session on reconnect?' },
];
/** The assistant turn as the loop keeps it: text, tool calls, and the reasoning a thinking model wants back. */
const assistantTurn = (step: StepResult): ChatMessage => ({
  role: 'assistant',
  content: step.text,
  tool_calls: step.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
  reasoning_content: step.reasoning,
});

/** The ledger's cost lines (reservation lines left out). */
const ledgerCosts = (ctx: CallContext) =>
  readFileSync(join(ctx.env.KIMI_MCP_STATE_DIR!, 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'model' in l);

describe('one agent step', () => {
  it('returns the tool calls the model asked for, reassembled from deltas split mid-argument, ids and arguments intact', async () => {
    const ctx = context();
    const grep = '{"pattern": "reconnect|session\\\\.close", "glob": "src/**/*.ts"}';
    const read = '{"path": "src/http/server.ts:80-140"}';
    runapi.script({ content: 'Let me look.', reasoning: 'Search first, then read.', argumentsChunkSize: 3, toolCalls: [{ name: 'grep', arguments: grep }, { name: 'read', arguments: read }] });
    const step = await runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() });
    expect(step).toMatchObject({ text: 'Let me look.', reasoning: 'Search first, then read.', finish_reason: 'tool_calls', model: 'kimi-k2.6', provider: 'runapi' });
    expect(step.tool_calls).toEqual([{ id: 'grep_0', name: 'grep', arguments: grep }, { id: 'read_1', name: 'read', arguments: read }]);
    // The tools went up as OpenAI function tools.
    const sent = chatRequests(runapi).at(-1)!.body!;
    expect(sent.tools).toEqual(TOOLS.map((t) => ({ type: 'function', function: t })));
    expect(sent.messages).toEqual(TASK);
  });

  it('sends the history as the loop keeps it: tool results and each assistant turn with its tool calls and reasoning', async () => {
    const ctx = context();
    runapi.script({ reasoning: 'I should grep for reconnect.', toolCalls: [{ name: 'grep', arguments: '{"pattern": "reconnect"}' }] });
    const first = await runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() });
    const history: ChatMessage[] = [
      ...TASK,
      assistantTurn(first),
      { role: 'tool', tool_call_id: first.tool_calls[0]!.id, name: 'grep', content: 'src/http/sessions.ts:41: onReconnect() { this.sessions.delete(id) }' },
    ];
    runapi.script({ content: 'sessions.ts:41 deletes the session on reconnect.' });
    const second = await runStep(ctx, { messages: history, tools: TOOLS }, { signal: signal() });
    expect(second).toMatchObject({ text: 'sessions.ts:41 deletes the session on reconnect.', finish_reason: 'stop', tool_calls: [] });
    const sent = chatRequests(runapi).at(-1)!.body!.messages as ChatMessage[];
    expect(sent).toEqual(history);
    expect(sent[2]!.reasoning_content).toBe('I should grep for reconnect.');
  });

  it('a thinking model gets its reasoning back with its tool calls: without it the host refuses the step', async () => {
    const ctx = context();
    runapi.script({ reasoning: 'Reasoning the host wants back.', toolCalls: [{ name: 'read', arguments: '{"path": "README.md"}' }] });
    const first = await runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() });
    const answer: ChatMessage = { role: 'tool', tool_call_id: 'read_0', name: 'read', content: '1: # kimi-mcp' };
    const { reasoning_content: _dropped, ...bare } = assistantTurn(first);
    const refused = runStep(ctx, { messages: [...TASK, bare as ChatMessage, answer], tools: TOOLS }, { signal: signal() });
    await expect(refused).rejects.toThrow(/reasoning_content is missing in assistant tool call message at index 2/);
    const kept = await runStep(ctx, { messages: [...TASK, assistantTurn(first), answer], tools: TOOLS }, { signal: signal() });
    expect(kept.finish_reason).toBe('stop');
  });

  it('the concluding step (no tools) sends neither tools nor tool_choice, and keeps the tool history', async () => {
    const ctx = context();
    runapi.script({ toolCalls: [{ name: 'grep', arguments: '{"pattern": "x"}' }] });
    const first = await runStep(ctx, { messages: TASK, tools: TOOLS, tool_choice: 'auto' }, { signal: signal() });
    expect(chatRequests(runapi).at(-1)!.body!.tool_choice).toBe('auto');
    const history = [...TASK, assistantTurn(first), { role: 'tool', tool_call_id: 'grep_0', content: 'no matches' } as ChatMessage, { role: 'user', content: 'Answer now.' } as ChatMessage];
    runapi.script({ content: 'Nothing found.' });
    await runStep(ctx, { messages: history, tools: [], tool_choice: 'auto' }, { signal: signal() });
    const body = chatRequests(runapi).at(-1)!.body!;
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('tool_choice');
    expect(body.messages).toEqual(history);
  });
});

describe('hosts and models that take tools', () => {
  it('the catalog says, with sources: RunAPI takes no tools for K3 and K2.7 Code, takes them for K2.6 and K2.5; unpublished is unknown', () => {
    const runapiEntry = catalog.providers.find((p) => p.id === 'runapi')!;
    for (const id of ['kimi-k3', 'kimi-k2.7-code']) expect(runapiEntry.models[id]!.tool_calls).toMatchObject({ accepted: false, source: expect.stringMatching(/runapi-ai\/kimi README/) });
    for (const id of ['kimi-k2.6', 'kimi-k2.5']) expect(runapiEntry.models[id]!.tool_calls).toMatchObject({ accepted: true, source: expect.stringMatching(/runapi-ai\/kimi README/) });
    expect(catalog.providers.find((p) => p.id === 'together')!.models['kimi-k2.6']!.tool_calls).toBe('unknown');
    const offers = toolCapableOffers(context());
    expect(offers.find((o) => o.model === 'kimi-k2.6')!.providers).toEqual(expect.arrayContaining(['runapi', 'moonshot']));
    expect(offers.find((o) => o.model === 'kimi-k3')!.providers).toEqual(['moonshot']);
    expect(offers.flatMap((o) => o.providers)).not.toContain('together');
  });

  it('refuses a text-only model on RunAPI before sending, naming the models and hosts that take tools', async () => {
    const ctx = context();
    const before = chatRequests(runapi).length;
    const step = runStep(ctx, { model: 'kimi-k3', messages: TASK, tools: TOOLS }, { signal: signal() });
    await expect(step).rejects.toThrow(/RunAPI does not accept tool calls for kimi-k3 \(runapi-ai\/kimi README.*\)\. Nothing was sent\. Models and hosts that accept tool calls: .*kimi-k3 on moonshot.*kimi-k2\.6 on runapi, moonshot/);
    expect(() => requireToolSupport(ctx, 'kimi-k2.7-code', 'runapi')).toThrow(/does not accept tool calls for kimi-k2\.7-code/);
    expect(chatRequests(runapi).length).toBe(before);
    // What the check spares the user: RunAPI itself refuses tool history for K3 (the simulator plays it).
    const history = [...TASK, { role: 'assistant', content: '', reasoning_content: 'r', tool_calls: [{ id: 'read_0', type: 'function', function: { name: 'read', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'read_0', content: 'x' }] as ChatMessage[];
    await expect(runChat(ctx, { model: 'kimi-k3', messages: history }, { signal: signal() })).rejects.toThrow(/basic text only/);
  });

  it('refuses a host where nobody published whether it takes tools, before sending', async () => {
    const ctx = context({ KIMI_PROVIDER: 'together' });
    await expect(runStep(ctx, { model: 'kimi-k2.6', messages: TASK, tools: TOOLS }, { signal: signal() })).rejects.toThrow(/Whether Together AI accepts tool calls for kimi-k2\.6 is not published.*Nothing was sent.*kimi-k2\.6 on runapi/);
    await expect(runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() })).rejects.toThrow(/Together AI accepts tool calls for none of its models.*kimi-k2\.6 on runapi/);
    expect(defaultAgentModel(ctx)).toBeUndefined();
    expect(chatRequests(together)).toHaveLength(0);
  });

  it('defaults to the configured model where the host takes tools for it, else the newest model it takes them for', () => {
    expect(defaultAgentModel(context())).toEqual({ model: 'kimi-k2.6', provider: 'runapi' });
    expect(defaultAgentModel(context({ KIMI_MODEL: 'kimi-k3' }))).toEqual({ model: 'kimi-k2.6', provider: 'runapi' });
    expect(defaultAgentModel(context({ KIMI_PROVIDER: 'moonshot', KIMI_MODEL: 'kimi-k3' }))).toEqual({ model: 'kimi-k3', provider: 'moonshot' });
    expect(defaultAgentModel(context({ KIMI_PROVIDER: 'moonshot' }))).toEqual({ model: 'kimi-k2.6', provider: 'moonshot' });
  });

  it('falls back per step, only to hosts that take tools for the model', async () => {
    const ctx = context({ KIMI_FALLBACK: 'together,moonshot' });
    const unavailable = { status: 503, errorType: 'engine_overloaded_error', errorMessage: 'The engine is currently overloaded', retryAfter: '0' };
    runapi.script(unavailable, unavailable, unavailable, unavailable);
    moonshot.script({ toolCalls: [{ name: 'grep', arguments: '{"pattern": "reconnect"}' }] });
    const step = await runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() });
    expect(step).toMatchObject({ provider: 'moonshot', tool_calls: [{ id: 'grep_0', name: 'grep' }] });
    expect(step.attempts).toEqual([
      { provider: 'runapi', error: expect.stringMatching(/503/) },
      { provider: 'together', error: 'skipped: together does not accept tool calls for kimi-k2.6' },
      { provider: 'moonshot' },
    ]);
    expect(chatRequests(together)).toHaveLength(0);
    expect(chatRequests(moonshot).at(-1)!.body!.tools).toHaveLength(2);
    // The next step starts again at the chosen host.
    runapi.script({ content: 'Back on RunAPI.' });
    const history = [...TASK, assistantTurn(step), { role: 'tool', tool_call_id: 'grep_0', content: 'none' } as ChatMessage];
    expect(await runStep(ctx, { messages: history, tools: TOOLS }, { signal: signal() })).toMatchObject({ provider: 'runapi', text: 'Back on RunAPI.' });
  });
});

describe('what a step may cost, and what it did cost', () => {
  it('refuses a step whose worst case exceeds maxCostUsd, before sending, saying what max_tokens fits', async () => {
    const ctx = context();
    const before = chatRequests(runapi).length;
    const step = runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal(), maxCostUsd: 0.01 });
    // kimi-k2.6 on RunAPI: $0.48 in, $2.00 out per 1M; with no max_tokens the worst case is the whole window.
    await expect(step).rejects.toThrow(/^Not sent: this step could cost up to \$0\.5\d+ \(.*kimi-k2\.6 via runapi.*\), more than the \$0\.01 left of max_cost_usd\. To fit, lower max_tokens to 4\d{3} or less/);
    expect(chatRequests(runapi).length).toBe(before);
    runapi.script({ content: 'Fits.' });
    await expect(runStep(ctx, { messages: TASK, tools: TOOLS, max_tokens: 4000 }, { signal: signal(), maxCostUsd: 0.01 })).resolves.toMatchObject({ text: 'Fits.' });
  });

  it('counts the tool declarations and earlier calls as prompt: a history past the window is refused before sending', async () => {
    const ctx = context();
    const before = chatRequests(runapi).length;
    const huge = JSON.stringify({ path: 'src/big.ts', content: 'const value = 42;\n'.repeat(70_000) });
    const history: ChatMessage[] = [...TASK, { role: 'assistant', content: '', reasoning_content: 'r', tool_calls: [{ id: 'write_0', type: 'function', function: { name: 'write', arguments: huge } }] }, { role: 'tool', tool_call_id: 'write_0', content: 'ok' }];
    await expect(runStep(ctx, { messages: history, tools: TOOLS }, { signal: signal() })).rejects.toThrow(/The prompt is about \d+ tokens, more than kimi-k2\.6's 262144-token window/);
    expect(chatRequests(runapi).length).toBe(before);
  });

  it('refuses a step the budget cannot hold, before sending', async () => {
    const ctx = context({ KIMI_BUDGET_USD: '0.001' });
    const before = chatRequests(runapi).length;
    await expect(runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() })).rejects.toThrow(/^Not sent: .*KIMI_BUDGET_USD.*this call could cost up to/);
    expect(chatRequests(runapi).length).toBe(before);
  });

  it('prices usage as kimi_chat does (tool-call arguments are output) and writes each step to the ledger', async () => {
    const ctx = context();
    runapi.script({ content: '', reasoning: 'Look at the server.', toolCalls: [{ name: 'read', arguments: '{"path": "src/http/server.ts"}' }] });
    const step = await runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() });
    const { prompt_tokens, completion_tokens } = step.usage!;
    // The simulator bills content, reasoning and the calls' names and arguments, at ~4 characters a token.
    expect(completion_tokens).toBe(Math.ceil(('read'.length + '{"path": "src/http/server.ts"}'.length) / 4) + Math.ceil('Look at the server.'.length / 4));
    expect(step.cost_usd).toBeCloseTo((prompt_tokens * 0.48 + completion_tokens * 2) / 1e6, 12);
    expect(step.cost).toMatchObject({ currency: 'USD', total: step.cost_usd });
    runapi.script({ content: 'Done.' });
    const next = await runStep(ctx, { messages: [...TASK, assistantTurn(step), { role: 'tool', tool_call_id: 'read_0', content: '1: import' }], tools: TOOLS }, { signal: signal() });
    expect(ledgerCosts(ctx).map((l) => l.cost_usd)).toEqual([step.cost_usd, next.cost_usd]);
  });
});

describe('a step that does not finish', () => {
  it('a cancel mid-step closes the upstream request and returns the text that arrived', async () => {
    const ctx = context();
    const ac = new AbortController();
    runapi.script({ content: 'The session is dropped because the reconnect handler deletes it first.', reasoning: '', chunkSize: 6, delayMs: 40 });
    const step = runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: ac.signal, progress: ({ text }) => text.includes('dropped') && ac.abort('stop') });
    const failure = (await step.catch((e: unknown) => e)) as ChatFailure;
    expect(failure).toBeInstanceOf(ChatFailure);
    expect(failure.kind).toBe('cancelled');
    expect(failure.partial.text).toMatch(/^The session is dropped/);
    expect(failure.partial.text.length).toBeLessThan(60);
    expect(failure.partial).toMatchObject({ usage_estimated: true, cost_usd: expect.any(Number) });
    expect(runapi.streams.some((e) => e.kind === 'closed-by-client')).toBe(true);
  });

  it('a stream broken in the middle of a tool call keeps the call as far as it came, and bills an estimate', async () => {
    const ctx = context();
    runapi.script({ content: '', reasoning: '', argumentsChunkSize: 4, resetAfterArgumentChunks: 3, toolCalls: [{ name: 'read', arguments: '{"path": "src/http/server.ts"}' }] });
    const failure = (await runStep(ctx, { messages: TASK, tools: TOOLS }, { signal: signal() }).catch((e: unknown) => e)) as ChatFailure;
    expect(failure).toBeInstanceOf(ChatFailure);
    expect(failure.message).toMatch(/The stream broke after 0 characters and 1 tool call/);
    expect(failure.partial.tool_calls).toEqual([{ id: 'read_0', name: 'read', arguments: '{"path": "sr' }]);
    expect(failure.partial).toMatchObject({ usage_estimated: true, cost_usd: expect.any(Number) });
    expect(failure.partial.usage!.completion_tokens).toBeGreaterThan(0);
    expect(ledgerCosts(ctx)).toEqual([expect.objectContaining({ estimated: true, cost_usd: failure.partial.cost_usd })]);
  });
});
