/**
 * `npm run profile`: where the first kimi_chat's time goes, as a client pays for it. The server
 * runs under V8's CPU profiler from spawn through initialize, tools/list and one kimi_chat against
 * a local host; each profile's samples are put in buckets by what was running, and the medians
 * go to bench/PROFILE.md. The last raw profile stays in .cache/ for Chrome DevTools.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrivalHost, firstAnswer } from './first-call.js';
import { runMain } from './main.js';
import { stagePackage } from './package.js';

const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const RUNS = Number(process.env.PROFILE_RUNS ?? 7);
const INTERVAL_US = 50;

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Buckets, most specific first: a sample goes to the first whose test matches its stack (leaf first). */
const BUCKETS: [string, (stack: { functionName: string; url: string }[]) => boolean][] = [
  ['idle (waiting for the client or the host)', (s) => s[0]!.functionName === '(idle)'],
  ['garbage collection', (s) => s[0]!.functionName === '(garbage collector)'],
  ["Node's fetch (undici), loaded and run for the openai SDK", (s) => s.some((f) => f.url.includes('undici'))],
  ['compiling JavaScript (our bundles and Node internals)', (s) => /^(wrapSafe|compileForInternalLoader|compileForPublicLoader|compileSourceTextModule)$/.test(s[0]!.functionName)],
  ['dist/chunks/openai-*.mjs: the openai SDK', (s) => s.some((f) => f.url.includes('dist/chunks/openai-'))],
  ['the full server: dist/server.mjs and its chunks (MCP SDK, zod, the chat call path)', (s) => s.some((f) => f.url.includes('dist/server.mjs') || f.url.includes('dist/chunks/'))],
  ['dist/cli.js: launcher, snapshot, JSON-RPC lines', (s) => s.some((f) => f.url.endsWith('dist/cli.js'))],
  ['Node itself (bootstrap, streams, fs, net)', () => true],
];

function buckets(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totals = new Map<string, number>(BUCKETS.map(([name]) => [name, 0]));
  profile.samples.forEach((id, i) => {
    const stack: { functionName: string; url: string }[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
    const [name] = BUCKETS.find(([, test]) => test(stack))!;
    totals.set(name, totals.get(name)! + profile.timeDeltas[i]! / 1000);
  });
  return totals;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

let removePackage = () => {};

async function main(): Promise<void> {
  // A copy of the built package, so that a build elsewhere in the checkout cannot change it mid-run.
  const staged = await stagePackage(ROOT);
  removePackage = staged.remove;
  const CLI = join(staged.dir, 'dist/cli.js');
  const host = await arrivalHost();
  const dir = mkdtempSync(join(tmpdir(), 'kimi-profile-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KIMI_MCP_STATE_DIR: join(dir, 'state'), RUNAPI_KEY: 'sk-profile', RUNAPI_BASE_URL: host.baseURL };
  const call = { name: 'kimi_chat', arguments: { prompt: 'hi', thinking: false } };
  const runs: Map<string, number>[] = [];
  const arrivals: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const out = join(dir, `run-${run}`);
    const args = [`--cpu-prof`, `--cpu-prof-dir=${out}`, `--cpu-prof-interval=${INTERVAL_US}`, CLI];
    const ms = await firstAnswer(process.execPath, args, env, call, host.arrivals);
    // The profile is written as the server exits, after its call is answered and stdin closed.
    for (let i = 0; i < 100 && !(existsSync(out) && readdirSync(out).length); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100)); // the file is written in one go, but let it finish
    const file = join(out, readdirSync(out)[0]!);
    if (run === 0) continue; // warm-up: the file cache
    arrivals.push(ms);
    runs.push(buckets(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile));
    if (run === RUNS) copyFileSync(file, join(ROOT, '.cache/first-call.cpuprofile'));
  }
  await host.close();
  rmSync(dir, { recursive: true, force: true });
  const names = BUCKETS.map(([name]) => name);
  const medians = names.map((name) => median(runs.map((r) => r.get(name)!)));
  const total = medians.reduce((a, b) => a + b, 0);
  const report = [
    '# Where the first kimi_chat goes',
    '',
    `\`npm run profile\`, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}: ${RUNS} runs (one warm-up before) of spawn → initialize → tools/list → one \`kimi_chat\` against a local host → exit, each under V8's CPU profiler (${INTERVAL_US} µs sampling, which itself slows the process: under it the request reached the host after ${median(arrivals).toFixed(1)} ms, median). Samples are bucketed by what was running; medians per bucket, so they need not add up to the median total exactly. The last raw profile is \`.cache/first-call.cpuprofile\` (open it in Chrome DevTools).`,
    '',
    '| What ran | Median ms | Share |',
    '|---|---|---|',
    ...names.map((name, i) => `| ${name} | ${medians[i]!.toFixed(1)} | ${((medians[i]! / total) * 100).toFixed(0)}% |`),
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench/PROFILE.md'), report);
  process.stdout.write(report);
  removePackage();
}

runMain(main, () => removePackage());
