/**
 * The files a glob names in the workspace: matched on disk in each root by the same code as
 * `files` (glob.ts: .gitignore, node_modules/ and .git/ left out, symlinks out of the roots
 * refused), plus the files Kimi created in the overlay, matched by the same glob engine over a
 * virtual folder tree that holds only them. Sorted by the path Kimi is shown.
 */
import type { Dirent } from 'node:fs';
import { isAbsolute, posix, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import type { FileSystemAdapter } from 'tinyglobby';
import { UsageError } from '../errors.js';
import { checkCrawlStart, matchGlob } from '../kimi/files/glob.js';
import { outsideRoots, placeInRoots, shownPath, toPosix } from '../kimi/files/roots.js';
import type { Root } from '../kimi/files/roots.js';
import { climbsOut, namesDotSegment } from '../kimi/files/spec.js';
import type { OverlayFile } from './overlay.js';
import type { Workspace, WorkspaceFile } from './workspace.js';

export interface Matches {
  files: WorkspaceFile[];
  /** Matches that are not read: symlinks leading out of the roots, broken ones. */
  skipped: Array<{ path: string; reason: string }>;
}

/** Where a pattern is matched: relative ones in every root (and `label/…` in the root so labelled), absolute ones in the root holding them. */
function targetsOf(pattern: string, roots: readonly Root[]): Array<{ root: Root; pattern: string }> {
  if (isAbsolute(pattern)) {
    const place = placeInRoots(resolve(pattern), roots);
    if (!place) throw outsideRoots(pattern, roots);
    return [{ root: place.root, pattern: place.rel }];
  }
  const relative = posix.normalize(toPosix(pattern));
  const targets = roots.map((root) => ({ root, pattern: relative }));
  for (const root of roots.slice(1)) {
    if (relative.startsWith(`${root.label}/`)) targets.push({ root, pattern: relative.slice(root.label.length + 1) });
  }
  return targets;
}

export async function findFiles(workspace: Workspace, pattern: string): Promise<Matches> {
  if (pattern.trim() === '') throw new UsageError('The glob is empty; write one such as "src/**/*.ts", or leave it out to search every file.');
  const { roots } = workspace;
  const targets = targetsOf(pattern, roots);
  if (targets.some((t) => climbsOut(t.pattern))) {
    throw new UsageError(`${pattern}: a glob may not climb out of the project with ".."; write it relative to the project, e.g. "src/**/*.ts".`);
  }
  await Promise.all(targets.map((t) => checkCrawlStart(pattern, t.root, t.pattern, roots)));
  const found = await Promise.all(targets.map((t) => matchGlob(t.root, t.pattern, roots, workspace.gitignore(t.root))));
  const files = new Map<string, WorkspaceFile>();
  const skipped: Matches['skipped'] = [];
  for (const { hits, misses } of found) {
    for (const hit of hits) {
      // A symlink's match is named by its target, as `read` names it; any other match is where it was found.
      const atOwnPath = hit.real.length === hit.root.real.length + 1 + hit.rel.length && hit.real.startsWith(hit.root.real) && hit.real.endsWith(hit.rel); // === join(root, rel), without join's cost per file
      if (!files.has(hit.real)) files.set(hit.real, atOwnPath ? workspace.fileIn(hit.root, hit.rel, hit.real) : workspace.fileAt(hit.real));
    }
    for (const miss of misses) skipped.push({ path: shownPath(miss.root, miss.rel), reason: miss.reason });
  }
  const created = workspace.overlay.created();
  if (created.length) {
    for (const t of targets) for (const real of matchCreated(t.root, t.pattern, created)) if (!files.has(real)) files.set(real, workspace.fileAt(real));
  }
  return { files: [...files.values()].sort((a, b) => compare(a.shown, b.shown)), skipped };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Real paths of the overlay's new files in `root` that `pattern` matches. */
function matchCreated(root: Root, pattern: string, created: readonly OverlayFile[]): string[] {
  const rels = created.map((f) => toPosix(posix.relative(toPosix(root.real), toPosix(f.real)))).filter((rel) => rel !== '' && !rel.startsWith('..'));
  if (!rels.length) return [];
  const matched = globSync(pattern, { cwd: root.real, dot: namesDotSegment(pattern), onlyFiles: true, expandDirectories: false, fs: virtualTree(root.real, rels) });
  return matched.map((rel) => resolve(root.real, rel));
}

/** A read-only file system adapter that holds only `rels` (files, relative to `base`) and their folders. */
function virtualTree(base: string, rels: readonly string[]): FileSystemAdapter {
  const folders = new Map<string, Map<string, boolean>>(); // folder → entry name → is a folder
  for (const rel of rels) {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (!folders.has(folder)) folders.set(folder, new Map());
      folders.get(folder)!.set(parts[i]!, i < parts.length - 1);
    }
  }
  const entry = (name: string, isFolder: boolean) => ({ name, isFile: () => !isFolder, isDirectory: () => isFolder, isSymbolicLink: () => false }) as Dirent;
  const readdirSync = (path: string) => {
    const rel = toPosix(posix.relative(toPosix(base), toPosix(resolve(base, path))));
    return [...(folders.get(rel) ?? [])].map(([name, isFolder]) => entry(name, isFolder));
  };
  return { readdirSync } as unknown as FileSystemAdapter;
}
