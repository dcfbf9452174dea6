/**
 * The catalog a process uses: the one validated at build time and kept in the start-up snapshot
 * while the skill files on disk still match its fingerprint (no YAML parser, no zod at run
 * time); otherwise the skill is loaded and validated now, so an edit is never served stale and a
 * broken edit still fails loudly, naming file and field.
 */
import { readCatalogSnapshot, requireSkillRoot, skillHash } from '../startup/snapshot.js';
import { version } from '../version.js';
import type { Catalog } from './load.js';

export async function currentCatalog(env: NodeJS.ProcessEnv, distDir: string): Promise<Catalog> {
  const root = requireSkillRoot(env, distDir);
  const stored = storedCatalog(env, distDir, root);
  if (stored) return stored;
  const { loadCatalog } = await import('./load.js');
  return loadCatalog(root);
}

/**
 * The build-time catalog rooted at `root`, while it fits the skill files there; otherwise
 * undefined. `hash`: their fingerprint, when the caller has it already.
 */
export function storedCatalog(env: NodeJS.ProcessEnv, distDir: string, root: string, hash = skillHash(root)): Catalog | undefined {
  const stored = readCatalogSnapshot(env, version, distDir, hash);
  return stored && fromSnapshot(stored, root);
}

/** The stored catalog, rooted where the skill is now. */
export function fromSnapshot(stored: Omit<Catalog, 'root'>, root: string): Catalog {
  // JSON copied the defaults; point them at the entries again, as the loader does.
  const defaultModel = stored.models.find((m) => m.id === stored.defaultModel.id)!;
  const defaultProvider = stored.providers.find((p) => p.id === stored.defaultProvider.id)!;
  return { ...stored, root, defaultModel, defaultProvider };
}
