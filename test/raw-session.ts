/**
 * The built stdio server (dist/cli.js) spawned as an agent spawns it, spoken to in raw JSON-RPC
 * lines, so that a test sees exactly what it answers, in either protocol era and whichever path
 * (start-up snapshot, hand-over, full server) the process is on.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers/mcp.js';
import { CLI } from './helpers/run-cli.js';

export const MODERN = '2026-07-28';

/** The per-request envelope of a 2026-07-28 client, carried in every request's params._meta. */
export const envelope = (name = 'raw'): Record<string, unknown> => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name, version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
});

export interface Message {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

export interface Ended {
  code: number | null;
  messages: Message[];
  stderr: string;
}

export interface SessionOptions {
  /** Environment on top of PATH and the run's state folder. */
  env?: Record<string, string | undefined>;
  /** The binary; dist/cli.js unless a test copies the package somewhere. */
  cli?: string;
  /** Answer the server's roots/list requests with these folders. */
  roots?: string[];
  /** The server's working directory. */
  cwd?: string;
}

/** One spawned server; every stdout line is parsed (a line that is no JSON fails the test that reads it). */
export class RawSession {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Message[] = [];
  readonly notJson: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private out = '';
  private waiters: (() => void)[] = [];

  constructor({ env = {}, cli = CLI, roots, cwd }: SessionOptions = {}) {
    this.child = spawn(process.execPath, [cli], {
      env: { PATH: process.env.PATH, KIMI_MCP_STATE_DIR: process.env.KIMI_MCP_STATE_DIR, ...env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.out += d;
      for (let i = this.out.indexOf('\n'); i >= 0; i = this.out.indexOf('\n')) {
        this.take(this.out.slice(0, i), roots);
        this.out = this.out.slice(i + 1);
      }
      this.wake();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => (this.stderr += d));
    this.child.stdin.on('error', () => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        clearTimeout(timer);
        if (this.out) this.take(this.out, roots);
        resolve(code);
        this.wake();
      }),
    );
  }

  private take(line: string, roots: string[] | undefined): void {
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      this.notJson.push(line.slice(0, 300));
      return;
    }
    this.messages.push(message);
    if (roots && message.method === 'roots/list' && message.id !== undefined) {
      this.send({ id: message.id, result: { roots: roots.map((r) => ({ uri: pathToFileURL(r).href })) } });
    }
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Writes messages as lines (`jsonrpc` added). */
  send(...messages: Record<string, unknown>[]): void {
    this.child.stdin.write(messages.map((m) => `${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`).join(''));
  }

  /** The server's answers (not its own requests) to request `id`. */
  answersTo(id: string | number): Message[] {
    return this.messages.filter((m) => !('method' in m) && m.id === id);
  }

  /** Waits for the answer to request `id`. */
  async answer(id: string | number, ms = 10_000): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      const [found] = this.answersTo(id);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no answer to ${id} (exit ${this.child.exitCode}); stderr:\n${this.stderr.slice(-2000)}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** Closes stdin, as a client going away does, and waits for the exit. */
  async end(): Promise<Ended> {
    this.child.stdin.end();
    const code = await this.exited;
    if (this.notJson.length) throw new Error(`stdout carried lines that are no JSON: ${this.notJson.join('\n')}`);
    return { code, messages: this.messages, stderr: this.stderr };
  }
}

/** Sends all `messages` at once, closes stdin and returns what came back. */
export function exchange(messages: Record<string, unknown>[], options: SessionOptions = {}): Promise<Ended> {
  const session = new RawSession(options);
  session.send(...messages);
  return session.end();
}

/** Answers (not server requests) by id, for comparing sessions whose answers may come in another order. */
export function byId(messages: Message[]): Map<unknown, Message> {
  const answers = new Map<unknown, Message>();
  for (const m of messages) {
    if ('method' in m) continue;
    if (answers.has(m.id)) throw new Error(`two answers to ${JSON.stringify(m.id)}`);
    answers.set(m.id, m);
  }
  return answers;
}

export { ROOT };
