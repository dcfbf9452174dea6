/**
 * Reading an append-only JSONL file from its end, a chunk at a time, so that questions about
 * recent lines (what was spent today, which calls are in flight) stay fast however long the file
 * grows. The caller says, line by line, whether the scan has gone back far enough.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** The file is read backwards this many bytes at a time. */
const CHUNK_BYTES = 64 * 1024;

/**
 * What a line tells the scan: `recent` (keep going), `old` (from before what the caller asks
 * about), or `ignored` (empty, torn or foreign: tells nothing about where the scan is).
 */
export type LineAge = 'recent' | 'old' | 'ignored';

/** Exactly `length` bytes from `position` (a read may return fewer than asked). */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) return buffer.subarray(0, done);
    done += bytesRead;
  }
  return buffer;
}

/**
 * Hands `visit` every line, last first, and stops after a chunk in which every line that told
 * anything was `old`: lines are in append order, which is nearly time order, so once a whole
 * chunk is old the rest of the file is too. A missing file has no lines.
 */
export async function readBackwards(file: string, visit: (line: string) => LineAge): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    let end = (await handle.stat()).size;
    // The start of a line whose beginning lies in the chunk before (earlier in the file).
    let rest = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const bytes = Buffer.concat([await readAt(handle, start, end - start), rest]);
      end = start;
      // Cutting at "\n" is safe in UTF-8: the byte never occurs inside a multi-byte character.
      const cut = start === 0 ? -1 : bytes.indexOf(0x0a);
      if (start > 0 && cut === -1) {
        rest = bytes; // one line longer than a chunk: keep gathering it
        continue;
      }
      rest = bytes.subarray(0, cut + 1);
      let told = 0;
      let allOld = true;
      for (const line of bytes.subarray(cut + 1).toString('utf8').split('\n').reverse()) {
        const age = visit(line);
        if (age === 'ignored') continue;
        told++;
        if (age === 'recent') allOld = false;
      }
      if (told > 0 && allOld) break;
    }
  } finally {
    await handle.close();
  }
}
