/**
 * Plain Node processes doing the same thing at the same moment, for the tests that prove that
 * appends from separate processes never corrupt a file. The module under test is bundled to
 * plain JavaScript so that a bare `node` child can import it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { tempDir } from './temp.js';

/**
 * Runs `body` in one child per tag, with `module` (the bundled `source`, a path from the repo
 * root), `tag` and `args` in scope, all released at once; resolves with their exit codes.
 */
export async function runTogether(source: string, body: string, args: string[], tags = ['A', 'B']): Promise<(number | null)[]> {
  const dir = tempDir('kimi-together-');
  const bundle = join(dir, 'module.mjs');
  await build({ entryPoints: [fileURLToPath(new URL(`../../${source}`, import.meta.url))], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' });
  const script = join(dir, 'child.mjs');
  writeFileSync(script, [
    'const [bundle, tag, ...args] = process.argv.slice(2);',
    'const module = await import(bundle);',
    "// Wait for the parent's go, so that every child writes at the same time.",
    "await new Promise((go) => process.stdin.once('data', go));",
    'process.stdin.destroy();',
    body,
  ].join('\n'));
  const children = tags.map((tag) => spawn(process.execPath, [script, pathToFileURL(bundle).href, tag, ...args], { stdio: ['pipe', 'ignore', 'inherit'] }));
  const exits = children.map((child) => new Promise<number | null>((done) => child.on('exit', done)));
  for (const child of children) child.stdin.write('go\n');
  return Promise.all(exits);
}
