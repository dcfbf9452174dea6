/** The call path's context on the start-up path: the build-time catalog, vouched for by the snapshot's fingerprint. */
import { storedCatalog } from '../catalog/current.js';
import { resolveSettings } from '../kimi/config.js';
import type { CallContext } from '../kimi/config.js';
import type { StartupSnapshot } from './snapshot.js';

/**
 * `snapshot` is the start-up snapshot already checked against the skill on disk; undefined when
 * the stored catalog is missing or from other skill files (the full server then loads the skill).
 */
export function snapshotContext(snapshot: StartupSnapshot, distDir: string, skillRoot: string, env: NodeJS.ProcessEnv): CallContext | undefined {
  const catalog = storedCatalog(env, distDir, skillRoot, snapshot.skillHash);
  return catalog && { catalog, settings: resolveSettings(catalog, env), env };
}
