// The soak's settings (the SOAK_* variables are described in bench/soak.ts), the run's seed and
// key canary, and the few helpers every part of the soak uses.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const ROOT = process.cwd();
export const CLI = join(ROOT, 'dist/cli.js');
export const CALLS = Number(process.env.SOAK_CALLS ?? 2000);
export const CONCURRENCY = 16;
export const FAULT_RATE = 0.2;
/** The servers' idle timer: a stalled stream costs this long. */
export const IDLE_MS = Number(process.env.SOAK_IDLE_MS ?? 500);
/** Hard limits: one call, the whole run. */
export const CALL_TIMEOUT_MS = 30_000;
export const OVERALL_MS = Number(process.env.SOAK_TIMEOUT_MS ?? Math.max(360_000, CALLS * 90));
/** Longer than Node's 5 s keep-alive timeout on the simulator's side, so idle sockets are gone. */
export const SETTLE_MS = 6_000;
/** HTTP: long-lived client sessions (the 16 workers share them); abrupt ones come on top. */
export const HTTP_SESSIONS = 4;
/** HTTP: sessions idle this long are closed by the server (KIMI_MCP_SESSION_IDLE_MS), so that the
 *  ones clients abandon are gone within the settle. */
export const SESSION_IDLE_MS = Number(process.env.SOAK_SESSION_IDLE_MS ?? 2000);
/** The memory readings come at rest after each half of the calls. */
export const HALF = Math.ceil(CALLS / 2);
export const REST_MS = SESSION_IDLE_MS + 2_000;
/** What the simulator must have sent before a cancel or a disconnect. */
export const TEXT_BEFORE_CUT = 24;

export const seed = process.env.SOAK_SEED !== undefined ? Number(process.env.SOAK_SEED) >>> 0 : randomBytes(4).readUInt32LE(0);
export const canary = `sk-canary-${randomBytes(12).toString('hex')}`;

export const say = (s: string) => process.stderr.write(`[soak] ${s}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`soak: ${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
