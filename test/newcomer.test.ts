/**
 * Newcomer friction (issue 17): pointing the shell and an agent at the simulator with
 * `kimi-mcp demo --serve`, refusals worded for whoever called (the shell is not "the client"),
 * a failure that produced nothing reported as a plain failure, and a stream that dropped after
 * reasoning saying so, with the reasoning kept.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { storedTurn } from './helpers/fault-matrix.js';
import { call, closedAfterEach, connect, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { CLI, runCli } from './helpers/run-cli.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-newcomer-5c8e1a3f7b2d';
const sim = simulatorForFile({ apiKey: KEY });
const upstream = (extra: Record<string, string> = {}) => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, ...extra });

const open = closedAfterEach();
async function kimi(env: Record<string, string> = {}): Promise<Connection> {
  const c = await connect(upstream(env));
  open.push(c);
  return c;
}
type Out = { text: string; reasoning?: string; partial?: boolean; error?: string; cost_usd: number | null; usage_estimated?: boolean };
const out = (r: CallToolResult) => r.structuredContent as Out;
const chatRequests = () => sim.requests.filter((q) => q.path === '/v1/chat/completions').length;

/** `export NAME='value'` lines (POSIX shells; PowerShell's `$env:NAME = 'value'` on Windows) as variables. */
function exported(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of stdout.matchAll(/^\s*(?:export |\$env:)(\w+)\s?=\s?'((?:[^']|'\\'')*)'$/gm)) vars[m[1]!] = m[2]!.replaceAll("'\\''", "'");
  return vars;
}

describe('kimi-mcp demo --serve', () => {
  it('keeps a simulator running and prints the variables that point chat and doctor at it, until Ctrl-C', async () => {
    // The user's own key is in the environment: it must never be printed or used.
    const userKey = 'sk-users-own-key-9d1f4b7e';
    const demo = spawn(process.execPath, [CLI, 'demo', '--serve'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, RUNAPI_KEY: userKey }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on('close', resolve));
    try {
      await expect.poll(() => stdout, { timeout: 15_000 }).toMatch(/Ctrl-C/);
      const vars = exported(stdout);
      expect(Object.keys(vars)).toEqual(expect.arrayContaining(['RUNAPI_KEY', 'RUNAPI_BASE_URL', 'KIMI_MCP_STATE_DIR']));
      expect(vars.RUNAPI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect(stdout + stderr).not.toContain(userKey);

      const chat = await runCli(['chat', 'Is this the simulator?'], vars);
      expect(chat.code, chat.stderr).toBe(0);
      expect(chat.stdout).toMatch(/^Simulated Kimi reply to: Is this the simulator\?/);
      const doctor = await runCli(['doctor'], vars);
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).toMatch(/All good/);
      // The demo's conversation went to the demo's own state folder, which Ctrl-C removes.
      expect(existsSync(join(vars.KIMI_MCP_STATE_DIR!, 'conversations'))).toBe(true);

      demo.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(existsSync(vars.KIMI_MCP_STATE_DIR!)).toBe(false);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
    }
  }, 30_000);
});

describe('refusals in the shell speak of the current folder', () => {
  it('chat --file, chat --image and cost --file outside the folder: refused, naming the current folder, nothing sent', async () => {
    const project = tempDir('kimi-newcomer-project-');
    const outside = tempDir('kimi-newcomer-outside-');
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(outside, 'secret.ts'), 'secret\n');
    writeFileSync(join(outside, 'pic.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
    const before = chatRequests();
    for (const args of [
      ['chat', '--file', `../${basename(outside)}/secret.ts`, 'x'],
      ['chat', '--image', join(outside, 'pic.png'), 'x'],
      ['cost', '--file', join(outside, 'secret.ts')],
    ]) {
      const r = await runCli(args, upstream(), { cwd: project });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(project);
      expect(r.stderr).toMatch(/the current folder/);
      expect(r.stderr).not.toMatch(/client|this server/);
    }
    expect(chatRequests()).toBe(before);
  });
});

describe('what a failed call reports', () => {
  it('a 400 with an empty body is a plain failure, not a partial reply', async () => {
    const { client } = await kimi();
    sim.script({ status: 400, errorBody: '' });
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(out(r).error).toMatch(/answered 400/);
    // No message to follow, so the advice does not point at one.
    expect(out(r).error).toMatch(/The host gave no reason: check the call against list_models/);
    expect(out(r).partial).toBeUndefined();
    expect(textOf(r)).not.toMatch(/Partial reply/);

    sim.script({ status: 400, errorBody: '' });
    const shell = await runCli(['chat', '--json', 'x'], upstream());
    expect(shell.code).toBe(1);
    const json = JSON.parse(shell.stdout) as Out;
    expect(json.error).toMatch(/answered 400/);
    expect(json.partial).toBeUndefined();
  });

  it('a stream that dropped after reasoning only says the reasoning arrived and was billed, and keeps it', async () => {
    const stateDir = tempDir('kimi-newcomer-state-');
    const { client } = await kimi({ KIMI_MCP_STATE_DIR: stateDir });
    const reasoning = 'First I check the loop bounds, then the empty list, then the last element.';
    sim.script({ reasoning, content: 'The answer that never came.', resetAfterChunks: 0 });
    const r = await call(client, 'kimi_chat', { prompt: 'reasoning-only marker: review' });
    expect(r.isError).toBe(true);
    expect(out(r)).toMatchObject({ partial: true, text: '', reasoning, usage_estimated: true });
    expect(out(r).cost_usd).toBeGreaterThan(0);
    const text = textOf(r);
    expect(text).toMatch(/broke after \d+ characters of reasoning/);
    expect(text).toMatch(/No text arrived, but \d+ characters of reasoning did, and were billed/);
    expect(text).toContain(reasoning);
    expect(storedTurn(stateDir, 'reasoning-only marker')).toMatchObject({ partial: true, reply: { content: '', reasoning } });

    // The shell says the same on stderr, and shows the reasoning rather than dropping it.
    sim.script({ reasoning, content: 'The answer that never came.', resetAfterChunks: 0 });
    const shell = await runCli(['chat', 'x'], upstream({ KIMI_MCP_STATE_DIR: stateDir }));
    expect(shell.code).toBe(1);
    expect(shell.stdout).toBe('');
    expect(shell.stderr).toMatch(/No text arrived, but \d+ characters of reasoning did, and were billed/);
    expect(shell.stderr).toContain(reasoning);
  });
});
