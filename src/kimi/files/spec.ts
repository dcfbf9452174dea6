/**
 * The syntax of one `files` entry, apart from the file system: line ranges (`path:40-120`,
 * `path:40`, `path:40-`), globs, and the dot segments that switch globs to matching dot files.
 * Whether an entry is a plain path is decided by the caller, which first checks whether the
 * whole entry exists (a name may contain `:` or glob characters, e.g. `app/[id]/page.tsx`).
 */
import { isDynamicPattern } from 'tinyglobby';
import { UsageError } from '../errors.js';

/** 1-based, inclusive; no `end` means to the end of the file. */
export interface LineRange {
  start: number;
  end?: number;
}

const RANGE_SUFFIX = /^(.+):(\d+)(?:-(\d*))?$/s;

/** `path:40-120` split into the path and a checked range; undefined when there is no range suffix. */
export function splitRange(entry: string): { path: string; range: LineRange } | undefined {
  const match = RANGE_SUFFIX.exec(entry);
  if (!match) return undefined;
  const path = match[1]!;
  const to = match[3];
  const start = Number(match[2]);
  const end = to === undefined ? start : to === '' ? undefined : Number(to);
  if (start === 0) throw new UsageError(`${entry}: line numbers start at 1; write ${path}:1-${end ?? ''}.`);
  if (end !== undefined && end < start) throw new UsageError(`${entry}: the range ends before it starts; write ${path}:${end}-${start} or ${path}:${start}-.`);
  return { path, range: end === undefined ? { start } : { start, end } };
}

export function isGlob(entry: string): boolean {
  return isDynamicPattern(entry);
}

/** Globs skip dot files unless the pattern itself names one (`.github/**`), as shells do. */
export function namesDotSegment(pattern: string): boolean {
  return pattern.split('/').some((segment) => /^\.[^./]/.test(segment));
}

/** A `..` segment anywhere, braces included (`{..,src}/*`): globs must not climb out of a root. */
export function climbsOut(pattern: string): boolean {
  return /(^|[/{,])\.\.($|[/},])/.test(pattern);
}
