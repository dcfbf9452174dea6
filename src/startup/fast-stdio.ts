/**
 * Agents start us often and wait for initialize and tools/list. With a valid start-up snapshot
 * those (and ping) are answered at once, without loading the SDK; the first other request hands
 * the stream to the full server, replaying initialize so it knows the client, and dropping its
 * second answer to it. Anything unexpected simply takes the full path.
 */
import { Writable } from 'node:stream';
import { guardStdio } from './hygiene.js';
import { readSnapshot } from './snapshot.js';
import type { StartupSnapshot } from './snapshot.js';
import { version } from '../version.js';

type Id = string | number;
interface Message {
  jsonrpc?: string;
  id?: Id;
  method?: string;
  params?: { protocolVersion?: string };
}

/** Loads and runs the full server; injected, so this module stays small wherever it is bundled. */
export type StartFullServer = (env: NodeJS.ProcessEnv, output?: Writable) => Promise<void>;

/** Fast answers; false for anything the full server must handle. */
function answer(message: Message, snapshot: StartupSnapshot, output: NodeJS.WritableStream): boolean {
  if (message.jsonrpc !== '2.0' || message.id === undefined) return false;
  const reply = (id: Id, result: unknown) => output.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
  switch (message.method) {
    case 'initialize': {
      const asked = message.params?.protocolVersion ?? '';
      const protocolVersion = snapshot.protocolVersions.includes(asked) ? asked : snapshot.latestProtocolVersion;
      reply(message.id, { protocolVersion, ...snapshot.initialize });
      return true;
    }
    case 'ping':
      reply(message.id, {});
      return true;
    case 'tools/list':
      reply(message.id, { tools: snapshot.tools });
      return true;
    default:
      return false;
  }
}

/** The protocol output for the full server, minus its answers to requests already answered. */
function withoutAnswersTo(answered: Set<Id>, output: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (answered.size > 0) {
        const message = JSON.parse(chunk.toString('utf8')) as Message & { result?: unknown };
        if (message.id !== undefined && answered.delete(message.id)) return done();
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
  output: NodeJS.WritableStream;
  startFull: StartFullServer;
}

export async function serveStdio({ env, distDir, input, output, startFull }: StdioOptions): Promise<void> {
  guardStdio();
  const snapshot = readSnapshot(env, version, distDir);
  if (!snapshot) return startFull(env);

  const replay: Buffer[] = [];
  const answered = new Set<Id>();
  let pending = Buffer.alloc(0);
  const exit = () => process.exit(0);

  const handOver = (rest: Buffer) => {
    input.off('data', onData);
    input.off('end', exit);
    input.off('close', exit);
    input.pause();
    input.unshift(Buffer.concat([...replay, rest]));
    void startFull(env, withoutAnswersTo(answered, output));
  };

  function onData(chunk: Buffer): void {
    pending = Buffer.concat([pending, chunk]);
    for (let newline = pending.indexOf(10); newline >= 0; newline = pending.indexOf(10)) {
      const line = pending.subarray(0, newline + 1);
      let message: Message | undefined;
      try {
        message = JSON.parse(line.toString('utf8')) as Message;
      } catch {
        message = undefined;
      }
      if (message?.method === 'notifications/initialized') replay.push(Buffer.from(line));
      else if (message && answer(message, snapshot!, output)) {
        if (message.method === 'initialize') {
          replay.push(Buffer.from(line));
          answered.add(message.id!);
        }
      } else return handOver(pending);
      pending = pending.subarray(newline + 1);
    }
  }

  input.on('data', onData);
  input.on('end', exit);
  input.on('close', exit);
}
