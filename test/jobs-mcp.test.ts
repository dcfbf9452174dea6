/**
 * Background jobs through real MCP clients, in both protocol eras, against the simulator:
 * `background: true` answers at once with a job_id, kimi_job reads status, result (waiting),
 * cancels and lists, and a job outlives the request that started it.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CallToolResult, ElicitResult, LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { BOTH_ERAS, call, closedAfterEach, connect, onElicit, onRoots, textOf } from './helpers/mcp.js';
import type { Connection, ElicitQuestion, Era } from './helpers/mcp.js';
import { simulatorForFile, startSimulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';
import { expectNoCanary, makeCanary } from './helpers/canary.js';

const KEY = 'sk-sim-jobs-5e1f9a3c7b2d4e60';
const sim = simulatorForFile({ apiKey: KEY });

const open = closedAfterEach();

const upstream = (stateDir = tempDir('kimi-jobs-state-')) => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir });
async function kimi(env: Record<string, string>, era: Era = 'legacy', capabilities = {}): Promise<Connection> {
  const c = await connect(env, capabilities, era);
  open.push(c);
  return c;
}
type Started = { job_id: string; state: string; position?: number };
const started = (r: CallToolResult) => r.structuredContent as Started;
const job = (client: Connection['client'], args: Record<string, unknown>) => call(client, 'kimi_job', args);
const chatRequests = () => sim.requests.filter((r) => r.path === '/v1/chat/completions').length;
/** A reply that streams for about `ms`. */
const slow = (content: string, ms: number) => ({ content, chunkSize: 4, delayMs: Math.max(1, Math.round(ms / Math.ceil(content.length / 4))) });

describe.each(BOTH_ERAS)('background kimi_chat (%s)', (era) => {
  it('answers at once with a job_id; status shows it running, result waits for it and returns what the call would have', async () => {
    const { client } = await kimi(upstream(), era);
    const tag = `bg-basic-${era}`;
    sim.scriptFor(tag, slow('The answer, slowly streamed for the background test.', 600));
    const t0 = Date.now();
    const r = await call(client, 'kimi_chat', { prompt: `Explain ${tag}.`, background: true });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(Date.now() - t0).toBeLessThan(400);
    const { job_id, state } = started(r);
    expect(job_id).toMatch(/^[0-9a-f]{16}$/);
    expect(state).toBe('running');
    expect(textOf(r)).toMatch(/kimi_job .*"action":"result".*"wait_seconds":50/);
    expect(textOf(r)).toMatch(era === 'legacy' ? /log message announces its end/ : /no notifications/);

    const status = await job(client, { action: 'status', job_id });
    expect(status.isError, textOf(status)).toBeFalsy();
    expect(status.structuredContent).toMatchObject({ job_id, tool: 'kimi_chat', state: 'running' });

    const t1 = Date.now();
    const result = await job(client, { action: 'result', job_id, wait_seconds: 20 });
    // Returned as soon as the job ended, long before the 20 s.
    expect(Date.now() - t1).toBeLessThan(5_000);
    expect(result.isError, textOf(result)).toBeFalsy();
    expect((result.structuredContent as { text: string }).text).toBe('The answer, slowly streamed for the background test.');
    expect(textOf(result)).toMatch(/^The answer, slowly streamed/);
    expect(textOf(result)).toMatch(/kimi-k2\.6 on runapi/);

    const done = await job(client, { action: 'status', job_id });
    expect(done.structuredContent).toMatchObject({ state: 'done' });
    expect((done.structuredContent as { cost_usd: number }).cost_usd).toBeGreaterThan(0);
  });

  it('cancel stops the upstream request and keeps what had arrived', async () => {
    const { client } = await kimi(upstream(), era);
    const tag = `bg-cancel-${era}`;
    sim.scriptFor(tag, slow('x'.repeat(400), 8_000));
    const { job_id } = started(await call(client, 'kimi_chat', { prompt: `Explain ${tag}.`, background: true }));
    await expect.poll(() => sim.chatsFor(tag)[0]?.content.length ?? 0).toBeGreaterThan(8);
    const cancelled = await job(client, { action: 'cancel', job_id });
    expect(cancelled.isError, textOf(cancelled)).toBeFalsy();
    expect(textOf(cancelled)).toMatch(/cancelled/);
    await expect.poll(() => sim.inFlight(tag)).toBe(0);
    expect(sim.chatsFor(tag)[0]!.content.length).toBeLessThan(400);
    const result = await job(client, { action: 'result', job_id });
    expect(result.structuredContent).toMatchObject({ partial: true });
    expect((result.structuredContent as { text: string }).text).toMatch(/^x+$/);
    expect((await job(client, { action: 'status', job_id })).structuredContent).toMatchObject({ state: 'cancelled' });
  });
});

describe('background jobs', () => {
  it('outlive the request that started it: the client cancelling its wait does not stop the job', async () => {
    const { client } = await kimi(upstream());
    const tag = 'bg-outlive';
    sim.scriptFor(tag, slow('Still here after the wait was given up.', 500));
    const { job_id } = started(await call(client, 'kimi_chat', { prompt: `Explain ${tag}.`, background: true }));
    const waiting = new AbortController();
    const gaveUp = call(client, 'kimi_job', { action: 'result', job_id, wait_seconds: 30 }, { signal: waiting.signal }).catch((e: Error) => e);
    setTimeout(() => waiting.abort(), 50);
    await gaveUp;
    const result = await job(client, { action: 'result', job_id, wait_seconds: 20 });
    expect((result.structuredContent as { text: string }).text).toBe('Still here after the wait was given up.');
  });

  it('refuses bad arguments at once and queues nothing; background is not a kimi_stream argument', async () => {
    const stateDir = tempDir('kimi-jobs-state-');
    const { client } = await kimi(upstream(stateDir));
    const before = chatRequests();
    const bad = await call(client, 'kimi_chat', { prompt: 5, background: true });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/prompt/);
    const stream = await call(client, 'kimi_stream', { prompt: 'hi', background: true });
    expect(stream.isError).toBe(true);
    expect(textOf(stream)).toMatch(/kimi_stream does not take "background"/);
    expect(chatRequests()).toBe(before);
    expect(() => readdirSync(join(stateDir, 'jobs'))).toThrow(/ENOENT/);
  });

  it('list shows this project\'s jobs newest first; another project sees none of them', async () => {
    const stateDir = tempDir('kimi-jobs-state-');
    const projectA = tempDir('kimi-jobs-a-');
    const projectB = tempDir('kimi-jobs-b-');
    const clientIn = async (root: string) => {
      const c = await kimi(upstream(stateDir), 'legacy', { roots: {} });
      onRoots(c.client, () => ({ roots: [{ uri: pathToFileURL(root).href }] }));
      return c.client;
    };
    const a = await clientIn(projectA);
    const first = started(await call(a, 'kimi_chat', { prompt: 'First question for list.', background: true })).job_id;
    await job(a, { action: 'result', job_id: first, wait_seconds: 20 });
    const second = started(await call(a, 'kimi_chat', { prompt: 'Second question for list.', background: true })).job_id;
    await job(a, { action: 'result', job_id: second, wait_seconds: 20 });
    const listed = await job(a, { action: 'list' });
    const ids = (listed.structuredContent as { jobs: { job_id: string }[] }).jobs.map((j) => j.job_id);
    expect(ids).toEqual([second, first]);
    expect(textOf(listed)).toMatch(/Second question for list\./);
    const b = await clientIn(projectB);
    expect((await job(b, { action: 'list' })).structuredContent).toEqual({ jobs: [] });
    // Job files are private.
    for (const name of readdirSync(join(stateDir, 'jobs'))) expect(statSync(join(stateDir, 'jobs', name)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(stateDir, 'jobs', `${first}.jsonl`), 'utf8')).not.toContain(KEY);
  });

  it('the key never reaches a job file, even when the host echoes it in an error mid-stream', async () => {
    const canary = makeCanary();
    const leaky = await startSimulator({ apiKey: canary, leakKeyInErrors: 'all' });
    try {
      const stateDir = tempDir('kimi-jobs-state-');
      const { client } = await kimi({ RUNAPI_KEY: canary, RUNAPI_BASE_URL: leaky.baseURL, KIMI_MCP_STATE_DIR: stateDir });
      leaky.script({ content: `Some text ${canary} then a failure`, chunkSize: 6, errorAfterChunks: 9 });
      const { job_id } = started(await call(client, 'kimi_chat', { prompt: 'Leak it.', background: true }));
      const result = await job(client, { action: 'result', job_id, wait_seconds: 20 });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/overloaded/);
      const files = readdirSync(join(stateDir, 'jobs')).map((f) => ({ name: `jobs/${f}`, text: readFileSync(join(stateDir, 'jobs', f), 'utf8') }));
      expect(files).toHaveLength(1);
      expectNoCanary(canary, [...files, { name: 'result', text: JSON.stringify(result) }]);
    } finally {
      await leaky.close();
    }
  });

  it('a missing or unknown job_id is a clear error naming recent jobs', async () => {
    const { client } = await kimi(upstream());
    const { job_id } = started(await call(client, 'kimi_chat', { prompt: 'Something to list.', background: true }));
    await job(client, { action: 'result', job_id, wait_seconds: 20 });
    const missing = await job(client, { action: 'status' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(new RegExp(`job_id is needed for action "status"\\. Recent jobs here: ${job_id} \\(kimi_chat, done\\)`));
    const unknown = await job(client, { action: 'result', job_id: '0123456789abcdef' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/No job 0123456789abcdef.*Recent jobs here/);
    const traversal = await job(client, { action: 'status', job_id: '../../ledger' });
    expect(textOf(traversal)).toMatch(/is not a job id/);
  });

  it('the concurrency cap queues: with KIMI_MAX_JOBS=1 the second job waits its turn, then runs', async () => {
    const { client } = await kimi({ ...upstream(), KIMI_MAX_JOBS: '1' });
    sim.scriptFor('bg-cap-one', slow('first done', 400));
    sim.scriptFor('bg-cap-two', { content: 'second done' });
    const one = started(await call(client, 'kimi_chat', { prompt: 'bg-cap-one', background: true }));
    const two = await call(client, 'kimi_chat', { prompt: 'bg-cap-two', background: true });
    expect(one.state).toBe('running');
    expect(started(two)).toMatchObject({ state: 'queued', position: 1 });
    expect(textOf(two)).toMatch(/queued, next: KIMI_MAX_JOBS=1 jobs run at once/);
    expect(sim.chatsFor('bg-cap-two')).toHaveLength(0);
    expect((await job(client, { action: 'status', job_id: started(two).job_id })).structuredContent).toMatchObject({ state: 'queued', position: 1 });
    const second = await job(client, { action: 'result', job_id: started(two).job_id, wait_seconds: 20 });
    expect((second.structuredContent as { text: string }).text).toBe('second done');
    // It started only once the first had finished.
    expect(sim.chatsFor('bg-cap-two')[0]!.at).toBeGreaterThanOrEqual(sim.chatsFor('bg-cap-one')[0]!.at + 300);
  });

  it('a kimi_agent job records its steps as it goes; its result is the agent\'s', async () => {
    const root = tempDir('kimi-jobs-agent-');
    writeFileSync(join(root, 'a.ts'), 'export const a = 1;\n');
    const c = await kimi(upstream(), 'legacy', { roots: {} });
    onRoots(c.client, () => ({ roots: [{ uri: pathToFileURL(root).href }] }));
    const tag = 'bg-agent-steps';
    sim.scriptFor(tag, { toolCalls: [{ name: 'list', arguments: JSON.stringify({ path: '.' }) }], content: '' }, slow('a.ts holds the constant.', 800));
    const r = await call(c.client, 'kimi_agent', { task: `Where is a? ${tag}`, background: true });
    expect(r.isError, textOf(r)).toBeFalsy();
    const { job_id } = started(r);
    // The step is on disk while the job still runs.
    await expect.poll(async () => (await job(c.client, { action: 'status', job_id })).structuredContent).toMatchObject({ state: 'running', steps: 1 });
    const status = await job(c.client, { action: 'status', job_id });
    expect(textOf(status)).toMatch(/Steps so far:\nstep 1\/25: list \. → 1 entry\n/);
    // What the first step cost, while the job still runs.
    expect((status.structuredContent as { cost_usd?: number }).cost_usd).toBeGreaterThan(0);
    expect(textOf(status)).toMatch(/\$[\d.]+ so far/);
    const result = await job(c.client, { action: 'result', job_id, wait_seconds: 20 });
    expect(result.structuredContent).toMatchObject({ answer: 'a.ts holds the constant.', stopped: 'answered', steps: ['list . → 1 entry'] });
  });

  it('a legacy client is told with a log message when its job ends', async () => {
    const { client } = await kimi(upstream());
    const messages: LoggingMessageNotification['params'][] = [];
    (client as LegacyClient).setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
    const { job_id } = started(await call(client, 'kimi_chat', { prompt: 'Tell me when done.', background: true }));
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]!.data).toMatch(new RegExp(`job ${job_id} \\(kimi_chat\\) ended: done.*kimi_job`));
  });
});

describe.each(BOTH_ERAS)('spending confirmation for a background job (%s)', (era) => {
  const confirmEnv = () => ({ ...upstream(), KIMI_CONFIRM_ABOVE_USD: '0.01' });
  async function eliciting(answer: ElicitResult) {
    const asked: ElicitQuestion[] = [];
    const c = await kimi(confirmEnv(), era, { elicitation: { form: {} } });
    onElicit(c.client, (q) => (asked.push(q), answer));
    return { ...c, asked };
  }

  it('asks the user before the job_id is returned; accept runs the job', async () => {
    const { client, asked } = await eliciting({ action: 'accept', content: { send: true } });
    const before = chatRequests();
    const r = await call(client, 'kimi_chat', { prompt: 'Big background job.', background: true });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toMatch(/Send this Kimi call\? It could cost up to/);
    const result = await job(client, { action: 'result', job_id: started(r).job_id, wait_seconds: 20 });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(chatRequests()).toBe(before + 1);
    // The first pass's withdrawn job left no trace: one job listed.
    expect((await job(client, { action: 'list' })).structuredContent).toMatchObject({ jobs: [{ job_id: started(r).job_id, state: 'done' }] });
  });

  it('a job queued past the request that started it is refused, saying why, rather than run without asking', async () => {
    const asked: ElicitQuestion[] = [];
    const c = await kimi({ ...confirmEnv(), KIMI_MAX_JOBS: '1' }, era, { elicitation: { form: {} } });
    onElicit(c.client, (q) => (asked.push(q), { action: 'accept', content: { send: true } }));
    const tag = `bg-confirm-queued-${era}`;
    sim.scriptFor(tag, slow('small and slow', 400));
    const small = started(await call(c.client, 'kimi_chat', { prompt: tag, max_tokens: 50, background: true }));
    await expect.poll(() => sim.chatsFor(tag).length).toBe(1);
    const before = chatRequests();
    const big = await call(c.client, 'kimi_chat', { prompt: 'Big queued job.', background: true });
    expect(started(big).state).toBe('queued');
    const result = await job(c.client, { action: 'result', job_id: started(big).job_id, wait_seconds: 20 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Not sent: this call could cost up to \$0\.\d+, above KIMI_CONFIRM_ABOVE_USD, and as a background job that waited its turn it could not ask the user/);
    expect(asked).toHaveLength(0);
    expect(chatRequests()).toBe(before);
    await job(c.client, { action: 'result', job_id: small.job_id, wait_seconds: 20 });
  });

  it('decline sends nothing; the job says why', async () => {
    const { client, asked } = await eliciting({ action: 'decline' });
    const before = chatRequests();
    const r = await call(client, 'kimi_chat', { prompt: 'Big background job.', background: true });
    expect(asked).toHaveLength(1);
    const result = await job(client, { action: 'result', job_id: started(r).job_id, wait_seconds: 20 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Not sent: the user declined/);
    expect(chatRequests()).toBe(before);
  });
});
