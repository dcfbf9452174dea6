/** What every CLI command needs: the catalog, settings from the environment, output streams. */
import { currentCatalog } from '../catalog/current.js';
import type { Catalog } from '../catalog/load.js';
import { resolveSettings } from '../kimi/config.js';
import type { Env, Settings } from '../kimi/config.js';
import { scrub } from '../log.js';

export interface CliContext {
  catalog: Catalog;
  settings: Settings;
  env: Env;
  /** stdout and stderr, scrubbed: every command prints through these, never the streams themselves. */
  out: (text: string) => void;
  err: (text: string) => void;
}

/** `distDir`: where the build-time catalog lives (dist/). */
export async function cliContext(distDir: string, env: Env = process.env): Promise<CliContext> {
  return contextFor(await currentCatalog(env, distDir), env);
}

/** The context for a catalog already at hand (src/cli/shell.ts has the build-time one). */
export function contextFor(catalog: Catalog, env: Env): CliContext {
  return {
    catalog,
    // Resolving the settings registers every host's key, before anything can be printed.
    settings: resolveSettings(catalog, env),
    env,
    out: (text) => process.stdout.write(scrub(text)),
    err: (text) => process.stderr.write(scrub(text)),
  };
}
