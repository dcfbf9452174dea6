/**
 * dist/'s CommonJS bundles for the start-up path (offline.js, chat.js, shell.js, openai.js),
 * loaded with the V8 code cache the build wrote beside each (`<bundle>.cache`), so that V8 skips
 * compiling what the cache holds: about 40% of loading them. V8 checks a cache against its own
 * version, its flags and the source, and compiles as usual when it does not fit (another Node
 * version, say), so a cache can make loading faster but never different.
 */
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

export const CACHE_SUFFIX = '.cache';

const loaded = new Map<string, unknown>();

/** Compiles the bundle at `file` as Node's CommonJS loader would, with its code cache when there is one. */
export function compileBundle(file: string, cachedData?: Buffer): Script {
  return new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, ...(cachedData ? { cachedData } : {}) });
}

/** Runs a compiled bundle; its own require() of a sibling bundle (`./openai.js`) goes through here too. */
export function runBundle(script: Script, file: string): unknown {
  const nodeRequire = createRequire(file);
  const siblingRequire = (id: string) => (id.startsWith('./') && id.endsWith('.js') ? requireBundle(join(dirname(file), id)) : nodeRequire(id));
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, siblingRequire, module, file, dirname(file));
  return module.exports;
}

export function requireBundle(file: string): unknown {
  if (loaded.has(file)) return loaded.get(file);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(file + CACHE_SUFFIX);
  } catch {
    // none (a development build): compiled as usual
  }
  const exports = runBundle(compileBundle(file, cachedData), file);
  loaded.set(file, exports);
  return exports;
}
