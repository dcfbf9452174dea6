/**
 * Background jobs across processes (spawned dist/cli.js servers sharing a state folder): a later
 * server reads a finished job and serves the long reply it links to; a server killed with SIGKILL
 * mid-job leaves an `interrupted` job with its partial text, read by a new server and by
 * `kimi-mcp job <id>`; a server whose client goes away stops its jobs and keeps what arrived.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ROOT, textOf } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-jobs-proc-7a1c3e5b9d2f4860';
const sim = simulatorForFile({ apiKey: KEY });

interface Server {
  client: Client;
  transport: StdioClientTransport;
}
async function spawnServer(env: Record<string, string>, cwd: string): Promise<Server> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'dist/cli.js')], env: { ...getDefaultEnvironment(), ...env }, cwd, stderr: 'ignore' });
  const client = new Client({ name: 'jobs-process', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport };
}
const callTool = async (s: Server, name: string, args: Record<string, unknown>) => (await s.client.callTool({ name, arguments: args })) as CallToolResult;
const jobId = (r: CallToolResult) => (r.structuredContent as { job_id: string }).job_id;
const env = (stateDir: string, extra: Record<string, string> = {}) => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir, ...extra });
const jobFiles = (stateDir: string) => readdirSync(join(stateDir, 'jobs')).map((f) => readFileSync(join(stateDir, 'jobs', f), 'utf8')).join('\n');

describe('jobs across server processes', () => {
  it('a later server process reads a finished job and serves the long reply it links to', async () => {
    const stateDir = tempDir('kimi-jobs-proc-');
    const project = tempDir('kimi-jobs-proc-project-');
    const long = `${'A long answer, line after line. '.repeat(300)}The end.`;
    sim.scriptFor('proc-finished', { content: long, chunkSize: 400 });
    // A small result cap, so the reply is shortened and linked as kimi://replies/{id}.
    const first = await spawnServer(env(stateDir, { MAX_MCP_OUTPUT_TOKENS: '600' }), project);
    const id = jobId(await callTool(first, 'kimi_chat', { prompt: 'proc-finished', background: true }));
    const original = await callTool(first, 'kimi_job', { action: 'result', job_id: id, wait_seconds: 30 });
    await first.client.close();
    expect(original.isError, textOf(original)).toBeFalsy();
    const link = original.content.find((c) => c.type === 'resource_link') as { uri: string } | undefined;
    expect(link?.uri).toMatch(/^kimi:\/\/replies\//);

    const second = await spawnServer(env(stateDir, { MAX_MCP_OUTPUT_TOKENS: '600' }), project);
    try {
      const again = await callTool(second, 'kimi_job', { action: 'result', job_id: id });
      expect(again).toEqual(original);
      const read = await second.client.readResource({ uri: link!.uri });
      expect((read.contents[0] as { text: string }).text).toContain('The end.');
      const listed = await callTool(second, 'kimi_job', { action: 'list' });
      expect(textOf(listed)).toContain(id);
    } finally {
      await second.client.close();
    }
    expect(jobFiles(stateDir)).not.toContain(KEY);
  });

  it('a server killed with SIGKILL mid-job leaves an interrupted job with its partial text', async () => {
    const stateDir = tempDir('kimi-jobs-proc-');
    const project = tempDir('kimi-jobs-proc-project-');
    sim.scriptFor('proc-killed', { content: `Partial words ${'streamed slowly '.repeat(200)}`, chunkSize: 8, delayMs: 20 });
    const doomed = await spawnServer(env(stateDir), project);
    const id = jobId(await callTool(doomed, 'kimi_chat', { prompt: 'proc-killed', background: true }));
    // Past the recorder's interval, so some text is on disk.
    await expect.poll(() => sim.chatsFor('proc-killed')[0]?.content.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(200);
    await new Promise((r) => setTimeout(r, 700));
    process.kill(doomed.transport.pid!, 'SIGKILL');
    await doomed.client.close().catch(() => undefined);

    const next = await spawnServer(env(stateDir), project);
    try {
      const status = await callTool(next, 'kimi_job', { action: 'status', job_id: id });
      expect(status.structuredContent).toMatchObject({ job_id: id, state: 'interrupted' });
      const result = await callTool(next, 'kimi_job', { action: 'result', job_id: id });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/interrupted.*\n[\s\S]*Text so far:\nPartial words streamed slowly/);
    } finally {
      await next.client.close();
    }

    const shell = await runCli(['job', id], { KIMI_MCP_STATE_DIR: stateDir }, { cwd: project });
    expect(shell.code).toBe(1);
    expect(shell.stdout).toMatch(/interrupted[\s\S]*Partial words streamed slowly/);
    const list = await runCli(['jobs', '--json'], { KIMI_MCP_STATE_DIR: stateDir }, { cwd: project });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([{ job_id: id, tool: 'kimi_chat', state: 'interrupted' }]);
  });

  it('a kimi_agent job killed mid-run keeps its steps and the patch so far, and nothing is written to the project', async () => {
    const stateDir = tempDir('kimi-jobs-proc-');
    const project = tempDir('kimi-jobs-proc-project-');
    const write = { toolCalls: [{ name: 'write', arguments: JSON.stringify({ path: 'src/retry.ts', content: 'export const RETRIES = 3;\n' }) }], content: '' };
    sim.scriptFor('proc-agent-killed', write, { content: `Now ${'thinking slowly '.repeat(400)}`, chunkSize: 8, delayMs: 20 });
    const doomed = await spawnServer(env(stateDir), project);
    const id = jobId(await callTool(doomed, 'kimi_agent', { task: 'proc-agent-killed: add a retry constant', mode: 'propose', background: true }));
    await expect.poll(() => jobFiles(stateDir).includes('"type":"patch"'), { timeout: 10_000 }).toBe(true);
    process.kill(doomed.transport.pid!, 'SIGKILL');
    await doomed.client.close().catch(() => undefined);

    const next = await spawnServer(env(stateDir), project);
    try {
      const result = await callTool(next, 'kimi_job', { action: 'result', job_id: id });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/interrupted[\s\S]*Steps so far:\nstep 1\/25: write src\/retry\.ts[\s\S]*Patch so far[\s\S]*\+export const RETRIES = 3;/);
    } finally {
      await next.client.close();
    }
    expect(readdirSync(project)).toEqual([]);
  });

  it('a server whose client goes away stops its jobs (the upstream request is closed) and keeps what arrived', async () => {
    const stateDir = tempDir('kimi-jobs-proc-');
    const project = tempDir('kimi-jobs-proc-project-');
    sim.scriptFor('proc-orphan', { content: `Orphan ${'text '.repeat(400)}`, chunkSize: 5, delayMs: 20 });
    const server = await spawnServer(env(stateDir), project);
    const id = jobId(await callTool(server, 'kimi_chat', { prompt: 'proc-orphan', background: true }));
    await expect.poll(() => sim.chatsFor('proc-orphan')[0]?.content.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(20);
    await server.client.close();
    await expect.poll(() => sim.inFlight('proc-orphan'), { timeout: 10_000 }).toBe(0);
    expect(sim.chatsFor('proc-orphan')[0]!.content.length).toBeLessThan(2000);

    const shell = await runCli(['job', id, '--json'], { KIMI_MCP_STATE_DIR: stateDir }, { cwd: project });
    expect(shell.code).toBe(1);
    const view = JSON.parse(shell.stdout) as { state: string; why: string; result: { structuredContent: { text: string; partial: boolean } } };
    expect(view.state).toBe('interrupted');
    expect(view.why).toMatch(/server stopped \(stdin ended\)/);
    expect(view.result.structuredContent).toMatchObject({ partial: true });
    expect(view.result.structuredContent.text).toMatch(/^Orphan text/);
  });

  it('kimi-mcp job says still running with exit 3, and refuses a bad id', async () => {
    const stateDir = tempDir('kimi-jobs-proc-');
    const project = tempDir('kimi-jobs-proc-project-');
    sim.scriptFor('proc-running', { content: 'slow '.repeat(300), chunkSize: 5, delayMs: 20 });
    const server = await spawnServer(env(stateDir), project);
    try {
      const id = jobId(await callTool(server, 'kimi_chat', { prompt: 'proc-running', background: true }));
      const running = await runCli(['job', id], { KIMI_MCP_STATE_DIR: stateDir }, { cwd: project });
      expect(running.code).toBe(3);
      expect(running.stdout).toMatch(new RegExp(`Job ${id} \\(kimi_chat\\): running`));
      await callTool(server, 'kimi_job', { action: 'cancel', job_id: id });
    } finally {
      await server.client.close();
    }
    const bad = await runCli(['job', '../ledger'], { KIMI_MCP_STATE_DIR: stateDir }, { cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a job id/);
  });
});
