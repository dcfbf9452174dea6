/**
 * The built package, copied out of the working tree before it is measured: other work on the
 * same checkout (a test run's build) deletes and rewrites dist/, which would otherwise pull the
 * files from under a running benchmark. The copy holds what `npm pack` would ship (package.json
 * and its `files`), so it is also what an install gets: no node_modules beside it.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skillHash } from '../src/catalog/snapshot.js';

/** Why the copy in `dir` is not one complete build of this version, or undefined when it is. */
function problem(dir: string, version: string): string | undefined {
  const dist = join(dir, 'dist');
  for (const file of ['cli.js', 'main.mjs', 'server.mjs', 'startup-snapshot.json', 'catalog-snapshot.json']) {
    if (!existsSync(join(dist, file))) return `dist/${file} is missing`;
  }
  // Every module a bundle imports, statically or on demand, is there (the chunk names carry content hashes).
  const modules = [...readdirSync(dist).filter((f) => f.endsWith('.mjs')), ...readdirSync(join(dist, 'chunks')).map((f) => `chunks/${f}`)];
  for (const module of modules) {
    for (const m of readFileSync(join(dist, module), 'utf8').matchAll(/import\s*\(?\s*"(\.\.?\/[^"]+)"/g)) {
      if (!existsSync(join(dist, module, '..', m[1]!))) return `dist/${module} imports ${m[1]}, which is missing`;
    }
  }
  const hash = skillHash(dir);
  for (const file of ['startup-snapshot.json', 'catalog-snapshot.json']) {
    const recorded = JSON.parse(readFileSync(join(dist, file), 'utf8')) as { version: string; skillHash: string };
    if (recorded.version !== version || recorded.skillHash !== hash) return `dist/${file} was recorded for another version or skill`;
  }
  return undefined;
}

/** Copies the package out of `root` (retrying while a build there is under way); returns its folder. */
export async function stagePackage(root: string): Promise<{ dir: string; remove: () => void }> {
  let last = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'kimi-bench-package-'));
    try {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; files: string[] };
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      for (const entry of manifest.files) if (existsSync(join(root, entry))) cpSync(join(root, entry), join(dir, entry), { recursive: true });
      const why = problem(dir, manifest.version);
      if (!why) return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
      last = why;
    } catch (e) {
      last = (e as Error).message;
    }
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 2_000));
  }
  throw new Error(`no complete build in ${root}/dist after a minute (${last}); run npm run build`);
}
