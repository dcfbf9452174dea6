/**
 * The full stdio server. Process hygiene (stdout for JSON-RPC only, logged rejections, EPIPE)
 * is set up by src/startup before this loads; here the process exits when the client goes away
 * (stdin end/close, SIGTERM), which the 1.x SDK transport does not do by itself.
 *
 * The transport is ours rather than the SDK's StdioServerTransport, which drops a line that is no
 * valid message without a word (the client waits forever), closes for good on a line over its
 * buffer, and ignores a last line that has no newline. Here every line is answered as the
 * JSON-RPC spec says (src/startup/jsonrpc.ts, shared with the fast path), and requests already
 * received are answered before the process exits.
 */
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { currentCatalog } from '../catalog/current.js';
import { log } from '../log.js';
import { callsSettled } from '../kimi/run-chat.js';
import { DRAIN_MS, guardStdio, onClientGone, SETTLE_MS } from '../startup/hygiene.js';
import { classify, errorMessage, LineSplitter, oversizeAnswer } from '../startup/jsonrpc.js';
import type { ErrorAnswer, Id, Line } from '../startup/jsonrpc.js';
import type { HandOver } from '../startup/fast-stdio.js';
import { bundleDir } from '../startup/snapshot.js';
import { createServer, onProcessStart } from './server.js';

/** Newline-delimited JSON-RPC on a pair of streams, answering every line it cannot pass on. */
export class StdioLineTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** The input ended, after its last line was passed on. */
  onend?: () => void;

  private readonly lines = new LineSplitter();
  /** Requests without an answer yet; cancelled ones are never answered, so they stop counting. */
  private readonly pending = new Set<Id>();
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {}

  start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('close', this.onEnd);
    this.input.on('error', this.onError);
    return Promise.resolve();
  }

  private readonly onData = (chunk: Buffer) => {
    this.lines.push(chunk);
    for (let line = this.lines.next(); line; line = this.lines.next()) this.receive(line);
  };

  private readonly onEnd = () => {
    if (this.ended) return;
    this.ended = true;
    const last = this.lines.end();
    if (last) this.receive(last);
    this.onend?.();
  };

  private readonly onError = (e: Error) => this.onerror?.(e);

  private answer(a: ErrorAnswer): void {
    void this.send(errorMessage(a) as JSONRPCMessage);
  }

  private receive(line: Line): void {
    if ('oversize' in line) return this.answer(oversizeAnswer(line));
    const inbound = classify(line.bytes);
    if (inbound.kind === 'blank') return;
    if (inbound.kind === 'invalid') {
      log(inbound.problem);
      return inbound.answers.forEach((a) => this.answer(a));
    }
    const message = inbound.message as JSONRPCMessage;
    if ('method' in message && 'id' in message) this.pending.add(message.id);
    if ('method' in message && message.method === 'notifications/cancelled') this.settle((message.params as { requestId?: Id } | undefined)?.requestId);
    this.onmessage?.(message);
  }

  private settle(id: Id | undefined): void {
    if (id !== undefined && this.pending.delete(id) && this.pending.size === 0) this.wake?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const json = `${JSON.stringify(message)}\n`;
    if (!('method' in message) && 'id' in message) this.settle(message.id ?? undefined);
    // Settles once the line is out or cannot go out: waiting for 'drain' on a closed stdout
    // would hold the call's progress, and so its partial turn, up forever.
    return new Promise((resolve) => void this.output.write(json, () => resolve()));
  }

  close(): Promise<void> {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    this.input.off('error', this.onError);
    this.onclose?.();
    return Promise.resolve();
  }

  /** Resolves once every request received so far is answered, or after `ms`. */
  idle(ms = DRAIN_MS): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, ms).unref();
    });
  }
}

/**
 * `handOver`, from the start-up path (src/startup/fast-stdio.ts): the calls it is still answering,
 * this server's to wait for at shutdown (the long replies they kept are readable here), and an
 * edited skill's catalog it loaded and validated already.
 */
export async function runStdioServer(env: NodeJS.ProcessEnv = process.env, input: Readable = process.stdin, output: Writable = process.stdout, { chats, catalog: loaded }: HandOver = {}): Promise<void> {
  guardStdio();
  // The build-time catalog while the skill fingerprint matches: no YAML parse or validation here.
  const catalog = loaded ?? (await currentCatalog(env, bundleDir(import.meta.url)));
  onProcessStart(catalog, env);
  const server = createServer(catalog, env, chats?.replies);
  const transport = new StdioLineTransport(input, output);
  let closing = false;
  const shutdown = (why: string, drain: boolean) => {
    if (closing) return;
    closing = true;
    log(`shutting down: ${why}`);
    void (drain ? Promise.all([transport.idle(DRAIN_MS), chats?.idle(DRAIN_MS)]) : Promise.resolve())
      .then(() => (chats?.abort(), server.close()))
      .then(() => Promise.all([callsSettled(SETTLE_MS), chats?.idle(SETTLE_MS)]))
      .finally(() => output.write('', () => process.exit(0)));
  };
  transport.onend = () => shutdown('stdin ended', true);
  onClientGone((why) => shutdown(why, false));
  process.on('SIGTERM', () => shutdown('SIGTERM', false));
  process.on('SIGINT', () => shutdown('SIGINT', false));
  await server.connect(transport);
}
