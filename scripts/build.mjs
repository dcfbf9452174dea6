// The esbuild bundle: dist/cli.js (a small CommonJS launcher) plus ES modules loaded on demand
// (the full server, openai, the CLI commands), so that starting the stdio server loads almost
// nothing. Then the start-up snapshot: what the real server answers to initialize and
// tools/list, with a fingerprint of the skill.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

rmSync('dist', { recursive: true, force: true });
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __KIMI_MCP_VERSION__: JSON.stringify(version) },
};
// The full CLI and server: ES modules, split so that each command loads only what it needs.
await build({
  ...common,
  entryPoints: { main: 'src/cli.ts', server: 'src/mcp/stdio.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies (gray-matter) need a real `require` inside an ES module.
  banner: { js: "import{createRequire as __kimiRequire}from'node:module';const require=__kimiRequire(import.meta.url);" },
});
// The tool calls of the start-up path, each a single CommonJS file (every module file costs a
// read at start, and the launcher can require them without starting the ES module loader):
// offline.js for list_models and estimate_cost, chat.js for kimi_chat and kimi_stream. What they
// never reach stays out (the call path imports it lazily, and such calls are handed to the full
// server): the glob libraries behind `files`, and for offline.js the openai SDK too.
const leaveOut = (filter) => ({
  name: 'leave-out',
  setup(b) {
    b.onResolve({ filter }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
  },
});
// The openai SDK is a CommonJS file of its own (dist/openai.js), required by chat.js and shell.js
// on the first Kimi call only: `cost` never compiles it. `dynamic-import: false` turns the call
// path's lazy import() into require(), which needs no ES module loader.
const openaiFile = {
  name: 'openai-file',
  setup(b) {
    b.onResolve({ filter: /^openai$/ }, (args) => (args.kind === 'dynamic-import' ? { path: './openai.js', external: true } : undefined));
  },
};
const startupBundle = { ...common, format: 'cjs', supported: { 'dynamic-import': false } };
await build({ ...startupBundle, stdin: { contents: "export * from 'openai';", resolveDir: '.' }, outfile: 'dist/openai.js' });
await build({ ...startupBundle, entryPoints: ['src/startup/offline.ts'], outfile: 'dist/offline.js', plugins: [leaveOut(/^openai$|\/files\/index\.js$/)] });
await build({ ...startupBundle, entryPoints: ['src/startup/quick-chat.ts'], outfile: 'dist/chat.js', plugins: [openaiFile, leaveOut(/\/files\/index\.js$/)] });
// tools/list for a skill edited since the build (src/startup/edited-skill.ts): the YAML parser and
// zod, but not the MCP SDK.
await build({ ...startupBundle, entryPoints: ['src/startup/edited-skill.ts'], outfile: 'dist/edited.js', plugins: [leaveOut(/^openai$|\/files\/index\.js$/)] });
// `cost` and `chat` from the shell, likewise (src/cli/shell.ts); an edited skill's loader stays out too.
await build({ ...startupBundle, entryPoints: ['src/cli/shell.ts'], outfile: 'dist/shell.js', plugins: [openaiFile, leaveOut(/\/files\/index\.js$|\/load\.js$/)] });
// The binary: a small CommonJS launcher (dist/package.json marks dist/*.js as CommonJS).
await build({ ...common, entryPoints: ['src/cli/launch.ts'], outfile: 'dist/cli.js', format: 'cjs', banner: { js: '#!/usr/bin/env node' } });
writeFileSync('dist/package.json', '{"type":"commonjs"}\n');
chmodSync('dist/cli.js', 0o755);

/** Asks the freshly built server (full path, default settings) for its first answers. */
function recordFirstAnswers() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KIMI_')));
  const child = spawn(process.execPath, ['dist/cli.js'], { env: { ...env, KIMI_MCP_FAST_START: '0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const send = (m) => child.stdin.write(`${JSON.stringify(m)}\n`);
  return new Promise((resolve, reject) => {
    const answers = new Map();
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const message = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        answers.set(message.id, message);
        if (answers.size === 2) {
          child.stdin.end();
          resolve([answers.get(1), answers.get(2)]);
        }
      }
    });
    child.on('exit', (code) => answers.size < 2 && reject(new Error(`the built server exited with ${code} before answering`)));
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'build', version: '0' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  });
}

const [init, list] = await recordFirstAnswers();
const { protocolVersion, ...initialize } = init.result;
// The fingerprint and the validated catalog come from the same code the server uses
// (src/startup/snapshot.ts, src/catalog/load.ts), so a skill that fails validation fails the build.
const helper = await build({
  stdin: {
    contents: "export { skillHash } from './src/startup/snapshot.ts'; export { loadCatalog } from './src/catalog/load.ts'; export { CACHE_SUFFIX, compileBundle, runBundle } from './src/startup/bundles.ts';",
    resolveDir: '.',
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
  // gray-matter is CommonJS and requires Node built-ins.
  banner: { js: "import{createRequire as __kimiRequire}from'node:module';const require=__kimiRequire(process.cwd()+'/');" },
});
const { skillHash, loadCatalog, CACHE_SUFFIX, compileBundle, runBundle } = await import(`data:text/javascript;base64,${Buffer.from(helper.outputFiles[0].text).toString('base64')}`);
// The root is where the skill sits at run time, so it is left out here and set when read.
const { root: _buildRoot, ...catalog } = loadCatalog('.');
const hash = skillHash('.');
writeFileSync(
  'dist/startup-snapshot.json',
  `${JSON.stringify({ version, skillHash: hash, latestProtocolVersion: protocolVersion, protocolVersions: SUPPORTED_PROTOCOL_VERSIONS, initialize, tools: list.result.tools })}\n`,
);
writeFileSync('dist/catalog-snapshot.json', `${JSON.stringify({ version, skillHash: hash, catalog })}\n`);

// V8 code caches for the start-up bundles (read by src/startup/bundles.ts), made by this Node
// after running each bundle's top level, so they also hold what that compiled. edited.js does
// its work once first (on the shipped skill), so that the YAML parser, zod's checks and the JSON
// Schema code it compiles are in its cache too: about 7 ms off an edited skill's first answers.
// (Doing the same for offline.js measured no gain.)
const snapshot = JSON.parse(readFileSync('dist/startup-snapshot.json', 'utf8'));
const exercise = { 'edited.js': (m) => m.snapshotForEditedSkill(snapshot, resolve('.'), snapshot.skillHash, {}) };
for (const name of ['offline.js', 'chat.js', 'shell.js', 'openai.js', 'edited.js']) {
  const file = resolve('dist', name);
  const script = compileBundle(file);
  await exercise[name]?.(runBundle(script, file));
  writeFileSync(file + CACHE_SUFFIX, script.createCachedData());
}
