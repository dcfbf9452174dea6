/**
 * `!` entries, in .gitignore syntax and matched against paths relative to each root, like git:
 * `!*.test.ts` leaves out test files at any depth, `!src/gen/` a folder. Absolute ones apply in
 * the root that holds them, and must lie in one.
 */
import { isAbsolute, posix, resolve } from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { UsageError } from '../errors.js';
import { outsideRoots, pathFromUri, placeInRoots, toPosix } from './roots.js';
import type { Root } from './roots.js';

export class Excludes {
  private readonly everywhere: Ignore = ignore();
  private readonly byRoot = new Map<Root, Ignore>();

  add(entry: string, roots: readonly Root[]): void {
    const pattern = pathFromUri(entry.slice(1));
    if (pattern.trim() === '') throw new UsageError(`"${entry}" excludes nothing; write a path or glob after "!", e.g. "!**/*.test.ts".`);
    if (!isAbsolute(pattern)) {
      this.everywhere.add(posix.normalize(toPosix(pattern))); // "./src" is "src", as in a glob
      return;
    }
    const place = placeInRoots(resolve(pattern), roots);
    if (!place) throw outsideRoots(pattern, roots);
    let rules = this.byRoot.get(place.root);
    if (!rules) this.byRoot.set(place.root, (rules = ignore()));
    rules.add(`/${place.rel}`);
  }

  has(root: Root, rel: string): boolean {
    return this.everywhere.ignores(rel) || (this.byRoot.get(root)?.ignores(rel) ?? false);
  }
}
