/**
 * The simulator for `npm run soak`, in a process of its own: our Kimi host simulator with the
 * key canary as its key, echoing that key in every error body and header (so that a leak has
 * something to leak), driven over stdin/stdout by the soak (bench/soak.ts).
 *
 * Prints its base URL, then answers one JSON line per JSON line read:
 * - `{id, op: 'script', match, behaviours}`: the requests whose prompt holds `match` get these, in order;
 * - `{id, op: 'wait', match, minContent, timeoutMs}`: answers once that request has sent so much text;
 * - `{id, op: 'chats', matches}`: what each request was sent (content, reasoning, status, when it closed);
 * - `{id, op: 'stats'}`: chat requests still open, sockets still open, error responses sent.
 * Exits when stdin ends.
 *
 * Open sockets are counted here (diagnostics_channel `net.server.socket`, plus the server's own
 * getConnections), since the simulator keeps its HTTP server to itself.
 */
import dc from 'node:diagnostics_channel';
import type { Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { startSimulator } from '../src/simulator/kimi-simulator.js';
import type { Behaviour, ChatLog } from '../src/simulator/kimi-simulator.js';

const key = process.env.SIM_KEY;
if (!key) throw new Error('SIM_KEY is required');

const sockets = new Set<Socket>();
let accepted = 0;
let listening: Server | undefined;
dc.subscribe('net.server.socket', (message) => {
  const { socket } = message as { socket: Socket & { server?: Server } };
  accepted++;
  listening ??= socket.server;
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});

const sim = await startSimulator({
  apiKey: key,
  leakKeyInErrors: 'all',
  echoKeyInHeader: true,
  defaultBehaviour: { content: 'A healthy default reply.', chunkSize: 8 },
});

/** One chat request as the soak reads it; `ended`: how and when its stream ended, by request id. */
function view(c: ChatLog, ended: Map<string, { kind: string; at: number }>) {
  const end = ended.get(c.requestId);
  return { requestId: c.requestId, at: c.at, status: c.status ?? null, content: c.content, reasoning: c.reasoning, done: c.done, endedAt: end?.at ?? null, endedHow: end?.kind ?? null };
}

function connections(): Promise<number | null> {
  if (!listening) return Promise.resolve(0);
  return new Promise((resolve) => listening!.getConnections((e, n) => resolve(e ? null : n)));
}

async function handle(m: { id: number; op: string; match?: string; matches?: string[]; behaviours?: Behaviour[]; minContent?: number; timeoutMs?: number }): Promise<unknown> {
  switch (m.op) {
    case 'script':
      sim.scriptFor(m.match!, ...(m.behaviours ?? []));
      return true;
    case 'wait': {
      const until = Date.now() + (m.timeoutMs ?? 10_000);
      for (;;) {
        const c = sim.chatsFor(m.match!)[0];
        if (c && c.content.length >= (m.minContent ?? 1)) return { reached: true, content: c.content.length };
        if (Date.now() > until) return { reached: false, content: c?.content.length ?? 0 };
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    case 'chats': {
      const ended = new Map<string, { kind: string; at: number }>();
      for (const e of sim.streams) if (e.kind !== 'opened') ended.set(e.requestId, e);
      return Object.fromEntries((m.matches ?? []).map((match) => [match, sim.chatsFor(match).map((c) => view(c, ended))]));
    }
    case 'stats':
      return {
        chats: sim.chats.length,
        inFlight: sim.inFlight(),
        inFlightPrompts: sim.chats.filter((c) => !c.done).map((c) => c.prompt.slice(0, 40)),
        openSockets: sockets.size,
        getConnections: await connections(),
        acceptedSockets: accepted,
        errorResponses: sim.chats.filter((c) => (c.status ?? 0) >= 400).length,
        authorizedWithKey: sim.requests.filter((r) => r.headers.authorization === `Bearer ${key}`).length,
      };
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

process.stdout.write(`${JSON.stringify({ baseURL: sim.baseURL })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = JSON.parse(line) as { id: number; op: string };
  handle(m).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: m.id, result })}\n`),
    (e: unknown) => process.stdout.write(`${JSON.stringify({ id: m.id, error: String(e) })}\n`),
  );
});
lines.on('close', () => void sim.close().then(() => process.exit(0)));
