/**
 * The folders files may come from (the roots), and the check that keeps every read inside them.
 *
 * Paths are compared as real paths: `..` and symlinks resolved, the roots' own too (/tmp is
 * itself a symlink on macOS). A path is first placed lexically, so nothing outside the roots is
 * even looked at by name, then resolved, so a symlink cannot lead out. Callers read the real
 * path returned here, never the string they were given, so what was checked is what is read.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

/** Which folders a call may read, and where that list came from (refusals name it). */
export interface AllowedFolders {
  folders: readonly string[];
  from: string;
}

export const SERVER_FOLDERS = "the server's working directory plus KIMI_MCP_ROOTS";

export interface Root {
  /** Absolute, as configured: what messages name. */
  given: string;
  /** Where the list of roots came from (AllowedFolders.from). */
  from: string;
  /** The real path: what paths are compared with. */
  real: string;
  /** Prefix of the paths shown to Kimi: none for the first root, else the folder's name. */
  label: string;
}

/** Roots without a client's say: `cwd` plus the folders in KIMI_MCP_ROOTS (path.delimiter separated). */
export function defaultRoots(env: Record<string, string | undefined>, cwd: string): string[] {
  const base = resolve(cwd);
  const extra = (env.KIMI_MCP_ROOTS ?? '')
    .split(delimiter)
    .filter((entry) => entry !== '')
    .map((entry) => resolve(base, entry));
  return [...new Set([base, ...extra])];
}

/** The roots that exist, as real folders, in order; a missing root is left out unless all are. */
export async function existingRoots(roots: readonly string[], from = SERVER_FOLDERS): Promise<Root[]> {
  const found = await Promise.all(
    roots.map(async (root) => {
      const given = resolve(root);
      const real = await realPathIfExists(given);
      return real !== undefined && (await stat(real)).isDirectory() ? { given, real } : undefined;
    }),
  );
  const existing: Array<{ given: string; real: string }> = [];
  for (const root of found) if (root && !existing.some((r) => r.real === root.real)) existing.push(root);
  if (!existing.length) {
    throw new UsageError(`None of the folders this call may read from exists (${roots.join(', ') || 'none given'}: ${from}). Create one, or add an existing folder to ${whereFoldersAreAdded(from)}.`);
  }
  return existing.map((r, i) => ({ ...r, from, label: i === 0 ? '' : basename(r.given) || r.given }));
}

export function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/** The first root holding the real path `real`, if any. */
export function rootOf(real: string, roots: readonly Root[]): Root | undefined {
  return roots.find((r) => isInside(real, r.real));
}

/** The root that lexically holds the absolute path `path`, and the path relative to it (`/` separated). */
export function placeInRoots(path: string, roots: readonly Root[]): { root: Root; rel: string } | undefined {
  for (const root of roots) {
    for (const folder of [root.real, root.given]) {
      if (isInside(path, folder)) return { root, rel: toPosix(relative(folder, path)) };
    }
  }
  return undefined;
}

export function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/** How a file is named to Kimi: relative to its root, prefixed with the root's name after the first. */
export function shownPath(root: Root, rel: string): string {
  return root.label ? `${root.label}/${rel}` : rel;
}

/**
 * Where another folder can be allowed, in the caller's words (`from` names the list): the
 * variable when the list draws on it, else the list itself ("the client's roots").
 */
function whereFoldersAreAdded(from: string): string {
  return from.includes('KIMI_MCP_ROOTS') ? 'KIMI_MCP_ROOTS' : from;
}

export function outsideRoots(path: string, roots: readonly Root[]): UsageError {
  const from = roots[0]?.from ?? SERVER_FOLDERS;
  return new UsageError(`${path} is outside the folders this call may read (${roots.map((r) => r.given).join(', ')}: ${from}). Give a path inside one of them, or add its folder to ${whereFoldersAreAdded(from)}.`);
}

/** A file:// URI as a path; anything else unchanged. */
export function pathFromUri(source: string): string {
  if (!/^file:/i.test(source)) return source;
  try {
    return fileURLToPath(source);
  } catch {
    throw new UsageError(`${source} is not a local file URI; write file:///absolute/path, or a plain path.`);
  }
}

/** The real path, or undefined when nothing is there (a dangling or circular symlink included). */
export async function realPathIfExists(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined; // ELOOP: a symlink cycle leads nowhere
    throw new UsageError(`Cannot open ${path}: ${code ?? (e as Error).message}. Check its permissions, or name another file.`);
  }
}

/** Where `path` would be: against each root in order when relative; only places inside a root. */
function placesFor(path: string, roots: readonly Root[]): string[] {
  const places = isAbsolute(path) ? [resolve(path)] : roots.map((r) => resolve(r.real, path));
  return places.filter((place) => placeInRoots(place, roots) !== undefined);
}

/**
 * The real path of `path` in the first root where it exists, or undefined when it exists in none.
 * Throws when it lies, or leads through a symlink, outside every root.
 */
export async function locate(path: string, roots: readonly Root[]): Promise<string | undefined> {
  const places = placesFor(path, roots);
  if (!places.length) throw outsideRoots(path, roots);
  for (const place of places) {
    const real = await realPathIfExists(place);
    if (real === undefined) continue;
    if (!rootOf(real, roots)) throw outsideRoots(path, roots);
    return real;
  }
  return undefined;
}

/** A path that does not exist (yet): its nearest existing folder must still be inside a root. */
async function confineMissing(path: string, roots: readonly Root[]): Promise<string> {
  const place = placesFor(path, roots)[0]!;
  const rest = [basename(place)];
  for (let folder = dirname(place); ; folder = dirname(folder)) {
    const real = await realPathIfExists(folder);
    if (real !== undefined) {
      const full = join(real, ...rest);
      if (!rootOf(full, roots)) throw outsideRoots(path, roots);
      return full;
    }
    rest.unshift(basename(folder));
  }
}

/**
 * The real path of `path` (a path or a file:// URI; relative ones resolve against the roots in
 * order, the first where it exists winning) if it lies inside one of `roots`; else a UsageError
 * naming the roots. A path that does not exist is returned as it would be, for the caller to report.
 */
export async function confine(path: string, roots: readonly string[], from?: string): Promise<string> {
  const folders = await existingRoots(roots, from);
  const target = pathFromUri(path);
  return (await locate(target, folders)) ?? confineMissing(target, folders);
}
