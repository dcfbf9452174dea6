/**
 * Agents start us often and wait for initialize and tools/list. With a valid start-up snapshot
 * those (and ping) are answered at once, without loading the SDK; so are the offline tool calls
 * (list_models, estimate_cost) whose arguments src/startup/offline.ts is sure of, with a small
 * bundle of the call path loaded on the first one. The first other request hands
 * the stream to the full server, replaying initialize so it knows the client, and dropping its
 * second answer to it. Lines that are no JSON-RPC request get the same error the full server
 * gives them (src/startup/jsonrpc.ts), without a hand-over; anything else unexpected simply takes
 * the full path.
 */
import { PassThrough, Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { log } from '../log.js';
import { guardStdio } from './hygiene.js';
import { classify, errorMessage, isId, isObject, LineSplitter, oversizeAnswer } from './jsonrpc.js';
import type { Id, JsonObject, Line } from './jsonrpc.js';
import type { configurationReported, offlineCall } from './offline.js';
import { readSnapshot, skillRootFor } from './snapshot.js';
import type { StartupSnapshot } from './snapshot.js';
import { version } from '../version.js';

/**
 * Loads and runs the full server on these streams; injected, so this module stays small wherever
 * it is bundled. `configurationReported`: an offline call already logged bad configuration.
 */
export type StartFullServer = (env: NodeJS.ProcessEnv, input: Readable, output: Writable, configurationReported: boolean) => Promise<void>;

const optional = (o: JsonObject, key: string, test: (v: unknown) => boolean) => !(key in o) || test(o[key]);
const isString = (v: unknown) => typeof v === 'string';
/** Nested objects all the way down (the shape of most capabilities), with these boolean leaves. */
const objectsDown = (v: unknown, booleans: readonly string[] = []): boolean =>
  isObject(v) && Object.entries(v).every(([k, x]) => (booleans.includes(k) ? typeof x === 'boolean' : objectsDown(x, booleans)));
const KNOWN_CAPABILITIES = ['experimental', 'sampling', 'elicitation', 'roots', 'tasks'];

/** `_meta` of a request, when it holds nothing the fast path would have to act on or check (a progress token at most). */
const plainMeta = (params: JsonObject) => optional(params, '_meta', (m) => isObject(m) && Object.keys(m).every((k) => k === 'progressToken') && optional(m, 'progressToken', isId));

/**
 * Params the fast answers are sure the full server accepts as well; anything it is not sure of
 * takes the full path, which validates with the SDK's own schemas and words the error.
 */
function paramsOk(method: string, params: unknown): boolean {
  if (method !== 'initialize') {
    if (params === undefined) return true;
    const keys = method === 'tools/list' ? ['_meta', 'cursor'] : ['_meta'];
    return isObject(params) && Object.keys(params).every((k) => keys.includes(k)) && plainMeta(params) && optional(params, 'cursor', isString);
  }
  if (!isObject(params) || !plainMeta(params) || typeof params.protocolVersion !== 'string') return false;
  const { capabilities, clientInfo } = params;
  return (
    isObject(clientInfo) &&
    isString(clientInfo.name) &&
    isString(clientInfo.version) &&
    ['title', 'websiteUrl', 'description'].every((k) => optional(clientInfo, k, isString)) &&
    !('icons' in clientInfo) &&
    isObject(capabilities) &&
    Object.entries(capabilities).every(([k, v]) => !KNOWN_CAPABILITIES.includes(k) || objectsDown(v, ['listChanged', 'applyDefaults']))
  );
}

/** `tools/call` params the offline path may take: a tool name, arguments, a progress token at most. */
function offlineCallParams(message: JsonObject): { name: string; arguments?: unknown } | undefined {
  const params = message.params;
  if (message.method !== 'tools/call' || !isId(message.id) || !isObject(params) || !isString(params.name) || !plainMeta(params)) return undefined;
  if (!Object.keys(params).every((k) => ['name', 'arguments', '_meta'].includes(k))) return undefined;
  return params as { name: string; arguments?: unknown };
}

/** Fast answers; false for anything the full server must handle. */
function answer(message: JsonObject, snapshot: StartupSnapshot, write: (m: JsonObject) => void): boolean {
  const id = message.id;
  if (!isId(id) || typeof message.method !== 'string' || !paramsOk(message.method, message.params)) return false;
  const reply = (result: unknown) => write({ jsonrpc: '2.0', id, result });
  switch (message.method) {
    case 'initialize': {
      const asked = (message.params as { protocolVersion: string }).protocolVersion;
      const protocolVersion = snapshot.protocolVersions.includes(asked) ? asked : snapshot.latestProtocolVersion;
      reply({ protocolVersion, ...snapshot.initialize });
      return true;
    }
    case 'ping':
      reply({});
      return true;
    case 'tools/list':
      reply({ tools: snapshot.tools });
      return true;
    default:
      return false;
  }
}

/** The protocol output for the full server, minus its answers to requests already answered. */
function withoutAnswersTo(answered: Id[], output: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (answered.length > 0) {
        const message = JSON.parse(chunk.toString('utf8')) as JsonObject;
        const at = 'method' in message ? -1 : answered.indexOf(message.id as Id);
        if (at >= 0) {
          answered.splice(at, 1);
          return done();
        }
      }
      output.write(chunk, () => done());
    },
  });
}

export interface StdioOptions {
  env: NodeJS.ProcessEnv;
  /** dist/, where the start-up snapshot lives. */
  distDir: string;
  /** The protocol streams: the process's stdin and stdout. */
  input: NodeJS.ReadStream;
  output: NodeJS.WritableStream & Writable;
  startFull: StartFullServer;
  /** Loads the offline call path (src/startup/offline.ts); without it every tool call is handed over. */
  loadOffline?: () => Promise<{ offlineCall: typeof offlineCall; configurationReported: typeof configurationReported }>;
  /** The full server failed to start after a hand-over. */
  onFatal?: (e: unknown) => void;
}

export async function serveStdio({ env, distDir, input, output, startFull, loadOffline, onFatal }: StdioOptions): Promise<void> {
  guardStdio();
  const snapshot = readSnapshot(env, version, distDir);
  if (!snapshot) return startFull(env, input, output, false);

  const replay: Buffer[] = [];
  /** Requests the fast path answered that the full server will answer again (replayed initialize). */
  const answered: Id[] = [];
  const lines = new LineSplitter();
  const write = (m: JsonObject) => output.write(`${JSON.stringify(m)}\n`);
  const newline = Buffer.from('\n');
  const skillRoot = skillRootFor(env, distDir);
  /** An offline call is being answered: later lines wait in the splitter, in order. */
  let busy = false;
  let inputEnded = false;
  /** Set once the offline module is loaded; it may have logged the configuration already. */
  let offlineModule: Awaited<ReturnType<NonNullable<StdioOptions['loadOffline']>>> | undefined;

  /** The full server takes the input from `line` on: a stream of its own, so that input which already ended can be handed over too. */
  const handOver = (line: Buffer, ended: boolean) => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('close', onEnd);
    const stream = new PassThrough();
    stream.write(Buffer.concat([...replay, line, newline, lines.rest()]));
    if (ended) stream.end();
    else {
      input.pipe(stream);
      input.once('close', () => stream.writableEnded || stream.end());
    }
    startFull(env, stream, withoutAnswersTo(answered, output), offlineModule?.configurationReported() ?? false).catch(onFatal ?? ((e: unknown) => (log(e), process.exit(1))));
  };

  /** Answers an offline call, or hands it (and all after it) over; then carries on with the input. */
  function callOffline(message: JsonObject, params: { name: string; arguments?: unknown }, line: Buffer): void {
    busy = true;
    void loadOffline!()
      .then((offline) => (offlineModule = offline).offlineCall(snapshot!, distDir, skillRoot!, env, params.name, params.arguments))
      .catch((e: unknown) => void log('offline call failed, so the full server takes it:', e))
      .then((result) => {
        busy = false;
        if (!result) return handOver(line, inputEnded);
        write({ jsonrpc: '2.0', id: message.id, result });
        if (inputEnded) finish();
        else drain();
      });
  }

  /** Handles one line; false once it handed the input over or is waiting on an offline call. */
  function receive(line: Line, ended: boolean): boolean {
    if ('oversize' in line) {
      write(errorMessage(oversizeAnswer(line)));
      return true;
    }
    const inbound = classify(line.bytes);
    if (inbound.kind === 'blank') return true;
    if (inbound.kind === 'invalid') {
      log(inbound.problem);
      inbound.answers.forEach((a) => write(errorMessage(a)));
      return true;
    }
    const message = inbound.message;
    const offlineParams = loadOffline && skillRoot ? offlineCallParams(message) : undefined;
    if (offlineParams) {
      callOffline(message, offlineParams, line.bytes);
      return false;
    }
    if (message.method === 'notifications/initialized' && !('id' in message)) replay.push(Buffer.concat([line.bytes, newline]));
    else if (answer(message, snapshot!, write)) {
      if (message.method === 'initialize') {
        replay.push(Buffer.concat([line.bytes, newline]));
        answered.push(message.id as Id);
      }
    } else {
      handOver(line.bytes, ended);
      return false;
    }
    return true;
  }

  /** Handles the complete lines so far; false once the input was handed over or waits on a call. */
  function drain(): boolean {
    for (let line = lines.next(); line; line = lines.next()) if (!receive(line, inputEnded)) return false;
    return true;
  }

  function onData(chunk: Buffer): void {
    lines.push(chunk);
    if (!busy) drain();
  }

  /** The client closed stdin: answer what is left, the last unterminated line too, then exit once stdout is written. */
  function finish(): void {
    if (!drain()) return;
    const last = lines.end();
    if (last && !receive(last, true)) return;
    log('shutting down: stdin ended');
    output.write('', () => process.exit(0));
  }

  function onEnd(): void {
    input.off('end', onEnd);
    input.off('close', onEnd);
    input.off('data', onData);
    inputEnded = true;
    if (!busy) finish();
  }

  input.on('data', onData);
  input.on('end', onEnd);
  input.on('close', onEnd);
}
