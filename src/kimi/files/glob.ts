/**
 * Matching one glob in one root with tinyglobby. Symlinks are never crawled into; one the glob
 * matches is kept when its target is inside a root and reported as a miss when it is not.
 * .gitignore (root and nested), node_modules/ and .git/ leave matches out. Matches come sorted
 * by path in plain code-unit order, so the order is the same on every OS.
 */
import { readdir, type Dirent } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { glob, type FileSystemAdapter } from 'tinyglobby';
import type { GitignoreRules } from './gitignore.js';
import { FILE_CONCURRENCY, mapLimit } from './pool.js';
import { isInside, outsideRoots, realPathIfExists, rootOf } from './roots.js';
import type { Root } from './roots.js';
import { isGlob, namesDotSegment } from './spec.js';
import type { LineRange } from './spec.js';

/** A file as an entry reached it: `rel` is the matched path relative to `root` (a symlink's own name). */
export interface Hit {
  root: Root;
  rel: string;
  real: string;
  named: boolean;
  range?: LineRange;
}
export interface Miss {
  root: Root;
  rel: string;
  reason: string;
}
export interface Found {
  hits: Hit[];
  misses: Miss[];
}

const ALWAYS_SKIPPED = ['**/node_modules/**', '**/.git/**'];

/**
 * tinyglobby drops symlinks when it does not follow them. Shown to it as plain files they are
 * still never crawled into, but they reach us and their targets decide; each is noted in
 * `symlinks` (absolute paths), so only they need resolving. (A cast: fs.readdir's overloads
 * cannot be implemented by one function.)
 */
function symlinksAsFiles(symlinks: Set<string>): FileSystemAdapter {
  return {
    readdir: (path: string, options: { withFileTypes: true }, callback: (error: NodeJS.ErrnoException | null, entries?: Dirent[]) => void) =>
      readdir(path, options, (error, entries) => callback(error, entries?.map((entry) => symlinkAsFile(entry, path, symlinks)))),
  } as unknown as FileSystemAdapter;
}

function symlinkAsFile(entry: Dirent, folder: string, symlinks: Set<string>): Dirent {
  if (!entry.isSymbolicLink()) return entry;
  symlinks.add(join(folder, entry.name));
  return Object.assign(Object.create(entry) as Dirent, { isFile: () => true, isSymbolicLink: () => false });
}

/** The matches of `pattern` in one root, in path order, each checked against .gitignore and the roots. */
export async function matchGlob(root: Root, pattern: string, roots: readonly Root[], gitignore: GitignoreRules): Promise<Found> {
  const symlinks = new Set<string>();
  const paths = await glob(pattern, {
    cwd: root.real,
    dot: namesDotSegment(pattern),
    onlyFiles: true,
    followSymbolicLinks: false,
    expandDirectories: false,
    ignore: ALWAYS_SKIPPED,
    fs: symlinksAsFiles(symlinks),
  });
  paths.sort();
  // A file that is no symlink is its folder's real path plus its name: one realpath per folder,
  // not per file (each is a thread-pool round trip, the bulk of a large tree's time). Folders
  // are still resolved, so a crawl that went through a symlink cannot lead out either.
  const realFolders = new Map<string, Promise<string | undefined>>();
  const realFolder = (folder: string) => {
    let real = realFolders.get(folder);
    if (!real) realFolders.set(folder, (real = realPathIfExists(folder)));
    return real;
  };
  const checked = await mapLimit(paths, FILE_CONCURRENCY, async (rel): Promise<Hit | Miss | undefined> => {
    const path = join(root.real, rel);
    // climbsOut() keeps patterns in the root; this keeps a pattern it missed from reaching out.
    if (!isInside(path, root.real) || (await gitignore.ignores(rel))) return undefined;
    const symlink = symlinks.has(path);
    const folder = symlink ? undefined : await realFolder(dirname(path));
    const real = folder !== undefined ? join(folder, basename(path)) : await realPathIfExists(path);
    if (real === undefined) return { root, rel, reason: 'broken symlink' };
    if (!rootOf(real, roots)) return { root, rel, reason: 'symlink outside the roots' };
    // A symlinked folder inside the roots: its files are found under their own path.
    if (symlink && (await stat(real)).isDirectory()) return undefined;
    return { root, rel, real, named: false };
  });
  const found: Found = { hits: [], misses: [] };
  for (const item of checked) {
    if (item && 'real' in item) found.hits.push(item);
    else if (item) found.misses.push(item);
  }
  return found;
}

/**
 * A glob is crawled from its fixed leading folders (`src/lib` in `src/lib/**`); if they lead out
 * through a symlink, the crawl would list a folder outside the roots, so the glob is refused
 * as the same path named plainly would be.
 */
export async function checkCrawlStart(entry: string, root: Root, pattern: string, roots: readonly Root[]): Promise<void> {
  const segments = pattern.split('/');
  const fixed = segments.slice(0, segments.findIndex((segment) => isGlob(segment)));
  if (!fixed.length) return;
  const real = await realPathIfExists(join(root.real, ...fixed));
  if (real !== undefined && !rootOf(real, roots)) throw outsideRoots(entry, roots);
}
