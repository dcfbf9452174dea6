/**
 * The first answers a client waits for, as it pays for them, in both protocol eras: spawn → the
 * opening (`initialize` + `notifications/initialized`, or `server/discover`) → `tools/list` →
 * the first `tools/call`, sent either as agents send it (some time after tools/list, here 300 ms)
 * or back to back; and the shell commands' time to their first byte. Interleaved with a bare
 * `node`, round by round.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.BENCH_FIRST_ROUNDS ?? 15);
const KEY = 'sk-bench-first-call';
/** How long after the tools/list answer an agent's first tool call comes, at the earliest (a model turn). */
export const AGENT_GAP_MS = 300;
/** The first tool result an agent gets "as agents call it" should come within this. */
const FIRST_RESULT_GOAL_MS = 15;

interface Stats {
  median: (v: number[]) => number;
  iqr: (v: number[]) => string;
  ms: (n: number) => string;
}

type Env = Record<string, string | undefined>;

/** The protocol eras a client can speak: 2025 (`initialize`) and 2026-07-28 (`server/discover`, an envelope in every request's `_meta`). */
export type Era = 'legacy' | 'modern';

/** The 2026-07-28 per-request envelope. */
export const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The opening request of an era and the lines after its answer, up to and including `tools/list` (id 2). */
export function opening(era: Era): { first: unknown; then: unknown[] } {
  if (era === 'modern') {
    return {
      first: { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: ENVELOPE } },
      then: [{ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: ENVELOPE } }],
    };
  }
  return {
    first: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } },
    then: [
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ],
  };
}

/** A tools/call request of an era (the envelope in `_meta` for 2026-07-28). */
export function toolCall(era: Era, id: number, call: { name: string; arguments: unknown }): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: era === 'modern' ? { ...call, _meta: ENVELOPE } : call };
}

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

export interface SessionOptions {
  era?: Era;
  /** The tool call to send after tools/list; without it the session ends at the tools/list answer. */
  call?: { name: string; arguments: unknown };
  /** Milliseconds between the tools/list answer and sending the call; 0 sends it back to back (in the same tick). */
  gapMs?: number;
  /** The host's arrival times: the call ends when its request reaches the host rather than at its answer. */
  arrivals?: number[];
  /** End by closing stdin and waiting for the server to exit (so that it can write a CPU profile) instead of killing it. */
  graceful?: boolean;
}

/** Times from spawn: the tools/list answer, the call sent, and its answer (or its request reaching the host). */
export interface SessionTimes {
  list: number;
  sent: number;
  done: number;
}

/**
 * One client session over raw stdio. The server is killed once the figure is taken and the
 * promise settles only after it exited, so nothing it still does (such as loading the full
 * server in the background) runs into the next measurement.
 */
export function session(command: string, args: string[], env: Env, { era = 'legacy', call, gapMs = 0, arrivals, graceful = false }: SessionOptions = {}): Promise<SessionTimes> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const seen = arrivals?.length ?? 0;
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const times: SessionTimes = { list: 0, sent: 0, done: 0 };
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    let stage = 'the opening';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${[command, ...args].join(' ')} (${era}${call ? `, ${call.name}` : ''}): no answer to ${stage} within 15 s; stderr:\n${stderr}`));
    }, 15_000);
    const finish = (at: number) => {
      clearTimeout(timer);
      times.done = at - started;
      if (graceful) {
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      } else child.kill('SIGKILL');
      void exited.then(() => resolve(times));
    };
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    const { first, then } = opening(era);
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        let message: { id?: number; error?: { message: string }; result?: { isError?: boolean; content?: { text?: string }[] } };
        try {
          message = JSON.parse(line);
        } catch {
          continue; // a peer that prints non-JSON is not timed for it
        }
        if (message.id === 1) {
          stage = 'tools/list';
          then.forEach(send);
        } else if (message.id === 2) {
          stage = 'the call';
          times.list = performance.now() - started;
          if (!call) return finish(performance.now());
          const go = () => {
            times.sent = performance.now() - started;
            send(toolCall(era, 3, call));
          };
          if (gapMs > 0) setTimeout(go, gapMs);
          else go();
        } else if (message.id === 3) {
          // A refused or failed call would time something else: stop the run.
          if (message.error || message.result?.isError) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            return reject(new Error(`${[command, ...args].join(' ')} (${era}): ${call!.name} failed: ${JSON.stringify(message.error ?? message.result?.content)}`));
          }
          finish(arrivals ? (arrivals[seen] ?? performance.now()) : performance.now());
        }
      }
    });
    child.on('error', reject);
    send(first);
  });
}

/** spawn → initialize → tools/list → the answer to `call` sent back to back (or, with `arrivals`, its request reaching the host); the server then exits on its own. */
export async function firstAnswer(command: string, args: string[], env: Env, call: { name: string; arguments: unknown } | undefined, arrivals?: number[]): Promise<number> {
  return (await session(command, args, env, { call, arrivals, graceful: true })).done;
}

/** spawn → the first byte on stdout (or, with `arrivals`, the first request reaching the host). */
function firstByte(command: string, args: string[], env: Env, arrivals?: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const seen = arrivals?.length ?? 0;
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let at: number | undefined;
    child.stdout.once('data', () => (at = performance.now()));
    // 'close' comes after the exit and after stdout's last data, whichever order those two came in.
    child.once('close', (code) => {
      if (at === undefined) return reject(new Error(`${[command, ...args].join(' ')}: exited (${code}) without writing to stdout`));
      resolve((arrivals ? (arrivals[seen] ?? at) : at) - started);
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

/** Another build to compare with (a checkout of an earlier commit, built), timed in the 2025 era. */
export interface Baseline {
  label: string;
  cli: string;
  /** Where its skill files are. */
  root: string;
}

/** A column of the table: our build in either era, or the baseline build (2025 era). */
type Column = Era | 'before';

/** A measure taken in each round, in some of the columns. */
interface Row {
  label: string;
  /** Measured from spawn, so shown against bare Node too. */
  fromSpawn?: boolean;
  /** Goal in milliseconds for our build, in both eras. */
  goalMs?: number;
  columns: Column[];
  /** One measurement of the build at `cli` (its skill copy edited: `edited`) in `era`. */
  measure: (era: Era, cli: string, edited: string) => Promise<number>;
  times: Partial<Record<Column, number[]>>;
}

/** A copy of a package's skill with one price edited: no snapshot fits it. */
function editedSkill(root: string): string {
  const edited = mkdtempSync(join(tmpdir(), 'kimi-bench-skill-'));
  cpSync(join(root, 'SKILL.md'), join(edited, 'SKILL.md'));
  cpSync(join(root, 'skill'), join(edited, 'skill'), { recursive: true });
  const runapi = join(edited, 'skill/references/providers/runapi.md');
  writeFileSync(runapi, readFileSync(runapi, 'utf8').replace('input: 0.48', 'input: 0.49'));
  return edited;
}

export async function firstCalls(cli: string, root: string, { median, iqr, ms }: Stats, peers: PeerCall[], before?: Baseline): Promise<string> {
  const host = await arrivalHost();
  const edited = editedSkill(root);
  const editedBefore = before ? editedSkill(before.root) : edited;
  const base: Env = { PATH: process.env.PATH, HOME: process.env.HOME, KIMI_MCP_STATE_DIR: join(edited, '.state') };
  const withHost: Env = { ...base, RUNAPI_KEY: KEY, RUNAPI_BASE_URL: host.baseURL };
  const node = process.execPath;
  const estimate = { name: 'estimate_cost', arguments: { text: 'hello', output_tokens: 100 } };
  const chat = { name: 'kimi_chat', arguments: { prompt: 'hi', thinking: false } };
  const all: Column[] = before ? ['legacy', 'modern', 'before'] : ['legacy', 'modern'];
  const once: Column[] = before ? ['legacy', 'before'] : ['legacy'];
  const callTime = (t: SessionTimes) => t.done - t.sent;
  const specs: Omit<Row, 'times'>[] = [
    {
      label: `\`estimate_cost\` sent ${AGENT_GAP_MS} ms after the \`tools/list\` answer: call → result`,
      goalMs: FIRST_RESULT_GOAL_MS,
      columns: all,
      measure: async (era, c) => callTime(await session(node, [c], base, { era, call: estimate, gapMs: AGENT_GAP_MS })),
    },
    {
      label: '`estimate_cost` sent right after the `tools/list` answer (back to back): call → result',
      columns: all,
      measure: async (era, c) => callTime(await session(node, [c], base, { era, call: estimate })),
    },
    { label: 'the same, spawn → result', fromSpawn: true, columns: all, measure: async (era, c) => (await session(node, [c], base, { era, call: estimate })).done },
    {
      label: `\`kimi_chat\` sent ${AGENT_GAP_MS} ms after the \`tools/list\` answer: call → request reaching the host`,
      columns: all,
      measure: async (era, c) => callTime(await session(node, [c], withHost, { era, call: chat, gapMs: AGENT_GAP_MS, arrivals: host.arrivals })),
    },
    {
      label: '`kimi_chat` back to back: call → request reaching the host',
      columns: all,
      measure: async (era, c) => callTime(await session(node, [c], withHost, { era, call: chat, arrivals: host.arrivals })),
    },
    {
      label: 'the same, spawn → request reaching the host',
      fromSpawn: true,
      columns: all,
      measure: async (era, c) => (await session(node, [c], withHost, { era, call: chat, arrivals: host.arrivals })).done,
    },
    {
      label: 'edited skill (no snapshot fits): spawn → `tools/list`',
      fromSpawn: true,
      columns: all,
      measure: async (era, c, e) => (await session(node, [c], { ...base, KIMI_MCP_SKILL_DIR: e }, { era })).list,
    },
    {
      label: `edited skill: \`estimate_cost\` sent ${AGENT_GAP_MS} ms after \`tools/list\`: call → result`,
      columns: once,
      measure: async (era, c, e) => callTime(await session(node, [c], { ...base, KIMI_MCP_SKILL_DIR: e }, { era, call: estimate, gapMs: AGENT_GAP_MS })),
    },
    { label: '`kimi-mcp cost --input-tokens 1000`: first byte on stdout', fromSpawn: true, columns: once, measure: (_era, c) => firstByte(node, [c, 'cost', '--input-tokens', '1000'], base) },
    { label: '`kimi-mcp chat hi`: request reaching the host', fromSpawn: true, columns: once, measure: (_era, c) => firstByte(node, [c, 'chat', 'hi', '--no-thinking'], withHost, host.arrivals) },
    { label: '`kimi-mcp chat hi`: first byte of the answer on stdout', fromSpawn: true, columns: once, measure: (_era, c) => firstByte(node, [c, 'chat', 'hi', '--no-thinking'], withHost) },
    // What any call through the openai SDK pays on Node 20 before a byte is sent: it builds each request's headers with `new Headers()`, which loads Node's fetch (undici).
    {
      label: 'bare `node` that first makes a `new Headers()` (the openai SDK does for every request), to its first byte',
      fromSpawn: true,
      columns: ['legacy'],
      measure: () => firstByte(node, ['-e', 'new Headers();process.stdout.write("x")'], base),
    },
    // Peers (2025 era only), each with a home of its own so that nothing of theirs lands in ours.
    ...peers.flatMap((p): Omit<Row, 'times'>[] =>
      p.offline
        ? [
            {
              label: `peer ${p.name}: spawn → first \`${p.offline.name}\` result, back to back (${p.offline.what})`,
              fromSpawn: true,
              columns: ['legacy'],
              measure: async () => (await session(p.command, p.args, { ...base, HOME: edited, ...p.env }, { call: p.offline! })).done,
            },
          ]
        : [],
    ),
  ];
  const rows: Row[] = specs.map((r) => ({ ...r, times: {} }));
  const bare: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const t = await firstByte(node, ['-e', 'process.stdout.write("x")'], base);
    if (round > 0) bare.push(t);
    for (const row of rows) {
      for (const column of row.columns) {
        const t2 = column === 'before' ? await row.measure('legacy', before!.cli, editedBefore) : await row.measure(column, cli, edited);
        if (round > 0) (row.times[column] ??= []).push(t2);
      }
    }
  }
  await host.close();
  for (const dir of new Set([edited, editedBefore])) rmSync(dir, { recursive: true, force: true });
  const floor = median(bare);
  const cell = (row: Row, column: Column) => {
    const times = row.times[column];
    if (!times) return '—';
    const m = median(times);
    return `${ms(m)} (${iqr(times)})${row.fromSpawn ? `, ${(m / floor).toFixed(2)}×` : ''}`;
  };
  const verdict = (row: Row) => {
    if (row.goalMs === undefined) return '';
    const values = (['legacy', 'modern'] as const).flatMap((era) => (row.times[era] ? [median(row.times[era]!)] : []));
    return `≤ ${row.goalMs} ms ${values.every((v) => v <= row.goalMs!) ? '✔' : '✘'}`;
  };
  const at = (label: string) => median(rows.find((r) => r.label.startsWith(label))!.times.legacy!);
  const fetchLoad = at('bare `node` that first makes') - floor;
  return [
    `${ROUNDS} rounds after one warm-up, interleaved with a bare \`node -e 'process.stdout.write("x")'\` (spawn → its first byte: ${ms(floor)}, p25–p75 ${iqr(bare)}). Each cell: median (p25–p75), and for times from spawn the multiple of bare Node. Agents send their first tool call a model turn after \`tools/list\` (${AGENT_GAP_MS} ms here, less than any model turn); "back to back" sends it in the same tick the \`tools/list\` answer arrives. The 2026-07-28 requests carry the envelope in \`params._meta\`. Every \`tools/call\` is answered by the full server (\`dist/server.mjs\`), which the start-up path begins loading right after it answered \`tools/list\`; with an edited skill the full server answers from the first byte, so its first call needs no hand-over. "Reaching the host" is when a local HTTP server received the chat request (the host's own time to answer excluded). Each server is killed after its figure and the next run starts once it has exited.${before ? ` The last column is the build of ${before.label} (2025 era only), in the same rounds.` : ''}`,
    '',
    `| Measure | 2025 era (\`initialize\`) | 2026-07-28 (\`server/discover\`)${before ? ` | before: ${before.label}, 2025 era` : ''} | Goal |`,
    `|---|---|---|${before ? '---|' : ''}---|`,
    ...rows.map((r) => `| ${r.label} | ${all.map((c) => cell(r, c)).join(' | ')} | ${verdict(r)} |`),
    '',
    `The first Kimi call has a floor that is not ours: loading Node's fetch for the openai SDK's \`new Headers()\` costs ${ms(fetchLoad)} here on a fresh process.`,
  ].join('\n');
}
