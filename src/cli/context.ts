/** What every CLI command needs: the catalog, settings from the environment, output streams. */
import { currentCatalog } from '../catalog/current.js';
import type { Catalog } from '../catalog/load.js';
import { resolveSettings } from '../kimi/config.js';
import type { Env, Settings } from '../kimi/config.js';
import { bundleDir } from '../startup/snapshot.js';

export interface CliContext {
  catalog: Catalog;
  settings: Settings;
  env: Env;
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function cliContext(env: Env = process.env): Promise<CliContext> {
  const catalog = await currentCatalog(env, bundleDir(import.meta.url));
  return {
    catalog,
    settings: resolveSettings(catalog, env),
    env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}
