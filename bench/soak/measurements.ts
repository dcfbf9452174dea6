// The measurements of a server process: RSS and its peak, open file descriptors (both from
// /proc), and the V8 heap in use after a forced full GC (through the preload below).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerWatch } from './processes.js';

/** A size line of /proc/<pid>/status in MB; null once the process is gone. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return null;
  }
}
export const rssMb = (pid: number) => statusMb(pid, 'VmRSS');
/** The peak RSS. */
export const hwmMb = (pid: number) => statusMb(pid, 'VmHWM');

export function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** A phase's readings, filled in as the phase goes. */
export interface Readings {
  rss: { start: number | null; atHalf: number | null; atEnd: number | null; settled: number | null; peak: number | null; every500: (number | null)[] };
  fds: { before: number | null; after: number | null };
  /** V8 heap plus external memory (Buffers, ArrayBuffers) in use after a forced full GC, MB. */
  heap: { start: number | null; atHalf: number | null; atEnd: number | null; settled: number | null };
}

/** Once the client is connected, before the first call. */
export async function readAtStart(w: ServerWatch): Promise<Readings> {
  const rss: Readings['rss'] = { start: rssMb(w.pid), atHalf: null, atEnd: null, settled: null, peak: null, every500: [] };
  const fds: Readings['fds'] = { before: fdCount(w.pid), after: null };
  const heap: Readings['heap'] = { start: await w.heapAfterGc(), atHalf: null, atEnd: null, settled: null };
  return { rss, fds, heap };
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

/** Writes the GC preload into a folder and returns its path, for serverEnv. */
export function writeGcPreload(dir: string): string {
  const path = join(dir, 'gc-preload.cjs');
  writeFileSync(path, GC_PRELOAD);
  return path;
}
