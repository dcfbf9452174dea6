/** The call path's context on the start-up path: the build-time catalog, vouched for by the snapshot's fingerprint. */
import { fromSnapshot } from '../catalog/current.js';
import { resolveSettings } from '../kimi/config.js';
import type { CallContext } from '../kimi/config.js';
import { readCatalogSnapshot } from './snapshot.js';
import type { StartupSnapshot } from './snapshot.js';

/**
 * `snapshot` is the start-up snapshot already checked against the skill on disk; undefined when
 * the stored catalog is missing or from other skill files (the full server then loads the skill).
 */
export function snapshotContext(snapshot: StartupSnapshot, distDir: string, skillRoot: string, env: NodeJS.ProcessEnv): CallContext | undefined {
  const stored = readCatalogSnapshot(env, snapshot.version, distDir, snapshot.skillHash);
  if (!stored) return undefined;
  const catalog = fromSnapshot(stored, skillRoot);
  return { catalog, settings: resolveSettings(catalog, env), env };
}
