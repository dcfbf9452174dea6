// The processes the soak starts, and how a server under test is watched: its stdout and stderr
// scanned for the canary, stack traces caught, the heap read through the GC preload.
import type { ChildProcess } from 'node:child_process';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { scan } from './canary.js';
import { canary, IDLE_MS, say } from './settings.js';

/** Every process the soak started and that is still running (the simulator, the servers). */
export const children = new Set<ChildProcess>();

/** On a failure or the watchdog: nothing the soak started outlives it. */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** SOAK_SERVER_NODE_OPTIONS (e.g. --max-old-space-size=48) is added to the servers' NODE_OPTIONS. */
export function serverEnv(baseURL: string, stateDir: string, gcPreload: string): Record<string, string> {
  const nodeOptions = [`--require ${JSON.stringify(gcPreload)}`, process.env.SOAK_SERVER_NODE_OPTIONS ?? ''].join(' ').trim();
  return { ...getDefaultEnvironment(), RUNAPI_KEY: canary, RUNAPI_BASE_URL: baseURL, KIMI_IDLE_TIMEOUT_MS: String(IDLE_MS), KIMI_MCP_STATE_DIR: stateDir, NODE_OPTIONS: nodeOptions };
}

/** A stack frame or an unhandled/uncaught failure in a server's stderr. */
const TRACE = /^\s+at .+:\d+:\d+\)?$|unhandled|uncaught|Error: write EPIPE/i;

export interface ServerWatch {
  pid: number;
  stderrLines: string[];
  traces: string[];
  exit: Promise<{ code: number | null; signal: string | null }>;
  /** Set before the soak closes the server, so that its exit is not taken for a death. */
  closing: boolean;
  /** Set when it exited while we were not closing it. */
  diedEarly?: { code: number | null; signal: string | null };
  /** Forces a full GC in the server (the preload) and resolves with its heap in use, in MB. */
  heapAfterGc(): Promise<number | null>;
}

/** Stderr lines with numbers, ids and markers folded, so that the same message counts once. */
export function distinct(lines: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    const k = l.replace(/\[soak-p\d-\d+\][^"]*/g, '[soak-…]').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').replace(/\d+(\.\d+)?/g, '#').slice(0, 240);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

export function watch(child: ChildProcess, category: string, stderr: NodeJS.ReadableStream): ServerWatch {
  const gcWaiters: ((mb: number | null) => void)[] = [];
  const w: ServerWatch = {
    pid: child.pid!,
    stderrLines: [],
    traces: [],
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    closing: false,
    heapAfterGc: () => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), 5_000);
        gcWaiters.push((mb) => (clearTimeout(timer), resolve(mb)));
        child.kill('SIGUSR2');
      });
    },
  };
  const out = scan.stream(category === 'stdio' ? 'stdio stdout (raw JSON-RPC)' : `${category} server stdout`);
  child.stdout?.on('data', (d: Buffer) => out.feed(d.toString()));
  child.stdout?.once('end', () => out.end());
  const err = scan.stream(`${category} server stderr`);
  let carry = '';
  stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    err.feed(text);
    const parts = (carry + text).split('\n');
    carry = parts.pop() ?? '';
    for (const l of parts) {
      const gc = /^\[soak-gc\] (.*)$/.exec(l);
      if (gc) {
        // What the server holds on to: the V8 heap and the memory outside it (Buffers, ArrayBuffers).
        const m = JSON.parse(gc[1]!) as { heapUsed: number; external: number };
        gcWaiters.shift()?.((m.heapUsed + m.external) / 2 ** 20);
        continue;
      }
      w.stderrLines.push(l);
      if (TRACE.test(l)) w.traces.push(l);
    }
  });
  stderr.once('end', () => err.end());
  void w.exit.then((e) => {
    if (!w.closing) {
      w.diedEarly = e;
      say(`${category} server exited unexpectedly: ${JSON.stringify(e)}`);
    }
  });
  return w;
}
