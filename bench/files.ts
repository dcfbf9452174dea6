/**
 * The cost of `files`: a 500-file glob read, counted and sent by the built server over stdio,
 * against the same call without files. Time and the server's peak resident memory.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const FILES = 500;
const ROUNDS = 7;

interface Figures {
  median: (v: number[]) => number;
  ms: (n: number) => string;
}

/** A project of 500 TypeScript modules (about 1.5 KB each) in 25 folders, plus a .gitignore'd build folder. */
function fixtureProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'kimi-bench-files-'));
  writeFileSync(join(root, '.gitignore'), 'build/\n');
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, 'src', `area${i % 25}`);
    mkdirSync(dir, { recursive: true });
    const body = Array.from({ length: 30 }, (_, line) => `export const value${i}_${line} = compute(${line}, "module ${i}");`).join('\n');
    writeFileSync(join(dir, `module${i}.ts`), `// module ${i}\n${body}\n`);
  }
  mkdirSync(join(root, 'build'));
  writeFileSync(join(root, 'build', 'bundle.ts'), 'ignored();\n');
  return root;
}

function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

export async function filesBench(cli: string, key: string, baseURL: string, { median, ms }: Figures): Promise<string> {
  const root = fixtureProject();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli],
    cwd: root,
    env: { ...getDefaultEnvironment(), RUNAPI_KEY: key, RUNAPI_BASE_URL: baseURL, KIMI_MCP_STATE_DIR: join(root, '.state') },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench-files', version: '1' });
  await client.connect(transport);
  const pid = transport.pid!;
  const time = async (name: string, args: Record<string, unknown>) => {
    const started = performance.now();
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    return { ms: performance.now() - started, structured: r.structuredContent as { files?: { tokens: number }[]; input_tokens?: number } };
  };
  // Warm-up: the first call loads the full server and the openai client.
  await time('kimi_chat', { prompt: 'warm-up', thinking: false });
  const idle = peakRssMb(pid);
  const plain: number[] = [];
  const withFiles: number[] = [];
  const counted: number[] = [];
  let tokens = 0;
  let sent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    plain.push((await time('kimi_chat', { prompt: 'Review.', thinking: false })).ms);
    const r = await time('kimi_chat', { prompt: 'Review.', thinking: false, files: ['src/**/*.ts'] });
    withFiles.push(r.ms);
    sent = r.structured.files?.length ?? 0;
    tokens = (r.structured.files ?? []).reduce((sum, f) => sum + f.tokens, 0);
    counted.push((await time('estimate_cost', { files: ['src/**/*.ts'], output_tokens: 1000 })).ms);
  }
  const peak = peakRssMb(pid);
  await client.close();
  rmSync(root, { recursive: true, force: true });
  return [
    `A ${FILES}-file glob (\`src/**/*.ts\`, ${sent} files sent, about ${Math.round(tokens / 1000)}K tokens by our estimator, a .gitignore'd folder beside them) read by the built server over stdio, median of ${ROUNDS} rounds after a warm-up call; the simulator answers at once, so the difference is the server's own work: globbing, .gitignore, reading, counting and sending.`,
    '',
    '| Measure | Time |',
    '|---|---|',
    `| \`kimi_chat\` without files | ${ms(median(plain))} |`,
    `| \`kimi_chat\` with the ${FILES}-file glob | ${ms(median(withFiles))} (${ms(median(withFiles) - median(plain))} for the files) |`,
    `| \`estimate_cost\` of the same glob (read and count, nothing sent) | ${ms(median(counted))} |`,
    '',
    `Peak resident memory of the server: ${idle.toFixed(0)} MB after the warm-up call, ${peak.toFixed(0)} MB after ${ROUNDS * 2} calls that read the glob.`,
  ].join('\n');
}
