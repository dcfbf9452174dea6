/**
 * Reading one selected file: its size is checked with stat before any byte is read, binary
 * files (a NUL byte in the first 8 KB, or bytes that are not UTF-8) are told apart, and the
 * text becomes its block. Messages name files and sizes, never their contents.
 */
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { estimateTextTokens } from '../tokens.js';
import { formatFile } from './format.js';
import type { FileBlock, SkippedFile } from './index.js';
import type { Candidate } from './select.js';

const SNIFF_BYTES = 8 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function describeSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function tooLarge(file: Candidate, bytes: number, limit: number): UsageError {
  // Exact counts when rounding would make the two look equal ("2.0 MB; the limit is 2.0 MB").
  const [actual, allowed] = describeSize(bytes) === describeSize(limit) ? [`${bytes} bytes`, `${limit} bytes`] : [describeSize(bytes), describeSize(limit)];
  const fix = file.named ? 'Send a smaller file' : `Leave it out with a "!" entry`;
  return new UsageError(`${file.shown} is ${actual}; the limit is ${allowed} per file. ${fix}, or raise KIMI_MCP_MAX_FILE_BYTES in the server's environment.`);
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

/** The block of one file, or why it was skipped (a binary file found by a glob). */
export async function readCandidate(file: Candidate, maxBytes: number): Promise<FileBlock | SkippedFile> {
  let bytes: Buffer;
  try {
    const { size } = await stat(file.real);
    if (size > maxBytes) throw tooLarge(file, size, maxBytes);
    bytes = await readFile(file.real);
  } catch (e) {
    throw e instanceof UsageError ? e : cannotRead(file, e);
  }
  const text = decodeText(bytes);
  if (text === undefined) {
    if (file.named) throw new UsageError(`${file.shown} is binary; files sends text only. Pass pictures in images, and name text files here.`);
    return { path: file.shown, reason: 'binary' };
  }
  const block = formatFile(file.shown, text, file.range);
  return { path: file.shown, tokens: estimateTextTokens(block), block };
}
