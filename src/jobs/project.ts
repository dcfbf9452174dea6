/**
 * Where jobs live and whose they are. Jobs sit in `<state>/jobs`; an HTTP server's clients get a
 * folder per token (scopedStateFolder, as conversations do), so one token's client
 * never reads another's jobs. Within a folder, "this project's jobs" are those started with the
 * same folders to read: a stdio server started in a folder and `kimi-mcp jobs` run there agree.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { readVar } from '../env.js';
import type { Env } from '../env.js';
import { firstTime } from '../once.js';
import { scopedStateFolder } from '../state/dir.js';
import { JobStore } from './store.js';

export const DEFAULT_MAX_JOBS = 4;

/** The job store of this environment (its state folder and token scope). */
export function jobStore(env: Env): JobStore {
  return new JobStore(scopedStateFolder(env, 'jobs'));
}

/** The folders a call may read, as one short key: order and repeats do not matter. */
export function projectKey(folders: readonly string[]): string {
  const set = [...new Set(folders.map((f) => resolve(f)))].sort();
  return createHash('sha256').update(JSON.stringify(set)).digest('hex').slice(0, 16);
}

/** KIMI_MAX_JOBS: how many jobs run at once; a value that is not a positive whole number is a problem and the default is used. */
export function maxJobs(env: Env): { value: number; problem?: string } {
  const raw = readVar(env, 'KIMI_MAX_JOBS').value;
  if (raw === undefined) return { value: DEFAULT_MAX_JOBS };
  const n = Number(raw);
  if (/^\d+$/.test(raw) && Number.isSafeInteger(n) && n >= 1) return { value: n };
  return { value: DEFAULT_MAX_JOBS, problem: `KIMI_MAX_JOBS="${raw}" is not a positive whole number; using ${DEFAULT_MAX_JOBS}.` };
}

/** Removes jobs older than `keepDays` (KIMI_MCP_KEEP_DAYS, as conversations), in the background, once per process. */
export function pruneJobs(env: Env, keepDays: number): void {
  const store = jobStore(env);
  if (firstTime(`prune jobs in ${store.folder}`)) void store.removeOlderThan(keepDays);
}
