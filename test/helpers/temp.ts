/** Temporary folders for a test file, removed when the file's tests are done. */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ROOT } from './mcp.js';

const made: string[] = [];
// Imported at the top of a test file, so this registers on that file.
afterAll(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** SKILL.md and skill/ copied into `dir` (created if needed), as a user's installed skill is laid out. */
export function copySkill(dir: string = tempDir('kimi-skill-')): string {
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'SKILL.md'), join(dir, 'SKILL.md'));
  cpSync(join(ROOT, 'skill'), join(dir, 'skill'), { recursive: true });
  return dir;
}

/** Every file under `root` (symlinks as links, not followed) → SHA-256 of its bytes: proof a tree was left as it was. */
export function hashTree(root: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    hashes[path.slice(root.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return hashes;
}
