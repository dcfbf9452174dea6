/**
 * .gitignore rules of one root, as git applies them: every folder's .gitignore governs its own
 * subtree, the deepest file with a rule for a path decides, and nothing inside an ignored folder
 * comes back. Each folder's rules and verdict are read once per call and cached.
 * .gitignore files above the root, .git/info/exclude and global excludes are not consulted.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';

export class GitignoreRules {
  private readonly rules = new Map<string, Promise<Ignore | undefined>>();
  private readonly folders = new Map<string, Promise<boolean>>();

  constructor(private readonly root: string) {}

  /** Whether git would ignore `path` (a file, relative to the root, `/` separated). */
  async ignores(path: string): Promise<boolean> {
    const folder = posix.dirname(path);
    if (folder !== '.' && (await this.folderIgnored(folder))) return true;
    return this.decide(path, folder);
  }

  private folderIgnored(folder: string): Promise<boolean> {
    let verdict = this.folders.get(folder);
    if (!verdict) {
      const parent = posix.dirname(folder);
      verdict = (async () => (parent !== '.' && (await this.folderIgnored(parent))) || this.decide(`${folder}/`, parent))();
      this.folders.set(folder, verdict);
    }
    return verdict;
  }

  /** The verdict on `path` (in `folder`) of the deepest .gitignore with a rule for it. */
  private async decide(path: string, folder: string): Promise<boolean> {
    for (let level = folder; ; level = posix.dirname(level)) {
      const result = (await this.rulesIn(level))?.test(level === '.' ? path : path.slice(level.length + 1));
      if (result?.ignored) return true;
      if (result?.unignored) return false;
      if (level === '.') return false;
    }
  }

  private rulesIn(folder: string): Promise<Ignore | undefined> {
    let rules = this.rules.get(folder);
    if (!rules) {
      rules = readFile(join(this.root, folder, '.gitignore'), 'utf8').then(
        (text) => ignore().add(text),
        () => undefined, // no .gitignore here (or unreadable): no rules
      );
      this.rules.set(folder, rules);
    }
    return rules;
  }
}
