/**
 * The start-up snapshot: what initialize and tools/list answer, recorded from the real server
 * at build time (scripts/build.mjs) together with a fingerprint of the skill files. When the
 * skill on disk still matches, the server can answer those first requests without loading the
 * SDK, zod or the YAML parser; any other request, or a changed skill, takes the full path.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogError } from '../catalog/error.js';
import type { Catalog } from '../catalog/load.js';
import { findSkillRoot, referenceFiles, SKILL_FILE } from '../catalog/files.js';

export const SNAPSHOT_FILE = 'startup-snapshot.json';

export interface StartupSnapshot {
  version: string;
  skillHash: string;
  latestProtocolVersion: string;
  protocolVersions: string[];
  initialize: Record<string, unknown>;
  tools: unknown[];
}

/** The catalog as validated at build time, in a file of its own: read only by what needs it. */
export const CATALOG_SNAPSHOT_FILE = 'catalog-snapshot.json';

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

/** This build's snapshot, when fast start is on; whether it still fits the skill on disk is checked apart. */
export function readSnapshotFile(env: NodeJS.ProcessEnv, version: string, distDir: string): StartupSnapshot | undefined {
  if (env.KIMI_MCP_FAST_START === '0') return undefined;
  try {
    const snapshot = JSON.parse(readFileSync(join(distDir, SNAPSHOT_FILE), 'utf8')) as StartupSnapshot;
    return snapshot.version === version ? snapshot : undefined;
  } catch {
    return undefined; // no snapshot (a development build): the full path is always correct
  }
}

/** The build-time catalog if it was made from skill files with this fingerprint; otherwise undefined. */
export function readCatalogSnapshot(env: NodeJS.ProcessEnv, version: string, distDir: string, hash: string): CatalogSnapshot['catalog'] | undefined {
  if (env.KIMI_MCP_FAST_START === '0') return undefined;
  try {
    const stored = JSON.parse(readFileSync(join(distDir, CATALOG_SNAPSHOT_FILE), 'utf8')) as CatalogSnapshot;
    return stored.version === version && stored.skillHash === hash ? stored.catalog : undefined;
  } catch {
    return undefined; // a development build without one: the skill is loaded and validated
  }
}
