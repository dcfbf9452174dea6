// Runs a benchmark script: bench/<first>.ts and the helper processes it starts (bench/<rest>.ts),
// bundled with esbuild into .cache/ (packages stay in node_modules), then the first executed.
//   node scripts/bench-run.mjs run sim-host      (npm run bench)
//   node scripts/bench-run.mjs soak soak-sim     (npm run soak)
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const names = process.argv.slice(2);
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
await build({
  entryPoints: Object.fromEntries(names.map((name) => [name, `bench/${name}.ts`])),
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
await import(new URL(`../.cache/${names[0]}.mjs`, import.meta.url).href);
