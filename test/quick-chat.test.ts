/**
 * kimi_chat and kimi_stream on the start-up path (src/startup/quick-chat.ts): the same answers
 * as the full server, the calls it must not take handed over, and calls that outlive a hand-over
 * still cancelled, waited for and stored.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { storedTurn } from './helpers/fault-matrix.js';
import { ROOT } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { copySkill, tempDir } from './helpers/temp.js';

interface Message {
  id?: number;
  method?: string;
  params?: { progressToken?: number; message?: string };
  result?: { content: { type: string; text?: string; uri?: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };
  error?: unknown;
}

/** A client speaking raw JSON-RPC lines, so a test decides exactly when each line goes. */
class RawSession {
  readonly received: Message[] = [];
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(cli: string, env: Record<string, string>, capabilities: Record<string, unknown> = {}) {
    this.child = spawn(process.execPath, [cli], { env: { PATH: process.env.PATH!, ...env } });
    let buffer = '';
    this.child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        this.received.push(JSON.parse(buffer.slice(0, i)) as Message);
        buffer = buffer.slice(i + 1);
      }
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
    this.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'raw', version: '0' } } });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  send(message: unknown): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  call(id: number, name: string, args: Record<string, unknown>, progressToken?: number): void {
    this.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) } });
  }

  async answer(id: number): Promise<Message> {
    await vi.waitFor(() => expect(this.received.some((m) => m.id === id && !m.method)).toBe(true), { timeout: 10_000, interval: 10 });
    return this.received.find((m) => m.id === id && !m.method)!;
  }
}

let sim: Simulator;
const stateDir = tempDir('kimi-quick-chat-');
const KEY = 'sk-quick-chat-test';
const hostEnv = (extra: Record<string, string> = {}) => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir, ...extra });
const CLI = join(ROOT, 'dist/cli.js');

/** The launcher, the chat bundle and the snapshots without the full server: only the start-up path can answer. */
function startupOnlyPackage(): string {
  const pkg = copySkill();
  mkdirSync(join(pkg, 'dist'));
  for (const f of ['cli.js', 'package.json', 'chat.js', 'openai.js', 'startup-snapshot.json', 'catalog-snapshot.json']) cpSync(join(ROOT, 'dist', f), join(pkg, 'dist', f));
  return join(pkg, 'dist/cli.js');
}

/** Ids and times differ between two runs of the same call; everything else must not. */
const comparable = (m: Message) =>
  JSON.parse(JSON.stringify(m).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>').replace(/req-sim-\d+/g, '<request>')) as Message;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY, models: ['kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6'] });
});
afterAll(async () => {
  await sim?.close();
});

describe('chat calls on the start-up path', () => {
  it('answers kimi_chat and kimi_stream itself (no full server in the package), exactly as the full server does', async () => {
    const calls: [string, Record<string, unknown>][] = [
      ['kimi_chat', { prompt: 'quick one: say hi', thinking: false }],
      ['kimi_stream', { prompt: 'quick two: count to five', system: 'Be brief.', model: 'kimi-k2.6', max_tokens: 200, temperature: 0.6, thinking: false }],
      ['kimi_chat', { prompt: 'quick three: think', model: 'kimi-k3' }],
      // Refusals worded by the call path: a host it does not know, a rule the model breaks.
      ['kimi_chat', { prompt: 'quick four', provider: 'nowhere' }],
      ['kimi_chat', { prompt: 'quick five', model: 'kimi-k3', temperature: 0.2 }],
      ['kimi_chat', {}],
    ];
    const run = async (cli: string, env: Record<string, string>) => {
      const s = new RawSession(cli, hostEnv(env));
      // One after another, each with progress, so both runs see the same conversation store and order.
      for (const [i, [name, args]] of calls.entries()) {
        s.call(10 + i, name, args, 100 + i);
        await s.answer(10 + i);
      }
      s.child.stdin.end();
      expect(await s.exited).toBe(0);
      return s.received.filter((m) => m.id !== 0).map(comparable);
    };
    // Progress is paced by the clock, so it is compared apart from the answers.
    const answers = (messages: Message[]) => messages.filter((m) => m.method !== 'notifications/progress');
    const quick = await run(startupOnlyPackage(), {});
    const full = await run(CLI, { KIMI_MCP_FAST_START: '0' });
    expect(answers(quick)).toEqual(answers(full));
    expect(answers(quick).map((m) => Boolean(m.result!.isError))).toEqual([false, false, false, true, true, true]);
    // kimi_stream's progress shows the reply as it grows, before the result.
    const streamed = quick.filter((m) => m.method === 'notifications/progress' && m.params!.progressToken === 101).map((m) => m.params!.message!);
    expect(streamed.length).toBeGreaterThan(0);
    expect(quick.findIndex((m) => m.method === 'notifications/progress' && m.params!.progressToken === 101)).toBeLessThan(quick.findIndex((m) => m.id === 11));
  });

  it('hands over what it must not take: paths to read, messages, a confirmation the client could give', async () => {
    const cli = startupOnlyPackage();
    const handedOver = [
      { files: ['README.md'], prompt: 'review' },
      { messages: [{ role: 'user', content: 'hi' }] },
      { images: ['https://example.com/a.png'], prompt: 'look' },
      { response_format: 'json_object', prompt: 'json' },
      { prompt: 'hi', max_tokens: 0 },
    ];
    for (const args of handedOver) {
      // Without the full server in the package, a hand-over cannot be answered: the process fails to load it.
      const s = new RawSession(cli, hostEnv());
      s.call(1, 'kimi_chat', args);
      s.child.stdin.end();
      expect(await s.exited, JSON.stringify(args)).toBe(1);
      expect(s.received.filter((m) => m.id === 1)).toEqual([]);
    }
    const asking = new RawSession(cli, hostEnv({ KIMI_CONFIRM_ABOVE_USD: '5' }), { elicitation: {} });
    asking.call(1, 'kimi_chat', { prompt: 'hi' });
    asking.child.stdin.end();
    expect(await asking.exited).toBe(1);
    // A client that cannot confirm gets the guard's own answer, from the start-up path.
    const cannotAsk = new RawSession(cli, hostEnv({ KIMI_CONFIRM_ABOVE_USD: '5' }));
    cannotAsk.call(1, 'kimi_chat', { prompt: 'quick: no confirmation needed' });
    expect((await cannotAsk.answer(1)).result!.isError).toBeFalsy();
    cannotAsk.child.stdin.end();
    expect(await cannotAsk.exited).toBe(0);
  });

  it('keeps its calls after a hand-over: a cancel still reaches them, long replies stay readable, stdin closing waits for them', async () => {
    const s = new RawSession(CLI, hostEnv({ MAX_MCP_OUTPUT_TOKENS: '200' }));
    sim.scriptFor('handover slow', { content: Array.from({ length: 60 }, (_, i) => `Part ${i}.`).join(' '), chunkSize: 6, delayMs: 20 });
    sim.scriptFor('handover long', { content: Array.from({ length: 200 }, (_, i) => `Line ${i} of a long reply.`).join('\n'), chunkSize: 1500, delayMs: 150 });
    sim.scriptFor('handover last', { content: 'One. Two. Three. Four. Five. Six.', chunkSize: 3, delayMs: 150 });
    s.call(1, 'kimi_stream', { prompt: 'handover slow: go' }, 7);
    s.call(2, 'kimi_chat', { prompt: 'handover long: go' });
    s.call(5, 'kimi_chat', { prompt: 'handover last: go' });
    await vi.waitFor(() => expect(sim.chatsFor('handover slow')[0]?.content.length ?? 0).toBeGreaterThan(20), { timeout: 10_000, interval: 5 });
    // A request only the full server answers: the input is handed over while both calls run.
    s.send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'kimi://skill' } });
    expect((await s.answer(3)).result).toBeDefined();
    s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'changed my mind' } });
    await vi.waitFor(() => expect(sim.inFlight('handover slow')).toBe(0), { timeout: 3000, interval: 10 });
    const long = await s.answer(2);
    const link = long.result!.content.find((c) => c.type === 'resource_link');
    expect(link?.uri).toMatch(/^kimi:\/\/replies\//);
    // The full server reads a reply the start-up path kept.
    s.send({ jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: link!.uri } });
    expect(JSON.stringify((await s.answer(4)).result)).toContain('Line 199 of a long reply.');
    // stdin closes while the third call still runs: the full server waits for it, it is answered, and the process exits.
    expect(sim.inFlight('handover last')).toBe(1);
    s.child.stdin.end();
    expect(await s.exited).toBe(0);
    expect((s.received.find((m) => m.id === 5)!.result!.structuredContent as { text: string }).text).toBe('One. Two. Three. Four. Five. Six.');
    // The cancelled call got no answer, and its partial turn is stored.
    expect(s.received.filter((m) => m.id === 1 && !m.method)).toEqual([]);
    const turn = storedTurn(stateDir, 'handover slow');
    expect(turn?.partial).toBe(true);
    expect(sim.chatsFor('handover slow')[0]!.content.startsWith(turn!.reply.content)).toBe(true);
  });
});
