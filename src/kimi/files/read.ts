/**
 * Reading one selected file, in two steps. First its size from stat, before any byte of any file
 * is read: too large is refused, and anything but a regular file (a pipe, socket or device, by
 * whatever route it was reached) is skipped, so the set can be judged whole before it is read.
 * Then its bytes, through regular.ts, which cannot block. Binary files (a NUL byte in the first
 * 8 KB, or bytes that are not UTF-8) are told apart, and the text becomes its block. Messages
 * name files and sizes, never their contents.
 */
import { UsageError } from '../errors.js';
import { formatFile } from './format.js';
import type { SkippedFile } from './index.js';
import { FileTooLarge, NotRegularFile, readRegularFile, regularFileSize } from './regular.js';
import type { Candidate } from './select.js';

/** A selected regular file and its size in bytes, not yet read. */
export interface Measured {
  file: Candidate;
  bytes: number;
}
/** A file's block, not yet counted (index.ts counts, and stops once the set is past the window). */
export interface ReadBlock {
  path: string;
  block: string;
}

const SNIFF_BYTES = 8 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function describeSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function tooLarge(file: Candidate, bytes: number, limit: number): UsageError {
  // Exact counts when rounding would make the two look equal ("2.0 MB; the limit is 2.0 MB").
  const [actual, allowed] = describeSize(bytes) === describeSize(limit) ? [`${bytes} bytes`, `${limit} bytes`] : [describeSize(bytes), describeSize(limit)];
  const fix = file.named ? 'Send a smaller file' : `Leave it out with a "!" entry`;
  return new UsageError(`${file.shown} is ${actual}; the limit is ${allowed} per file. ${fix}, or raise KIMI_MCP_MAX_FILE_BYTES in kimi-mcp's environment.`);
}

function cannotRead(file: Candidate, e: unknown): UsageError {
  return new UsageError(`Cannot read ${file.shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check its permissions, or leave it out.`);
}

/** The text of `bytes`, or undefined when they are binary. */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function notRegular(file: Candidate, e: NotRegularFile): SkippedFile {
  return { path: file.shown, reason: e.message };
}

/** The size of one file from stat (nothing opened), or why it is skipped; a file over `maxBytes` is refused. */
export async function measureCandidate(file: Candidate, maxBytes: number): Promise<Measured | SkippedFile> {
  let bytes: number;
  try {
    bytes = await regularFileSize(file.real);
  } catch (e) {
    if (e instanceof NotRegularFile) return notRegular(file, e);
    throw cannotRead(file, e);
  }
  if (bytes > maxBytes) throw tooLarge(file, bytes, maxBytes);
  return { file, bytes };
}

/** The block of one file, or why it was skipped (a binary file found by a glob, or no regular file by now). */
export async function readCandidate(file: Candidate, maxBytes: number): Promise<ReadBlock | SkippedFile> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file.real, maxBytes);
  } catch (e) {
    if (e instanceof NotRegularFile) return notRegular(file, e);
    if (e instanceof FileTooLarge) throw tooLarge(file, e.bytes, maxBytes);
    throw cannotRead(file, e);
  }
  const text = decodeText(bytes);
  if (text === undefined) {
    if (file.named) throw new UsageError(`${file.shown} is binary; files sends text only. Pass pictures in images, and name text files here.`);
    return { path: file.shown, reason: 'binary' };
  }
  return { path: file.shown, block: formatFile(file.shown, text, file.range) };
}
