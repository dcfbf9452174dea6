/**
 * The fault matrix over stdio: the built server (dist/cli.js) spawned as an agent spawns it,
 * with the SDK's StdioClientTransport, the real openai SDK and the simulator. Runs with a key
 * canary that the simulator echoes in error bodies and headers; nothing may let it out.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { alive, CanaryLog, expectNoCanary, makeCanary, TappedStdioTransport } from './helpers/canary.js';
import { CANCEL_PHASES, expectUpstreamClosed, matrixEnv, runCancelCell, runUpstreamCell, storedTurn, TOOLS, UPSTREAM_CELLS } from './helpers/fault-matrix.js';
import type { ToolName } from './helpers/fault-matrix.js';
import { ROOT, textOf } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const CLI = join(ROOT, 'dist/cli.js');
const canary = makeCanary();
const log = new CanaryLog();
const stateDir = tempDir('kimi-faults-stdio-');
let sim: Simulator;
let closedPort: string;

interface Spawned {
  name: string;
  client: Client;
  transport: TappedStdioTransport;
  pid: number;
}
const spawned: Spawned[] = [];

async function spawnServer(name: string, baseURL = sim.baseURL, idle = true, extraEnv: Record<string, string> = {}): Promise<Spawned> {
  const transport = new TappedStdioTransport(
    { command: process.execPath, args: [CLI], env: { ...getDefaultEnvironment(), ...matrixEnv(canary, baseURL, stateDir, idle), ...extraEnv }, stderr: 'pipe' },
    log,
    name,
  );
  const client = new Client({ name: `faults-${name}`, version: '0.0.0' });
  await client.connect(transport);
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

beforeAll(async () => {
  sim = await startSimulator({ apiKey: canary, leakKeyInErrors: 'all', echoKeyInHeader: true, models: ['kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6'] });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v1`;
  await new Promise((resolve) => probe.close(resolve));
  [main, refused, cancels] = await Promise.all([spawnServer('main'), spawnServer('refused', closedPort), spawnServer('cancels', sim.baseURL, false)]);
});

afterAll(async () => {
  await Promise.all(spawned.map((s) => s.client.close()));
  await sim?.close();
});

describe('upstream faults over stdio', () => {
  it.concurrent.each(UPSTREAM_CELLS.flatMap((cell) => TOOLS.map((tool) => ({ ...cell, tool }))))('$name · $tool', async ({ tool, ...cell }) => {
    const session = cell.server === 'refused' ? refused : main;
    await runUpstreamCell(session.client, cell.server === 'refused' ? undefined : sim, cell, tool, `stdio ${cell.name} ${tool}`, log);
  });
});

describe('client cancels over stdio', () => {
  it.concurrent.each(CANCEL_PHASES.flatMap((phase) => TOOLS.map((tool) => ({ phase, tool }))))('cancel $phase · $tool', async ({ phase, tool }) => {
    await runCancelCell(cancels.client, sim, stateDir, phase, tool, `stdio cancel ${phase} ${tool}`, log);
  });
});

/** Starts a long streamed call on its own server and waits until its text is flowing. */
async function midStream(name: string, tool: ToolName, env: Record<string, string>): Promise<{ s: Spawned; marker: string; pending: Promise<CallToolResult> }> {
  const s = await spawnServer(name, sim.baseURL, false, env);
  const marker = `stdio ${name}`;
  sim.scriptFor(marker, { content: Array.from({ length: 40 }, (_, i) => `Chunk ${i}.`).join(' '), chunkSize: 8, delayMs: 25 });
  const pending = s.client.callTool({ name: tool, arguments: { prompt: `${marker}: go` } }, undefined, { onprogress: () => undefined }) as Promise<CallToolResult>;
  await vi.waitFor(() => expect(sim.chatsFor(marker)[0]?.content.length ?? 0).toBeGreaterThanOrEqual(24), { timeout: 10_000, interval: 5 });
  return { s, marker, pending };
}

// Chat calls are answered by the start-up path (src/startup/quick-chat.ts) or, when it is off or
// hands over, by the full server: the client may go away from either.
describe.each<{ path: string; env: Record<string, string> }>([
  { path: 'start-up path', env: {} },
  { path: 'full server', env: { KIMI_MCP_FAST_START: '0' } },
])('the client goes away mid-stream (stdio, $path)', ({ path, env }) => {
  it.concurrent.each(TOOLS)('SIGTERM · %s: exits at once, closes upstream, keeps the partial turn', async (tool) => {
    const { s, marker, pending } = await midStream(`sigterm ${tool} ${path}`, tool, env);
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

  it.concurrent.each(TOOLS)('stdin closed · %s: the call still gets its whole answer, then the server exits', async (tool) => {
    const { s, marker, pending } = await midStream(`stdin ${tool} ${path}`, tool, env);
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

  it.concurrent.each(TOOLS)('stdout closed (EPIPE) · %s: exits cleanly, closes upstream, keeps the partial turn', async (tool) => {
    const { s, marker, pending } = await midStream(`epipe ${tool} ${path}`, tool, env);
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
    const servers = [main, refused, cancels];
    await Promise.all(servers.map((s) => s.client.close()));
    await Promise.all(servers.map(expectExited));
    for (const s of servers) expectCleanStderr(s);
    expect(log.files(stateDir).some((p) => p.endsWith('ledger.jsonl'))).toBe(true);
    expectNoCanary(canary, log.sources);
  });
});
