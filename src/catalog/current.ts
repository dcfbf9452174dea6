/**
 * The catalog a process uses: the one validated at build time (dist/catalog-snapshot.json) while
 * the skill files on disk still match its fingerprint (no YAML parser, no zod at run time);
 * otherwise the skill is loaded and validated now, so an edit is never served stale and a broken
 * edit still fails loudly, naming file and field.
 */
import { version } from '../version.js';
import type { Catalog } from './load.js';
import { readCatalogSnapshot, requireSkillRoot, skillHash } from './snapshot.js';

export async function currentCatalog(env: NodeJS.ProcessEnv, distDir: string): Promise<Catalog> {
  const root = requireSkillRoot(env, distDir);
  const stored = readCatalogSnapshot(env, distDir, version, skillHash(root));
  if (stored) return fromSnapshot(stored, root);
  const { loadCatalog } = await import('./load.js');
  return loadCatalog(root);
}

/** The stored catalog, rooted where the skill is now. */
function fromSnapshot(stored: Omit<Catalog, 'root'>, root: string): Catalog {
  // JSON copied the defaults; point them at the entries again, as the loader does.
  const defaultModel = stored.models.find((m) => m.id === stored.defaultModel.id)!;
  const defaultProvider = stored.providers.find((p) => p.id === stored.defaultProvider.id)!;
  return { ...stored, root, defaultModel, defaultProvider };
}
