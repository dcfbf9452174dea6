// The esbuild bundle: dist/cli.js (a small CommonJS launcher) plus ES modules loaded on demand
// (the full server, openai, the CLI commands), so that starting the stdio server loads almost
// nothing. Then what the launcher answers from: the server's first answers in both protocol
// eras, recorded from the built server, and the validated catalog, with a fingerprint of the skill.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { syncCommands } from './sync-commands.mjs';

// The plugin's slash commands, from their definitions (checked in; test/commands.test.ts compares).
const synced = await syncCommands();
if (synced.length) process.stderr.write(`build: rewrote ${synced.join(', ')} from src/commands\n`);
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
// The binary: a small CommonJS launcher (dist/package.json marks dist/*.js as CommonJS).
await build({ ...common, entryPoints: ['src/cli/launch.ts'], outfile: 'dist/cli.js', format: 'cjs', banner: { js: '#!/usr/bin/env node' } });
writeFileSync('dist/package.json', '{"type":"commonjs"}\n');
chmodSync('dist/cli.js', 0o755);

const MODERN = '2026-07-28';
const envelope = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'build', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Sends `requests` to a fresh full server (default settings, no snapshot) and returns its results by id. */
function ask(requests) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KIMI_')));
  const child = spawn(process.execPath, ['dist/cli.js'], { env: { ...env, KIMI_MCP_FAST_START: '0' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const wanted = requests.filter((r) => 'id' in r).length;
  return new Promise((resolve, reject) => {
    const answers = new Map();
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const message = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        if (message.error) reject(new Error(`the built server refused request ${message.id}: ${message.error.message}`));
        answers.set(message.id, message.result);
        if (answers.size === wanted) {
          child.stdin.end();
          resolve(answers);
        }
      }
    });
    child.on('exit', (code) => answers.size < wanted && reject(new Error(`the built server exited with ${code} before answering:\n${stderr}`)));
    for (const r of requests) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...r })}\n`);
  });
}

const legacy = await ask([
  { id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'build', version: '0' } } },
  { method: 'notifications/initialized' },
  { id: 2, method: 'ping' },
  { id: 3, method: 'tools/list' },
]);
const modern = await ask([
  { id: 1, method: 'server/discover', params: { _meta: envelope } },
  { id: 2, method: 'tools/list', params: { _meta: envelope } },
]);
const { protocolVersion, ...initialize } = legacy.get(1);
const discover = modern.get(1);

// The fingerprint and the validated catalog come from the same code the server uses
// (src/catalog/snapshot.ts, src/catalog/load.ts), so a skill that fails validation fails the build.
const helper = await build({
  stdin: { contents: "export { skillHash } from './src/catalog/snapshot.ts'; export { loadCatalog } from './src/catalog/load.ts';", resolveDir: '.', loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
  // gray-matter is CommonJS and requires Node built-ins.
  banner: { js: "import{createRequire as __kimiRequire}from'node:module';const require=__kimiRequire(process.cwd()+'/');" },
});
const { skillHash, loadCatalog } = await import(`data:text/javascript;base64,${Buffer.from(helper.outputFiles[0].text).toString('base64')}`);
// The root is where the skill sits at run time, so it is left out here and set when read.
const { root: _buildRoot, ...catalog } = loadCatalog('.');
const hash = skillHash('.');
// Both eras list the same tools: kept once (half the file the start-up path parses), and put
// back into each era's answer when read (src/catalog/snapshot.ts).
const { tools, ...legacyList } = legacy.get(3);
const { tools: modernTools, ...modernList } = modern.get(2);
if (JSON.stringify(tools) !== JSON.stringify(modernTools)) throw new Error('the two protocol eras list different tools; the snapshot keeps one list');
const snapshot = {
  version,
  skillHash: hash,
  tools,
  legacy: { protocolVersions: SUPPORTED_PROTOCOL_VERSIONS, latestProtocolVersion: protocolVersion, answers: { initialize, ping: legacy.get(2), 'tools/list': legacyList } },
  modern: { protocolVersions: discover.supportedVersions ?? [MODERN], answers: { 'server/discover': discover, 'tools/list': modernList } },
};
writeFileSync('dist/startup-snapshot.json', `${JSON.stringify(snapshot)}\n`);
writeFileSync('dist/catalog-snapshot.json', `${JSON.stringify({ version, skillHash: hash, catalog })}\n`);
