/**
 * The first answer a client waits for, as it pays for it: spawn → initialize → tools/list → the
 * first tool result (offline tools), or → the moment the first Kimi request reaches the host;
 * and the shell commands' time to their first byte. Each against a bare `node -e 0`, interleaved.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.BENCH_FIRST_ROUNDS ?? 15);
const KEY = 'sk-bench-first-call';

interface Stats {
  median: (v: number[]) => number;
  iqr: (v: number[]) => string;
  ms: (n: number) => string;
}

type Env = Record<string, string | undefined>;

/** A host that notes when each chat request arrives and answers it with a one-chunk stream. */
export async function arrivalHost(): Promise<{ baseURL: string; arrivals: number[]; close: () => Promise<void> }> {
  const arrivals: number[] = [];
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      chunk({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'kimi-k2.6', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: null }] });
      chunk({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'kimi-k2.6', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, arrivals, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** spawn → … → the answer to `call` (or, with `arrivals`, the first request reaching the host). */
export function firstAnswer(command: string, args: string[], env: Env, call: { name: string; arguments: unknown } | undefined, arrivals?: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const seen = arrivals?.length ?? 0;
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('no answer within 15 s'))), 15_000);
    const done = (at: number) => {
      clearTimeout(timer);
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 500).unref();
      resolve(at - started);
    };
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const message = JSON.parse(buffer.slice(0, i)) as { id?: number };
        buffer = buffer.slice(i + 1);
        if (message.id === 1) {
          send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
        } else if (message.id === 2) {
          if (!call) return done(performance.now());
          send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: call });
        } else if (message.id === 3 && !arrivals) done(performance.now());
        else if (message.id === 3 && arrivals) done(arrivals[seen] ?? performance.now());
      }
    });
    child.on('error', reject);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  });
}

/** spawn → the first byte on stdout (or, with `arrivals`, the first request reaching the host). */
function firstByte(command: string, args: string[], env: Env, arrivals?: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const seen = arrivals?.length ?? 0;
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => {
      const at = performance.now();
      child.on('exit', () => resolve((arrivals ? (arrivals[seen] ?? at) : at) - started));
    });
    child.on('error', reject);
  });
}

/** A peer server and a tool it answers without the network. */
export interface PeerCall {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  offline?: { name: string; arguments: Record<string, unknown>; what: string };
}

export async function firstCalls(cli: string, root: string, { median, iqr, ms }: Stats, peers: PeerCall[]): Promise<string> {
  const host = await arrivalHost();
  // A copy of the skill with one price edited: no snapshot fits it, so the full path is taken.
  const edited = mkdtempSync(join(tmpdir(), 'kimi-bench-skill-'));
  cpSync(join(root, 'SKILL.md'), join(edited, 'SKILL.md'));
  cpSync(join(root, 'skill'), join(edited, 'skill'), { recursive: true });
  const runapi = join(edited, 'skill/references/providers/runapi.md');
  writeFileSync(runapi, readFileSync(runapi, 'utf8').replace('input: 0.48', 'input: 0.49'));
  const base: Env = { PATH: process.env.PATH, HOME: process.env.HOME, KIMI_MCP_STATE_DIR: join(edited, '.state') };
  const withHost: Env = { ...base, RUNAPI_KEY: KEY, RUNAPI_BASE_URL: host.baseURL };
  const node = process.execPath;
  const estimate = { name: 'estimate_cost', arguments: { model: 'kimi-k2.6', input_tokens: 1000, output_tokens: 500 } };
  const rows: { label: string; goal?: number; run: () => Promise<number>; times: number[] }[] = [
    { label: 'spawn → `tools/list`', run: () => firstAnswer(node, [cli], base, undefined), times: [] },
    { label: 'spawn → first `list_models` result', goal: 1.5, run: () => firstAnswer(node, [cli], base, { name: 'list_models', arguments: {} }), times: [] },
    { label: 'spawn → first `estimate_cost` result', goal: 1.5, run: () => firstAnswer(node, [cli], base, estimate), times: [] },
    { label: 'spawn → first `kimi_chat` request reaching the host', goal: 2, run: () => firstAnswer(node, [cli], withHost, { name: 'kimi_chat', arguments: { prompt: 'hi', thinking: false } }, host.arrivals), times: [] },
    { label: 'edited skill (no snapshot): spawn → `tools/list`', goal: 2.5, run: () => firstAnswer(node, [cli], { ...base, KIMI_MCP_SKILL_DIR: edited }, undefined), times: [] },
    { label: 'edited skill: spawn → first `estimate_cost` result', run: () => firstAnswer(node, [cli], { ...base, KIMI_MCP_SKILL_DIR: edited }, estimate), times: [] },
    { label: '`kimi-mcp cost --input-tokens 1000`: first byte on stdout', goal: 1.5, run: () => firstByte(node, [cli, 'cost', '--input-tokens', '1000'], base), times: [] },
    { label: '`kimi-mcp chat hi`: request reaching the host', goal: 2, run: () => firstByte(node, [cli, 'chat', 'hi', '--no-thinking'], withHost, host.arrivals), times: [] },
    { label: '`kimi-mcp chat hi`: first byte of the answer on stdout', run: () => firstByte(node, [cli, 'chat', 'hi', '--no-thinking'], withHost), times: [] },
    // What any call through the openai SDK pays on Node 20 before a byte is sent: it builds each request's headers with `new Headers()`, which loads Node's fetch (undici).
    { label: 'bare `node` that first makes a `new Headers()` (the openai SDK does for every request), to its first byte', run: () => firstByte(node, ['-e', 'new Headers();process.stdout.write("x")'], base), times: [] },
    // Peers, each with a home of its own so that nothing of theirs lands in ours.
    ...peers.flatMap((p) =>
      p.offline
        ? [{ label: `peer ${p.name}: spawn → first \`${p.offline.name}\` result (${p.offline.what})`, run: () => firstAnswer(p.command, p.args, { ...base, HOME: edited, ...p.env }, p.offline!), times: [] as number[] }]
        : [],
    ),
  ];
  const bare: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const t = await firstByte(node, ['-e', 'process.stdout.write("x")'], base);
    if (round > 0) bare.push(t);
    for (const row of rows) {
      const t2 = await row.run();
      if (round > 0) row.times.push(t2);
    }
  }
  await host.close();
  rmSync(edited, { recursive: true, force: true });
  const floor = median(bare);
  const at = (label: string) => median(rows.find((r) => r.label.startsWith(label))!.times);
  const fetchLoad = at('bare `node` that first makes') - floor;
  return [
    `${ROUNDS} rounds after one warm-up, interleaved with a bare \`node -e 'process.stdout.write("x")'\` (spawn → its first byte: ${ms(floor)}, p25–p75 ${iqr(bare)}). Offline calls on the start-up path are answered by \`dist/offline.js\`; "reaching the host" is when a local HTTP server received the chat request (the host's own time to answer excluded).`,
    '',
    '| Measure | Median | p25–p75 | × bare Node | Goal |',
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const ratio = median(r.times) / floor;
      const goal = r.goal === undefined ? '' : `≤ ${r.goal}× ${ratio <= r.goal ? '✔' : '✘'}`;
      return `| ${r.label} | ${ms(median(r.times))} | ${iqr(r.times)} | ${ratio.toFixed(2)} | ${goal} |`;
    }),
    '',
    `The first Kimi call has a floor that is not ours: loading Node's fetch for the openai SDK's \`new Headers()\` costs ${ms(fetchLoad)} here, so spawn → \`tools/list\` plus that load is already ${ms(at('spawn → `tools/list`') + fetchLoad)}, ${((at('spawn → `tools/list`') + fetchLoad) / floor).toFixed(2)}× bare Node, before the call path, the SDK and the request. \`npm run profile\` (bench/PROFILE.md) shows the rest.`,
  ].join('\n');
}
