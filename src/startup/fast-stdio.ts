/**
 * Agents start us often and wait for initialize and tools/list. With a valid start-up snapshot
 * those (and ping) are answered at once, without loading the SDK (src/startup/fast-answers.ts);
 * so are the offline tool calls (list_models, estimate_cost) and the chat calls (kimi_chat,
 * kimi_stream) whose arguments the start-up path is sure of, each with a small bundle of the call
 * path loaded on its first use (dist/offline.js, dist/chat.js). The first other request hands the
 * input to the full server, replaying initialize so it knows the client, and dropping its second
 * answer to it; chat calls still running go on here, and the full server waits for them at
 * shutdown. Lines that are no JSON-RPC request get the same error the full server gives them
 * (src/startup/jsonrpc.ts), without a hand-over.
 */
import { PassThrough, Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Catalog } from '../catalog/load.js';
import { log } from '../log.js';
import { answerFromSnapshot, declaresElicitation, toolCallParams } from './fast-answers.js';
import type { ToolCallParams } from './fast-answers.js';
import { DRAIN_MS, guardStdio, onClientGone, SETTLE_MS } from './hygiene.js';
import { classify, errorMessage, isId, isObject, LineSplitter, oversizeAnswer } from './jsonrpc.js';
import type { Id, JsonObject, Line } from './jsonrpc.js';
import type { snapshotForEditedSkill } from './edited-skill.js';
import type { offlineCall } from './offline.js';
import type { QuickChats, StartupChats } from './quick-chat.js';
import { readSnapshotFile, skillHash, skillRootFor } from './snapshot.js';
import type { StartupSnapshot } from './snapshot.js';
import { version } from '../version.js';

/** What the start-up path hands the full server besides the input. */
export interface HandOver {
  /** Calls the start-up path is still answering. */
  chats?: StartupChats;
  /** An edited skill, loaded and validated already. */
  catalog?: Catalog;
}

/** Loads and runs the full server on these streams; injected, so this module stays small wherever it is bundled. */
export type StartFullServer = (env: NodeJS.ProcessEnv, input: Readable, output: Writable, handOver: HandOver) => Promise<void>;

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
  /** Loads the offline call path (src/startup/offline.ts); without it those calls are handed over. */
  loadOffline?: () => Promise<{ offlineCall: typeof offlineCall }>;
  /** Loads the chat call path (src/startup/quick-chat.ts); without it chat calls are handed over. */
  loadChat?: () => Promise<{ QuickChats: typeof QuickChats }>;
  /** Loads what answers for an edited skill (src/startup/edited-skill.ts); without it such a skill takes the full path. */
  loadEdited?: () => Promise<{ snapshotForEditedSkill: typeof snapshotForEditedSkill }>;
  /** The full server failed to start after a hand-over. */
  onFatal?: (e: unknown) => void;
}

const OFFLINE_TOOLS = ['list_models', 'estimate_cost'];
const CHAT_TOOLS = ['kimi_chat', 'kimi_stream'];

/** The id a `notifications/cancelled` names, if the message is one. */
function cancelledId(message: JsonObject): Id | undefined {
  if (message.method !== 'notifications/cancelled' || 'id' in message || !isObject(message.params)) return undefined;
  const id = message.params.requestId;
  return isId(id) ? id : undefined;
}

/**
 * The build's snapshot while it fits the skill on disk; for an edited skill, one made for it now
 * (with the catalog loaded for it); undefined when the full path must answer everything.
 */
async function startupSnapshot({ env, distDir, loadEdited }: StdioOptions, skillRoot: string | undefined): Promise<{ snapshot: StartupSnapshot; catalog?: Catalog } | undefined> {
  const built = readSnapshotFile(env, version, distDir);
  if (!built || !skillRoot) return undefined;
  const hash = skillHash(skillRoot);
  if (hash === built.skillHash) return { snapshot: built };
  return loadEdited ? (await loadEdited()).snapshotForEditedSkill(built, skillRoot, hash, env) : undefined;
}

export async function serveStdio(options: StdioOptions): Promise<void> {
  const { env, distDir, input, output, startFull, loadOffline, loadChat, onFatal } = options;
  guardStdio();
  const skillRoot = skillRootFor(env, distDir);
  const start = await startupSnapshot(options, skillRoot);
  if (!start) return startFull(env, input, output, {});
  const { snapshot, catalog } = start;

  const replay: Buffer[] = [];
  /** Requests the fast path answered that the full server will answer again (replayed initialize). */
  const answered: Id[] = [];
  const lines = new LineSplitter();
  const write = (m: JsonObject) => output.write(`${JSON.stringify(m)}\n`);
  // Settles once the line is out or cannot go out (a closed stdout must not hold a call up).
  const send = (m: JsonObject) => new Promise<void>((resolve) => output.write(`${JSON.stringify(m)}\n`, () => resolve()));
  const newline = Buffer.from('\n');
  /** A tool call is being taken on (its module loading, the decision made): later lines wait in the splitter, in order. */
  let busy = false;
  let inputEnded = false;
  let canConfirm = false;
  /** Chat calls answered here, once the first one came. */
  let chats: QuickChats | undefined;
  let closing = false;

  /** Leaving before a hand-over: running chat calls get `drainMs` to finish, then are cut off and store what they have. */
  const leave = (why: string, drainMs: number) => {
    if (closing) return;
    closing = true;
    log(`shutting down: ${why}`);
    void (chats ? chats.idle(drainMs).then(() => (chats!.abort(), chats!.idle(SETTLE_MS))) : Promise.resolve()).then(() => output.write('', () => process.exit(0)));
  };
  const onSignal = (signal: string) => leave(signal, 0);

  /** Cancels for chat calls still running here, in the lines the full server now reads. */
  const tapCancels = (rest: Buffer) => {
    const tap = new LineSplitter();
    const onTap = (chunk: Buffer) => {
      if (!chats?.size) return void input.off('data', onTap);
      tap.push(chunk);
      for (let line = tap.next(); line; line = tap.next()) {
        if (!('bytes' in line) || !line.bytes.includes('notifications/cancelled')) continue;
        const inbound = classify(line.bytes);
        const id = inbound.kind === 'message' ? cancelledId(inbound.message) : undefined;
        if (id !== undefined) chats.cancel(id);
      }
    };
    onTap(rest);
    input.on('data', onTap);
  };

  /** The full server takes the input from `line` on: a stream of its own, so that input which already ended can be handed over too. */
  const handOver = (line: Buffer, ended: boolean) => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('close', onEnd);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    const stream = new PassThrough();
    const rest = lines.rest();
    stream.write(Buffer.concat([...replay, line, newline, rest]));
    if (ended) stream.end();
    else {
      input.pipe(stream);
      input.once('close', () => stream.writableEnded || stream.end());
      if (chats?.size) tapCancels(rest);
    }
    startFull(env, stream, withoutAnswersTo(answered, output), { chats, catalog }).catch(onFatal ?? ((e: unknown) => (log(e), process.exit(1))));
  };

  /** Takes on a tool call (answering it, or starting it), or hands it (and all after it) over; then carries on with the input. */
  function takeCall(message: JsonObject, params: ToolCallParams, line: Buffer): void {
    busy = true;
    const taken = OFFLINE_TOOLS.includes(params.name) ? answerOffline(message, params) : startChat(message, params);
    void taken
      .catch((e: unknown) => void log('the start-up path failed on a call, so the full server takes it:', e))
      .then((done) => {
        busy = false;
        if (!done) return handOver(line, inputEnded);
        if (inputEnded) finish();
        else drain();
      });
  }

  async function answerOffline(message: JsonObject, params: ToolCallParams): Promise<boolean> {
    const result = await (await loadOffline!()).offlineCall(snapshot!, distDir, skillRoot!, env, params.name, params.arguments);
    if (result) write({ jsonrpc: '2.0', id: message.id, result });
    return result !== undefined;
  }

  async function startChat(message: JsonObject, params: ToolCallParams): Promise<boolean> {
    if (!chats) {
      const { QuickChats } = await loadChat!();
      chats = new QuickChats({ snapshot, distDir, skillRoot: skillRoot!, env, canConfirm, send });
      // From now on leaving means letting those calls store what they have.
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      onClientGone((why) => leave(why, 0));
    }
    return chats.start(message.id as Id, params.name, params.arguments, params._meta?.progressToken);
  }

  /** Handles one line; false once it handed the input over or is waiting on a tool call. */
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
    const cancelled = cancelledId(message);
    if (cancelled !== undefined && chats?.cancel(cancelled)) return true;
    const call = skillRoot ? toolCallParams(message) : undefined;
    if (call && ((loadOffline && OFFLINE_TOOLS.includes(call.name)) || (loadChat && CHAT_TOOLS.includes(call.name)))) {
      takeCall(message, call, line.bytes);
      return false;
    }
    if (message.method === 'notifications/initialized' && !('id' in message)) replay.push(Buffer.concat([line.bytes, newline]));
    else if (answerFromSnapshot(message, snapshot!, write)) {
      if (message.method === 'initialize') {
        replay.push(Buffer.concat([line.bytes, newline]));
        answered.push(message.id as Id);
        canConfirm = declaresElicitation(message);
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
    leave('stdin ended', DRAIN_MS);
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
