/**
 * Which process wrote a line to a shared state file, and whether that process still runs: a
 * process that crashed can no longer settle what it left behind, so readers stop counting it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export interface Owner {
  pid: number;
  hostname: string;
  /** Unique to one run of a process: a later process given the same pid is someone else. */
  process: string;
}

/** This process. */
export const THIS_PROCESS: Owner = { pid: process.pid, hostname: hostname(), process: randomUUID() };

export function isOwner(value: unknown): value is Owner {
  const o = value as Partial<Owner> | null;
  return typeof o === 'object' && o !== null && Number.isInteger(o.pid) && (o.pid as number) > 0 && typeof o.hostname === 'string' && typeof o.process === 'string';
}

/**
 * False only when the owner is known to be gone: this machine has no process with its pid, or
 * the pid is this process's but from an earlier run (a container restarted with the same pid).
 * A process on another machine sharing the folder cannot be checked, so it counts as running.
 */
export function mayBeRunning(owner: Owner): boolean {
  if (owner.hostname !== THIS_PROCESS.hostname) return true;
  if (owner.pid === THIS_PROCESS.pid) return owner.process === THIS_PROCESS.process;
  try {
    process.kill(owner.pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
