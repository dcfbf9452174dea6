/**
 * Reading a file only when it is a regular file, in a way nothing can block. Opening a FIFO with
 * no writer waits forever, holding one of libuv's four threads; four such reads stall every later
 * file call in the process. A socket or device is no text to send either. So the path is checked
 * with stat first, then opened with O_NONBLOCK (a FIFO then opens at once instead of waiting),
 * and the open descriptor is checked again: what is read is what was checked, even if the path
 * was swapped in between. Reads stop one byte past the limit, so a file that grows is not
 * followed. Used for `files`, .gitignore files and image paths alike.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** What a path is when it is not a regular file, in words for `skipped_files` and refusals. */
function notRegularKind(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isFIFO()) return 'a pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a folder';
  return 'not a file';
}

export class NotRegularFile extends Error {
  constructor(readonly kind: string) {
    super(`not a regular file (${kind})`);
  }
}

export class FileTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`${bytes} bytes`);
  }
}

// O_NONBLOCK is absent on Windows, which has no FIFOs in the file system to wait on.
export const OPEN_WITHOUT_WAITING = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
/** A file is read in one piece of its stated size; growth past it is read in pieces of this. */
const GROWTH_CHUNK = 64 * 1024;

/** The size of the regular file at `path`; NotRegularFile for anything else. Opens nothing. */
export async function regularFileSize(path: string): Promise<number> {
  const info = await stat(path);
  const kind = notRegularKind(info);
  if (kind) throw new NotRegularFile(kind);
  return info.size;
}

/**
 * The bytes of the regular file at `path`: NotRegularFile for a pipe, socket, device or folder,
 * FileTooLarge past `limit` bytes (before reading when its size says so); fs errors as they come.
 */
export async function readRegularFile(path: string, limit: number): Promise<Buffer> {
  const stated = await regularFileSize(path);
  if (stated > limit) throw new FileTooLarge(stated);
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_WITHOUT_WAITING);
  } catch (e) {
    // ENXIO: a socket (or a FIFO opened for writing) put there since the stat.
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') throw new NotRegularFile('a socket');
    throw e;
  }
  try {
    const info = await handle.stat();
    const kind = notRegularKind(info);
    if (kind) throw new NotRegularFile(kind);
    if (info.size > limit) throw new FileTooLarge(info.size);
    return await readAtMost(handle, info.size, limit);
  } finally {
    await handle.close();
  }
}

async function readAtMost(handle: FileHandle, size: number, limit: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let total = 0;
  for (;;) {
    const piece = Buffer.allocUnsafe(Math.min(limit + 1 - total, Math.max(size + 1 - total, GROWTH_CHUNK)));
    const { bytesRead } = await handle.read(piece, 0, piece.length, null);
    if (bytesRead === 0) return Buffer.concat(pieces, total);
    pieces.push(piece.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit) throw new FileTooLarge(total);
  }
}
