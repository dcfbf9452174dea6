/**
 * A folder of one JSONL file per id (conversations, background jobs): which files there are, and
 * the removal of those left untouched too long. Several servers may list and prune one folder at
 * once, so a file that vanishes meanwhile is simply left out.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../log.js';

const DAY_MS = 86_400_000;

export class RecordFolder {
  constructor(
    readonly folder: string,
    private readonly suffix: string,
    private readonly isId: (id: string) => boolean,
    /** What a file holds, for log lines: "conversation", "job". */
    private readonly what: string,
  ) {}

  /** The file of an id already checked by its store. */
  file(id: string): string {
    return join(this.folder, id + this.suffix);
  }

  /** Every file with its modification time; a missing folder has none. */
  async entries(): Promise<{ id: string; mtimeMs: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const ids = names.filter((n) => n.endsWith(this.suffix)).map((n) => n.slice(0, -this.suffix.length)).filter(this.isId);
    const found = await Promise.all(ids.map((id) => stat(this.file(id)).then((s) => ({ id, mtimeMs: s.mtimeMs }), () => undefined)));
    return found.filter((e) => e !== undefined);
  }

  /** Removes files not modified for more than `days` days; never throws (runs in the background). */
  async removeOlderThan(days: number, now: number = Date.now()): Promise<number> {
    if (!(days > 0)) return 0;
    let removed = 0;
    try {
      for (const e of await this.entries()) {
        if (now - e.mtimeMs <= days * DAY_MS) continue;
        try {
          await unlink(this.file(e.id));
          removed++;
        } catch (err) {
          // Another server pruning at the same moment got there first: not a problem.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`could not remove old ${this.what} ${e.id}:`, err);
        }
      }
    } catch (err) {
      log(`could not prune ${this.what}s in ${this.folder}:`, err);
    }
    return removed;
  }
}
