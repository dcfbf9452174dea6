/**
 * The first moments of the stdio server. Agents start us often and wait for the first answers,
 * so with a start-up snapshot that fits the skill on disk, `initialize`/`server/discover`, `ping`
 * and `tools/list` are answered from it (fast-answers.ts) without loading the SDK or zod, and the
 * full server (dist/server.mjs) starts loading in the background right after. The first other
 * request hands the input to it: the opening request is replayed (so it pins the same era and
 * knows the client) with its second answer dropped, then everything from that request on. Lines
 * that are no JSON-RPC request get the error the full server would give them, without a hand-over.
 * Without a fitting snapshot (an edited skill, KIMI_MCP_FAST_START=0) the full server takes all.
 */
import { PassThrough, Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { readStartupSnapshot, skillRootFor } from '../catalog/snapshot.js';
import { readVar } from '../env.js';
import { log } from '../log.js';
import { guardStdio } from '../transport/hygiene.js';
import { classify, errorMessage, LineSplitter, oversizeAnswer } from '../transport/jsonrpc.js';
import type { Id, JsonObject, Line } from '../transport/jsonrpc.js';
import { version } from '../version.js';
import { answerFromSnapshot } from './fast-answers.js';
import type { Era } from './fast-answers.js';

/** What the start-up path needs of the full server module (src/mcp/stdio.ts). */
export interface FullServer {
  prepare(env: NodeJS.ProcessEnv, era: Era): Promise<unknown>;
  runStdioServer(env: NodeJS.ProcessEnv, input: Readable, output: Writable): Promise<void>;
}

export interface StdioOptions {
  env: NodeJS.ProcessEnv;
  /** dist/, where the start-up snapshot lives. */
  distDir: string;
  /** The protocol streams: the process's stdin and stdout. */
  input: NodeJS.ReadStream;
  output: NodeJS.WritableStream & Writable;
  /** Imports the full server; injected, so this module stays small wherever it is bundled. */
  loadFull: () => Promise<FullServer>;
}

/** After an answer that may be the last for a while, how long to wait before loading the full server. */
const WARM_DELAY_MS = 50;

/** The protocol output for the full server, minus its answer to the replayed opening request. */
function withoutAnswerTo(opening: Id | undefined, output: NodeJS.WritableStream): Writable {
  let dropped = opening === undefined;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!dropped) {
        const message = JSON.parse(chunk.toString('utf8')) as JsonObject;
        if (!('method' in message) && message.id === opening) {
          dropped = true;
          return done();
        }
      }
      output.write(chunk, () => done());
    },
  });
}

export async function serveStdio({ env, distDir, input, output, loadFull }: StdioOptions): Promise<void> {
  const skillRoot = skillRootFor(env, distDir);
  // The snapshot lists every tool: a user's KIMI_MCP_TOOLS choice is the full server's to apply.
  const snapshot = skillRoot === undefined || readVar(env, 'KIMI_MCP_TOOLS').value ? undefined : readStartupSnapshot(env, distDir, version, skillRoot);
  if (!snapshot) return (await loadFull()).runStdioServer(env, input, output);

  const unguard = guardStdio(() => process.exit(0));
  /** The opening request (the first answered here) and the notifications so far, for the full server. */
  const replay: Buffer[] = [];
  let opening: Id | undefined;
  /** The era the opening request pinned; a request of the other era is the full server's to judge. */
  let era: Era | undefined;
  const lines = new LineSplitter();
  const newline = Buffer.from('\n');
  const write = (m: JsonObject) => output.write(`${JSON.stringify(m)}\n`);

  let full: Promise<FullServer> | undefined;
  let warmTimer: NodeJS.Timeout | undefined;
  const warm = () => {
    clearTimeout(warmTimer);
    full ??= loadFull().then(async (server) => (await server.prepare(env, era ?? 'legacy'), server));
    // A failure shows at the hand-over, which awaits this same promise.
    full.catch(() => undefined);
    return full;
  };

  /** The full server takes the input from `line` on: a stream of its own, so that input which already ended can be handed over too. */
  const handOver = (line: Buffer, ended: boolean) => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('close', onEnd);
    unguard();
    const stream = new PassThrough();
    stream.write(Buffer.concat([...replay, line, newline, lines.rest()]));
    if (ended) stream.end();
    else {
      input.pipe(stream);
      input.once('close', () => stream.writableEnded || stream.end());
    }
    warm()
      .then((server) => server.runStdioServer(env, stream, withoutAnswerTo(opening, output)))
      .catch((e: unknown) => {
        log('the server could not start:', e);
        process.exit(1);
      });
  };

  /** Handles one line; false once it handed the input over. */
  function receive(line: Line, ended: boolean): boolean {
    if ('oversize' in line) return write(errorMessage(oversizeAnswer(line))), true;
    const inbound = classify(line.bytes);
    if (inbound.kind === 'blank') return true;
    if (inbound.kind === 'invalid') {
      log(inbound.problem);
      inbound.answers.forEach((a) => write(errorMessage(a)));
      return true;
    }
    const message = inbound.message;
    if (!('id' in message) && 'method' in message) {
      replay.push(Buffer.concat([line.bytes, newline]));
      return true;
    }
    const found = 'method' in message ? answerFromSnapshot(message, snapshot!) : undefined;
    const answer = found && (era === undefined || found.era === era) ? found : undefined;
    if (!answer) {
      handOver(line.bytes, ended);
      return false;
    }
    if (opening === undefined && message.method !== 'ping') {
      opening = answer.id;
      era = answer.era;
      replay.unshift(Buffer.concat([line.bytes, newline]));
    }
    write({ jsonrpc: '2.0', id: answer.id, result: answer.result });
    // The first tools/call usually comes long after tools/list: be loaded by then, without
    // slowing the answers a client asks for back to back.
    if (message.method === 'tools/list') setImmediate(warm);
    else if (!full) warmTimer = setTimeout(warm, WARM_DELAY_MS).unref();
    return true;
  }

  function drain(ended: boolean): boolean {
    for (let line = lines.next(); line; line = lines.next()) if (!receive(line, ended)) return false;
    return true;
  }

  function onData(chunk: Buffer): void {
    lines.push(chunk);
    drain(false);
  }

  /** The client closed stdin: answer what is left, the last unterminated line too, then exit once stdout is written. */
  function onEnd(): void {
    input.off('end', onEnd);
    input.off('close', onEnd);
    input.off('data', onData);
    if (!drain(true)) return;
    const last = lines.end();
    if (last && !receive(last, true)) return;
    log('shutting down: stdin ended');
    output.write('', () => process.exit(0));
  }

  input.on('data', onData);
  input.on('end', onEnd);
  input.on('close', onEnd);
}
