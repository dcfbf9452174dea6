import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers/run-cli.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-cli-4b9e2a7c1d3f';
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await sim.close();
});
const upstream = () => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL });

describe('kimi-mcp commands', () => {
  it('--help lists every command; an unknown one exits 2 and says where to look', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['install <agent>', 'uninstall <agent>', 'doctor', 'chat', 'cost', 'demo', 'serve --http']) expect(help.stdout).toContain(c);
    const bad = await runCli(['fly']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown command "fly"\. Run kimi-mcp --help/);
  });

  it('install writes the agent config under HOME; --print writes nothing; uninstall reverses it', async () => {
    const home = tempDir('kimi-cli-');
    const printed = await runCli(['install', 'cursor', '--print'], { HOME: home });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(join(home, '.cursor', 'mcp.json'));
    expect(printed.stdout).toContain('${env:RUNAPI_KEY}');
    expect(() => readFileSync(join(home, '.cursor', 'mcp.json'))).toThrow();

    const done = await runCli(['install', 'cursor'], { HOME: home });
    expect(done.code).toBe(0);
    const entry = JSON.parse(readFileSync(join(home, '.cursor', 'mcp.json'), 'utf8')).mcpServers.kimi;
    expect(entry).toEqual({ command: process.execPath, args: [CLI], env: { RUNAPI_KEY: '${env:RUNAPI_KEY}' } });

    const removed = await runCli(['uninstall', 'cursor'], { HOME: home });
    expect(removed.code).toBe(0);
    expect(() => readFileSync(join(home, '.cursor', 'mcp.json'))).toThrow();
  });

  it('install names the agents it knows when given an unknown one', async () => {
    const r = await runCli(['install', 'emacs'], { HOME: tempDir('kimi-cli-') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown agent "emacs"\. Name one of: claude-code, claude-desktop, cursor, vscode, codex, gemini-cli, windsurf, openclaw/);
  });

  it('install --write-key needs the key in the shell, and then writes it only where asked', async () => {
    const home = tempDir('kimi-cli-');
    const missing = await runCli(['install', 'claude-desktop', '--write-key'], { HOME: home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--write-key needs the key in this shell: set RUNAPI_KEY/);
    const ok = await runCli(['install', 'claude-desktop', '--write-key'], { HOME: home, RUNAPI_KEY: KEY });
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain(KEY);
    const config = JSON.parse(readFileSync(join(home, '.config', 'Claude', 'claude_desktop_config.json'), 'utf8'));
    expect(config.mcpServers.kimi.env).toEqual({ RUNAPI_KEY: KEY });
  });

  it('install --platform win32 --launch npx prints a launch command Windows can run', async () => {
    const r = await runCli(['install', 'claude-desktop', '--print', '--platform', 'win32', '--launch', 'npx'], { HOME: tempDir('kimi-cli-'), APPDATA: 'C:\\Users\\me\\AppData\\Roaming' });
    expect(r.stdout).toMatch(/"command": "cmd",\s+"args": \[\s+"\/c",\s+"npx",\s+"-y",\s+"kimi-mcp@\d+\.\d+\.\d+"/);
    expect(r.stdout).toContain('Claude');
  });

  it('doctor passes against a healthy host and never prints the key', async () => {
    const r = await runCli(['doctor'], upstream());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ Node \d+/);
    expect(r.stdout).toMatch(/✔ key found in RUNAPI_KEY \(not shown\)/);
    expect(r.stdout).toMatch(/✔ kimi-k2\.6 is listed by the host/);
    expect(r.stdout).toMatch(/All good/);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('doctor fails with what to fix: no key, a wrong key, an unknown model setting', async () => {
    const noKey = await runCli(['doctor'], { RUNAPI_BASE_URL: sim.baseURL });
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/✘ no API key\n\s+→ No API key for RunAPI: set RUNAPI_KEY/);
    const wrong = await runCli(['doctor'], { RUNAPI_KEY: 'sk-wrong-00000000', RUNAPI_BASE_URL: sim.baseURL });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/✘ .* did not answer\n\s+→ .*401 incorrect_api_key_error/);
    const badModel = await runCli(['doctor'], { ...upstream(), KIMI_MODEL: 'kimi-k9' });
    expect(badModel.code).toBe(1);
    expect(badModel.stdout).toMatch(/KIMI_MODEL="kimi-k9" is not a known model; set it to one of: kimi-k3/);
  });

  it('chat streams the reply to stdout and the cost to stderr', async () => {
    sim.script({ content: 'Line one.\nLine two.', chunkSize: 3 });
    const r = await runCli(['chat', 'Say two lines'], upstream());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Line one.\nLine two.\n');
    expect(r.stderr).toMatch(/\[kimi\] kimi-k2\.6 on runapi: \d+ in \+ \d+ out tokens, \$0\.\d+/);
  });

  it('chat reads the prompt from stdin and can print JSON', async () => {
    sim.script({ content: 'piped answer' });
    const r = await runCli(['chat', '--json'], upstream(), { input: 'question from a pipe' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ text: 'piped answer', model: 'kimi-k2.6', finish_reason: 'stop' });
    const sent = sim.requests.filter((q) => q.path === '/v1/chat/completions').at(-1)!.body!.messages as { content: string }[];
    expect(sent[0]!.content).toBe('question from a pipe');
  });

  it('chat keeps the partial reply on a broken stream and exits 1', async () => {
    sim.script({ content: 'half of an answer', chunkSize: 4, dropAfterChunks: 2 });
    const r = await runCli(['chat', 'x'], upstream());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('half of \n');
    expect(r.stderr).toMatch(/The stream broke after 8 characters/);
  });

  it('chat refuses a rule-breaking request before sending, with the fix', async () => {
    const r = await runCli(['chat', 'x', '--model', 'kimi-k2.7-code', '--no-thinking'], upstream());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/kimi-k2\.7-code always thinks; omit thinking/);
  });

  it('chat --file reads files within the current folder, --continue carries the conversation on', async () => {
    const project = tempDir('kimi-cli-project-');
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'a.ts'), 'export const answer = 42;\n');
    writeFileSync(join(project, 'src', 'a.test.ts'), 'test-only\n');
    sim.script({ content: 'Looks fine.' }, { content: 'Still fine.' });
    const first = await runCli(['chat', '--file', 'src/*.ts', '--file', '!*.test.ts', 'Review.'], upstream(), { cwd: project });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/Files \(1, ~\d+ tokens\): src\/a\.ts/);
    const id = /--continue ([0-9a-f-]{36})/.exec(first.stderr)![1]!;
    const second = await runCli(['chat', '--continue', id, 'And now?'], upstream(), { cwd: project });
    expect(second.code).toBe(0);
    const sent = sim.requests.filter((q) => q.path === '/v1/chat/completions').at(-1)!.body!.messages as { role: string; content: string }[];
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[0]!.content).toContain('export const answer = 42;');
    expect(sent[0]!.content).not.toContain('test-only');
    expect(sent[1]!.content).toBe('Looks fine.');
    // Outside the current folder: refused, exit 2, nothing sent.
    const before = sim.requests.length;
    const outside = await runCli(['chat', '--file', '../', 'x'], upstream(), { cwd: project });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain(project);
    expect(sim.requests.length).toBe(before);
  });

  it('chat obeys the spending guard and the fallback list like the tools do', async () => {
    const stateDir = tempDir('kimi-cli-spend-');
    const before = sim.requests.length;
    const capped = await runCli(['chat', 'Big job.'], { ...upstream(), KIMI_MCP_STATE_DIR: stateDir, KIMI_MAX_COST_PER_CALL_USD: '0.10' });
    expect(capped.code).toBe(2);
    expect(capped.stderr).toMatch(/Not sent: this call could cost up to \$0\.52/);
    // No terminal to ask on: refused, with --yes as the way through.
    const unconfirmed = await runCli(['chat', 'Big job.'], { ...upstream(), KIMI_MCP_STATE_DIR: stateDir, KIMI_CONFIRM_ABOVE_USD: '0.10' });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    expect(sim.requests.length).toBe(before);
    sim.script({ content: 'Confirmed.' });
    const confirmed = await runCli(['chat', '--yes', 'Big job.'], { ...upstream(), KIMI_MCP_STATE_DIR: stateDir, KIMI_CONFIRM_ABOVE_USD: '0.10', KIMI_BUDGET_USD: '1' });
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toBe('Confirmed.\n');
    expect(confirmed.stderr).toMatch(/Budget: \$0\.\d+ of \$1\.00 spent today/);
    // The chosen host refuses the key; the fallback host answers, and stderr says so.
    sim.script({ content: 'From the fallback.' });
    const fallback = await runCli(['chat', 'hi'], { RUNAPI_KEY: 'sk-wrong-000000', RUNAPI_BASE_URL: sim.baseURL, MOONSHOT_API_KEY: KEY, MOONSHOT_BASE_URL: sim.baseURL, KIMI_FALLBACK: 'moonshot', KIMI_MCP_STATE_DIR: stateDir });
    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toBe('From the fallback.\n');
    expect(fallback.stderr).toMatch(/Hosts tried: runapi \(.*401.*\); moonshot \(answered\)/);
    expect(fallback.stderr).toMatch(/kimi-k2\.6 on moonshot/);
  });

  it('cost prices a call offline', async () => {
    const r = await runCli(['cost', '--model', 'kimi-k2.6', '--input-tokens', '1000000', '--output-tokens', '1000000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/total\s+\$2\.48/);
    const j = await runCli(['cost', '--text', 'hello there', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ counted_by: 'estimate', model: 'kimi-k2.6' });
    const files = await runCli(['cost', '--file', 'src/kimi/files/*.ts', '--json']);
    const priced = JSON.parse(files.stdout) as { files: { path: string; tokens: number }[]; input_tokens: number };
    expect(priced.files.map((f) => f.path)).toContain('src/kimi/files/index.ts');
    expect(priced.input_tokens).toBeGreaterThan(priced.files.reduce((sum, f) => sum + f.tokens, 0));
    const bad = await runCli(['cost', '--input-tokens', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--input-tokens takes a whole number, not "many"/);
  });

  it('demo runs the real server against the simulator, says so, and shows streamed progress', async () => {
    const r = await runCli(['demo'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Replies come from a local Kimi simulator/);
    expect(r.stdout).toMatch(/The server offers 7 tools: kimi_chat, kimi_stream, list_models, estimate_cost, kimi_agent, kimi_review, kimi_job/);
    expect(r.stdout).toMatch(/estimate_cost before asking\nkimi-k2\.6 on runapi/);
    expect((r.stdout.match(/progress \d+: /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toMatch(/result:\n\s+Simulated Kimi review/);
  }, 30_000);
});
