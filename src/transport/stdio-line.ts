/**
 * Newline-delimited JSON-RPC on a pair of streams, the transport the stdio server hands the SDK.
 * Ours rather than the SDK's StdioServerTransport, which closes the connection on a line over its
 * buffer, drops lines that are no valid message without a word (the client waits forever) and
 * aborts requests still running when stdin ends. Here every line is answered as the JSON-RPC
 * spec says (jsonrpc.ts), and requests already received can be answered before the process exits.
 */
import type { Readable, Writable } from 'node:stream';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { log } from '../log.js';
import { DRAIN_MS } from './hygiene.js';
import { classify, errorMessage, LineSplitter, oversizeAnswer } from './jsonrpc.js';
import type { ErrorAnswer, Id, Line } from './jsonrpc.js';

export class StdioLineTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** The input ended, after its last line was passed on. */
  onend?: () => void;

  private readonly lines = new LineSplitter();
  /** Requests without an answer yet; cancelled ones are never answered, so they stop counting. */
  private readonly pending = new Set<Id>();
  private wake: (() => void) | undefined;
  private ended = false;
  private closed = false;

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
    if (this.closed) return Promise.resolve();
    this.closed = true;
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
