// Runs bench/run.ts: bundled with esbuild (packages stay in node_modules), then executed.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
await build({
  entryPoints: { bench: 'bench/run.ts', 'sim-host': 'bench/sim-host.ts' },
  outdir: '.cache',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  define: { __KIMI_MCP_VERSION__: JSON.stringify(version) },
});
await import(new URL('../.cache/bench.mjs', import.meta.url).href);
