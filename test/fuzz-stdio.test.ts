/**
 * Fuzzing the built stdio server (dist/cli.js) with JSON-RPC lines: random bytes, invalid UTF-8,
 * truncated JSON, odd ids, wrong types at every field, batches, 20 MB lines and end of input,
 * before the hand-over (the start-up path answers from its snapshot) and after it (the full
 * server owns stdin), in a 2025-era session (opened with initialize) and a 2026-07-28 one
 * (opened with server/discover, every request carrying the _meta envelope).
 *
 * The oracle is the JSON-RPC 2.0 spec as src/transport/jsonrpc.ts documents it: every request with
 * an id gets exactly one answer with that id; unparseable input gets -32700 and other invalid
 * messages -32600, both with id null when no id can be told; valid notifications and responses
 * get nothing. Seeds are fixed and in the test names; FUZZ_SEED=<n> replays another, FUZZ_RUNS=<k>
 * multiplies the runs, FUZZ_DEBUG=1 prints what the session saw.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { idIn, LineSplitter } from '../src/transport/jsonrpc.js';
import type { Line } from '../src/transport/jsonrpc.js';
import { CLI } from './helpers/run-cli.js';
import { tempDir } from './helpers/temp.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_001);
/** FUZZ_RUNS=<k> multiplies the runs, for a longer search than `npm test` affords. */
const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1);
const EXCHANGE_MS = 10_000;

type Id = string | number;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Answer {
  jsonrpc: '2.0';
  id?: unknown;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string };
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is Id => typeof v === 'string' || Number.isSafeInteger(v);

/** One spawned server, read line by line; every stdout line must be a JSON-RPC message. */
class Session {
  readonly child: ChildProcessWithoutNullStreams;
  readonly received: Answer[] = [];
  readonly notJsonRpc: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private out = '';
  private wake = () => {};

  constructor(env: Record<string, string> = {}) {
    const home = tempDir('kimi-fuzz-home-');
    this.child = spawn(process.execPath, [CLI], {
      env: { PATH: process.env.PATH, HOME: home, KIMI_MCP_STATE_DIR: home, KIMI_PROVIDER: 'fuzz-nowhere', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.out += d;
      for (let i = this.out.indexOf('\n'); i >= 0; i = this.out.indexOf('\n')) {
        this.take(this.out.slice(0, i));
        this.out = this.out.slice(i + 1);
      }
      this.wake();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => (this.stderr += d));
    this.child.stdin.on('error', () => {}); // EPIPE once it has exited is the exit check's business
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        if (this.out) this.take(this.out);
        resolve(code);
        this.wake();
      }),
    );
  }

  private take(line: string): void {
    try {
      const m = JSON.parse(line) as unknown;
      if (isObject(m) && m.jsonrpc === '2.0') return void this.received.push(m as unknown as Answer);
    } catch {
      // falls through
    }
    this.notJsonRpc.push(line.slice(0, 300));
  }

  /** Writes `bytes` in pieces of the given sizes (the rest at once), each after the previous is flushed. */
  async write(bytes: Buffer, pieces: number[] = []): Promise<void> {
    let at = 0;
    for (const size of [...pieces, bytes.length]) {
      if (at >= bytes.length) break;
      const piece = bytes.subarray(at, at + Math.max(1, size));
      at += piece.length;
      await new Promise<void>((resolve) => this.child.stdin.write(piece, () => resolve()));
    }
  }

  async until(done: () => boolean, what: () => string, ms = EXCHANGE_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`no answer within ${ms} ms: ${what()}\nstderr tail: ${this.stderr.slice(-2000)}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        if (!done()) throw new Error(`the server exited (${this.child.exitCode ?? this.child.signalCode}) before ${what()}\nstderr tail: ${this.stderr.slice(-2000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  answersTo(id: unknown, from = 0): Answer[] {
    return this.received.slice(from).filter((m) => !('method' in m) && m.id === id);
  }

  async request(message: Record<string, Json>): Promise<Answer> {
    const from = this.received.length;
    await this.write(Buffer.from(`${JSON.stringify(message)}\n`));
    await this.until(() => this.answersTo(message.id, from).length > 0, () => `an answer to ${JSON.stringify(message).slice(0, 200)}`);
    return this.answersTo(message.id, from)[0]!;
  }
}

// ---- the oracle ----------------------------------------------------------------------------

interface Expected {
  /** Ids that must get exactly one answer. */
  ids: Id[];
  /** Error codes of the id-null answers, in order. */
  nulls: number[];
}
const none: Expected = { ids: [], nulls: [] };
const utf8 = new TextDecoder('utf-8', { fatal: true });

function expectedFor(value: unknown): Expected {
  if (Array.isArray(value)) {
    const ids = [...new Set(value.filter((m) => isObject(m) && 'method' in m && isId(m.id)).map((m: Record<string, unknown>) => m.id as Id))];
    return ids.length ? { ids, nulls: [] } : { ids: [], nulls: [-32600] };
  }
  if (!isObject(value)) return { ids: [], nulls: [-32600] };
  if (!('method' in value) && ('result' in value || 'error' in value)) return none; // a response: never answered
  if ('id' in value) return typeof value.id === 'string' || typeof value.id === 'number' ? { ids: [value.id], nulls: [] } : { ids: [], nulls: [-32600] };
  const notification =
    value.jsonrpc === '2.0' &&
    typeof value.method === 'string' &&
    Object.keys(value).every((k) => ['jsonrpc', 'method', 'params'].includes(k)) &&
    (!('params' in value) || (typeof value.params === 'object' && value.params !== null));
  return notification ? none : { ids: [], nulls: [-32600] };
}

function expectedForLine(line: Buffer): Expected {
  let text: string;
  try {
    text = utf8.decode(line.length && line[line.length - 1] === 13 ? line.subarray(0, -1) : line);
  } catch {
    return { ids: [], nulls: [-32700] };
  }
  if (/^[ \t\r]*$/.test(text)) return none;
  try {
    return expectedFor(JSON.parse(text));
  } catch {
    return { ids: [], nulls: [-32700] };
  }
}

// ---- what is sent ---------------------------------------------------------------------------

/** Ids are made unique per exchange when a case is sent; the arbitraries pick their kind. */
type IdKind = 'str' | 'int' | 'neg' | 'long' | 'unicode' | 'big' | 'float' | 'null' | 'bool' | 'object' | 'array';
const ID_KINDS: IdKind[] = ['str', 'int', 'neg', 'long', 'unicode', 'big', 'float', 'null', 'bool', 'object', 'array'];
const ID = '\u0000id:';
let serial = 0;

function makeId(kind: IdKind): Json {
  const n = ++serial;
  switch (kind) {
    case 'str':
      return `s${n}`;
    case 'int':
      return 1000 + n;
    case 'neg':
      return -n;
    case 'long':
      return `${'L'.repeat(10_000)}${n}`;
    case 'unicode':
      return `\u202e\ud83d\ude00\ud800\u0000${n}`;
    case 'big':
      return 2 ** 53 + 2 * n;
    case 'float':
      return n + 0.5;
    case 'null':
      return null;
    case 'bool':
      return true;
    case 'object':
      return { n };
    case 'array':
      return [n];
  }
}

/** Replaces every `ID + kind` placeholder string by a fresh id of that kind. */
function materialize(value: Json): Json {
  if (typeof value === 'string' && value.startsWith(ID)) return makeId(value.slice(ID.length) as IdKind);
  if (Array.isArray(value)) return value.map(materialize);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialize(v)]));
  return value;
}

/** A line to send: a JSON value (ids still placeholders), raw bytes, or a JSON text to spoil. */
type Case = { json: Json } | { bytes: number[] } | { truncate: Json; at: number } | { spoil: Json; at: number; bad: number[] };

function render(c: Case): Buffer {
  if ('bytes' in c) return Buffer.from(c.bytes.filter((b) => b !== 10));
  if ('json' in c) return Buffer.from(JSON.stringify(materialize(c.json)));
  const text = Buffer.from(JSON.stringify(materialize('truncate' in c ? c.truncate : c.spoil)));
  const at = 1 + (c.at % (text.length - 1));
  return 'truncate' in c ? text.subarray(0, at) : Buffer.concat([text.subarray(0, at), Buffer.from(c.bad), text.subarray(at)]);
}

const idOf = (kind: IdKind = 'str'): Json => `${ID}${kind}`;
const init = (id: Json = idOf()): Json => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } },
});
const request = (method: string, params?: Json, id: Json = idOf()): Json => ({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

/** Requests the fast path answers itself: sending them never hands over. */
const fastRequests: Json[] = [request('ping'), request('tools/list'), request('ping', { _meta: {} }), init(), request('tools/list', { cursor: 'x' })];
/** Requests only the full server answers (some of them wrong on purpose). */
const fullRequests: Json[] = [
  request('tools/call', { name: 'estimate_cost', arguments: { input_tokens: 10, output_tokens: 5 } }),
  request('tools/call', { name: 'list_models', arguments: {} }),
  request('tools/call', { name: 'kimi_chat', arguments: { prompt: 'no key is set, so this cannot be sent' } }),
  request('tools/call', { name: 'no_such_tool', arguments: {} }),
  request('resources/list'),
  request('resources/read', { uri: 'kimi://skill' }),
  request('resources/read', { uri: 'kimi://nothing/here' }),
  request('resources/read', { uri: '' }),
  request('tools/call', { name: 5, arguments: 'x' }),
  request('initialize', { protocolVersion: '2025-11-25', capabilities: { roots: 5 }, clientInfo: { name: 'fuzz', version: '0' } }),
  request('prompts/list'),
  request('no/such/method', { x: 1 }),
  request('initialize', { protocolVersion: 5 }),
  { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'never-sent' } },
  { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
  { jsonrpc: '2.0', id: idOf('int'), result: {} },
];

/** The 2026-07-28 envelope every request of a modern session carries in params._meta. */
const META: Record<string, Json> = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const modern = (method: string, params: Record<string, Json> = {}, id: Json = idOf()): Json => request(method, { ...params, _meta: { ...META, ...(isObject(params._meta) ? (params._meta as Record<string, Json>) : {}) } }, id);
/** Modern requests the start-up path answers from its snapshot. */
const modernFast: Json[] = [modern('server/discover'), modern('tools/list'), modern('tools/list', { cursor: 'x' }), modern('tools/list', { _meta: { progressToken: 'p' } })];
/** Modern requests only the full server answers (some of them wrong on purpose, a 2025-era one among them). */
const modernFull: Json[] = [
  modern('tools/call', { name: 'estimate_cost', arguments: { input_tokens: 10, output_tokens: 5 } }),
  modern('tools/call', { name: 'list_models', arguments: {} }),
  modern('tools/call', { name: 'kimi_chat', arguments: { prompt: 'no key is set, so this cannot be sent' } }),
  modern('tools/call', { name: 'kimi_chat', arguments: { prompt: 'refused', max_tokens: -5 } }),
  modern('tools/call', { name: 'no_such_tool', arguments: {} }),
  modern('resources/list'),
  modern('resources/read', { uri: 'kimi://skill' }),
  modern('resources/read', { uri: 'kimi://nothing/here' }),
  modern('tools/call', { name: 5, arguments: 'x' }),
  modern('prompts/list'),
  modern('ping'),
  modern('no/such/method', { x: 1 }),
  request('tools/list'),
  request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } }),
  { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'never-sent', _meta: META } },
  { jsonrpc: '2.0', id: idOf('int'), result: {} },
];

type Era = 'legacy' | 'modern';
/** What a session of each era opens with, answers on the start-up path, hands over with and closes an exchange with. */
const ERAS: Record<Era, { opening: (id: Json) => Json; fast: Json[]; full: Json[]; simple: (id: Json) => Json; handOver: (id: Json) => Json }> = {
  legacy: {
    opening: init,
    fast: fastRequests,
    full: fullRequests,
    simple: (id) => request('ping', undefined, id),
    // messages: any tools/call is the full server's; this one needs nothing but the catalog.
    handOver: (id) => request('tools/call', { name: 'estimate_cost', arguments: { messages: [{ role: 'user', content: 'hi' }], output_tokens: 1_000_000 } }, id),
  },
  modern: {
    opening: (id) => modern('server/discover', {}, id),
    fast: modernFast,
    full: modernFull,
    simple: (id) => modern('tools/list', {}, id),
    handOver: (id) => modern('tools/call', { name: 'estimate_cost', arguments: { messages: [{ role: 'user', content: 'hi' }], output_tokens: 1_000_000 } }, id),
  },
};

const wrongValue: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined), // the member removed
  fc.constantFrom<Json>(null, true, 0, -1, 1.5, 2 ** 53 + 2, 1e308, '', 'NaN', 'Infinity', '1e309', [], {}, [1, 2], { a: { b: [null] } }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

/** The message with the value at `path` replaced (undefined removes it). */
function mutate(message: Json, path: string[], value: Json | undefined): Json {
  if (!path.length) return value === undefined ? {} : value;
  const [key, ...rest] = path as [string, ...string[]];
  const base = isObject(message) ? { ...(message as Record<string, Json>) } : {};
  const next = mutate(base[key] ?? {}, rest, value);
  if (value === undefined && !rest.length) delete base[key];
  else base[key] = next;
  return base;
}

const paths = (message: Json): string[][] => {
  const out: string[][] = [];
  const walk = (v: Json, path: string[]) => {
    out.push(path);
    if (isObject(v) && path.length < 4) for (const [k, x] of Object.entries(v)) walk(x as Json, [...path, k]);
  };
  walk(message, []);
  return out;
};

/** A message with one member at any depth replaced by a wrong value, removed, or one member added. */
const mutated = (bases: Json[]): fc.Arbitrary<Case> =>
  fc.constantFrom(...bases).chain((base) =>
    fc.oneof(
      fc.tuple(fc.constantFrom(...paths(base)), wrongValue).map(([path, value]) => ({ json: mutate(base, path, value) })),
      fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => ({ json: { ...(base as Record<string, Json>), [key]: value as Json } })),
    ),
  );

/** Mutations that keep a fast-path message structurally wrong, so that the fast path answers them itself. */
const structurallyWrong = (fast: Json[]): fc.Arbitrary<Case> => fc.constantFrom(...fast).chain((base) =>
  fc.oneof(
    fc.constantFrom<Json | undefined>(undefined, '1.0', 2, null, '2.0 ').map((v) => ({ json: mutate(base, ['jsonrpc'], v) })),
    fc.constantFrom<Json | undefined>(undefined, 7, null, ['ping'], { m: 1 }, true).map((v) => ({ json: mutate(base, ['method'], v) })),
    fc.constantFrom<Json>('str', 5, true, [], [1, 'a'], null).map((v) => ({ json: mutate(base, ['params'], v) })),
    fc.constantFrom<IdKind>(...ID_KINDS).map((k) => ({ json: mutate(base, ['id'], idOf(k)) })),
    fc.string({ maxLength: 8 })
      .filter((k) => !['jsonrpc', 'id', 'method', 'params'].includes(k))
      .map((k) => ({ json: { ...(base as Record<string, Json>), [k]: 1 } })),
  ),
);

const badUtf8 = fc.constantFrom<number[]>([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]);
const notificationCases = fc.constantFrom<Json>(
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '1.0', method: 'notifications/initialized' },
  { method: 'notifications/initialized' },
  { jsonrpc: '2.0', method: 7 },
  { jsonrpc: '2.0', method: 'notifications/initialized', params: 'x' },
  { jsonrpc: '2.0', id: 5, result: 'not an object' },
  { jsonrpc: '2.0', id: 6, error: { code: 'x' } },
  { jsonrpc: '2.0', id: 7, result: {}, error: { code: 1, message: 'both' } },
);

/** `simple(id)`: a request the start-up path answers, in the session's era, with any kind of id. */
function cases(simple: (id: Json) => Json, valid: Json[], wrong: fc.Arbitrary<Case>, batchable: Json[]): fc.Arbitrary<Case> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 120 }).map((b) => ({ bytes: [...b] })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((s) => ({ bytes: [...Buffer.from(s)] })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...valid), fc.nat(), badUtf8).map(([spoil, at, bad]) => ({ spoil, at, bad })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([truncate, at]) => ({ truncate, at })) },
    { weight: 2, arbitrary: fc.constantFrom<IdKind>(...ID_KINDS).map((k) => ({ json: simple(idOf(k)) })) },
    { weight: 4, arbitrary: wrong },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...batchable), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>), { maxLength: 4 })
        .map((json) => ({ json })),
    },
    { weight: 2, arbitrary: fc.constantFrom(...valid).map((json) => ({ json })) },
    { weight: 1, arbitrary: (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>).map((json) => ({ json })) },
    { weight: 1, arbitrary: notificationCases.map((json) => ({ json })) },
  );
}

/**
 * Answer codes a client mistake may get; never -32603 (an internal error). -32022: a protocol
 * revision the connection does not serve (a 2025 initialize on a 2026-07-28 connection).
 */
const CLIENT_ERRORS = [-32600, -32601, -32602, -32002, -32022];

/**
 * Sends the lines (in pieces of random size) and a closing request the start-up path answers, and checks the answers: one per
 * id, the id-null errors in order, nothing on stdout that is not JSON-RPC, the process alive.
 */
async function exchange(s: Session, era: Era, sent: Case[], pieces: number[]): Promise<void> {
  const from = s.received.length;
  const lines = sent.map(render);
  const expected = lines.map(expectedForLine);
  const closing = `closing-${++serial}`;
  const bytes = Buffer.concat([...lines.flatMap((l) => [l, Buffer.from('\n')]), Buffer.from(`${JSON.stringify(ERAS[era].simple(closing))}\n`)]);
  await s.write(bytes, pieces);
  const ids = expected.flatMap((e) => e.ids);
  const times = (id: Id) => ids.filter((x) => x === id).length;
  const shown = () => lines.map((l) => JSON.stringify(l.toString('utf8').slice(0, 200))).join('\n');
  await s.until(
    () => [closing, ...ids].every((id) => s.answersTo(id, from).length > 0),
    () => `answers to ids ${JSON.stringify(ids.filter((id) => !s.answersTo(id, from).length)).slice(0, 300)} of\n${shown()}`,
  );
  const window = s.received.slice(from);
  const closedAt = window.findIndex((m) => m.id === closing);
  const nulls = window.slice(0, closedAt).filter((m) => m.id === null);
  expect(nulls.map((m) => m.error?.code), `id-null errors for\n${shown()}`).toEqual(expected.flatMap((e) => e.nulls));
  for (const id of new Set(ids)) {
    const answers = s.answersTo(id, from);
    // Ids are fresh per case, except where a mutation wrote a fixed one (0, -1, ""): one answer per request.
    expect(answers, `answers to ${String(id).slice(0, 40)}`).toHaveLength(times(id));
    for (const answer of answers) {
      if (answer.error) expect(CLIENT_ERRORS, `${JSON.stringify(answer).slice(0, 300)} for\n${shown()}`).toContain(answer.error.code);
      if (typeof id === 'number' && !Number.isSafeInteger(id)) expect(answer.error?.code).toBe(-32600);
    }
  }
  expect(s.notJsonRpc).toEqual([]);
  expect(s.child.exitCode).toBeNull();
}

const pieces = fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 6 });
/** Traces of a failure nobody handled: stack frames, unhandled rejections. */
const CRASH = /unhandled|uncaught|\n\s+at [\w.<>]+ \(|TypeError|RangeError|ReferenceError/i;
const MB20 = 20 * 1024 * 1024;

/** Runs per era; the 2026-07-28 session gets its own seeds and somewhat fewer runs. */
const SESSIONS: { era: Era; seed: number; fastRuns: number; fullRuns: number }[] = [
  { era: 'legacy', seed: SEED, fastRuns: 150, fullRuns: 200 },
  { era: 'modern', seed: SEED + 10, fastRuns: 100, fullRuns: 150 },
];

describe.each(SESSIONS)('stdio server under fuzzed input ($era era)', ({ era, seed, fastRuns, fullRuns }) => {
  const { opening, fast, full, simple, handOver } = ERAS[era];
  const s = () => session;
  let session: Session;
  beforeAll(async () => {
    session = new Session();
    // Id 0 (falsy) once, here, as ids must not repeat within the session.
    expect((await session.request(opening(0) as Record<string, Json>)).result).toBeDefined();
    if (era === 'legacy') await session.write(Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`));
  });
  afterAll(async () => {
    if (process.env.FUZZ_DEBUG) console.log(`${era}: ${session.received.length} answers, ${session.received.filter((m) => m.error).length} errors`, [...new Set(session.stderr.split('\n').map((l) => l.slice(0, 90)))].join('\n'));
    session.child.stdin.end();
    expect(await session.exited).toBe(0);
    expect(session.stderr).not.toMatch(CRASH);
  });

  test.prop([fc.array(cases(simple, fast, structurallyWrong(fast), fast), { minLength: 1, maxLength: 6 }), pieces], { seed, numRuns: runs(fastRuns) })(
    `before the hand-over, the start-up path answers every line per JSON-RPC (seed ${seed})`,
    (sent, sizes) => exchange(s(), era, sent, sizes),
  );

  test('before the hand-over, a 20 MB line is refused by id and the next line is served', async () => {
    const huge = JSON.stringify(era === 'legacy' ? { jsonrpc: '2.0', id: 'huge-fast', method: 'ping', params: { _meta: { pad: 'x'.repeat(MB20) } } } : modern('tools/list', { _meta: { pad: 'x'.repeat(MB20) } }, 'huge-fast'));
    await s().write(Buffer.from(`${huge}\n`));
    await s().request(simple('after-huge-fast') as Record<string, Json>);
    expect(s().answersTo('huge-fast')[0]?.error).toMatchObject({ code: -32600, message: expect.stringMatching(/20\.0 MB; the limit is 10\.0 MB/) });
    // Still the start-up path: the full server, once it took over, would have logged the unknown KIMI_PROVIDER.
    expect(s().stderr).not.toMatch(/configuration:/);
  });

  test('a tools/call hands over; the full server logs its configuration and answers it', async () => {
    const answer = await s().request(handOver('') as Record<string, Json>);
    expect(answer.result).toMatchObject({ structuredContent: { output_tokens: 1_000_000 } });
    await s().until(() => /configuration: KIMI_PROVIDER/.test(s().stderr), () => 'the full server to start');
  });

  test.prop([fc.array(cases(simple, [...fast, ...full], mutated([...fast, ...full]), [...fast, ...full]), { minLength: 1, maxLength: 6 }), pieces], {
    seed: seed + 1,
    numRuns: runs(fullRuns),
  })(`after the hand-over, the full server answers every line per JSON-RPC (seed ${seed + 1})`, (sent, sizes) => exchange(s(), era, sent, sizes));

  test('after the hand-over, 20 MB lines are refused (by id when the head shows it) and the server keeps serving', async () => {
    const call = { name: 'kimi_chat', arguments: { prompt: 'x'.repeat(MB20) } };
    const huge = JSON.stringify(era === 'legacy' ? request('tools/call', call, 'huge-full') : modern('tools/call', call, 'huge-full'));
    await s().write(Buffer.from(`${huge}\n${'{'.repeat(MB20)}\n`));
    await s().request(simple('after-huge-full') as Record<string, Json>);
    expect(s().answersTo('huge-full')[0]?.error).toMatchObject({ code: -32600, message: expect.stringMatching(/limit is 10\.0 MB/) });
    expect(s().received.filter((m) => m.id === null && /limit is 10\.0 MB/.test(m.error?.message ?? ''))).toHaveLength(1);
  });
});

describe('stdio server at end of input', () => {
  const era = fc.constantFrom<Era>('legacy', 'modern');
  const lines = (e: Era) => ({
    before: fc.array(cases(ERAS[e].simple, ERAS[e].fast, structurallyWrong(ERAS[e].fast), ERAS[e].fast), { maxLength: 4 }),
    after: fc.array(cases(ERAS[e].simple, [...ERAS[e].fast, ...ERAS[e].full], mutated(ERAS[e].full), ERAS[e].full), { maxLength: 4 }),
    last: fc.option(fc.oneof(fc.constant<Case>({ json: ERAS[e].simple(idOf()) }), fc.constantFrom<Case>({ bytes: [...Buffer.from('{"jsonrpc":"2.0","id":')] }, { json: ERAS[e].fast[1]! }))),
  });
  const scenario = era.chain((e) => fc.record({ era: fc.constant(e), before: lines(e).before, handsOver: fc.boolean(), after: lines(e).after, unterminated: lines(e).last }));

  test.prop([scenario, pieces, fc.boolean()], { seed: SEED + 2, numRuns: runs(10) })(
    `answers everything it received, the last line even without a newline, and exits 0, in either era, with or without a hand-over or the start-up path (seed ${SEED + 2})`,
    async ({ era: e, before, handsOver, after, unterminated }, sizes, fastStart) => {
      const s = new Session(fastStart ? {} : { KIMI_MCP_FAST_START: '0' });
      const sent: Case[] = [{ json: ERAS[e].opening(idOf()) }, ...before, ...(handsOver ? [{ json: ERAS[e].handOver(idOf()) }, ...after] : [])];
      const lines = sent.map(render);
      const final = unterminated ? render(unterminated) : Buffer.alloc(0);
      const expected = [...lines, final].map(expectedForLine);
      await s.write(Buffer.concat([...lines.flatMap((l) => [l, Buffer.from('\n')]), final]), sizes);
      s.child.stdin.end();
      const code = await Promise.race([s.exited, new Promise((resolve) => setTimeout(() => resolve('hung'), EXCHANGE_MS))]);
      if (code === 'hung') s.child.kill('SIGKILL');
      expect(code).toBe(0);
      for (const id of expected.flatMap((x) => x.ids)) expect(s.answersTo(id), `answers to ${String(id).slice(0, 40)}`).toHaveLength(1);
      expect(s.received.filter((m) => m.id === null).map((m) => m.error?.code)).toEqual(expected.flatMap((x) => x.nulls));
      expect(s.notJsonRpc).toEqual([]);
      expect(s.stderr).not.toMatch(CRASH);
    },
  );
});

describe('line framing and id recovery (src/transport/jsonrpc.ts)', () => {
  const MAX = 40;
  const line = fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b.filter((x) => x !== 10)));

  test.prop([fc.array(line, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 70 }), { maxLength: 12 }), fc.boolean()], { seed: SEED + 3, numRuns: runs(300) })(
    `splits a stream cut anywhere into the same lines, long ones reported by length (seed ${SEED + 3})`,
    (lines, cuts, terminated) => {
      const stream = Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 || terminated ? [l, Buffer.from('\n')] : [l])));
      const splitter = new LineSplitter(MAX);
      const got: Line[] = [];
      let at = 0;
      for (const size of [...cuts, stream.length]) {
        splitter.push(stream.subarray(at, at + size));
        at = Math.min(stream.length, at + size);
        for (let l = splitter.next(); l; l = splitter.next()) got.push(l);
      }
      const last = splitter.end();
      if (last) got.push(last);
      const expected = lines
        .filter((l, i) => i < lines.length - 1 || terminated || l.length > 0)
        .map((l) => (l.length > MAX ? { oversize: l.length } : { bytes: l.length && l[l.length - 1] === 13 ? l.subarray(0, -1) : l }));
      expect(got.map((l) => ('oversize' in l ? { oversize: l.oversize } : { bytes: l.bytes }))).toEqual(expected);
    },
  );

  const key = fc.string({ maxLength: 6 }).filter((k) => k !== 'id' && k !== '__proto__');
  const id = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.maxSafeInteger(), fc.maxSafeInteger().map((n) => -n));
  test.prop([fc.array(fc.tuple(key, fc.jsonValue({ maxDepth: 3 })), { maxLength: 4 }), fc.nat(4), id, fc.nat()], { seed: SEED + 4, numRuns: runs(300) })(
    `finds the top-level id of a message, or nothing in a cut-off head, never a wrong one (seed ${SEED + 4})`,
    (members, where, value, cut) => {
      // A decoy: an "id" nested in an earlier member.
      const entries: [string, unknown][] = [['params', { id: 'decoy', x: [{ id: 1 }] }], ...members];
      entries.splice(Math.min(where, entries.length), 0, ['id', value]);
      const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
      const sent = JSON.parse(JSON.stringify(value)) as Id; // what the wire carries (-0 has no JSON form)
      expect(idIn(text)).toBe(sent);
      expect([sent, null]).toContain(idIn(text.slice(0, cut % (text.length + 1))));
    },
  );
});
