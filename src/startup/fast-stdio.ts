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

function reply(id: Id, result: unknown): void {
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
}

/** Fast answers; false for anything the full server must handle. */
function answer(message: Message, snapshot: StartupSnapshot): boolean {
  if (message.jsonrpc !== '2.0' || message.id === undefined) return false;
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

/** stdout for the full server, minus its answers to requests the fast path already answered. */
function withoutAnswersTo(answered: Set<Id>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (answered.size > 0) {
        const message = JSON.parse(chunk.toString('utf8')) as Message & { result?: unknown };
        if (message.id !== undefined && answered.delete(message.id)) return done();
      }
      process.stdout.write(chunk, () => done());
    },
  });
}

export async function serveStdio(env: NodeJS.ProcessEnv, distDir: string, startFull: StartFullServer): Promise<void> {
  guardStdio();
  const snapshot = readSnapshot(env, version, distDir);
  if (!snapshot) return startFull(env);

  const replay: Buffer[] = [];
  const answered = new Set<Id>();
  let pending = Buffer.alloc(0);
  const exit = () => process.exit(0);

  const handOver = (rest: Buffer) => {
    process.stdin.off('data', onData);
    process.stdin.off('end', exit);
    process.stdin.off('close', exit);
    process.stdin.pause();
    process.stdin.unshift(Buffer.concat([...replay, rest]));
    void startFull(env, withoutAnswersTo(answered));
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
      else if (message && answer(message, snapshot!)) {
        if (message.method === 'initialize') {
          replay.push(Buffer.from(line));
          answered.add(message.id!);
        }
      } else return handOver(pending);
      pending = pending.subarray(newline + 1);
    }
  }

  process.stdin.on('data', onData);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
}
