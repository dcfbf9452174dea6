/**
 * `npm run soak` (not part of `npm test`; a few minutes): the built server under a long mixed
 * load with faults, over stdio and then over Streamable HTTP, against the simulator in its own
 * process (bench/soak-sim.ts). Counts crashes, key leaks, lost partial text, upstream requests
 * and sockets left open, memory and file descriptors; prints a report and writes
 * bench/RELIABILITY.md. A default run takes about a minute on 2 cores.
 *
 * Settings: SOAK_SEED reruns the same sequence of calls and faults; SOAK_CALLS, calls per phase
 * (default 2,000); SOAK_SERVER_NODE_OPTIONS is added to the servers' NODE_OPTIONS (a small
 * --max-old-space-size turns memory the server holds on to into a crash); SOAK_IDLE_MS, the
 * servers' idle timer (500); SOAK_SESSION_IDLE_MS, the HTTP server's session expiry (2000);
 * SOAK_TIMEOUT_MS, the hard limit on the whole run (6 min, more for long runs).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Behaviour } from '../src/simulator/kimi-simulator.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/cli.js');
const CALLS = Number(process.env.SOAK_CALLS ?? 2000);
const CONCURRENCY = 16;
const FAULT_RATE = 0.2;
/** The servers' idle timer: a stalled stream costs this long. */
const IDLE_MS = Number(process.env.SOAK_IDLE_MS ?? 500);
/** Hard limits: one call, the whole run. */
const CALL_TIMEOUT_MS = 30_000;
const OVERALL_MS = Number(process.env.SOAK_TIMEOUT_MS ?? Math.max(360_000, CALLS * 90));
/** Longer than Node's 5 s keep-alive timeout on the simulator's side, so idle sockets are gone. */
const SETTLE_MS = 6_000;
/** HTTP: long-lived client sessions (the 16 workers share them); abrupt ones come on top. */
const HTTP_SESSIONS = 4;
/** HTTP: sessions idle this long are closed by the server (KIMI_MCP_SESSION_IDLE_MS), so that the
 *  ones clients abandon are gone within the settle. */
const SESSION_IDLE_MS = Number(process.env.SOAK_SESSION_IDLE_MS ?? 2000);
/** The memory readings come at rest after each half of the calls. */
const HALF = Math.ceil(CALLS / 2);
const REST_MS = SESSION_IDLE_MS + 2_000;
/** What the simulator must have sent before a cancel or a disconnect. */
const TEXT_BEFORE_CUT = 24;

const seed = process.env.SOAK_SEED !== undefined ? Number(process.env.SOAK_SEED) >>> 0 : randomBytes(4).readUInt32LE(0);
const canary = `sk-canary-${randomBytes(12).toString('hex')}`;
const say = (s: string) => process.stderr.write(`[soak] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// the plan: every call and its fault, drawn from a seeded PRNG

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Tool = 'kimi_chat' | 'kimi_stream';
type Phase = 'stdio' | 'http';
type Outcome = 'ok' | 'error with text' | 'error without text' | 'cancelled' | 'transport error';
const OUTCOMES: Outcome[] = ['ok', 'error with text', 'error without text', 'cancelled', 'transport error'];

interface FaultKind {
  id: string;
  label: string;
  /** Fault after some text: the text that arrived must come back exactly. */
  afterText?: boolean;
  /** HTTP only, and how often relative to the others. */
  httpOnly?: boolean;
  weight?: number;
}

const FAULTS: FaultKind[] = [
  { id: 'http401', label: 'HTTP 401 (key refused)' },
  { id: 'http403', label: 'HTTP 403 (forbidden)' },
  { id: 'http429', label: 'HTTP 429, Retry-After: 0 (1–2 times, then a reply)' },
  { id: 'moonshot429', label: 'HTTP 429 "try again after 0.01 seconds" (then a reply)' },
  { id: 'quota429', label: 'HTTP 429 exceeded_current_quota_error' },
  { id: 'http500', label: 'HTTP 500, Retry-After: 0 (1–4 times)' },
  { id: 'http502', label: 'HTTP 502 HTML page, Retry-After: 0 (1–4 times)' },
  { id: 'http503', label: 'HTTP 503 overloaded, Retry-After: 0 (1–4 times)' },
  { id: 'reset', label: 'connection reset mid-body, after text', afterText: true },
  { id: 'stall', label: `stall mid-stream, after text (idle timer ${IDLE_MS} ms)`, afterText: true },
  { id: 'stallHeaders', label: 'stall before the headers' },
  { id: 'garbage', label: 'garbage SSE after text (connection held open)', afterText: true },
  { id: 'inband', label: 'in-band error event after text', afterText: true },
  { id: 'endEarly', label: 'body ends after text, no finish_reason', afterText: true },
  { id: 'noDone', label: 'finish and usage, no [DONE]' },
  { id: 'noUsage', label: 'usage omitted' },
  { id: 'cancel', label: 'client cancel mid-stream (notifications/cancelled)' },
  { id: 'dropSession', label: 'client closes its session mid-stream, no DELETE (socket aborted)', httpOnly: true, weight: 3 },
  { id: 'dropFetch', label: "client aborts the call's HTTP request mid-stream (socket destroyed, session kept)", httpOnly: true, weight: 3 },
];
const byId = new Map(FAULTS.map((f) => [f.id, f]));

interface Plan {
  i: number;
  marker: string;
  tool: Tool;
  thinking: boolean;
  fault: string; // 'none' or a FaultKind id
  behaviours: Behaviour[];
  expected: Outcome;
  /** Chat requests the server should make (retries included); undefined when it depends on timing. */
  requests?: number;
}

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu 漢字 ünïcode émoji🙂 naïve'.split(' ');

function planCalls(phase: Phase, rng: () => number): Plan[] {
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const kinds = FAULTS.filter((f) => phase === 'http' || !f.httpOnly);
  const total = kinds.reduce((s, f) => s + (f.weight ?? 1), 0);
  const drawFault = () => {
    let r = rng() * total;
    for (const f of kinds) if ((r -= f.weight ?? 1) < 0) return f.id;
    return kinds.at(-1)!.id;
  };
  const text = (min: number, max: number) => {
    const n = int(min, max);
    let s = '';
    while (s.length < n) s += `${pick(WORDS)} `;
    return s.trim();
  };
  return Array.from({ length: CALLS }, (_, i) => {
    const marker = `[soak-${phase === 'stdio' ? 'p1' : 'p2'}-${String(i).padStart(5, '0')}]`;
    const tool: Tool = rng() < 0.5 ? 'kimi_chat' : 'kimi_stream';
    const thinking = rng() < 0.5;
    const fault = rng() < FAULT_RATE ? drawFault() : 'none';
    const chunkSize = int(4, 16);
    const reply: Behaviour = { content: text(40, 600), chunkSize, delayMs: rng() < 0.7 ? 0 : int(1, 3), ...(thinking ? { reasoning: text(20, 120) } : {}) };
    const pieces = Math.ceil(reply.content!.length / chunkSize);
    const at = int(1, Math.max(1, pieces - 1));
    const http = (status: number, errorType: string, errorMessage: string, extra: Behaviour = {}): Behaviour => ({ status, errorType, errorMessage, ...extra });
    const times = (n: number, b: Behaviour) => Array.from({ length: n }, () => b);
    const slow: Behaviour = { content: Array.from({ length: 60 }, (_, k) => `Part ${k}.`).join(' '), chunkSize: 8, delayMs: 20, ...(thinking ? { reasoning: 'Short thought.' } : {}) };
    const base = { i, marker, tool, thinking, fault };
    switch (fault) {
      case 'none':
        return { ...base, behaviours: [reply], expected: 'ok', requests: 1 };
      case 'http401':
        return { ...base, behaviours: [http(401, 'incorrect_api_key_error', 'Invalid Authentication')], expected: 'error without text', requests: 1 };
      case 'http403':
        return { ...base, behaviours: [http(403, 'permission_denied_error', 'The API key has no access to this model')], expected: 'error without text', requests: 1 };
      case 'http429': {
        const n = int(1, 2);
        return { ...base, behaviours: [...times(n, http(429, 'rate_limit_reached_error', 'request reached organization max RPM: 3', { retryAfter: '0' })), reply], expected: 'ok', requests: n + 1 };
      }
      case 'moonshot429':
        return { ...base, behaviours: [http(429, 'rate_limit_reached_error', 'request reached organization max concurrency: 1, please try again after 0.01 seconds'), reply], expected: 'ok', requests: 2 };
      case 'quota429':
        return { ...base, behaviours: [http(429, 'exceeded_current_quota_error', 'Your account is suspended due to insufficient balance')], expected: 'error without text', requests: 1 };
      case 'http500':
      case 'http502':
      case 'http503': {
        const n = int(1, 4);
        const failure =
          fault === 'http500'
            ? http(500, 'server_error', 'upstream exploded', { retryAfter: '0' })
            : fault === 'http502'
              ? { status: 502, retryAfter: '0', errorBody: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>' }
              : http(503, 'engine_overloaded_error', 'The engine is currently overloaded, please try again later', { retryAfter: '0' });
        return { ...base, behaviours: [...times(n, failure), reply], expected: n < 4 ? 'ok' : 'error without text', requests: Math.min(n + 1, 4) };
      }
      case 'reset':
        return { ...base, behaviours: [{ ...reply, resetAfterChunks: at }], expected: 'error with text', requests: 1 };
      case 'stall':
        return { ...base, behaviours: [{ ...reply, stallAfterChunks: at }], expected: 'error with text', requests: 1 };
      case 'stallHeaders':
        return { ...base, behaviours: [{ stallBeforeHeaders: true }], expected: 'error without text', requests: 1 };
      case 'garbage':
        return { ...base, behaviours: [{ ...reply, garbageAfterChunks: at }], expected: 'error with text', requests: 1 };
      case 'inband':
        return { ...base, behaviours: [{ ...reply, errorAfterChunks: at }], expected: 'error with text', requests: 1 };
      case 'endEarly':
        return { ...base, behaviours: [{ ...reply, endEarlyAfterChunks: at }], expected: 'error with text', requests: 1 };
      case 'noDone':
        return { ...base, behaviours: [{ ...reply, noDoneAfterFinish: true }], expected: 'ok', requests: 1 };
      case 'noUsage':
        return { ...base, behaviours: [{ ...reply, omitUsage: true }], expected: 'ok', requests: 1 };
      case 'cancel':
        return { ...base, behaviours: [slow], expected: 'cancelled', requests: 1 };
      case 'dropSession':
      case 'dropFetch':
        return { ...base, behaviours: [slow], expected: 'transport error', requests: 1 };
      default:
        throw new Error(fault);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// the key canary: every line the servers let out is scanned for it

function canaryForms(key: string): string[] {
  return [...new Set([key, key.replace(/^sk-canary-/, ''), Buffer.from(key).toString('base64')])];
}

class Scanner {
  private readonly forms = canaryForms(canary);
  readonly counts = new Map<string, { lines: number; leaks: number }>();
  readonly leaks: { category: string; excerpt: string }[] = [];

  line(category: string, text: string): void {
    const c = this.counts.get(category) ?? { lines: 0, leaks: 0 };
    this.counts.set(category, c);
    c.lines++;
    for (const form of this.forms) {
      const at = text.indexOf(form);
      if (at < 0) continue;
      c.leaks++;
      const excerpt = text.slice(Math.max(0, at - 80), at + form.length + 40);
      this.leaks.push({ category, excerpt: this.forms.reduce((s, f) => s.split(f).join('<CANARY>'), excerpt) });
      return;
    }
  }

  /** A byte stream, scanned line by line as it arrives. */
  stream(category: string): { feed(text: string): void; end(): void } {
    if (!this.counts.has(category)) this.counts.set(category, { lines: 0, leaks: 0 });
    let carry = '';
    return {
      feed: (text) => {
        const parts = (carry + text).split('\n');
        carry = parts.pop() ?? '';
        for (const p of parts) this.line(category, p);
      },
      end: () => {
        if (carry) this.line(category, carry);
        carry = '';
      },
    };
  }

  /** Every line of every file under a folder (the state folder: conversations, ledger.jsonl). */
  files(category: string, dir: string): number {
    const walk = (d: string): string[] => readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));
    const paths = walk(dir);
    for (const p of paths) for (const l of readFileSync(p, 'utf8').split('\n')) this.line(category, `${relative(dir, p)}: ${l}`);
    return paths.length;
  }
}
const scan = new Scanner();

// ---------------------------------------------------------------------------------------------
// the simulator host

interface ChatView {
  requestId: string;
  at: number;
  status: number | null;
  content: string;
  reasoning: string;
  done: boolean;
  endedAt: number | null;
  endedHow: string | null;
}
interface SimStats {
  chats: number;
  inFlight: number;
  inFlightPrompts: string[];
  openSockets: number;
  getConnections: number | null;
  acceptedSockets: number;
  errorResponses: number;
  authorizedWithKey: number;
}

class SimHost {
  private readonly waiting = new Map<number, (m: { result?: unknown; error?: string }) => void>();
  private next = 1;
  private constructor(
    private readonly child: ChildProcess,
    readonly baseURL: string,
  ) {}

  static start(): Promise<SimHost> {
    const child = spawn(process.execPath, [join(ROOT, '.cache/soak-sim.mjs')], { env: { PATH: process.env.PATH, SIM_KEY: canary }, stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin!.on('error', () => undefined); // a write after it died is reported by req
    children.add(child);
    child.once('exit', () => children.delete(child));
    return new Promise((resolve, reject) => {
      let host: SimHost | undefined;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { baseURL?: string; id?: number; result?: unknown; error?: string };
        if (m.baseURL) resolve((host = new SimHost(child, m.baseURL)));
        else host?.waiting.get(m.id!)?.(m);
      });
      child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
    });
  }

  req<T>(m: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => {
        this.waiting.delete(id);
        if (r.error) reject(new Error(r.error));
        else resolve(r.result as T);
      });
      if (this.child.stdin!.writableEnded || this.child.exitCode !== null) return reject(new Error('soak: the simulator is gone'));
      this.child.stdin!.write(`${JSON.stringify({ id, ...m })}\n`);
    });
  }

  stats(): Promise<SimStats> {
    return this.req({ op: 'stats' });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// processes

const children = new Set<ChildProcess>();

function rssMb(pid: number): number | null {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return null;
  }
}
function hwmMb(pid: number): number | null {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return null;
  }
}
function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** A stack frame or an unhandled/uncaught failure in a server's stderr. */
const TRACE = /^\s+at .+:\d+:\d+\)?$|unhandled|uncaught|Error: write EPIPE/i;

interface ServerWatch {
  pid: number;
  stderrLines: string[];
  traces: string[];
  exit: Promise<{ code: number | null; signal: string | null }>;
  /** Set when it exited while we were not closing it. */
  diedEarly?: { code: number | null; signal: string | null };
  /** Forces a full GC in the server (the preload) and resolves with its heap in use, in MB. */
  heapAfterGc(): Promise<number | null>;
}

/** Stderr lines with numbers, ids and markers folded, so that the same message counts once. */
function distinct(lines: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    const k = l.replace(/\[soak-p\d-\d+\][^"]*/g, '[soak-…]').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').replace(/\d+(\.\d+)?/g, '#').slice(0, 240);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

function watch(child: ChildProcess, category: string, stderr: NodeJS.ReadableStream, closing: () => boolean): ServerWatch {
  const gcWaiters: ((mb: number | null) => void)[] = [];
  const w: ServerWatch = {
    pid: child.pid!,
    stderrLines: [],
    traces: [],
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    heapAfterGc: () => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), 5_000);
        gcWaiters.push((mb) => (clearTimeout(timer), resolve(mb)));
        child.kill('SIGUSR2');
      });
    },
  };
  const out = scan.stream(category === 'stdio' ? 'stdio stdout (raw JSON-RPC)' : `${category} server stdout`);
  child.stdout?.on('data', (d: Buffer) => out.feed(d.toString()));
  child.stdout?.once('end', () => out.end());
  const err = scan.stream(`${category} server stderr`);
  let carry = '';
  stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    err.feed(text);
    const parts = (carry + text).split('\n');
    carry = parts.pop() ?? '';
    for (const l of parts) {
      const gc = /^\[soak-gc\] (.*)$/.exec(l);
      if (gc) {
        gcWaiters.shift()?.((JSON.parse(gc[1]!) as { heapUsed: number }).heapUsed / 2 ** 20);
        continue;
      }
      w.stderrLines.push(l);
      if (TRACE.test(l)) w.traces.push(l);
    }
  });
  stderr.once('end', () => err.end());
  void w.exit.then((e) => {
    if (!closing()) {
      w.diedEarly = e;
      say(`${category} server exited unexpectedly: ${JSON.stringify(e)}`);
    }
  });
  return w;
}

// ---------------------------------------------------------------------------------------------
// one call

interface CallRecord {
  plan: Plan;
  outcome: Outcome;
  text?: string;
  reasoning?: string;
  usageEstimated?: boolean;
  error?: string;
  ms: number;
  progress: number;
  /** When the client cancelled or disconnected, and whether the simulator had sent TEXT_BEFORE_CUT characters by then. */
  cutAt?: number;
  cutReached?: boolean;
  /** dropSession: the session the client abandoned. */
  sessionId?: string;
}

interface Session {
  client: Client;
  /** HTTP: aborts the HTTP request carrying this call (the socket under it is destroyed). */
  dropFetch?(marker: string): boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`soak: ${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

async function runCall(session: Session, plan: Plan, sim: SimHost, phase: Phase, fresh?: () => Promise<Session & { close(): Promise<void>; sessionId?: string }>): Promise<CallRecord> {
  const started = performance.now();
  const record: CallRecord = { plan, outcome: 'transport error', ms: 0, progress: 0 };
  try {
    return await callOnce(session, plan, sim, phase, record, fresh);
  } catch (e) {
    // Setting the call up failed (the server or the simulator is gone): a transport error.
    record.outcome = 'transport error';
    record.error = `soak: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    return record;
  } finally {
    record.ms = performance.now() - started;
  }
}

async function callOnce(session: Session, plan: Plan, sim: SimHost, phase: Phase, record: CallRecord, fresh?: () => Promise<Session & { close(): Promise<void>; sessionId?: string }>): Promise<CallRecord> {
  await sim.req({ op: 'script', match: plan.marker, behaviours: plan.behaviours });
  const ac = new AbortController();
  let own: (Session & { close(): Promise<void>; sessionId?: string }) | undefined;
  if (plan.fault === 'dropSession') {
    own = await fresh!();
    record.sessionId = own.sessionId;
  }
  const client = (own ?? session).client;
  const pending = client.callTool(
    { name: plan.tool, arguments: { prompt: `${plan.marker} Please look at item ${plan.i} and answer briefly.`, thinking: plan.thinking } },
    undefined,
    {
      signal: ac.signal,
      // A call whose HTTP request the client aborted gets no answer; it is settled when the session closes.
      timeout: plan.fault === 'dropFetch' ? 3_600_000 : CALL_TIMEOUT_MS,
      ...(plan.tool === 'kimi_stream' ? { onprogress: () => void record.progress++ } : {}),
    },
  ) as Promise<CallToolResult>;
  pending.catch(() => undefined);
  try {
    if (plan.fault === 'cancel' || plan.fault === 'dropSession' || plan.fault === 'dropFetch') {
      const settled = pending.then(
        () => ({ reached: false }),
        () => ({ reached: false }),
      );
      const w = await Promise.race([sim.req<{ reached: boolean }>({ op: 'wait', match: plan.marker, minContent: TEXT_BEFORE_CUT, timeoutMs: 10_000 }), settled]);
      record.cutReached = w.reached;
      record.cutAt = Date.now();
      if (plan.fault === 'cancel') ac.abort(new Error('soak: the user pressed stop'));
      else if (plan.fault === 'dropSession') await own!.close();
      else if (!session.dropFetch!(plan.marker)) record.error = 'soak: no HTTP request to abort';
      if (plan.fault === 'dropFetch') {
        record.outcome = 'transport error';
        record.error ??= 'disconnected (the HTTP request was aborted)';
        return record;
      }
    }
    const r = await withTimeout(pending, CALL_TIMEOUT_MS + 5_000, `${plan.marker} ${plan.tool}`);
    scan.line(`${phase} results`, JSON.stringify(r));
    const out = r.structuredContent as { text?: string; reasoning?: string; usage_estimated?: boolean } | undefined;
    record.text = out?.text;
    record.reasoning = out?.reasoning;
    record.usageEstimated = out?.usage_estimated;
    if (!r.isError) record.outcome = 'ok';
    else record.outcome = out?.text ? 'error with text' : 'error without text';
    if (r.isError) record.error = ((r.content as { type: string; text?: string }[])[0]?.text ?? '').slice(0, 300);
  } catch (e) {
    record.outcome = ac.signal.aborted ? 'cancelled' : 'transport error';
    record.error = String((e as Error)?.message ?? e).slice(0, 300);
    scan.line(`${phase} results`, record.error);
  }
  return record;
}

/** Runs plans with CONCURRENCY workers; records come back in plan order. */
async function pool(plans: Plan[], work: (plan: Plan, worker: number) => Promise<CallRecord>, onDone: () => void): Promise<CallRecord[]> {
  const records: CallRecord[] = new Array(plans.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < plans.length) {
        const k = next++;
        records[k] = await work(plans[k]!, worker);
        onDone();
      }
    }),
  );
  return records;
}

/**
 * The plan in two halves, each followed by a rest (no call in flight, abandoned HTTP sessions
 * expired) in which memory is read: "after 1,000" and "after 2,000" then compare like with like.
 */
async function runInHalves(plans: Plan[], work: (plan: Plan, worker: number) => Promise<CallRecord>, w: ServerWatch, rss: PhaseResult['rss'], heap: PhaseResult['heap']): Promise<{ records: CallRecord[]; wallMs: number }> {
  const records: CallRecord[] = [];
  let wallMs = 0;
  let done = 0;
  const onDone = () => {
    done++;
    if (done % 500 === 0) rss.every500.push(rssMb(w.pid));
    if (done % 250 === 0) say(`  ${done}/${plans.length} calls`);
  };
  const t = performance.now();
  records.push(...(await pool(plans.slice(0, HALF), work, onDone)));
  wallMs += performance.now() - t;
  await sleep(REST_MS);
  rss.atHalf = rssMb(w.pid);
  heap.atHalf = await w.heapAfterGc();
  const t2 = performance.now();
  records.push(...(await pool(plans.slice(HALF), work, onDone)));
  wallMs += performance.now() - t2;
  return { records, wallMs };
}

/** Memory at rest after the second half: read REST_MS after its last call (1 s in, the upstream count). */
async function restAfterRun(w: ServerWatch, sim: SimHost, rss: PhaseResult['rss'], heap: PhaseResult['heap']): Promise<SimStats> {
  await sleep(1000);
  const after1s = await sim.stats();
  await sleep(REST_MS - 1000);
  rss.atEnd = rssMb(w.pid);
  heap.atEnd = await w.heapAfterGc();
  return after1s;
}

// ---------------------------------------------------------------------------------------------
// checking the calls against what the simulator sent and what the server stored

interface StoredTurn {
  reply: { content: string; reasoning?: string };
  partial?: boolean;
}

function storedTurns(stateDir: string): Map<string, StoredTurn> {
  const turns = new Map<string, StoredTurn>();
  const folder = join(stateDir, 'conversations');
  let files: string[] = [];
  try {
    files = readdirSync(folder);
  } catch {
    return turns;
  }
  for (const f of files) {
    for (const line of readFileSync(join(folder, f), 'utf8').split('\n')) {
      const m = /\[soak-p\d-\d+\]/.exec(line);
      if (!m) continue;
      try {
        turns.set(m[0], JSON.parse(line) as StoredTurn);
      } catch {
        turns.set(m[0], { reply: { content: '<torn line>' }, partial: undefined });
      }
    }
  }
  return turns;
}

interface PhaseResult {
  phase: Phase;
  records: CallRecord[];
  wallMs: number;
  rss: { start: number | null; atHalf: number | null; atEnd: number | null; settled: number | null; peak: number | null; every500: (number | null)[] };
  fds: { before: number | null; after: number | null };
  /** V8 heap in use after a forced full GC, MB. */
  heap: { start: number | null; atHalf: number | null; atEnd: number | null; settled: number | null };
  upstream: { after1s: SimStats; settled: SimStats; afterExit: SimStats };
  exit: { code: number | null; signal: string | null };
  diedEarly?: { code: number | null; signal: string | null };
  traces: string[];
  stderrLines: number;
  /** Distinct stderr lines (numbers and ids folded) with how often each came. */
  stderrDistinct: [string, number][];
  /** From closing the client (stdin end, or SIGTERM for HTTP) to the exit. */
  exitMs: number;
  /** Calls that did not go as planned, with why. */
  unexpected: string[];
  partialKept: { kept: number; of: number; storedExact: number };
  cutKept: { kept: number; of: number; notReached: number };
  okExact: { exact: number; of: number };
  requestsAsPlanned: { ok: number; of: number };
  disconnects?: { sessionsAbandoned: number; sessionsStillHeld: number; sessionsUnprobed: number; upstreamClosedMs: number[]; upstreamCompleted: number; turnsPartial: number; turnsWhole: number; turnsMissing: number };
  stateFiles: number;
}

async function check(records: CallRecord[], sim: SimHost, stateDir: string): Promise<Pick<PhaseResult, 'unexpected' | 'partialKept' | 'cutKept' | 'okExact' | 'requestsAsPlanned'> & { drops: { closedMs: number[]; completed: number; partial: number; whole: number; missing: number } }> {
  const chats = await sim.req<Record<string, ChatView[]>>({ op: 'chats', matches: records.map((r) => r.plan.marker) });
  const turns = storedTurns(stateDir);
  const unexpected: string[] = [];
  const partialKept = { kept: 0, of: 0, storedExact: 0 };
  const cutKept = { kept: 0, of: 0, notReached: 0 };
  const okExact = { exact: 0, of: 0 };
  const requestsAsPlanned = { ok: 0, of: 0 };
  const drops = { closedMs: [] as number[], completed: 0, partial: 0, whole: 0, missing: 0 };
  const note = (r: CallRecord, why: string) => unexpected.push(`${r.plan.marker} ${r.plan.tool} ${r.plan.fault}${r.plan.thinking ? ' (thinking)' : ''}: ${why}`);
  for (const r of records) {
    const sent = chats[r.plan.marker] ?? [];
    const answered = sent.filter((c) => c.status === 200).at(-1);
    const content = answered?.content ?? '';
    const reasoning = answered?.reasoning ?? '';
    if (r.outcome !== r.plan.expected) note(r, `expected ${r.plan.expected}, got ${r.outcome}${r.error ? ` (${r.error.replace(/\s+/g, ' ').slice(0, 200)})` : ''}`);
    if (r.plan.requests !== undefined) {
      requestsAsPlanned.of++;
      if (sent.length === r.plan.requests) requestsAsPlanned.ok++;
      else note(r, `${sent.length} upstream requests, planned ${r.plan.requests}`);
    }
    if (r.plan.fault === 'noUsage' && r.outcome === 'ok' && !r.usageEstimated) note(r, 'usage omitted by the host but not marked usage_estimated');
    if (r.plan.expected === 'ok') {
      okExact.of++;
      if (r.outcome === 'ok' && r.text === content && (r.reasoning ?? '') === reasoning) okExact.exact++;
      else if (r.outcome === 'ok') note(r, `reply differs from what the simulator sent (${r.text?.length ?? 0} vs ${content.length} characters)`);
    }
    if (byId.get(r.plan.fault)?.afterText) {
      partialKept.of++;
      if (!content) note(r, 'the simulator sent no text before the fault');
      if (r.outcome === 'error with text' && r.text === content && (r.reasoning ?? '') === reasoning) partialKept.kept++;
      else note(r, `partial text lost or changed: result ${JSON.stringify((r.text ?? '').slice(-40))} (${r.text?.length ?? 0} chars), sent ${JSON.stringify(content.slice(-40))} (${content.length} chars)`);
      const turn = turns.get(r.plan.marker);
      if (turn?.partial && turn.reply.content === content) partialKept.storedExact++;
      else note(r, `stored turn ${turn ? `partial=${turn.partial} ${turn.reply.content.length} chars` : 'missing'}, sent ${content.length} chars`);
    }
    if (r.plan.fault === 'cancel' || r.plan.fault === 'dropSession' || r.plan.fault === 'dropFetch') {
      const first = sent[0];
      const turn = turns.get(r.plan.marker);
      if (!r.cutReached) {
        cutKept.notReached++;
        note(r, `the simulator had not sent ${TEXT_BEFORE_CUT} characters within 10 s`);
      }
      if (r.plan.fault === 'cancel') {
        cutKept.of++;
        if (turn?.partial && turn.reply.content.length > 0 && (first?.content ?? '').startsWith(turn.reply.content)) cutKept.kept++;
        else note(r, `cancelled turn ${turn ? `partial=${turn.partial}, ${turn.reply.content.length} chars` : 'not stored'}; the simulator sent ${first?.content.length ?? 0}`);
      } else {
        if (first?.endedAt && r.cutAt) drops.closedMs.push(first.endedAt - r.cutAt);
        if (first?.endedHow === 'completed') drops.completed++;
        if (!turn) drops.missing++;
        else if (turn.partial) drops.partial++;
        else drops.whole++;
        if (turn && !(first?.content ?? '').startsWith(turn.reply.content)) note(r, 'stored turn is not what the simulator sent');
      }
    }
  }
  return { unexpected, partialKept, cutKept, okExact, requestsAsPlanned, drops };
}

// ---------------------------------------------------------------------------------------------
// phase 1: stdio

/** StdioClientTransport that hands over the child as soon as it is spawned, before initialize. */
class TappedStdio extends StdioClientTransport {
  onSpawn: ((child: ChildProcess) => void) | undefined;
  override async start(): Promise<void> {
    await super.start();
    // The SDK keeps the child private; its raw stdout and its pid are what the soak watches.
    this.onSpawn?.((this as unknown as { _process: ChildProcess })._process);
  }
}

/**
 * Loaded into each server with --require: on SIGUSR2 it runs a full garbage collection and
 * prints the heap on stderr, so that memory the server holds on to can be told from heap
 * headroom V8 has not given back (which RSS alone cannot).
 */
const GC_PRELOAD = `const gc = (require('v8').setFlagsFromString('--expose-gc'), require('vm').runInNewContext('gc'));
process.on('SIGUSR2', () => {
  gc(); gc();
  const m = process.memoryUsage();
  process.stderr.write('[soak-gc] ' + JSON.stringify({ heapUsed: m.heapUsed, external: m.external }) + '\\n');
});
`;
let preloadPath = '';

/** SOAK_SERVER_NODE_OPTIONS (e.g. --max-old-space-size=48) is added to the servers' NODE_OPTIONS. */
function serverEnv(baseURL: string, stateDir: string): Record<string, string> {
  const nodeOptions = [`--require ${JSON.stringify(preloadPath)}`, process.env.SOAK_SERVER_NODE_OPTIONS ?? ''].join(' ').trim();
  return { ...getDefaultEnvironment(), RUNAPI_KEY: canary, RUNAPI_BASE_URL: baseURL, KIMI_IDLE_TIMEOUT_MS: String(IDLE_MS), KIMI_MCP_STATE_DIR: stateDir, NODE_OPTIONS: nodeOptions };
}

async function readResources(client: Client, phase: Phase): Promise<void> {
  const { resources } = await client.listResources();
  const uris = ['kimi://usage', ...resources.map((r) => r.uri).filter((u) => /^kimi:\/\/(replies|conversations)\//.test(u)).slice(0, 200)];
  for (const uri of uris) scan.line(`${phase} resources (kimi://usage, up to 200 conversations)`, JSON.stringify(await client.readResource({ uri })));
}

async function phaseStdio(sim: SimHost, stateDir: string): Promise<PhaseResult> {
  let closing = false;
  const transport = new TappedStdio({ command: process.execPath, args: [CLI], env: serverEnv(sim.baseURL, stateDir), stderr: 'pipe' });
  const stderr = transport.stderr as unknown as NodeJS.ReadableStream;
  const client = new Client({ name: 'soak-stdio', version: '1' });
  const spawned = new Promise<ServerWatch>((resolve) => {
    transport.onSpawn = (child) => {
      children.add(child);
      resolve(watch(child, 'stdio', stderr, () => closing));
    };
  });
  await client.connect(transport);
  const w = await spawned;
  await client.listTools();
  const rss: PhaseResult['rss'] = { start: rssMb(w.pid), atHalf: null, atEnd: null, settled: null, peak: null, every500: [] };
  const fds: PhaseResult['fds'] = { before: fdCount(w.pid), after: null };
  const heap: PhaseResult['heap'] = { start: await w.heapAfterGc(), atHalf: null, atEnd: null, settled: null };
  const plans = planCalls('stdio', mulberry32(seed));
  const { records, wallMs } = await runInHalves(plans, (plan) => runCall({ client }, plan, sim, 'stdio'), w, rss, heap);
  const after1s = await restAfterRun(w, sim, rss, heap);
  await sleep(SETTLE_MS - REST_MS);
  const settled = await sim.stats();
  rss.settled = rssMb(w.pid);
  rss.peak = hwmMb(w.pid);
  fds.after = fdCount(w.pid);
  heap.settled = await w.heapAfterGc();
  await readResources(client, 'stdio').catch((e: unknown) => say(`reading resources failed: ${String(e)}`));
  const checked = await check(records, sim, stateDir);
  closing = true;
  const closedAt = performance.now();
  await client.close();
  const exit = await withTimeout(w.exit, 10_000, 'the stdio server exiting');
  const exitMs = performance.now() - closedAt;
  await sleep(500);
  const afterExit = await sim.stats();
  const stateFiles = scan.files('stdio state files (conversations, ledger.jsonl)', stateDir);
  return {
    phase: 'stdio',
    records,
    wallMs,
    rss,
    fds,
    heap,
    upstream: { after1s, settled, afterExit },
    exit,
    ...(w.diedEarly ? { diedEarly: w.diedEarly } : {}),
    traces: w.traces,
    stderrLines: w.stderrLines.length,
    stderrDistinct: distinct(w.stderrLines),
    exitMs,
    ...checked,
    stateFiles,
  };
}

// ---------------------------------------------------------------------------------------------
// phase 2: Streamable HTTP

/** fetch for the client transports: records every response (headers, raw body) and can abort one call's request. */
function tappedFetch(drops: Map<string, AbortController>): typeof fetch {
  return async (input, init) => {
    let signal = init?.signal ?? undefined;
    if (typeof init?.body === 'string' && init.body.includes('"tools/call"')) {
      const m = /\[soak-p2-\d+\]/.exec(init.body);
      if (m) {
        const ac = new AbortController();
        drops.set(m[0], ac);
        signal = signal ? AbortSignal.any([signal, ac.signal]) : ac.signal;
      }
    }
    const res = await fetch(input, { ...init, ...(signal ? { signal } : {}) });
    scan.line('http response headers', JSON.stringify([res.status, ...res.headers]));
    if (!res.body) return res;
    const [mine, theirs] = res.body.tee();
    const body = scan.stream('http response bodies (raw SSE/JSON)');
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of theirs as unknown as AsyncIterable<Uint8Array>) body.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // the request was aborted; what arrived is scanned
      } finally {
        body.end();
      }
    })();
    return new Response(mine, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

async function httpSession(url: string, name: string): Promise<Session & { close(): Promise<void>; terminate(): Promise<void>; sessionId?: string }> {
  const drops = new Map<string, AbortController>();
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: tappedFetch(drops) });
  const client = new Client({ name, version: '1' });
  await client.connect(transport);
  return {
    client,
    sessionId: transport.sessionId,
    dropFetch: (marker) => {
      const ac = drops.get(marker);
      ac?.abort(new Error('soak: socket dropped'));
      return Boolean(ac);
    },
    close: () => client.close(),
    terminate: async () => {
      await transport.terminateSession();
      await client.close();
    },
  };
}

async function phaseHttp(sim: SimHost, stateDir: string): Promise<PhaseResult> {
  let closing = false;
  const child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0'], {
    env: { ...serverEnv(sim.baseURL, stateDir), KIMI_MCP_SESSION_IDLE_MS: String(SESSION_IDLE_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const w = watch(child, 'http', child.stderr!, () => closing);
  const url = await withTimeout(
    new Promise<string>((resolve) => {
      const seen = () => {
        const m = w.stderrLines.map((l) => /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(l)).find(Boolean);
        if (m) resolve(m[1]!);
        else setTimeout(seen, 20);
      };
      seen();
    }),
    15_000,
    'serve --http printing its URL',
  );
  const rss: PhaseResult['rss'] = { start: rssMb(w.pid), atHalf: null, atEnd: null, settled: null, peak: null, every500: [] };
  const fds: PhaseResult['fds'] = { before: fdCount(w.pid), after: null };
  const heap: PhaseResult['heap'] = { start: await w.heapAfterGc(), atHalf: null, atEnd: null, settled: null };
  const sessions = await Promise.all(Array.from({ length: HTTP_SESSIONS }, (_, k) => httpSession(url, `soak-http-${k}`)));
  await sessions[0]!.client.listTools();
  const abandoned: string[] = [];
  const plans = planCalls('http', mulberry32(seed ^ 0x9e3779b9));
  const work = async (plan: Plan, worker: number) => {
    const r = await runCall(sessions[worker % HTTP_SESSIONS]!, plan, sim, 'http', async () => {
      const s = await httpSession(url, `soak-http-drop-${plan.i}`);
      await s.client.listTools();
      return s;
    });
    if (r.sessionId) abandoned.push(r.sessionId);
    return r;
  };
  const { records, wallMs } = await runInHalves(plans, work, w, rss, heap);
  const after1s = await restAfterRun(w, sim, rss, heap);
  await readResources(sessions[0]!.client, 'http').catch((e: unknown) => say(`reading resources failed: ${String(e)}`));
  for (const s of sessions) await s.terminate().catch(() => s.close());
  await sleep(SETTLE_MS);
  const settled = await sim.stats();
  rss.settled = rssMb(w.pid);
  rss.peak = hwmMb(w.pid);
  fds.after = fdCount(w.pid);
  heap.settled = await w.heapAfterGc();
  // Sessions the clients abandoned without DELETE: does the server still hold them?
  let stillHeld = 0;
  let probeFailed = 0;
  for (const id of abandoned) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      scan.line('http response bodies (raw SSE/JSON)', await res.text());
      if (res.status !== 404) stillHeld++;
    } catch {
      probeFailed++; // the server is gone
    }
  }
  const checked = await check(records, sim, stateDir);
  closing = true;
  const closedAt = performance.now();
  child.kill('SIGTERM');
  const exit = await withTimeout(w.exit, 10_000, 'the HTTP server exiting');
  const exitMs = performance.now() - closedAt;
  await sleep(500);
  const afterExit = await sim.stats();
  const stateFiles = scan.files('http state files (conversations, ledger.jsonl)', stateDir);
  return {
    phase: 'http',
    records,
    wallMs,
    rss,
    fds,
    heap,
    upstream: { after1s, settled, afterExit },
    exit,
    ...(w.diedEarly ? { diedEarly: w.diedEarly } : {}),
    traces: w.traces,
    stderrLines: w.stderrLines.length,
    stderrDistinct: distinct(w.stderrLines),
    exitMs,
    ...checked,
    disconnects: {
      sessionsAbandoned: abandoned.length,
      sessionsStillHeld: stillHeld,
      sessionsUnprobed: probeFailed,
      upstreamClosedMs: checked.drops.closedMs,
      upstreamCompleted: checked.drops.completed,
      turnsPartial: checked.drops.partial,
      turnsWhole: checked.drops.whole,
      turnsMissing: checked.drops.missing,
    },
    stateFiles,
  };
}

// ---------------------------------------------------------------------------------------------
// the report

const n = (x: number) => x.toLocaleString('en-US');
const mb = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(1)} MB`);
const tick = (ok: boolean) => (ok ? '✔' : '✘');
const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((n / d) * 100).toFixed(1)}%`);
function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  return s[Math.floor(pos)]! + (s[Math.ceil(pos)]! - s[Math.floor(pos)]!) * (pos - Math.floor(pos));
}

/** Growth from half the calls to all of them (both at rest) within the larger of 5 MB and 5% (RSS), or 2 MB and 5% (heap after GC). */
function noGrowth(r: { atHalf: number | null; atEnd: number | null }, floorMb = 5): boolean | null {
  if (r.atHalf === null || r.atEnd === null) return null;
  return r.atEnd - r.atHalf <= Math.max(floorMb, r.atHalf * 0.05);
}

function report(results: PhaseResult[], totalMs: number): string {
  const [p1, p2] = results as [PhaseResult, PhaseResult];
  const both = (f: (r: PhaseResult) => string) => results.map(f);
  const crashes = (r: PhaseResult) => (r.diedEarly || (r.exit.code !== 0 && r.exit.code !== null) || r.exit.signal ? 1 : 0) + (r.traces.length ? 1 : 0);
  const leaksTotal = scan.leaks.length;
  const upstreamOpen = (s: SimStats) => s.inFlight;
  const sockets = (s: SimStats) => `${s.openSockets} (getConnections ${s.getConnections ?? 'n/a'})`;
  const unexpectedTotal = results.reduce((s, r) => s + r.unexpected.length, 0);
  const calls = (r: PhaseResult, tool?: Tool) => r.records.filter((c) => !tool || c.plan.tool === tool).length;
  const faults = (r: PhaseResult) => r.records.filter((c) => c.plan.fault !== 'none').length;
  const fdOk = (r: PhaseResult) => r.fds.before !== null && r.fds.after !== null && r.fds.after <= r.fds.before;

  const lines: string[] = [
    '# Reliability soak',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}. Seed **${seed}**; whole run ${(totalMs / 1000).toFixed(0)} s.`,
    `Rerun: \`npm run soak\` (new seed), or \`SOAK_SEED=${seed} npm run soak\` for the same calls and faults (their timing differs from run to run). \`SOAK_CALLS=8000\` runs longer; \`SOAK_SERVER_NODE_OPTIONS=--max-old-space-size=48\` caps the servers' heap, so that memory they hold on to ends in a crash.`,
    '',
    `${CALLS.toLocaleString('en-US')} calls per phase, ${CONCURRENCY} at a time, half \`kimi_chat\` and half \`kimi_stream\` (stream calls ask for progress), half with thinking; ${FAULT_RATE * 100}% of them get a fault drawn from the seeded PRNG. The built server (\`node dist/cli.js\`) runs against our simulator in a process of its own (bench/soak-sim.ts), which holds the key canary and echoes it in every error body and in an \`x-debug-auth\` header, so a leak has something to leak. Phase 1: one stdio server, one connection (the SDK's StdioClientTransport). Phase 2: \`node dist/cli.js serve --http --port 0\`, ${HTTP_SESSIONS} long-lived client sessions (Streamable HTTP, the SDK's transport) plus one short session per "closes its session" fault, KIMI_MCP_SESSION_IDLE_MS=${SESSION_IDLE_MS} (so that sessions clients abandon are closed within the run). KIMI_IDLE_TIMEOUT_MS=${IDLE_MS}; every request goes to 127.0.0.1.`,
    '',
    '## Goals',
    '',
    '| Measure | Stdio | HTTP | Goal |',
    '|---|---|---|---|',
    `| Crashes (non-zero exit, exit before the end, or a trace on stderr) | ${both((r) => String(crashes(r))).join(' | ')} | 0 ${tick(results.every((r) => crashes(r) === 0))} |`,
    `| Leaked key lines (of ${[...scan.counts.values()].reduce((s, c) => s + c.lines, 0).toLocaleString('en-US')} scanned, all sources below) | ${both((r) => String([...scan.counts.entries()].filter(([k]) => k.startsWith(r.phase)).reduce((s, [, c]) => s + c.leaks, 0))).join(' | ')} | 0 ${tick(leaksTotal === 0)} |`,
    `| Partial text kept: the result's text (and reasoning) = exactly what the simulator sent before a fault that came after text | ${both((r) => `${r.partialKept.kept}/${r.partialKept.of} (${pct(r.partialKept.kept, r.partialKept.of)})`).join(' | ')} | 100% ${tick(results.every((r) => r.partialKept.kept === r.partialKept.of))} |`,
    `| … and stored as a partial turn with exactly that text | ${both((r) => `${r.partialKept.storedExact}/${r.partialKept.of}`).join(' | ')} | 100% ${tick(results.every((r) => r.partialKept.storedExact === r.partialKept.of))} |`,
    `| Cancelled mid-stream: partial turn stored, non-empty, a prefix of what was sent | ${both((r) => `${r.cutKept.kept}/${r.cutKept.of}`).join(' | ')} | 100% ${tick(results.every((r) => r.cutKept.kept === r.cutKept.of))} |`,
    `| Healthy replies (no fault, or one the server recovers from): result = what was sent | ${both((r) => `${r.okExact.exact}/${r.okExact.of}`).join(' | ')} | 100% ${tick(results.every((r) => r.okExact.exact === r.okExact.of))} |`,
    `| Upstream requests still open after a ${SETTLE_MS / 1000} s settle (simulator's in-flight count) | ${both((r) => String(upstreamOpen(r.upstream.settled))).join(' | ')} | 0 ${tick(results.every((r) => upstreamOpen(r.upstream.settled) === 0))} |`,
    `| Upstream sockets still open after the settle, server still running | ${both((r) => sockets(r.upstream.settled)).join(' | ')} | 0 ${tick(results.every((r) => r.upstream.settled.openSockets === 0))} |`,
    `| RSS at rest, ${n(HALF)} → ${n(CALLS)} calls | ${both((r) => `${mb(r.rss.atHalf)} → ${mb(r.rss.atEnd)} ${tick(noGrowth(r.rss) === true)}`).join(' | ')} | no growth beyond noise (≤ max(5 MB, 5%)) ${tick(results.every((r) => noGrowth(r.rss) === true))} |`,
    `| Heap in use after a forced full GC, at rest, ${n(HALF)} → ${n(CALLS)} calls (what the server holds on to) | ${both((r) => `${mb(r.heap.atHalf)} → ${mb(r.heap.atEnd)} ${tick(noGrowth(r.heap, 2) === true)}`).join(' | ')} | no growth beyond noise (≤ max(2 MB, 5%)) ${tick(results.every((r) => noGrowth(r.heap, 2) === true))} |`,
    `| Open file descriptors, before → after (settled) | ${both((r) => `${r.fds.before ?? 'n/a'} → ${r.fds.after ?? 'n/a'} ${tick(fdOk(r))}`).join(' | ')} | no growth ${tick(results.every(fdOk))} |`,
    `| Sessions a client abandoned (no DELETE) still held after the settle | n/a | ${p2.disconnects!.sessionsStillHeld}/${p2.disconnects!.sessionsAbandoned}${p2.disconnects!.sessionsUnprobed ? ` (${p2.disconnects!.sessionsUnprobed} not asked: server gone)` : ''} | 0 ${tick(p2.disconnects!.sessionsStillHeld === 0 && p2.disconnects!.sessionsUnprobed === 0)} |`,
    `| Calls whose outcome or upstream request count differs from the plan | ${both((r) => String(r.unexpected.length)).join(' | ')} | 0 ${tick(unexpectedTotal === 0)} |`,
    '',
    '## Calls',
    '',
    '| Phase | kimi_chat | kimi_stream | Total | With a fault | Progress notifications (stream calls) | Wall time | Calls/s | Latency p50 / p99 (healthy calls) | Server exit |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const healthy = r.records.filter((c) => c.plan.fault === 'none').map((c) => c.ms);
      return `| ${r.phase} | ${calls(r, 'kimi_chat')} | ${calls(r, 'kimi_stream')} | ${calls(r)} | ${faults(r)} | ${n(r.records.reduce((sum, c) => sum + c.progress, 0))} | ${(r.wallMs / 1000).toFixed(1)} s | ${(calls(r) / (r.wallMs / 1000)).toFixed(0)} | ${quantile(healthy, 0.5).toFixed(0)} / ${quantile(healthy, 0.99).toFixed(0)} ms | ${r.diedEarly ? `**died during the run**: code ${r.diedEarly.code}${r.diedEarly.signal ? ` signal ${r.diedEarly.signal}` : ''}` : `code ${r.exit.code}${r.exit.signal ? ` signal ${r.exit.signal}` : ''}, ${r.exitMs.toFixed(0)} ms after ${r.phase === 'stdio' ? 'stdin closed' : 'SIGTERM'}`} |`;
    }),
    '',
    '## Faults injected and outcomes',
    '',
    '"Expected" is what the server should do: recover (ok), fail with the text that arrived, fail without text, or be cancelled; "transport error" for a client that drops its connection. Cells: stdio / HTTP.',
    '',
    `| Fault | Calls | Expected | ${OUTCOMES.join(' | ')} |`,
    `|---|---|---|${OUTCOMES.map(() => '---').join('|')}|`,
    ...[{ id: 'none', label: 'none (healthy)' } as FaultKind, ...FAULTS].map((f) => {
      const of = (r: PhaseResult) => r.records.filter((c) => c.plan.fault === f.id);
      const expected = OUTCOMES.filter((o) => results.some((r) => of(r).some((c) => c.plan.expected === o))).join(' or ') || '—';
      const cell = (o: Outcome) => results.map((r) => of(r).filter((c) => c.outcome === o).length).join(' / ');
      return `| ${f.label} | ${results.map((r) => of(r).length).join(' / ')} | ${expected} | ${OUTCOMES.map(cell).join(' | ')} |`;
    }),
    `| **all** | ${results.map((r) => r.records.length).join(' / ')} | | ${OUTCOMES.map((o) => results.map((r) => r.records.filter((c) => c.outcome === o).length).join(' / ')).join(' | ')} |`,
    '',
    `Retries as planned (the number of upstream requests each call made): ${both((r) => `${r.phase} ${r.requestsAsPlanned.ok}/${r.requestsAsPlanned.of}`).join(', ')}. Upstream error responses sent, each carrying the canary: ${p2.upstream.afterExit.errorResponses.toLocaleString('en-US')} over both phases; requests that carried the canary as their key: ${p2.upstream.afterExit.authorizedWithKey.toLocaleString('en-US')}.`,
    '',
    '## Memory and file descriptors (the server process)',
    '',
    `| Phase | Measure | At start | After ${n(HALF)} calls, at rest | After ${n(CALLS)}, at rest | After the settle | Peak (VmHWM) |`,
    '|---|---|---|---|---|---|---|',
    ...results.flatMap((r) => [
      `| ${r.phase} | RSS | ${mb(r.rss.start)} | ${mb(r.rss.atHalf)} | ${mb(r.rss.atEnd)} | ${mb(r.rss.settled)} | ${mb(r.rss.peak)} |`,
      `| ${r.phase} | heap after GC | ${mb(r.heap.start)} | ${mb(r.heap.atHalf)} | ${mb(r.heap.atEnd)} | ${mb(r.heap.settled)} | |`,
      `| ${r.phase} | open fds | ${r.fds.before ?? 'n/a'} | | | ${r.fds.after ?? 'n/a'} | |`,
    ]),
    '',
    `"At rest": the calls run in two halves; ${REST_MS / 1000} s after each half's last call (nothing in flight, sessions clients abandoned expired), memory is read. "After the settle": ${SETTLE_MS / 1000} s after the last call; for HTTP, with the long-lived sessions closed (DELETE). RSS every 500 calls is read under load.`,
    '',
    'Heap after GC: each server loads a small preload (written by the soak, passed with NODE_OPTIONS=--require) that on SIGUSR2 runs two full garbage collections and prints `process.memoryUsage().heapUsed` on stderr; RSS alone cannot tell memory held from heap V8 has not handed back.',
    '',
    `RSS every 500 calls: ${results.map((r) => `${r.phase} ${r.rss.every500.map((v) => (v === null ? 'n/a' : v.toFixed(0))).join(', ')} MB`).join('; ')}.`,
    '',
    ...results.map((r) => {
      const g = noGrowth(r.rss);
      const d = r.rss.atEnd !== null && r.rss.atHalf !== null ? r.rss.atEnd - r.rss.atHalf : null;
      const h = noGrowth(r.heap, 2);
      const dh = r.heap.atEnd !== null && r.heap.atHalf !== null ? r.heap.atEnd - r.heap.atHalf : null;
      const signedMb = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)} MB`;
      return `- ${r.phase}: RSS ${g === null ? 'not measured' : g ? `shows no growth beyond noise from ${n(HALF)} to ${n(CALLS)} calls (${signedMb(d!)})` : `**grew** ${signedMb(d!)} from ${n(HALF)} to ${n(CALLS)} calls`}; the heap after GC ${h === null ? 'was not measured' : h ? `shows no growth beyond noise (${signedMb(dh!)})` : `**grew** ${signedMb(dh!)}, so the server holds on to memory`}. Start → ${n(HALF)} includes loading the openai chunk and warming up. fds "before" is after the client connected and before the first call${r.phase === 'http' ? ', before any session' : ''}; "after" is after the settle${r.phase === 'http' ? ', with the long-lived sessions closed (DELETE)' : ''}.`;
    }),
    '',
    '## Upstream requests and sockets after the run',
    '',
    '| Phase | Requests open 1 s after the last call | Requests open after the settle | Sockets open after the settle | Sockets open after the server exited | Sockets accepted in all |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.phase} | ${r.upstream.after1s.inFlight} | ${r.upstream.settled.inFlight} | ${sockets(r.upstream.settled)} | ${sockets(r.upstream.afterExit)} | ${r.upstream.settled.acceptedSockets} (cumulative) |`),
  ];
  if (results.some((r) => r.upstream.settled.inFlightPrompts.length)) {
    lines.push('', `Still open after the settle: ${results.flatMap((r) => r.upstream.settled.inFlightPrompts.map((p) => `${r.phase}: ${p}`)).slice(0, 20).join('; ')}.`);
  }
  const d = p2.disconnects!;
  lines.push(
    '',
    '## Clients that disconnect abruptly (HTTP)',
    '',
    `- Sessions closed mid-call without DELETE: ${d.sessionsAbandoned}; still held by the server after the ${SETTLE_MS / 1000} s settle, with KIMI_MCP_SESSION_IDLE_MS=${SESSION_IDLE_MS} (a \`ping\` with their session id answered rather than 404): **${d.sessionsStillHeld}**${d.sessionsUnprobed ? ` (${d.sessionsUnprobed} could not be asked: the server was gone)` : ''}.`,
    `- Upstream request of a disconnected call: closed ${d.upstreamClosedMs.length ? `${quantile(d.upstreamClosedMs, 0.5).toFixed(0)} ms (median), ${Math.max(...d.upstreamClosedMs).toFixed(0)} ms (max) after the disconnect` : 'n/a'}; ran to completion anyway: ${d.upstreamCompleted} of ${d.upstreamClosedMs.length}.`,
    `- Their turns: stored partial ${d.turnsPartial}, stored whole ${d.turnsWhole}, not stored ${d.turnsMissing}.`,
    '',
    '## Where the canary was looked for',
    '',
    '| Source | Lines | Leaked |',
    '|---|---|---|',
    ...[...scan.counts.entries()].map(([k, c]) => `| ${k} | ${c.lines.toLocaleString('en-US')} | ${c.leaks} |`),
    '',
    `A tool result counts as one line. State files: ${p1.stateFiles} (stdio) and ${p2.stateFiles} (HTTP) in the run's KIMI_MCP_STATE_DIR (a fresh temporary folder per phase). Stderr lines: ${p1.stderrLines} (stdio), ${p2.stderrLines} (HTTP).`,
  );
  lines.push('', '## What the servers wrote on stderr', '', 'Distinct lines, numbers and ids folded to #, with how often each came.', '');
  for (const r of results) lines.push(`${r.phase}:`, '', '```', ...r.stderrDistinct.slice(0, 20).map(([l, n]) => `${String(n).padStart(5)} × ${l}`), '```', '');
  if (scan.leaks.length) lines.push('', '### Leaks (the key shown as <CANARY>)', '', ...scan.leaks.slice(0, 20).map((l) => `- ${l.category}: \`${l.excerpt.replace(/`/g, "'").replace(/\n/g, ' ')}\``));
  const traces = results.flatMap((r) => r.traces.map((t) => `${r.phase}: ${t}`));
  if (traces.length) lines.push('', '### Traces on stderr', '', ...traces.slice(0, 20).map((t) => `- \`${t.replace(/`/g, "'")}\``));
  if (unexpectedTotal) {
    lines.push('', '## Calls that did not go as planned', '');
    for (const r of results) {
      if (!r.unexpected.length) continue;
      lines.push(`${r.phase} (${r.unexpected.length}${r.unexpected.length > 25 ? ', first 25' : ''}):`, '', ...r.unexpected.slice(0, 25).map((u) => `- ${u.replace(/\|/g, '\\|')}`), '');
    }
  }
  lines.push('');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const begun = performance.now();
  const watchdog = setTimeout(() => {
    say(`the soak exceeded ${OVERALL_MS / 1000} s; stopping`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(2);
  }, OVERALL_MS);
  watchdog.unref();
  say(`seed ${seed} (rerun with SOAK_SEED=${seed} npm run soak); ${CALLS} calls per phase, ${CONCURRENCY} at a time`);
  readFileSync(CLI); // built?
  // The scan itself finds the key in every form it looks for (so "0 leaked" means something).
  const selfCheck = new Scanner();
  for (const form of canaryForms(canary)) selfCheck.line('self-check', `x ${form} y`);
  if (selfCheck.leaks.length !== canaryForms(canary).length) throw new Error('the canary scan does not find the canary');
  const sim = await SimHost.start();
  const dirs = [mkdtempSync(join(tmpdir(), 'kimi-soak-stdio-')), mkdtempSync(join(tmpdir(), 'kimi-soak-http-')), mkdtempSync(join(tmpdir(), 'kimi-soak-gc-'))];
  preloadPath = join(dirs[2]!, 'gc-preload.cjs');
  writeFileSync(preloadPath, GC_PRELOAD);
  const results: PhaseResult[] = [];
  try {
    say('phase 1: stdio…');
    results.push(await phaseStdio(sim, dirs[0]!));
    say('phase 2: Streamable HTTP…');
    results.push(await phaseHttp(sim, dirs[1]!));
  } finally {
    await sim.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  const text = report(results, performance.now() - begun);
  writeFileSync(join(ROOT, 'bench/RELIABILITY.md'), text);
  process.stdout.write(text);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
