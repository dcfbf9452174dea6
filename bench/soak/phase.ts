// What the two phases (stdio, HTTP) share: running the calls in two halves with rests between,
// the readings at rest and after the settle, and closing the server at the end.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallRecord } from './call.js';
import { scan } from './canary.js';
import type { Checked } from './check.js';
import { check } from './check.js';
import { fdCount, hwmMb, rssMb } from './measurements.js';
import type { Readings } from './measurements.js';
import type { Phase, Plan } from './plan.js';
import { distinct } from './processes.js';
import type { ServerWatch } from './processes.js';
import { CONCURRENCY, HALF, REST_MS, say, sleep, withTimeout } from './settings.js';
import type { SimHost, SimStats } from './sim-host.js';

export interface PhaseResult extends Readings, Checked {
  phase: Phase;
  records: CallRecord[];
  wallMs: number;
  upstream: { after1s: SimStats; settled: SimStats; afterExit: SimStats };
  exit: { code: number | null; signal: string | null };
  diedEarly?: { code: number | null; signal: string | null };
  traces: string[];
  stderrLines: number;
  /** Distinct stderr lines (numbers and ids folded) with how often each came. */
  stderrDistinct: [string, number][];
  /** From closing the client (stdin end, or SIGTERM for HTTP) to the exit. */
  exitMs: number;
  /** HTTP: the sessions clients abandoned without DELETE, asked after the settle whether the server still holds them. */
  disconnects?: { sessionsAbandoned: number; sessionsStillHeld: number; sessionsUnprobed: number };
  stateFiles: number;
}

/** Runs plans with CONCURRENCY workers; records come back in plan order. */
async function pool(plans: Plan[], work: (plan: Plan, worker: number) => Promise<CallRecord>, onDone: () => void): Promise<CallRecord[]> {
  const records: CallRecord[] = new Array(plans.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < plans.length) {
        const k = next++;
        records[k] = await work(plans[k]!, worker);
        onDone();
      }
    }),
  );
  return records;
}

interface CallsRun {
  records: CallRecord[];
  wallMs: number;
}

/**
 * The plan in two halves, each followed by a rest (no call in flight, abandoned HTTP sessions
 * expired) in which memory is read: "after 1,000" and "after 2,000" then compare like with like.
 */
export async function runInHalves(plans: Plan[], work: (plan: Plan, worker: number) => Promise<CallRecord>, w: ServerWatch, { rss, heap }: Readings): Promise<CallsRun> {
  const records: CallRecord[] = [];
  let wallMs = 0;
  let done = 0;
  const onDone = () => {
    done++;
    if (done % 500 === 0) rss.every500.push(rssMb(w.pid));
    if (done % 250 === 0) say(`  ${done}/${plans.length} calls`);
  };
  const t = performance.now();
  records.push(...(await pool(plans.slice(0, HALF), work, onDone)));
  wallMs += performance.now() - t;
  await sleep(REST_MS);
  rss.atHalf = rssMb(w.pid);
  heap.atHalf = await w.heapAfterGc();
  const t2 = performance.now();
  records.push(...(await pool(plans.slice(HALF), work, onDone)));
  wallMs += performance.now() - t2;
  return { records, wallMs };
}

/** Memory at rest after the second half: read REST_MS after its last call (1 s in, the upstream count). */
export async function restAfterRun(w: ServerWatch, sim: SimHost, { rss, heap }: Readings): Promise<SimStats> {
  await sleep(1000);
  const after1s = await sim.stats();
  await sleep(REST_MS - 1000);
  rss.atEnd = rssMb(w.pid);
  heap.atEnd = await w.heapAfterGc();
  return after1s;
}

/** After the settle: what is still open upstream, then the server's memory and fds. */
export async function readSettled(w: ServerWatch, sim: SimHost, { rss, fds, heap }: Readings): Promise<SimStats> {
  const settled = await sim.stats();
  rss.settled = rssMb(w.pid);
  rss.peak = hwmMb(w.pid);
  fds.after = fdCount(w.pid);
  heap.settled = await w.heapAfterGc();
  return settled;
}

/** Reads kimi://usage and up to 200 conversations, so that the resources are scanned for the canary too. */
export async function readResources(client: Client, phase: Phase): Promise<void> {
  try {
    const { resources } = await client.listResources();
    const uris = ['kimi://usage', ...resources.map((r) => r.uri).filter((u) => /^kimi:\/\/(replies|conversations)\//.test(u)).slice(0, 200)];
    for (const uri of uris) scan.line(`${phase} resources (kimi://usage, up to 200 conversations)`, JSON.stringify(await client.readResource({ uri })));
  } catch (e) {
    say(`reading resources failed: ${String(e)}`);
  }
}

/** What a phase has gathered by the time it closes its server. */
interface Gathered {
  phase: Phase;
  w: ServerWatch;
  sim: SimHost;
  stateDir: string;
  run: CallsRun;
  readings: Readings;
  after1s: SimStats;
  settled: SimStats;
}

/**
 * The end of a phase: checks the calls, closes the server (`close`: stdin end for stdio, SIGTERM
 * for HTTP) and times its exit, then counts what is still open upstream and scans the state files.
 */
export async function finishPhase(g: Gathered, close: () => unknown): Promise<PhaseResult> {
  const { phase, w, sim, stateDir } = g;
  const checked = await check(g.run.records, sim, stateDir);
  w.closing = true;
  const closedAt = performance.now();
  await close();
  const exit = await withTimeout(w.exit, 10_000, `the ${phase === 'stdio' ? 'stdio' : 'HTTP'} server exiting`);
  const exitMs = performance.now() - closedAt;
  await sleep(500);
  const afterExit = await sim.stats();
  const stateFiles = scan.files(`${phase} state files (conversations, ledger.jsonl)`, stateDir);
  return {
    phase,
    ...g.run,
    ...g.readings,
    upstream: { after1s: g.after1s, settled: g.settled, afterExit },
    exit,
    ...(w.diedEarly ? { diedEarly: w.diedEarly } : {}),
    traces: w.traces,
    stderrLines: w.stderrLines.length,
    stderrDistinct: distinct(w.stderrLines),
    exitMs,
    ...checked,
    stateFiles,
  };
}
