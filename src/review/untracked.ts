/**
 * Files git does not track yet, shown as new-file diffs so a "working" review sees them. Each is
 * read as `files` reads a file: its real path confined to the roots (a symlink cannot lead out),
 * regular files only, never blocking on a pipe, within the size limit; binary ones are left out.
 * What was left out is said, never silently dropped.
 */
import { createTwoFilesPatch, OMIT_HEADERS } from 'diff';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { AllowedFolders } from '../kimi/messages.js';
import { MAX_FILES_PER_CALL } from '../kimi/files/limits.js';
import { decodeText, describeSize } from '../kimi/files/read.js';
import { FileTooLarge, NotRegularFile, readRegularFile } from '../kimi/files/regular.js';
import { confine } from '../kimi/files/roots.js';

export interface NewFile {
  /** Relative to the folder under review, `/` separated, as git lists it. */
  path: string;
  /** Its new-file diff; absent when it was left out. */
  diff?: string;
  /** Why it was left out. */
  skipped?: string;
}

/** A unified new-file diff of `text` in git's form (the hunk from jsdiff). */
function newFileDiff(path: string, text: string): string {
  const hunks = createTwoFilesPatch(`/dev/null`, `b/${path}`, '', text, undefined, undefined, { headerOptions: OMIT_HEADERS });
  return `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n${hunks}`;
}

async function readNew(folder: string, path: string, allowed: AllowedFolders, maxFileBytes: number): Promise<NewFile> {
  let real: string;
  try {
    real = await confine(join(folder, path), allowed.folders, allowed.from);
  } catch {
    return { path, skipped: 'it leads outside the roots' };
  }
  try {
    const text = decodeText(await readRegularFile(real, maxFileBytes));
    return text === undefined ? { path, skipped: 'binary' } : { path, diff: newFileDiff(path, text) };
  } catch (e) {
    if (e instanceof FileTooLarge) return { path, skipped: `${describeSize(e.bytes)}, over the ${describeSize(maxFileBytes)} limit (KIMI_MCP_MAX_FILE_BYTES)` };
    if (e instanceof NotRegularFile) return { path, skipped: e.message };
    return { path, skipped: `unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
}

/** The new-file diffs of `paths` (untracked, relative to `folder`), in git's order. */
export async function newFiles(folder: string, paths: readonly string[], allowed: AllowedFolders, maxFileBytes: number): Promise<NewFile[]> {
  if (paths.length > MAX_FILES_PER_CALL) {
    throw new UsageError(`${paths.length} files are untracked, more than the ${MAX_FILES_PER_CALL} a review reads; nothing was sent. Add generated folders to .gitignore, limit the review with files, or use target "staged".`);
  }
  const out: NewFile[] = [];
  for (const path of paths) out.push(await readNew(folder, path, allowed, maxFileBytes));
  return out;
}
