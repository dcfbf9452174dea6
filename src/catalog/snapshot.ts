/**
 * What the build records beside the bundles, keyed to a fingerprint of the skill files: the
 * validated catalog (catalog-snapshot.json) and the server's first answers in both protocol eras
 * (startup-snapshot.json). While the skill on disk still matches, the catalog needs no YAML
 * parse or validation and the first answers need no server at all; any edit takes the full path.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogError } from './error.js';
import type { Catalog } from './load.js';
import { findSkillRoot, referenceFiles, SKILL_FILE } from './files.js';

export const SNAPSHOT_FILE = 'startup-snapshot.json';
export const CATALOG_SNAPSHOT_FILE = 'catalog-snapshot.json';

/** A result recorded from the real server, by method. */
export type RecordedAnswers = Record<string, Record<string, unknown>>;

export interface StartupSnapshot {
  version: string;
  skillHash: string;
  /** The tools both eras list, stored once; each era's `tools/list` answer gets them back when read. */
  tools: unknown[];
  /** 2025-era connections: `initialize` (its protocolVersion set per request), `ping`, `tools/list`. */
  legacy: { protocolVersions: string[]; latestProtocolVersion: string; answers: RecordedAnswers };
  /** 2026-07-28 connections: `server/discover`, `tools/list`, each as the server stamps it. */
  modern: { protocolVersions: string[]; answers: RecordedAnswers };
}

export interface CatalogSnapshot {
  version: string;
  skillHash: string;
  /** Its root is where the skill is at run time, so it is not stored. */
  catalog: Omit<Catalog, 'root'>;
}

/** Fingerprint of everything the catalog is built from. */
export function skillHash(root: string): string {
  const hash = createHash('sha256');
  for (const file of [join(root, SKILL_FILE), ...referenceFiles(root)]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * dist/ for ESM code given its import.meta.url: bundled modules sit in dist/ or dist/chunks/.
 * (The CommonJS launcher knows it as __dirname.)
 */
export function bundleDir(moduleUrl: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  return basename(here) === 'chunks' ? dirname(here) : here;
}

/** The skill folder: KIMI_MCP_SKILL_DIR, or the one the package ships above dist/. */
export function skillRootFor(env: NodeJS.ProcessEnv, distDir: string): string | undefined {
  return env.KIMI_MCP_SKILL_DIR ?? findSkillRoot(distDir);
}

export function requireSkillRoot(env: NodeJS.ProcessEnv, distDir: string): string {
  const root = skillRootFor(env, distDir);
  if (root === undefined) throw new CatalogError([`no ${SKILL_FILE} found above ${distDir}; reinstall kimi-mcp or set KIMI_MCP_SKILL_DIR`]);
  return root;
}

/** A file of this build in dist/ made from skill files with fingerprint `hash`; undefined otherwise or with KIMI_MCP_FAST_START=0. */
function readRecorded<T extends { version: string; skillHash: string }>(env: NodeJS.ProcessEnv, distDir: string, file: string, version: string, hash: () => string): T | undefined {
  if (env.KIMI_MCP_FAST_START === '0') return undefined;
  let stored: T;
  try {
    stored = JSON.parse(readFileSync(join(distDir, file), 'utf8')) as T;
  } catch {
    return undefined; // a development build without one: the full path is always correct
  }
  return stored.version === version && stored.skillHash === hash() ? stored : undefined;
}

/** The start-up snapshot, if it was made from the skill files at `skillRoot` as they are now. */
export function readStartupSnapshot(env: NodeJS.ProcessEnv, distDir: string, version: string, skillRoot: string): StartupSnapshot | undefined {
  const snapshot = readRecorded<StartupSnapshot>(env, distDir, SNAPSHOT_FILE, version, () => skillHash(skillRoot));
  if (!snapshot) return undefined;
  for (const era of [snapshot.legacy, snapshot.modern]) era.answers['tools/list'] = { tools: snapshot.tools, ...era.answers['tools/list'] };
  return snapshot;
}

/** The build-time catalog if it was made from skill files with this fingerprint. */
export function readCatalogSnapshot(env: NodeJS.ProcessEnv, distDir: string, version: string, hash: string): CatalogSnapshot['catalog'] | undefined {
  return readRecorded<CatalogSnapshot>(env, distDir, CATALOG_SNAPSHOT_FILE, version, () => hash)?.catalog;
}
