// The simulator host: bench/soak-sim.ts in a process of its own, holding the key canary, driven
// one JSON line at a time over its stdin and stdout.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { children } from './processes.js';
import { canary, ROOT } from './settings.js';

export interface ChatView {
  requestId: string;
  at: number;
  status: number | null;
  content: string;
  reasoning: string;
  done: boolean;
  endedAt: number | null;
  endedHow: string | null;
}
export interface SimStats {
  chats: number;
  inFlight: number;
  inFlightPrompts: string[];
  openSockets: number;
  getConnections: number | null;
  acceptedSockets: number;
  errorResponses: number;
  authorizedWithKey: number;
}

export class SimHost {
  private readonly waiting = new Map<number, (m: { result?: unknown; error?: string }) => void>();
  private next = 1;
  private constructor(
    private readonly child: ChildProcess,
    readonly baseURL: string,
  ) {}

  static start(): Promise<SimHost> {
    const child = spawn(process.execPath, [join(ROOT, '.cache/soak-sim.mjs')], { env: { PATH: process.env.PATH, SIM_KEY: canary }, stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin!.on('error', () => undefined); // a write after it died is reported by req
    children.add(child);
    child.once('exit', () => children.delete(child));
    return new Promise((resolve, reject) => {
      let host: SimHost | undefined;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { baseURL?: string; id?: number; result?: unknown; error?: string };
        if (m.baseURL) resolve((host = new SimHost(child, m.baseURL)));
        else host?.waiting.get(m.id!)?.(m);
      });
      child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
    });
  }

  req<T>(m: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => {
        this.waiting.delete(id);
        if (r.error) reject(new Error(r.error));
        else resolve(r.result as T);
      });
      if (this.child.stdin!.writableEnded || this.child.exitCode !== null) return reject(new Error('soak: the simulator is gone'));
      this.child.stdin!.write(`${JSON.stringify({ id, ...m })}\n`);
    });
  }

  stats(): Promise<SimStats> {
    return this.req({ op: 'stats' });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await exited;
  }
}
