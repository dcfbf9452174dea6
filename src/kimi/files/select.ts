/**
 * Which files a `files` list names, before anything is read.
 *
 * - The whole entry is first tried as a path (a name may contain `:` or `[id]`), then as
 *   `path:40-120`, then as a glob. A plain path resolves against the roots in order, the first
 *   where it exists winning; a folder expands like `folder/**`. A file named plainly is sent
 *   even if .gitignore or node_modules/ would hide it from a glob.
 * - A relative glob is matched in every root, an absolute one in the root holding it (glob.ts).
 * - `!` entries exclude from everything the others reached (excludes.ts).
 * Entries keep their order; a file reached twice is kept where it first came (by real path;
 * two different line ranges of one file are both sent).
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve } from 'node:path';
import { escapePath } from 'tinyglobby';
import { UsageError } from '../errors.js';
import { Excludes } from './excludes.js';
import { GitignoreRules } from './gitignore.js';
import { checkCrawlStart, matchGlob } from './glob.js';
import type { Found } from './glob.js';
import type { SkippedFile } from './index.js';
import { locate, outsideRoots, pathFromUri, placeInRoots, rootOf, shownPath, toPosix } from './roots.js';
import type { Root } from './roots.js';
import { climbsOut, isGlob, splitRange } from './spec.js';
import type { LineRange } from './spec.js';

export interface Candidate {
  real: string;
  /** The path shown to Kimi. */
  shown: string;
  /** Named by the caller rather than found by a glob: a binary file is then an error, not a skip. */
  named: boolean;
  range?: LineRange;
}

interface Context {
  roots: readonly Root[];
  gitignores: Map<Root, GitignoreRules>;
}

function notFound(path: string, roots: readonly Root[]): UsageError {
  return new UsageError(`${path} does not exist in ${roots.map((r) => r.given).join(', ')}. Check the spelling, or use a glob such as "src/**/*.ts".`);
}

async function globAll(entry: string, targets: Array<{ root: Root; pattern: string }>, context: Context): Promise<Found> {
  const results = await Promise.all(targets.map((t) => matchGlob(t.root, t.pattern, context.roots, context.gitignores.get(t.root)!)));
  const found: Found = { hits: results.flatMap((r) => r.hits), misses: results.flatMap((r) => r.misses) };
  if (!found.hits.length && !found.misses.length) {
    throw new UsageError(`"${entry}" matched no files in ${context.roots.map((r) => r.given).join(', ')}. Check the pattern; globs leave out files ignored by .gitignore, dot files (unless the pattern names one), node_modules/ and .git/. Name a file to send it anyway.`);
  }
  return found;
}

async function fromGlob(entry: string, pattern: string, context: Context): Promise<Found> {
  let targets: Array<{ root: Root; pattern: string }>;
  if (isAbsolute(pattern)) {
    const place = placeInRoots(resolve(pattern), context.roots);
    if (!place) throw outsideRoots(entry, context.roots);
    targets = [{ root: place.root, pattern: place.rel }];
  } else {
    const relativePattern = posix.normalize(toPosix(pattern));
    targets = context.roots.map((root) => ({ root, pattern: relativePattern }));
  }
  if (targets.some((t) => climbsOut(t.pattern))) {
    throw new UsageError(`${entry}: a glob may not climb out of its root with ".."; write it relative to a root (${context.roots.map((r) => r.given).join(', ')}).`);
  }
  await Promise.all(targets.map((t) => checkCrawlStart(entry, t.root, t.pattern, context.roots)));
  return globAll(entry, targets, context);
}

async function fromPath(entry: string, real: string, range: LineRange | undefined, context: Context): Promise<Found> {
  const root = rootOf(real, context.roots)!;
  const rel = toPosix(relative(root.real, real));
  const info = await stat(real);
  if (info.isDirectory()) {
    if (range) throw new UsageError(`${entry}: ${shownPath(root, rel) || root.given} is a folder; a line range needs a file.`);
    return globAll(entry, [{ root, pattern: rel ? `${escapePath(rel)}/**` : '**' }], context);
  }
  // A pipe, socket or device goes on like a file: measuring skips it, whichever route reached it.
  return { hits: [{ root, rel, real, named: true, ...(range && { range }) }], misses: [] };
}

/** One entry that adds files. */
async function resolveEntry(entry: string, context: Context): Promise<Found> {
  if (entry.trim() === '') throw new UsageError('An entry in files is empty; give a path or a glob.');
  const text = pathFromUri(entry);
  const whole = await locate(text, context.roots);
  if (whole !== undefined) return fromPath(entry, whole, undefined, context);
  const ranged = splitRange(text);
  if (ranged) {
    const real = await locate(ranged.path, context.roots);
    if (real !== undefined) return fromPath(entry, real, ranged.range, context);
    if (isGlob(ranged.path)) throw new UsageError(`${entry}: a line range needs one file, not a glob; name the file, e.g. src/server.ts:40-120.`);
    throw notFound(ranged.path, context.roots);
  }
  if (isGlob(text)) return fromGlob(entry, text, context);
  throw notFound(text, context.roots);
}

/** The files `specs` name inside `roots`, in order, de-duplicated, excludes applied; nothing read yet. */
export async function selectFiles(specs: readonly string[], roots: readonly Root[]): Promise<{ files: Candidate[]; skipped: SkippedFile[] }> {
  const excludes = new Excludes();
  const positives: string[] = [];
  for (const entry of specs) {
    if (entry.startsWith('!')) excludes.add(entry, roots);
    else positives.push(entry);
  }
  const context: Context = { roots, gitignores: new Map(roots.map((root) => [root, new GitignoreRules(root.real)])) };
  const found = await Promise.all(positives.map((entry) => resolveEntry(entry, context)));

  const seen = new Set<string>();
  const files: Candidate[] = [];
  const skipped = new Map<string, string>();
  for (const { hits, misses } of found) {
    for (const hit of hits) {
      // Two ranges of one file are two excerpts; anything else reached twice is sent once.
      const key = hit.range ? `${hit.real}:${hit.range.start}-${hit.range.end ?? ''}` : hit.real;
      if (seen.has(key)) continue;
      seen.add(key);
      // A symlink is excluded by its own name or by its target's; a file by the name it is shown under too.
      const home = rootOf(hit.real, roots)!;
      const realRel = toPosix(relative(home.real, hit.real));
      const shown = shownPath(home, realRel);
      if (excludes.has(hit.root, hit.rel) || excludes.has(home, realRel) || excludes.has(home, shown)) continue;
      files.push({ real: hit.real, shown, named: hit.named, ...(hit.range && { range: hit.range }) });
    }
    for (const miss of misses) if (!excludes.has(miss.root, miss.rel)) skipped.set(shownPath(miss.root, miss.rel), miss.reason);
  }
  return { files, skipped: [...skipped].map(([path, reason]) => ({ path, reason })) };
}
