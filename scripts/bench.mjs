// Runs bench/run.ts: bundled with esbuild (packages stay in node_modules), then executed.
import { build } from 'esbuild';

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
});
await import(new URL('../.cache/bench.mjs', import.meta.url).href);
