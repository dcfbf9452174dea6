/**
 * Files for Kimi: agents pass paths or globs, the server reads them and puts each in the user
 * message as a fenced block, so the calling agent never holds the text. Everything is confined
 * to the roots (roots.ts); selection (select.ts), measuring and reading (read.ts, regular.ts),
 * the window check from sizes (fit.ts) and the block format (format.ts) are described in their
 * modules. No MCP here.
 */
import { UsageError } from '../errors.js';
import { estimateTextTokens } from '../tokens.js';
import { DEFAULT_MAX_FILE_BYTES, MAX_FILES_PER_CALL } from './limits.js';
import { refuseWhatCannotFit, TokenTally } from './fit.js';
import type { FitWindow } from './fit.js';
import { FILE_CONCURRENCY, mapLimit } from './pool.js';
import { measureCandidate, readCandidate } from './read.js';
import type { Measured } from './read.js';
import { existingRoots } from './roots.js';
import { selectFiles } from './select.js';

export { confine, defaultRoots } from './roots.js';
export type { FitWindow } from './fit.js';


/** A file as sent: `path` as shown to Kimi (relative to its root), `tokens` the estimate of its block. */
export interface SentFile {
  path: string;
  tokens: number;
}
export interface FileBlock extends SentFile {
  /** The formatted fenced block. */
  block: string;
}
/** A file a glob matched but that was not sent, e.g. reason 'binary'. */
export interface SkippedFile {
  path: string;
  reason: string;
}
export interface FileSet {
  files: FileBlock[];
  skipped: SkippedFile[];
}

function nothingToSend(skipped: readonly SkippedFile[]): UsageError {
  const why = skipped.length
    ? `every match was skipped (${skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`).join('; ')}${skipped.length > 5 ? `; and ${skipped.length - 5} more` : ''})`
    : 'the "!" entries excluded every match';
  return new UsageError(`No file to send: ${why}. Name text files inside the roots, or loosen the "!" entries.`);
}

export interface ReadOptions {
  maxFileBytes?: number;
  from?: string;
  /** The window the files are for: a set that can never fit it is refused before it is read, or once counting shows it. */
  window?: FitWindow;
}

/**
 * Reads `specs` (paths, globs, `!` excludes, `path:40-120` ranges, file:// URIs) inside `roots`
 * (absolute folders). Every file is measured before any is read. Throws UsageError for every refusal.
 */
export async function readFiles(specs: readonly string[], roots: readonly string[], options: ReadOptions = {}): Promise<FileSet> {
  const selection = await selectFiles(specs, await existingRoots(roots, options.from));
  if (selection.files.length > MAX_FILES_PER_CALL) {
    throw new UsageError(`${selection.files.length} files matched; one call reads at most ${MAX_FILES_PER_CALL}. Narrow the globs, or add "!" excludes such as "!**/*.test.ts".`);
  }
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const skipped = [...selection.skipped];
  const measured: Measured[] = [];
  for (const result of await mapLimit(selection.files, FILE_CONCURRENCY, (file) => measureCandidate(file, maxBytes))) {
    if ('bytes' in result) measured.push(result);
    else skipped.push(result);
  }
  if (options.window) refuseWhatCannotFit(measured, options.window);
  const tally = options.window && new TokenTally(options.window, measured.length);
  const read = await mapLimit(measured, FILE_CONCURRENCY, async ({ file }): Promise<FileBlock | SkippedFile> => {
    const result = await readCandidate(file, maxBytes);
    if (!('block' in result)) return result;
    tally?.throwIfOver(); // the set is already refused: estimating this file is wasted work
    const counted = { ...result, tokens: estimateTextTokens(result.block) };
    tally?.add(counted);
    return counted;
  });
  const files: FileBlock[] = [];
  for (const result of read) {
    if ('block' in result) files.push(result);
    else skipped.push(result);
  }
  if (!files.length) throw nothingToSend(skipped);
  return { files, skipped };
}
