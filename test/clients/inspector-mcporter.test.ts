/** The MCP Inspector CLI and mcporter, run against the built server as users run them. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/mcp.js';
import { runProcess } from '../helpers/process.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { startSimulator } from '../helpers/simulator.js';
import type { Simulator } from '../helpers/simulator.js';
import { clientBin } from './paths.js';
import { tempDir } from '../helpers/temp.js';

const KEY = 'sk-clients-3e8d1f6a2b9c';
let sim: Simulator;
let home: string;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  home = tempDir('kimi-clients-home-');
});
afterAll(async () => {
  await sim.close();
});
// A throwaway HOME keeps the clients from importing the developer's own agent configs.
const env = () => ({ PATH: process.env.PATH, HOME: home, MCP_INSPECTOR_SECRET_STORE: 'memory' });

describe('MCP Inspector CLI', () => {
  const inspector = (...args: string[]) => runProcess(clientBin('inspector'), ['--cli', process.execPath, CLI, ...args, '--format', 'json'], { env: env(), cwd: ROOT });

  it('lists the seven tools', async () => {
    const r = await inspector('--method', 'tools/list');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).result.tools.map((t: { name: string }) => t.name)).toEqual(['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost', 'kimi_agent', 'kimi_review', 'kimi_job']);
  });

  it('calls estimate_cost', async () => {
    const r = await inspector('--method', 'tools/call', '--tool-name', 'estimate_cost', '--tool-arg', 'input_tokens=1000000', '--tool-arg', 'output_tokens=1000000');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).result.structuredContent.cost.total).toBe(2.48);
  });

  it('sees a bad call as a tool error (exit 5) with our message', async () => {
    const r = await inspector('--method', 'tools/call', '--tool-name', 'estimate_cost', '--tool-arg', 'input_tokens=-5');
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout).result.content[0].text).toMatch(/input_tokens: Too small/);
  });

  it('reads a resource', async () => {
    const r = await runProcess(clientBin('inspector'), ['--cli', process.execPath, CLI, '--method', 'resources/read', '--uri', 'kimi://models/kimi-k3', '--format', 'json'], { env: env(), cwd: ROOT });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).result.contents[0].text).toMatch(/^---\nkind: model\nid: kimi-k3/);
  });
});

describe('mcporter', () => {
  const mcporter = (args: string[], extraEnv: Record<string, string> = {}, cwd = ROOT) =>
    runProcess(clientBin('mcporter'), args, { env: { ...env(), ...extraEnv }, cwd });

  it('lists our tools with status ok', async () => {
    const r = await mcporter(['list', '--stdio', `${process.execPath} ${CLI}`, '--json']);
    expect(r.code).toBe(0);
    const listing = JSON.parse(r.stdout);
    expect(listing.status).toBe('ok');
    expect(listing.tools.map((t: { name: string }) => t.name)).toEqual(['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost', 'kimi_agent', 'kimi_review', 'kimi_job']);
  });

  it('calls kimi_chat through to the simulator', async () => {
    sim.script({ content: 'hello from the simulator via mcporter' });
    const r = await mcporter(['call', '--stdio', `${process.execPath} ${CLI}`, '--env', `RUNAPI_KEY=${KEY}`, '--env', `RUNAPI_BASE_URL=${sim.baseURL}`, 'kimi_chat', 'prompt=hi', '--output', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).text).toBe('hello from the simulator via mcporter');
  });

  it.each([
    ['cursor', '.cursor/mcp.json'],
    ['vscode', '.vscode/mcp.json'],
    ['codex', '.codex/config.toml'],
  ])('reads the %s config `kimi-mcp install` writes (%s) and connects to it', async (agent, file) => {
    const project = tempDir('kimi-proj-');
    const installed = await runCli(['install', agent, '--scope', 'project'], { HOME: home }, { cwd: project });
    expect(installed.code, installed.stderr).toBe(0);
    const r = await mcporter(['list', '--json'], { RUNAPI_KEY: KEY }, project);
    expect(r.code).toBe(0);
    const servers = JSON.parse(r.stdout).servers as { name: string; status: string; source?: { path?: string } }[];
    expect(servers).toEqual([expect.objectContaining({ name: 'kimi', status: 'ok', source: expect.objectContaining({ path: join(project, file) }) })]);
  });
});
