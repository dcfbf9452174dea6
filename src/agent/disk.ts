/**
 * Files read from disk for the agent's tools: only regular files (stat before open, so a pipe
 * never blocks; regular.ts), never past a size limit, text told from binary as `files` does.
 * Read only: nothing in src/agent writes.
 *
 * grep reads thousands of files per step, and each asynchronous fs call is a round trip through
 * libuv's four threads: on a 5,000-file tree, 1-1.7 s of round trips against 0.15 s for the same
 * reads made synchronously. So grep reads synchronously (ScanReader), in slices short enough to
 * keep the event loop answering (grep.ts), and keeps what it read while the file's stat says it
 * is unchanged (size, mtime, ctime, inode: what git's index trusts too), so a run's later
 * searches cost one stat per file.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { decodeText, describeSize } from '../kimi/files/read.js';
import { FileTooLarge, NotRegularFile, OPEN_WITHOUT_WAITING, readRegularFile } from '../kimi/files/regular.js';

/** The file's text; `absent` when nothing is there; else what it is instead (`a folder`, `binary`…). */
export type DiskText = { text: string } | { absent: true } | { problem: string; folder?: boolean };

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

export async function readDiskText(real: string, maxBytes: number): Promise<DiskText> {
  try {
    return asText(await readRegularFile(real, maxBytes));
  } catch (e) {
    return whyNotRead(e, maxBytes);
  }
}

function asText(bytes: Buffer): DiskText {
  const text = decodeText(bytes);
  return text === undefined ? { problem: 'binary' } : { text };
}

function whyNotRead(e: unknown, maxBytes: number): DiskText {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { absent: true };
  if (e instanceof NotRegularFile) return { problem: e.kind, folder: e.kind === 'a folder' };
  if (e instanceof FileTooLarge) return { problem: `${describeSize(e.bytes)}, over the ${describeSize(maxBytes)} limit` };
  return { problem: `unreadable (${code ?? (e as Error).message})` };
}

/** What a scan keeps at most: texts past it are read again each time. */
const SCAN_CACHE_BYTES = 64 * 1024 * 1024;

/** Reads files synchronously for grep, keeping each verdict while the file's stat is unchanged. */
export class ScanReader {
  private readonly known = new Map<string, { stamp: string; found: DiskText; bytes: number }>();
  private bytes = 0;
  private scratch = Buffer.allocUnsafe(64 * 1024);

  read(real: string, maxBytes: number): DiskText {
    let info: Stats;
    try {
      info = statSync(real);
    } catch (e) {
      return whyNotRead(e, maxBytes);
    }
    const stamp = `${info.ino} ${info.size} ${info.mtimeMs} ${info.ctimeMs} ${maxBytes}`;
    const known = this.known.get(real);
    if (known?.stamp === stamp) return known.found;
    let found: DiskText;
    try {
      found = asText(this.readStatted(real, info, maxBytes));
    } catch (e) {
      found = whyNotRead(e, maxBytes);
    }
    if (known) {
      this.bytes -= known.bytes;
      this.known.delete(real);
    }
    const bytes = 'text' in found ? found.text.length * 2 : 0; // UTF-16
    if (this.bytes + bytes <= SCAN_CACHE_BYTES) {
      this.bytes += bytes;
      this.known.set(real, { stamp, found, bytes });
    }
    return found;
  }

  /**
   * The bytes of the file `info` describes, in a buffer reused from file to file (valid until the
   * next read: a fresh buffer per file was a quarter of a first search's time, in collecting them).
   * The open descriptor is not checked again: whatever was swapped in since the stat cannot block
   * (O_NONBLOCK; a pipe reads as empty or fails) and is not read past the size the stat gave.
   */
  private readStatted(path: string, info: Stats, limit: number): Buffer {
    if (!info.isFile()) throw new NotRegularFile(info.isDirectory() ? 'a folder' : 'not a regular file');
    if (info.size > limit) throw new FileTooLarge(info.size);
    let fd: number;
    try {
      fd = openSync(path, OPEN_WITHOUT_WAITING);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') throw new NotRegularFile('a socket'); // put there since the stat
      throw e;
    }
    try {
      if (this.scratch.length < info.size) this.scratch = Buffer.allocUnsafe(info.size);
      let total = 0;
      while (total < info.size) {
        const read = readSync(fd, this.scratch, total, info.size - total, null);
        if (read === 0) break; // shrunk since the stat
        total += read;
      }
      return this.scratch.subarray(0, total);
    } finally {
      closeSync(fd);
    }
  }
}
