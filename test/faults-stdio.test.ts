/**
 * The fault matrix over stdio: the built server (dist/cli.js) spawned as an agent spawns it,
 * with the SDK's StdioClientTransport, the real openai SDK and the simulator. Runs with a key
 * canary that the simulator echoes in error bodies and headers; nothing may let it out.
 *
 * The whole matrix runs in both protocol eras, each on servers of its own (a stdio connection
 * is pinned to one era): a 2025 client (SDK 1.x, initialize) and a 2026-07-28 one (the v2
 * client; `server/discover`, the `_meta` envelope on every request). Not a subset: the cells
 * run concurrently, so the second era's matrix adds about 5 s (its go-away cases below about
 * 3 s more). The modern cancels server runs without the start-up path (KIMI_MCP_FAST_START=0),
 * so both ways a 2026 connection opens are in the matrix: the start-up path answering
 * server/discover and handing over, and the full server from the first line.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { alive, CanaryLog, expectNoCanary, makeCanary, TappedModernStdioTransport, TappedStdioTransport } from './helpers/canary.js';
import type { StdioTap } from './helpers/canary.js';
import { CANCEL_PHASES, expectUpstreamClosed, matrixEnv, runCancelCell, runUpstreamCell, storedTurn, TOOLS, UPSTREAM_CELLS } from './helpers/fault-matrix.js';
import type { ToolName } from './helpers/fault-matrix.js';
import { call, ROOT, textOf } from './helpers/mcp.js';
import type { AnyClient } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const CLI = join(ROOT, 'dist/cli.js');
const canary = makeCanary();
const log = new CanaryLog();
const stateDir = tempDir('kimi-faults-stdio-');
let sim: Simulator;
let closedPort: string;

/** The client's protocol era: 2025 (initialize), or 2026-07-28 pinned, or negotiated with server/discover. */
type Era = 'legacy' | 'modern (pinned)' | 'modern (auto)';
const ERAS = ['legacy', 'modern'] as const;
/** Markers as before for the 2025 era (they name the cell in the simulator's log), with the era for 2026. */
const prefix = (era: (typeof ERAS)[number]) => (era === 'legacy' ? 'stdio' : 'stdio modern');

interface Spawned {
  name: string;
  client: AnyClient;
  transport: StdioTap;
  pid: number;
}
const spawned: Spawned[] = [];

async function spawnServer(name: string, baseURL = sim.baseURL, idle = true, extraEnv: Record<string, string> = {}, era: Era = 'legacy'): Promise<Spawned> {
  const params = { command: process.execPath, args: [CLI], env: { ...getDefaultEnvironment(), ...matrixEnv(canary, baseURL, stateDir, idle), ...extraEnv }, stderr: 'pipe' as const };
  let client: AnyClient;
  let transport: StdioTap;
  if (era === 'legacy') {
    const legacy = new TappedStdioTransport(params, log, name);
    client = new Client({ name: `faults-${name}`, version: '0.0.0' });
    await client.connect(legacy);
    transport = legacy;
  } else {
    // A subclass of the v2 transport: the probe runs in place, on this child (its output recorded).
    const modern = new TappedModernStdioTransport(params, log, name);
    const mode = era === 'modern (pinned)' ? { pin: '2026-07-28' as const } : ('auto' as const);
    const v2 = new ModernClient({ name: `faults-${name}`, version: '0.0.0' }, { versionNegotiation: { mode } });
    await v2.connect(modern);
    expect(v2.getProtocolEra()).toBe('modern');
    client = v2;
    transport = modern;
  }
  const s = { name, client, transport, pid: transport.pid! };
  spawned.push(s);
  return s;
}

/** The process is gone within a few seconds, having exited by itself with code 0. */
async function expectExited(s: Spawned): Promise<void> {
  const exit = await Promise.race([s.transport.exit!, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
  expect(exit, `${s.name} did not exit`).toEqual({ code: 0, signal: null });
  await vi.waitFor(() => expect(alive(s.pid)).toBe(false), { timeout: 3000 });
}

/** No crash trace or unhandled failure on stderr. */
function expectCleanStderr(s: Spawned): void {
  const stderr = s.transport.stderrText!.text;
  expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|unhandled|uncaught|Error: write EPIPE/i);
}

let main: Spawned;
let refused: Spawned;
let cancels: Spawned;
/** The same three for a 2026-07-28 client. */
const modern = {} as { main: Spawned; refused: Spawned; cancels: Spawned };
const serversOf = (era: (typeof ERAS)[number]) => (era === 'legacy' ? { main, refused, cancels } : modern);

beforeAll(async () => {
  sim = await startSimulator({ apiKey: canary, leakKeyInErrors: 'all', echoKeyInHeader: true, models: ['kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6'] });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v1`;
  await new Promise((resolve) => probe.close(resolve));
  [main, refused, cancels, modern.main, modern.refused, modern.cancels] = await Promise.all([
    spawnServer('main'),
    spawnServer('refused', closedPort),
    spawnServer('cancels', sim.baseURL, false),
    spawnServer('modern main', sim.baseURL, true, {}, 'modern (pinned)'),
    spawnServer('modern refused', closedPort, true, {}, 'modern (auto)'),
    spawnServer('modern cancels', sim.baseURL, false, { KIMI_MCP_FAST_START: '0' }, 'modern (pinned)'),
  ]);
  // Six servers start at once: on a busy machine that can take longer than the default hook timeout.
}, 30_000);

afterAll(async () => {
  await Promise.all(spawned.map((s) => s.client.close()));
  await sim?.close();
});

describe.each(ERAS)('upstream faults over stdio (%s era)', (era) => {
  it.concurrent.each(UPSTREAM_CELLS.flatMap((cell) => TOOLS.map((tool) => ({ ...cell, tool }))))('$name · $tool', async ({ tool, ...cell }) => {
    const servers = serversOf(era);
    const session = cell.server === 'refused' ? servers.refused : servers.main;
    await runUpstreamCell(session.client, cell.server === 'refused' ? undefined : sim, cell, tool, `${prefix(era)} ${cell.name} ${tool}`, log);
  });
});

// On stdio the cancel is notifications/cancelled in both eras.
describe.each(ERAS)('client cancels over stdio (%s era)', (era) => {
  it.concurrent.each(CANCEL_PHASES.flatMap((phase) => TOOLS.map((tool) => ({ phase, tool }))))('cancel $phase · $tool', async ({ phase, tool }) => {
    await runCancelCell(serversOf(era).cancels.client, sim, stateDir, phase, tool, `${prefix(era)} cancel ${phase} ${tool}`, log);
  });
});

/** Starts a long streamed call on its own server and waits until its text is flowing. */
async function midStream(name: string, tool: ToolName, env: Record<string, string>, era: Era): Promise<{ s: Spawned; marker: string; pending: Promise<CallToolResult> }> {
  const s = await spawnServer(name, sim.baseURL, false, env, era);
  const marker = `stdio ${name}`;
  sim.scriptFor(marker, { content: Array.from({ length: 40 }, (_, i) => `Chunk ${i}.`).join(' '), chunkSize: 8, delayMs: 25 });
  const pending = call(s.client, tool, { prompt: `${marker}: go` }, { onprogress: () => undefined });
  await vi.waitFor(() => expect(sim.chatsFor(marker)[0]?.content.length ?? 0).toBeGreaterThanOrEqual(24), { timeout: 10_000, interval: 5 });
  return { s, marker, pending };
}

// Chat calls are answered by the start-up path (src/startup/quick-chat.ts) or, when it is off or
// hands over, by the full server: the client may go away from either. A 2026-07-28 client goes
// away through kimi_stream only: each case is a process of its own (~2.5 s), and what differs by
// era is how the connection opened (server/discover replayed to the full server, or not), which
// does not depend on the tool; the matrix above runs both tools in both eras.
describe.each<{ path: string; env: Record<string, string>; era: Era; tools: readonly ToolName[] }>([
  { path: 'start-up path', env: {}, era: 'legacy', tools: TOOLS },
  { path: 'full server', env: { KIMI_MCP_FAST_START: '0' }, era: 'legacy', tools: TOOLS },
  { path: 'start-up path', env: {}, era: 'modern (pinned)', tools: ['kimi_stream'] },
  { path: 'full server', env: { KIMI_MCP_FAST_START: '0' }, era: 'modern (pinned)', tools: ['kimi_stream'] },
])('the client goes away mid-stream (stdio, $path, $era)', ({ path, env, era, tools }) => {
  const tag = era === 'legacy' ? path : `${path} modern`;
  it.concurrent.each(tools)('SIGTERM · %s: exits at once, closes upstream, keeps the partial turn', async (tool) => {
    const { s, marker, pending } = await midStream(`sigterm ${tool} ${tag}`, tool, env, era);
    process.kill(s.pid, 'SIGTERM');
    await expect(pending).rejects.toThrow(/Connection closed/);
    await expectExited(s);
    await expectUpstreamClosed(sim, marker);
    expectCleanStderr(s);
    expect(s.transport.stderrText!.text).toMatch(/shutting down: SIGTERM/);
    const turn = storedTurn(stateDir, marker);
    expect(turn, 'the partial reply was not stored').toBeDefined();
    expect(turn!.partial).toBe(true);
    expect(sim.chatsFor(marker)[0]!.content.startsWith(turn!.reply.content)).toBe(true);
    expect(turn!.reply.content.length).toBeGreaterThan(0);
  });

  it.concurrent.each(tools)('stdin closed · %s: the call still gets its whole answer, then the server exits', async (tool) => {
    const { s, marker, pending } = await midStream(`stdin ${tool} ${tag}`, tool, env, era);
    s.transport.child!.stdin!.end();
    const r = await pending;
    expect(r.isError).toBeFalsy();
    expect((r.structuredContent as { text: string }).text).toBe(sim.chatsFor(marker)[0]!.content);
    expect(textOf(r)).toMatch(/finish stop/);
    log.result(`${marker} result`, r);
    await expectExited(s);
    await expectUpstreamClosed(sim, marker);
    expectCleanStderr(s);
  });

  it.concurrent.each(tools)('stdout closed (EPIPE) · %s: exits cleanly, closes upstream, keeps the partial turn', async (tool) => {
    const { s, marker, pending } = await midStream(`epipe ${tool} ${tag}`, tool, env, era);
    pending.catch(() => undefined);
    s.transport.child!.stdout!.destroy();
    await expectExited(s);
    await expect(pending).rejects.toThrow(/Connection closed/);
    await expectUpstreamClosed(sim, marker);
    expectCleanStderr(s);
    const turn = storedTurn(stateDir, marker);
    expect(turn, 'the reply was not stored').toBeDefined();
    expect(sim.chatsFor(marker)[0]!.content.startsWith(turn!.reply.content)).toBe(true);
    expect(turn!.reply.content.length).toBeGreaterThan(0);
  });
});

describe('the key canary (stdio)', () => {
  it('appears nowhere: stdout, stderr, results, progress, resources, state files', async () => {
    // The simulator did put it in its error bodies and headers, so the check is not vacuous.
    expect(sim.requests.some((r) => r.headers.authorization === `Bearer ${canary}`)).toBe(true);
    const uris = await log.resources('main', main.client);
    expect(uris.some((u) => u.startsWith('kimi://replies/'))).toBe(true);
    expect(uris.some((u) => u.startsWith('kimi://conversations/'))).toBe(true);
    await log.resources('refused', refused.client);
    await log.resources('cancels', cancels.client);
    const modernUris = await log.resources('modern main', modern.main.client);
    expect(modernUris.some((u) => u.startsWith('kimi://replies/'))).toBe(true);
    await log.resources('modern refused', modern.refused.client);
    await log.resources('modern cancels', modern.cancels.client);
    const servers = [main, refused, cancels, modern.main, modern.refused, modern.cancels];
    await Promise.all(servers.map((s) => s.client.close()));
    await Promise.all(servers.map(expectExited));
    for (const s of servers) expectCleanStderr(s);
    expect(log.files(stateDir).some((p) => p.endsWith('ledger.jsonl'))).toBe(true);
    expectNoCanary(canary, log.sources);
  });
});
