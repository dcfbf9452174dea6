/**
 * A key canary: tests run with a throwaway key the simulator echoes back in error bodies and
 * headers (leakKeyInErrors, echoKeyInHeader). Everything the server lets out is collected as
 * named sources (raw stdout/stderr, the HTTP wire, tool results, progress, resources, state
 * files), and expectNoCanary says which of them, if any, carries the key.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Readable, Stream } from 'node:stream';
import { StdioClientTransport as ModernStdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import type { AnyClient } from './mcp.js';

/** A key no real host would accept, unique to this run: `sk-canary-<24 hex>`. */
export function makeCanary(): string {
  return `sk-canary-${randomBytes(12).toString('hex')}`;
}

/** Something the server let out, by where it came from. */
export interface Source {
  name: string;
  text: string;
}

/** The forms a key can take on its way out: as is, and its random part on its own. */
function forms(canary: string): string[] {
  const secret = canary.replace(/^sk-canary-/, '');
  return [...new Set([canary, secret, Buffer.from(canary).toString('base64')])];
}

/** Fails naming every source that holds the canary (or its random part), with the spot. */
export function expectNoCanary(canary: string, sources: Iterable<Source>): void {
  const found: string[] = [];
  for (const { name, text } of sources) {
    for (const form of forms(canary)) {
      const at = text.indexOf(form);
      if (at >= 0) {
        found.push(`${name}: …${text.slice(Math.max(0, at - 60), at + form.length + 20)}…`);
        break;
      }
    }
  }
  expect(found.join('\n'), `the key canary leaked in ${found.length} place(s)`).toBe('');
}

/** Collects sources as a test runs; pass `sources` to expectNoCanary at the end. */
export class CanaryLog {
  readonly sources: Source[] = [];

  /** A source that grows (a stream); returns it so the caller can append. */
  add(name: string, text = ''): Source {
    const source = { name, text };
    this.sources.push(source);
    return source;
  }

  /** Everything a stream emits, as it arrives. */
  tapStream(name: string, stream: Readable | null | undefined): void {
    if (!stream) return;
    const source = this.add(name);
    stream.on('data', (d: Buffer | string) => void (source.text += d.toString()));
  }

  /** A tool result as the client received it: every content block and the structured content. */
  result(name: string, result: CallToolResult): void {
    this.add(name, JSON.stringify(result));
  }

  /** Reads kimi://usage and every listed kimi://replies/* and kimi://conversations/* resource. */
  async resources(name: string, client: AnyClient): Promise<string[]> {
    const { resources } = await client.listResources();
    const uris = ['kimi://usage', ...resources.map((r) => r.uri).filter((u) => /^kimi:\/\/(replies|conversations)\//.test(u))];
    for (const uri of uris) this.add(`${name} ${uri}`, JSON.stringify(await client.readResource({ uri })));
    return uris;
  }

  /** Every file under a folder (the state folder: conversations, ledger.jsonl). */
  files(dir: string): string[] {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((entry) => {
        const path = join(d, entry);
        return statSync(path).isDirectory() ? walk(path) : [path];
      });
    let paths: string[] = [];
    try {
      paths = walk(dir);
    } catch {
      return [];
    }
    for (const path of paths) this.add(`file ${relative(dir, path)}`, readFileSync(path, 'utf8'));
    return paths;
  }

  /**
   * A fetch for StreamableHTTPClientTransport that records every response as it arrives
   * (headers and the raw body, SSE included) and every request body.
   */
  fetch(name: string): typeof fetch {
    return async (input, init) => {
      if (typeof init?.body === 'string') this.add(`${name} request`, init.body);
      const res = await fetch(input, init);
      this.add(`${name} response headers`, JSON.stringify([res.status, ...res.headers]));
      if (!res.body) return res;
      const [mine, theirs] = res.body.tee();
      const source = this.add(`${name} response body`);
      void (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of theirs as unknown as AsyncIterable<Uint8Array>) source.text += decoder.decode(chunk, { stream: true });
        } catch {
          // the client aborted the request; what arrived is recorded
        }
      })();
      return new Response(mine, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
  }
}

/** What a tapped stdio transport exposes of its child, whichever SDK's transport it extends. */
export interface StdioTap {
  child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  stdout: Source | undefined;
  stderrText: Source | undefined;
  readonly pid: number | null;
}

/** Records stderr from construction on (the transport's stderr is a PassThrough until the child exists). */
function tapStderr(tap: StdioTap, stderr: Stream | null, log: CanaryLog, name: string): void {
  tap.stderrText = log.add(`${name} stderr`);
  stderr?.on('data', (d: Buffer) => void (tap.stderrText!.text += d.toString()));
}

/** Records the child's raw stdout and its exit, once started. */
function tapChild(tap: StdioTap, transport: object, log: CanaryLog, name: string): void {
  // Both SDKs keep the child private; the raw bytes it writes are what we must see.
  const child = (transport as { _process?: ChildProcess })._process!;
  tap.child = child;
  tap.stdout = log.add(`${name} stdout`);
  child.stdout?.on('data', (d: Buffer) => void (tap.stdout!.text += d.toString()));
  tap.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * StdioClientTransport (SDK 1.x, for a 2025-era client) with the child's raw stdout and stderr
 * recorded from the moment it spawns (before initialize), and its exit seen. Spawn with `stderr: 'pipe'`.
 */
export class TappedStdioTransport extends StdioClientTransport implements StdioTap {
  child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  stdout: Source | undefined;
  stderrText: Source | undefined;

  constructor(
    params: ConstructorParameters<typeof StdioClientTransport>[0],
    private readonly log: CanaryLog,
    private readonly name: string,
  ) {
    super(params);
    tapStderr(this, this.stderr, log, name);
  }

  override async start(): Promise<void> {
    await super.start();
    tapChild(this, this, this.log, this.name);
  }
}

/**
 * The same for the v2 client (2026-07-28 or negotiated). Being a subclass, it makes the v2
 * client probe (`server/discover`) in place, on this very child, rather than on a sibling
 * process whose output the SDK discards: every byte the server writes is recorded.
 */
export class TappedModernStdioTransport extends ModernStdioClientTransport implements StdioTap {
  child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  stdout: Source | undefined;
  stderrText: Source | undefined;

  constructor(
    params: ConstructorParameters<typeof ModernStdioClientTransport>[0],
    private readonly log: CanaryLog,
    private readonly name: string,
  ) {
    super(params);
    tapStderr(this, this.stderr, log, name);
  }

  override async start(): Promise<void> {
    await super.start();
    tapChild(this, this, this.log, this.name);
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
