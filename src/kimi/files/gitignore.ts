/**
 * .gitignore rules of one root, as git applies them: every folder's .gitignore governs its own
 * subtree, the deepest file with a rule for a path decides, and nothing inside an ignored folder
 * comes back. Each folder's rules and verdict are read once per call and cached.
 * .gitignore files above the root, .git/info/exclude and global excludes are not consulted.
 */
import { join, posix } from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { UsageError } from '../errors.js';
import { DEFAULT_MAX_FILE_BYTES } from './limits.js';
import { FileTooLarge, readRegularFile } from './regular.js';

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
      const path = join(this.root, folder, '.gitignore');
      rules = readRegularFile(path, DEFAULT_MAX_FILE_BYTES).then(
        (bytes) => ignore().add(bytes.toString('utf8')),
        (e: unknown) => {
          // Rules that cannot be read whole would let through what they hide: refuse instead.
          if (e instanceof FileTooLarge) throw new UsageError(`${path} is larger than ${DEFAULT_MAX_FILE_BYTES} bytes, too large to apply; name files plainly, or shorten it.`);
          return undefined; // no .gitignore here, unreadable, or a pipe or socket: no rules
        },
      );
      this.rules.set(folder, rules);
    }
    return rules;
  }
}
