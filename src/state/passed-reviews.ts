/**
 * The change each project's review gate last passed, as a fingerprint, so `kimi-mcp review
 * --skip-unchanged` (the Claude Code Stop hook) does not pay for the same review on every turn
 * that leaves the tree as it was. One small file per project, replaced whole (write-file.ts),
 * owner-only; a lost file only means one more review.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_MODE, replaceFile } from './write-file.js';

const keyOf = (project: string) => createHash('sha256').update(project).digest('hex').slice(0, 32);

export class PassedReviews {
  /** `<stateDir>/review-gate`. */
  constructor(readonly folder: string) {}

  private file(project: string): string {
    return join(this.folder, `${keyOf(project)}.json`);
  }

  async passed(project: string, fingerprint: string): Promise<boolean> {
    try {
      return (JSON.parse(await readFile(this.file(project), 'utf8')) as { fingerprint?: unknown }).fingerprint === fingerprint;
    } catch {
      return false;
    }
  }

  async remember(project: string, fingerprint: string): Promise<void> {
    await mkdir(this.folder, { recursive: true, mode: 0o700 });
    replaceFile(this.file(project), `${JSON.stringify({ fingerprint, at: new Date().toISOString() })}\n`, PRIVATE_MODE);
  }
}
