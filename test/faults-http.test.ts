/**
 * The fault matrix over Streamable HTTP: the real startHttpServer on 127.0.0.1 (port 0) with
 * the SDK's StreamableHTTPClientTransport, the real openai SDK and the simulator. Runs with a
 * key canary that the simulator echoes in error bodies and headers; nothing may let it out.
 *
 * Every server is driven by two clients at once: a 2025-era one (SDK 1.x, initialize, a session
 * of its own) and a 2026-07-28 one (the v2 client, stateless: a server per request). The whole
 * matrix runs in both eras, not a subset: the cells run concurrently, so the second era adds
 * about 5 s (mostly the stall and connection-refused cells, which wait on timers).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { loadCatalog } from '../src/catalog/load.js';
import { startHttpServer } from '../src/http/server.js';
import type { RunningHttpServer } from '../src/http/server.js';
import { CanaryLog, expectNoCanary, makeCanary } from './helpers/canary.js';
import { CANCEL_PHASES, expectUpstreamClosed, matrixEnv, runCancelCell, runUpstreamCell, storedPartialTurn, TOOLS, UPSTREAM_CELLS } from './helpers/fault-matrix.js';
import { call, ROOT } from './helpers/mcp.js';
import type { AnyClient } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const canary = makeCanary();
const log = new CanaryLog();
const stateDir = tempDir('kimi-faults-http-');
const catalog = loadCatalog(ROOT);
let sim: Simulator;

interface Served {
  name: string;
  server: RunningHttpServer;
  /** A 2025-era client with its session. */
  client: Client;
  /** A 2026-07-28 client, sessionless. */
  modern: ModernClient;
}
type Era = 'legacy' | 'modern';
const ERAS: Era[] = ['legacy', 'modern'];
const clientOf = (s: Served, era: Era): AnyClient => (era === 'legacy' ? s.client : s.modern);
/** Markers as before for the 2025 era (they name the cell in the simulator's log), with the era for 2026. */
const prefix = (era: Era) => (era === 'legacy' ? 'http' : 'http modern');
const served: Served[] = [];
let main: Served;
let refused: Served;
let cancels: Served;

async function connect(name: string, url: string): Promise<Client> {
  const client = new Client({ name: `faults-${name}`, version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: log.fetch(name) }));
  return client;
}

/** A v2 client on 2026-07-28: pinned, or negotiated with server/discover (`auto`), its wire recorded too. */
async function connectModern(name: string, url: string, mode: 'pinned' | 'auto'): Promise<ModernClient> {
  const client = new ModernClient({ name: `faults-${name}`, version: '0.0.0' }, { versionNegotiation: { mode: mode === 'pinned' ? { pin: '2026-07-28' } : 'auto' } });
  await client.connect(new ModernHttpTransport(new URL(url), { fetch: log.fetch(`${name} (modern)`) }));
  expect(client.getProtocolEra()).toBe('modern');
  return client;
}

async function serve(name: string, baseURL: string, idle = true, mode: 'pinned' | 'auto' = 'pinned'): Promise<Served> {
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env: matrixEnv(canary, baseURL, stateDir, idle) });
  const s = { name, server, client: await connect(name, server.url), modern: await connectModern(name, server.url, mode) };
  served.push(s);
  return s;
}

// The server runs in this process: its log lines are collected here (and kept off the console).
const stderr = log.add('server stderr');

beforeAll(async () => {
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr.text += chunk.toString()), true));
  sim = await startSimulator({ apiKey: canary, leakKeyInErrors: 'all', echoKeyInHeader: true, models: ['kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6'] });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v1`;
  await new Promise((resolve) => probe.close(resolve));
  // The modern clients: pinned to 2026-07-28 for the main matrix, negotiated for the others.
  [main, refused, cancels] = await Promise.all([serve('main', sim.baseURL), serve('refused', closedPort, true, 'auto'), serve('cancels', sim.baseURL, false, 'auto')]);
});

afterAll(async () => {
  await Promise.all(served.map(async (s) => (await s.client.close(), await s.modern.close(), await s.server.close())));
  await sim?.close();
  vi.restoreAllMocks();
});

describe.each(ERAS)('upstream faults over HTTP (%s era)', (era) => {
  it.concurrent.each(UPSTREAM_CELLS.flatMap((cell) => TOOLS.map((tool) => ({ ...cell, tool }))))('$name · $tool', async ({ tool, ...cell }) => {
    const session = cell.server === 'refused' ? refused : main;
    await runUpstreamCell(clientOf(session, era), cell.server === 'refused' ? undefined : sim, cell, tool, `${prefix(era)} ${cell.name} ${tool}`, log);
  });
});

// 2025 era: a notifications/cancelled POST; 2026-07-28: the request's response stream closed.
describe.each(ERAS)('client cancels over HTTP (%s era)', (era) => {
  it.concurrent.each(CANCEL_PHASES.flatMap((phase) => TOOLS.map((tool) => ({ phase, tool }))))('cancel $phase · $tool', async ({ phase, tool }) => {
    await runCancelCell(clientOf(cancels, era), sim, stateDir, phase, tool, `${prefix(era)} cancel ${phase} ${tool}`, log);
  });
});

describe('the client goes away mid-stream (HTTP)', () => {
  it.concurrent.each(TOOLS)('the session is closed · %s: the upstream request is closed, the partial turn kept', async (tool) => {
    const client = await connect(`gone ${tool}`, cancels.server.url);
    const marker = `http gone ${tool}`;
    sim.scriptFor(marker, { content: Array.from({ length: 80 }, (_, i) => `Chunk ${i}.`).join(' '), chunkSize: 8, delayMs: 25 });
    const pending = client.callTool({ name: tool, arguments: { prompt: `${marker}: go` } }, undefined, { onprogress: () => undefined });
    pending.catch(() => undefined);
    await vi.waitFor(() => expect(sim.chatsFor(marker)[0]?.content.length ?? 0).toBeGreaterThanOrEqual(24), { timeout: 10_000, interval: 5 });
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await client.close();
    await expect(pending).rejects.toThrow();
    await expectUpstreamClosed(sim, marker);
    const turn = await storedPartialTurn(stateDir, marker);
    expect(turn.partial).toBe(true);
    expect(sim.chatsFor(marker)[0]!.content.startsWith(turn.reply.content)).toBe(true);
  });

  // 2026-07-28 has no session to end: the client closes, and with it the call's response stream.
  it.concurrent.each(TOOLS)('a 2026-07-28 client closes · %s: the upstream request is closed, the partial turn kept', async (tool) => {
    const client = await connectModern(`gone modern ${tool}`, cancels.server.url, 'pinned');
    const marker = `http modern gone ${tool}`;
    sim.scriptFor(marker, { content: Array.from({ length: 80 }, (_, i) => `Chunk ${i}.`).join(' '), chunkSize: 8, delayMs: 25 });
    const pending = call(client, tool, { prompt: `${marker}: go` }, { onprogress: () => undefined });
    pending.catch(() => undefined);
    await vi.waitFor(() => expect(sim.chatsFor(marker)[0]?.content.length ?? 0).toBeGreaterThanOrEqual(24), { timeout: 10_000, interval: 5 });
    await client.close();
    await expect(pending).rejects.toThrow();
    await expectUpstreamClosed(sim, marker);
    const turn = await storedPartialTurn(stateDir, marker);
    expect(turn.partial).toBe(true);
    expect(turn.reply.content.length).toBeGreaterThan(0);
    expect(sim.chatsFor(marker)[0]!.content.startsWith(turn.reply.content)).toBe(true);
  });
});

describe('the key canary (HTTP)', () => {
  it('appears nowhere: the wire, the server log, results, progress, resources, state files', async () => {
    expect(sim.requests.some((r) => r.headers.authorization === `Bearer ${canary}`)).toBe(true);
    const uris = await log.resources('main', main.client);
    expect(uris.some((u) => u.startsWith('kimi://replies/'))).toBe(true);
    expect(uris.some((u) => u.startsWith('kimi://conversations/'))).toBe(true);
    await log.resources('refused', refused.client);
    await log.resources('cancels', cancels.client);
    // The same through 2026-07-28 requests (the replies live in the process, not in a session).
    const modernUris = await log.resources('main (modern)', main.modern);
    expect(modernUris).toEqual(expect.arrayContaining(uris));
    await log.resources('refused (modern)', refused.modern);
    await log.resources('cancels (modern)', cancels.modern);
    for (const s of [main, refused, cancels]) {
      await s.client.close();
      await s.modern.close();
      await s.server.close();
    }
    expect(sim.inFlight()).toBe(0);
    expect(log.files(stateDir).some((p) => p.endsWith('ledger.jsonl'))).toBe(true);
    expectNoCanary(canary, log.sources);
  });
});
