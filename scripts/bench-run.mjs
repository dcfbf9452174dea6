// Runs a benchmark script: bench/<first>.ts and the helper processes it starts (bench/<rest>.ts),
// bundled with esbuild into .cache/ (packages stay in node_modules but one, below), then the first executed.
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
  // Packages stay in node_modules, but for jsonc-parser: its ESM build imports without file
  // extensions, which Node's loader cannot resolve (the server's own build bundles it too).
  plugins: [
    {
      name: 'packages-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('jsonc-parser') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  define: { __KIMI_MCP_VERSION__: JSON.stringify(version) },
});
await import(new URL(`../.cache/${names[0]}.mjs`, import.meta.url).href);
