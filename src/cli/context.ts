/** What every CLI command needs: the catalog, settings from the environment, output streams. */
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { findSkillRoot, loadCatalog } from '../catalog/load.js';
import type { Catalog } from '../catalog/load.js';
import { resolveSettings } from '../kimi/config.js';
import type { Env, Settings } from '../kimi/config.js';

export interface CliContext {
  catalog: Catalog;
  settings: Settings;
  env: Env;
  out: (text: string) => void;
  err: (text: string) => void;
}

export function skillRoot(env: Env): string {
  return env.KIMI_MCP_SKILL_DIR ?? findSkillRoot(dirname(fileURLToPath(import.meta.url)));
}

export function cliContext(env: Env = process.env): CliContext {
  const catalog = loadCatalog(skillRoot(env));
  return {
    catalog,
    settings: resolveSettings(catalog, env),
    env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}
