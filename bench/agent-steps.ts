/**
 * Server-side time per kimi_agent step on a 5,000-file project: `read` and `grep` as the loop
 * calls them (arguments parsed, confinement, .gitignore, overlay, output cap), against `git grep`
 * on the same tree. The model's time is not in it: this is what the server adds to each step.
 * Goals (issue 18): `read` ≤ 5 ms median, `grep` ≤ 2× `git grep`.
 *
 *   node scripts/bench-run.mjs agent-steps-main      (prints the markdown section)
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { callTool } from '../src/agent/tools/index.js';
import { agentFootprint } from './agent-footprint.js';
import { Workspace } from '../src/agent/workspace.js';

const run = promisify(execFile);
const FOLDERS = 100;
const MODULES_PER_FOLDER = 48;
const DOCS = 200;
const FILES = FOLDERS * MODULES_PER_FOLDER + DOCS;
const READS = 300;
const GREP_ROUNDS = 15;

/** 4,800 TypeScript modules (about 1.6 KB each) in 100 folders, 200 Markdown files, and what git and the tools leave out: a .gitignore'd build folder and node_modules. */
function fixtureTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'kimi-bench-agent-'));
  writeFileSync(join(root, '.gitignore'), 'build/\nnode_modules/\n');
  for (let f = 0; f < FOLDERS; f++) {
    const dir = join(root, 'src', `area${String(f).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let m = 0; m < MODULES_PER_FOLDER; m++) {
      const n = f * MODULES_PER_FOLDER + m;
      const body = Array.from({ length: 40 }, (_, line) => `export const value${n}_${line} = compute(${line}, "module ${n}", options);`);
      if (n % 97 === 0) body[17] = `export function reconnect${n}(session: Session) { return session.resume(); }`;
      if (n % 13 === 0) body[30] = `// TODO(${n}): handle the timeout case`;
      writeFileSync(join(dir, `module${m}.ts`), `// module ${n}\n${body.join('\n')}\n`);
    }
  }
  mkdirSync(join(root, 'docs'));
  for (let d = 0; d < DOCS; d++) writeFileSync(join(root, 'docs', `page${d}.md`), `# Page ${d}\n\n${'Some words about the project. '.repeat(20)}\n`);
  for (const ignored of ['build', 'node_modules/pkg']) {
    mkdirSync(join(root, ignored), { recursive: true });
    for (let i = 0; i < 100; i++) writeFileSync(join(root, ignored, `out${i}.js`), 'reconnect();\n');
  }
  return root;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.95))]!;
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;

async function timed(step: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await step();
  return performance.now() - started;
}

/** The searches, each as our grep takes it and as `git grep -E` does. */
const SEARCHES = [
  { label: 'a rare word, every file', pattern: 'reconnect', glob: undefined, pathspec: [] },
  { label: 'a regex, `src/**/*.ts`', pattern: 'TODO\\(\\d+\\)', glob: 'src/**/*.ts', pathspec: [':(glob)src/**/*.ts'] },
  { label: 'no match, every file', pattern: 'no such text anywhere', glob: undefined, pathspec: [] },
  { label: 'matches everywhere (cut at 200)', pattern: 'options', glob: undefined, pathspec: [] },
];
const gitPattern = (pattern: string) => pattern.replace(/\\d/g, '[0-9]');

export async function agentStepsBench(): Promise<string> {
  const root = fixtureTree();
  try {
    await run('git', ['init', '-q'], { cwd: root });
    await run('git', ['add', '-A'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const workspace = await Workspace.open({ folders: [root], from: 'the benchmark' });
    const step = async (name: string, args: Record<string, unknown>) => {
      const result = await callTool(name, JSON.stringify(args), workspace, 'explore');
      if (result.error) throw new Error(`${name} failed: ${result.output}`);
      return result;
    };
    const file = (i: number) => `src/area${String(i % FOLDERS).padStart(2, '0')}/module${(i * 7) % MODULES_PER_FOLDER}.ts`;
    await step('read', { path: file(0) }); // warm-up: first use of the modules

    const reads: number[] = [];
    for (let i = 0; i < READS; i++) reads.push(await timed(() => step('read', { path: i % 2 ? file(i) : `${file(i)}:10-30` })));

    const rows: string[] = [];
    for (const search of SEARCHES) {
      const ours: number[] = [];
      const git: number[] = [];
      let matches = '';
      for (let round = 0; round < GREP_ROUNDS; round++) {
        ours.push(await timed(async () => (matches = (await step('grep', { pattern: search.pattern, ...(search.glob && { glob: search.glob }) })).step.split('→ ')[1]!)));
        git.push(await timed(() => run('git', ['grep', '-n', '-I', '-E', gitPattern(search.pattern), '--', ...search.pathspec], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch((e: { code?: number }) => {
          if (e.code !== 1) throw e; // 1: no match
        })));
      }
      rows.push(`| grep ${search.label} (${matches}) | ${ms(median(ours))} | ${ms(p95(ours))} | ${ms(median(git))} | ${(median(ours) / median(git)).toFixed(2)}× |`);
    }
    // The first search of a run reads every file; later ones re-read only files whose stat changed.
    const [first] = SEARCHES;
    const cold: number[] = [];
    const git: number[] = [];
    for (let round = 0; round < GREP_ROUNDS; round++) {
      const fresh = await Workspace.open({ folders: [root], from: 'the benchmark' });
      cold.push(await timed(() => callTool('grep', JSON.stringify({ pattern: first!.pattern }), fresh, 'explore')));
      git.push(await timed(() => run('git', ['grep', '-n', '-I', '-E', first!.pattern], { cwd: root })));
    }
    rows.push(`| grep ${first!.label}, the first search of a run | ${ms(median(cold))} | ${ms(p95(cold))} | ${ms(median(git))} | ${(median(cold) / median(git)).toFixed(2)}× |`);
    const footprint = await agentFootprint(root, [file(0), file(97), file(194)]);
    return [
      `A ${FILES.toLocaleString('en')}-file project (4,800 TypeScript modules of about 1.6 KB in 100 folders, 200 Markdown pages, plus 200 .gitignore'd files), one Workspace as a run holds it; each step timed as the loop makes it (\`callTool\`: JSON arguments parsed, path confined, .gitignore applied, files read, output capped), in process, no model. A run's later searches re-read only files whose stat changed; the last row is a run's first search (a new Workspace each round). \`git grep -n -I -E\` on the same tree (tracked files, index only) is timed as a process, as a user would run it. ${READS} reads (half whole files, half ranges), ${GREP_ROUNDS} rounds per search; Node ${process.versions.node}, ${availableParallelism()} cores.`,
      '',
      '| Step | Median | p95 | `git grep` median | Ours / git |',
      '|---|---|---|---|---|',
      `| read (goal ≤ 5 ms median) | ${ms(median(reads))} | ${ms(p95(reads))} | | |`,
      ...rows,
      '',
      footprint,
    ].join('\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
