/**
 * Where the skill lives and which files make it up. Kept free of YAML and zod so the fast
 * start path can fingerprint the skill without loading them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SKILL_FILE = 'SKILL.md';
export const REFERENCES_DIR = join('skill', 'references');

/** Walks up from `start` to the folder that holds SKILL.md (the bundle lives in dist/). */
export function findSkillRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, SKILL_FILE))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The reference files, sorted so every reader sees them in the same order. */
export function referenceFiles(root: string): string[] {
  const dir = join(root, REFERENCES_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(dir, f))
    .sort();
}
