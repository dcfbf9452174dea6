import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProgressReporter, tail } from '../src/mcp/progress.js';
import { BOTH_ERAS, call, connect } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';

describe('progress messages', () => {
  it('keep the newest 200 characters, on one line', () => {
    const long = `${'old '.repeat(100)}\n\nnewest words`;
    const t = tail(long);
    expect(t.length).toBe(200);
    expect(t.endsWith('newest words')).toBe(true);
    expect(t).not.toMatch(/\n/);
    expect(tail('short\n text')).toBe('short text');
  });

  it('keep the client informed while the model is silent, and stop at finish', async () => {
    const sent: string[] = [];
    const reporter = new ProgressReporter(async (m) => void sent.push(m), 'kimi-k3', true, 50);
    // Waits for the keep-alives rather than a fixed time: a busy 2-core machine delays timers.
    await vi.waitFor(() => expect(sent.length).toBeGreaterThanOrEqual(3), { timeout: 5_000, interval: 10 });
    await reporter.finish();
    const count = sent.length;
    expect(sent[0]).toBe('kimi-k3: waiting for the first token');
    expect(sent.slice(1).length).toBeGreaterThanOrEqual(2);
    expect(sent.slice(1).every((m) => /^kimi-k3: thinking, \d+ s$/.test(m))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sent.length).toBe(count);
  });

  it('are throttled: text inside the window waits, and finish sends nothing more', async () => {
    const sent: string[] = [];
    const reporter = new ProgressReporter(async (m) => void sent.push(m), 'm', true, 10_000);
    await reporter.update('first', '');
    await reporter.update('first second', '');
    await new Promise((resolve) => setTimeout(resolve, 110));
    await reporter.update('first second third', '');
    await reporter.update('first second third fourth', '');
    await reporter.finish();
    expect(sent).toEqual(['m: waiting for the first token', 'first', 'first second third']);
  });

  it('hold the result back until the last message is 20 ms old, and no longer', async () => {
    const reporter = new ProgressReporter(async () => undefined, 'm', true, 10_000);
    await reporter.update('text', '');
    let started = Date.now();
    await reporter.finish();
    expect(Date.now() - started).toBeGreaterThanOrEqual(18);
    const quiet = new ProgressReporter(async () => undefined, 'm', true, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 40));
    started = Date.now();
    await quiet.finish();
    expect(Date.now() - started).toBeLessThan(10);
  });

  it('show reasoning while there is no answer yet, and no text at all in keep-alive mode', async () => {
    const streamed: string[] = [];
    const stream = new ProgressReporter(async (m) => void streamed.push(m), 'm', true, 10_000);
    await stream.update('', 'weighing two designs');
    await stream.finish();
    expect(streamed.at(-1)).toBe('thinking: weighing two designs');
    const long = new ProgressReporter(async (m) => void streamed.push(m), 'm', true, 10_000);
    await long.update('', `${'step '.repeat(100)}the last step`);
    await long.finish();
    expect(streamed.at(-1)!.startsWith('thinking: …')).toBe(true);
    expect(streamed.at(-1)!.endsWith('the last step')).toBe(true);
    expect(streamed.at(-1)!.length).toBe(200);

    const quiet: string[] = [];
    const chat = new ProgressReporter(async (m) => void quiet.push(m), 'm', false, 10_000);
    await chat.update('secret answer text', '');
    await chat.finish();
    expect(quiet.join(' ')).not.toContain('secret answer text');
  });
});

// Over the wire, in both eras: notifications/progress on the legacy session, and on a 2026-07-28
// request's own SSE response stream (which the modern client reads before the result).
describe.each(BOTH_ERAS)('progress over MCP (%s)', (era) => {
  const KEY = 'sk-sim-progress-4a8e2c6b0d';
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
  });
  afterAll(() => sim.close());

  it('kimi_chat keeps the client informed (waiting, a retry) without showing the reply, and nothing follows the result', async () => {
    const { client, sent, close } = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }, {}, era);
    try {
      sim.script(
        { status: 429, errorType: 'engine_overloaded_error', errorMessage: 'The engine is currently overloaded, please try again later' },
        { content: 'the secret answer text', chunkSize: 4, delayMs: 2 },
      );
      const updates: { progress: number; message?: string }[] = [];
      const r = await call(client, 'kimi_chat', { prompt: 'x' }, { onprogress: (p) => updates.push(p) });
      expect(r.isError).toBeFalsy();
      const messages = updates.map((u) => u.message ?? '');
      expect(messages[0]).toBe('kimi-k2.6: waiting for the first token');
      expect(messages.some((m) => /^kimi-k2\.6: retrying in 1 s \(attempt 1\): .*overloaded/.test(m))).toBe(true);
      expect(messages.join(' ')).not.toContain('secret answer');
      const numbers = updates.map((u) => u.progress);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(new Set(numbers).size).toBe(numbers.length);
      // What the server sent: every progress message before the call's result, none after it.
      const resultIndex = sent.findIndex((m) => 'result' in m && (m.result as { structuredContent?: unknown }).structuredContent);
      const progress = sent.flatMap((m, i) => ('method' in m && m.method === 'notifications/progress' ? [i] : []));
      expect(progress).toHaveLength(updates.length);
      expect(progress.every((i) => i < resultIndex)).toBe(true);
    } finally {
      await close();
    }
  });

  it('sends none when the call carries no progress token', async () => {
    const { client, sent, close } = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }, {}, era);
    try {
      sim.script({ content: 'quiet', chunkSize: 1, delayMs: 2 });
      expect((await call(client, 'kimi_stream', { prompt: 'x' })).isError).toBeFalsy();
      expect(sent.filter((m) => 'method' in m && m.method === 'notifications/progress')).toEqual([]);
    } finally {
      await close();
    }
  });
});
