// Writes the slash commands the plugin ships (commands/*.md for Claude Code, commands/kimi/*.toml
// for Gemini CLI) from their one definition, src/commands/. The build runs it; the files are checked
// in, and test/commands.test.ts fails when they differ from what the definitions render.
// Only files that changed are written (temporary file, then rename); a generated file whose command
// is gone is removed. Files without our mark are never touched.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function loadRender() {
  const bundle = await build({ entryPoints: [join(ROOT, 'src/commands/render.ts')], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'warning' });
  return import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`);
}

/** Returns the paths (relative to the repository) it wrote or removed. */
export async function syncCommands() {
  const { pluginFiles, isGenerated } = await loadRender();
  const changed = [];
  const wanted = new Set();
  for (const { path, text } of pluginFiles()) {
    const file = join(ROOT, path);
    wanted.add(file);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, file);
    changed.push(path);
  }
  const folder = join(ROOT, 'commands');
  for (const name of readdirSync(folder, { recursive: true, encoding: 'utf8' })) {
    const file = join(folder, name);
    if (wanted.has(file) || !/\.(md|toml)$/.test(name) || !isGenerated(readFileSync(file, 'utf8'))) continue;
    rmSync(file);
    changed.push(relative(ROOT, file));
  }
  return changed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const changed = await syncCommands();
  process.stderr.write(changed.length ? `sync-commands: updated ${changed.join(', ')}\n` : 'sync-commands: up to date\n');
}
