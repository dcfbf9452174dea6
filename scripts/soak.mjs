// Runs bench/soak.ts (the reliability soak): bundled with esbuild like the bench (packages stay
// in node_modules), with its simulator host bench/soak-sim.ts, then executed.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
await build({
  entryPoints: { soak: 'bench/soak.ts', 'soak-sim': 'bench/soak-sim.ts' },
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
await import(new URL('../.cache/soak.mjs', import.meta.url).href);
