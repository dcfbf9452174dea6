// The plan of a phase: every call and its fault, drawn from a seeded PRNG, so that SOAK_SEED
// reruns the same calls and faults.
import type { Behaviour } from '../../src/simulator/kimi-simulator.js';
import { CALLS, FAULT_RATE, IDLE_MS, seed } from './settings.js';

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Tool = 'kimi_chat' | 'kimi_stream';
export type Phase = 'stdio' | 'http';
export type Outcome = 'ok' | 'error with text' | 'error without text' | 'cancelled' | 'transport error';
export const OUTCOMES: Outcome[] = ['ok', 'error with text', 'error without text', 'cancelled', 'transport error'];

export interface FaultKind {
  id: string;
  label: string;
  /** Fault after some text: the text that arrived must come back exactly. */
  afterText?: boolean;
  /** HTTP only, and how often relative to the others. */
  httpOnly?: boolean;
  weight?: number;
}

export const FAULTS: FaultKind[] = [
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
export const faultById = new Map(FAULTS.map((f) => [f.id, f]));

export interface Plan {
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

/** The calls of one phase; the HTTP phase draws from a PRNG stream of its own. */
export function planPhase(phase: Phase): Plan[] {
  return planCalls(phase, mulberry32(phase === 'stdio' ? seed : seed ^ 0x9e3779b9));
}
