/**
 * The catalog a process uses: the one validated at build time and kept in the start-up snapshot
 * while the skill files on disk still match its fingerprint (no YAML parser, no zod at run
 * time); otherwise the skill is loaded and validated now, so an edit is never served stale and a
 * broken edit still fails loudly, naming file and field.
 */
import { readSnapshot, requireSkillRoot } from '../startup/snapshot.js';
import { version } from '../version.js';
import type { Catalog } from './load.js';

export async function currentCatalog(env: NodeJS.ProcessEnv, distDir: string): Promise<Catalog> {
  const root = requireSkillRoot(env, distDir);
  const snapshot = readSnapshot(env, version, distDir);
  const stored = snapshot?.catalog;
  if (stored) {
    // JSON copied the defaults; point them at the entries again, as the loader does.
    const defaultModel = stored.models.find((m) => m.id === stored.defaultModel.id)!;
    const defaultProvider = stored.providers.find((p) => p.id === stored.defaultProvider.id)!;
    return { ...stored, root, defaultModel, defaultProvider };
  }
  const { loadCatalog } = await import('./load.js');
  return loadCatalog(root);
}
