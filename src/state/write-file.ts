/**
 * How a file is replaced (install's configs, the review gate's marks): whole, and with its final
 * mode from the first byte. The text goes to a temporary file beside the target, created no wider
 * than its final mode, set to exactly that mode while still empty, synced, then renamed (or
 * linked) into place. A crash or a second process therefore finds the old file or the new one,
 * never half of one, and at no moment can anyone read it who the final mode would not let read it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fchownSync, fsyncSync, linkSync, openSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';

/** Owner only: what a file holding settings, a key, or a backup of such a file gets. */
export const PRIVATE_MODE = 0o600;

/** The permission bits of an existing file (its type and set-id bits left out). */
export const modeOf = (stats: Stats): number => stats.mode & 0o777;

/** The text in a new file beside `target`, with `mode` exactly and the given owner; returns its path. */
function writeTemporary(target: string, text: string, mode: number, owner?: Stats): string {
  const temporary = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  // open() applies the umask, which can only narrow `mode`; fchmod then sets it exactly (a backup
  // of a 0640 file stays 0640 under umask 077) before there is anything to read.
  const fd = openSync(temporary, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    // Run as root (sudo) on a user's file: the file stays the user's, as an edit in place would.
    if (owner && process.getuid?.() === 0) fchownSync(fd, owner.uid, owner.gid);
    writeFileSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw e;
  }
  closeSync(fd);
  return temporary;
}

/**
 * Replaces a file (or creates it) with `text` in one step. A symbolic link is followed, so a
 * config kept in a dotfiles folder stays linked and its real file is the one replaced, keeping
 * its owner; `mode` is the new file's, usually the old file's own (`modeOf`).
 */
export function replaceFile(path: string, text: string, mode: number): void {
  const target = existsSync(path) ? realpathSync(path) : path;
  const owner = existsSync(target) ? statSync(target) : undefined;
  const temporary = writeTemporary(target, text, mode, owner);
  try {
    renameSync(temporary, target);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw e;
  }
}

/**
 * Creates a file that must not exist yet (a backup): linked into place, which fails with EEXIST
 * rather than replace a file of that name another process made meanwhile.
 */
export function createFile(path: string, text: string, mode: number): void {
  const temporary = writeTemporary(path, text, mode);
  try {
    linkSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}

