/**
 * kimi_agent end to end, offline: a real MCP client, the server, the loop and the Kimi host
 * simulator scripted with tool calls (`sim.script({ toolCalls: [...] }, …, { content })`). Fixture
 * projects in temp folders; a canary file outside the root must never reach a request or a result.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../src/agent/loop.js';
import type { AgentRequest } from '../src/agent/loop.js';
import { loadCatalog } from '../src/catalog/load.js';
import { resolveSettings } from '../src/kimi/config.js';
import { call, closedAfterEach, connect, onRoots, ROOT, serverEnv, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { startSimulator } from './helpers/simulator.js';
import type { Behaviour, Simulator } from './helpers/simulator.js';
import { hashTree, tempDir } from './helpers/temp.js';

const run = promisify(execFile);
const KEY = 'sk-sim-agent-4b7e19c2d0a6';
const CANARY = 'CANARY-agent-outside-9f3c';
const A_TS = 'export function connect() {\n  return open();\n}\n\nexport function reconnect() {\n  return connect();\n}\n';
const B_TS = 'import { reconnect } from "./a";\n\nexport function onDrop() {\n  reconnect();\n}\n';

let sim: Simulator;
let outside: string;

function tree(files: Record<string, string>, prefix = 'kimi-agent-project-'): string {
  const root = tempDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

/** A fresh fixture project (tests that change files get their own). */
const project = () => tree({ '.gitignore': 'dist/\n', 'src/a.ts': A_TS, 'src/b.ts': B_TS, 'dist/a.js': 'built\n', 'README.md': '# Fixture\n' });

const env = () => serverEnv({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL });
const tool = (name: string, args: Record<string, unknown>): Behaviour => ({ toolCalls: [{ name, arguments: JSON.stringify(args) }], content: '' });

interface Sent {
  messages: { role: string; content: string; tool_call_id?: string; tool_calls?: { id: string; function: { name: string } }[]; reasoning_content?: string }[];
  tools?: { function: { name: string } }[];
}
/** The chat request bodies sent since `mark`. */
const chatsSince = (mark: number): Sent[] => sim.requests.slice(mark).filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as unknown as Sent);
const toolResults = (body: Sent) => body.messages.filter((m) => m.role === 'tool');

type Out = { answer: string; stopped: string; steps: string[]; files_read: { path: string; lines: { start: number; end: number }[] }[]; patch?: string; changed_files?: string[]; changed_on_disk?: string[]; conversation_id?: string; notes: string[]; cost_usd: number | null; usage: { prompt_tokens: number } | null };
const out = (r: { structuredContent?: unknown }) => r.structuredContent as Out;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  outside = tree({ 'secret.txt': `${CANARY}\n` }, 'kimi-agent-outside-');
});
afterAll(() => sim.close());

const open = closedAfterEach();

/** A legacy client whose roots are `root`. */
async function clientFor(root: string): Promise<Connection> {
  const c = await connect(env(), { roots: { listChanged: true } });
  onRoots(c.client, () => ({ roots: [{ uri: pathToFileURL(root).href, name: 'project' }] }));
  open.push(c);
  return c;
}

/** The loop without MCP, for what a client cannot time (a cancel or a disk change between two steps). */
function agentDirect(root: string, req: AgentRequest, onStep?: (line: string) => void, signal = new AbortController().signal) {
  const catalog = loadCatalog(ROOT);
  const ctx = { catalog, settings: resolveSettings(catalog, env()), env: env() };
  return runAgent(ctx, req, { signal, roots: async () => ({ folders: [root], from: 'the test project' }), ...(onStep ? { onStep } : {}) });
}

describe('kimi_agent explore', () => {
  it('lists, greps and reads, then answers; every tool result goes back upstream; progress names each step', async () => {
    const root = project();
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    sim.script(tool('list', { path: '.' }), tool('grep', { pattern: 'reconnect', glob: 'src/**/*.ts' }), tool('read', { path: 'src/a.ts:5-7' }), { content: 'reconnect() calls connect() again (src/a.ts:5-7).' });
    const progress: string[] = [];
    const r = await call(client, 'kimi_agent', { task: 'Why does reconnect loop?' }, { onprogress: (p) => progress.push(p.message ?? '') });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.answer).toBe('reconnect() calls connect() again (src/a.ts:5-7).');
    expect(o.stopped).toBe('answered');
    expect(o.steps).toHaveLength(3);
    expect(o.steps[0]).toMatch(/^list \. → \d+ entries$/);
    expect(o.steps[1]).toMatch(/^grep "reconnect" src\/\*\*\/\*\.ts → 3 matches/);
    expect(o.steps[2]).toBe('read src/a.ts:5-7');
    expect(o.files_read).toEqual([{ path: 'src/a.ts', lines: [{ start: 5, end: 7 }] }]);
    expect(o.patch).toBeUndefined();
    expect(o.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(textOf(r)).toContain('3. read src/a.ts:5-7');
    expect(progress).toEqual(expect.arrayContaining([expect.stringContaining('step 1/25: list .'), expect.stringContaining('step 3/25: read src/a.ts:5-7')]));

    const bodies = chatsSince(mark);
    expect(bodies).toHaveLength(4);
    expect(bodies[0]!.tools!.map((t) => t.function.name)).toEqual(['list', 'read', 'grep']);
    // The last request holds every tool result, each answering its call, after the assistant turn that asked.
    const last = bodies[3]!;
    expect(toolResults(last).map((m) => m.tool_call_id)).toEqual(['list_0', 'grep_0', 'read_0']);
    expect(toolResults(last)[0]!.content).toMatch(/src\//);
    expect(toolResults(last)[0]!.content).not.toContain('dist'); // .gitignore'd
    expect(toolResults(last)[1]!.content).toContain('src/b.ts');
    expect(toolResults(last)[2]!.content).toContain('5| export function reconnect() {');
    expect(last.messages.filter((m) => m.tool_calls).map((m) => m.tool_calls![0]!.id)).toEqual(['list_0', 'grep_0', 'read_0']);
    expect(last.messages.find((m) => m.role === 'user')!.content).toBe('Why does reconnect loop?');
  });

  it('refuses paths outside the roots to Kimi as tool errors and goes on; the canary outside is never read', async () => {
    const root = project();
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    sim.script(
      tool('read', { path: join(outside, 'secret.txt') }),
      tool('read', { path: '../' + outside.split('/').at(-1) + '/secret.txt' }),
      tool('read', { path: 'link.txt' }),
      tool('list', { path: outside }),
      tool('grep', { pattern: 'CANARY', glob: '../**' }),
      { content: 'I could not read outside the project.' },
    );
    const r = await call(client, 'kimi_agent', { task: 'Read the secret.' });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.answer).toBe('I could not read outside the project.');
    expect(o.steps).toHaveLength(5);
    for (const step of o.steps) expect(step).toMatch(/→ error: /);
    const bodies = chatsSince(mark);
    expect(bodies).toHaveLength(6);
    for (const result of toolResults(bodies[5]!)) expect(result.content).toMatch(/^Error: /);
    expect(JSON.stringify(bodies)).not.toContain(CANARY);
    expect(JSON.stringify(r)).not.toContain(CANARY);
    expect(o.files_read).toEqual([]);
  });

  it('max_steps: after the last step Kimi is asked to conclude, with no tools, and that is the answer', async () => {
    const root = project();
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    sim.script(tool('read', { path: 'src/a.ts' }), tool('read', { path: 'src/b.ts' }), { content: 'Concluding with what I have.' });
    const r = await call(client, 'kimi_agent', { task: 'Map the module.', max_steps: 2 });
    const o = out(r);
    expect(o.stopped).toBe('max_steps');
    expect(o.answer).toBe('Concluding with what I have.');
    expect(o.steps).toEqual(['read src/a.ts:1-7', 'read src/b.ts:1-5']);
    const bodies = chatsSince(mark);
    expect(bodies).toHaveLength(3);
    expect(bodies[2]!.tools ?? []).toEqual([]);
    expect(bodies[2]!.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('You have used all 2 steps.') });
    expect(o.notes.join('\n')).toMatch(/all 2 steps/);
  });

  it('max_cost_usd: the step whose worst case no longer fits is not sent; the work so far is the result', async () => {
    const root = project();
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    // The first step writes ~15K tokens ($0.03 at $2/M), so the second no longer fits $0.08.
    // Only the step that should be sent is scripted: a second one would get the simulator's plain answer.
    sim.script({ ...tool('read', { path: 'src/a.ts' }), content: 'x'.repeat(60_000) });
    const r = await call(client, 'kimi_agent', { task: 'Map the module.', model: 'kimi-k2.6', max_cost_usd: 0.08 });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.stopped).toBe('max_cost');
    expect(o.steps).toEqual(['read src/a.ts:1-7']);
    expect(o.files_read).toEqual([{ path: 'src/a.ts', lines: [{ start: 1, end: 7 }] }]);
    expect(o.cost_usd).toBeGreaterThan(0.02);
    expect(chatsSince(mark)).toHaveLength(1);
    expect(o.notes.join('\n')).toMatch(/max_cost_usd/);
  });

  it('stops a model that repeats the same call: a tool error first, then the loop ends with a concluding step', async () => {
    const root = project();
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    const same = tool('read', { path: 'src/a.ts' });
    sim.script(same, same, same, same, { content: 'Giving up.' });
    const r = await call(client, 'kimi_agent', { task: 'Loop.' });
    const o = out(r);
    expect(o.stopped).toBe('repeating');
    expect(o.answer).toBe('Giving up.');
    const bodies = chatsSince(mark);
    expect(bodies).toHaveLength(5);
    const results = toolResults(bodies[4]!).map((m) => m.content);
    expect(results[0]).toContain('1| export function connect()');
    expect(results[2]).toMatch(/^Error: this exact read call was already made 2 times/);
    expect(results[3]).toMatch(/^Error: not run/);
    expect(bodies[4]!.tools ?? []).toEqual([]);
  });

  it('cancel: the partial work (steps, files read, patch) is returned and kept in the conversation', async () => {
    const root = project();
    const abort = new AbortController();
    sim.script(tool('read', { path: 'src/a.ts' }), tool('edit', { path: 'src/a.ts', old_text: '  return connect();', new_text: '  return connect({ retry: false });' }), );
    const o = await agentDirect(root, { task: 'Stop the loop.', mode: 'propose' }, (line) => line.startsWith('step 2/') && abort.abort(), abort.signal);
    expect(o.stopped).toBe('cancelled');
    expect(o.steps).toEqual(['read src/a.ts:1-7', 'edit src/a.ts (1 replacement)']);
    expect(o.patch).toContain('+  return connect({ retry: false });');
    expect(o.conversation_id).toBeDefined();

    // Continued: the earlier task and its partial work reach Kimi, and the earlier edit is in the overlay.
    const mark = sim.requests.length;
    sim.script({ content: 'Done: kept the earlier change.' });
    const next = await agentDirect(root, { task: 'now also handle the timeout case', mode: 'propose', conversation_id: o.conversation_id! });
    const sent = JSON.stringify(chatsSince(mark)[0]!.messages);
    expect(sent).toContain('Stop the loop.');
    expect(sent).toContain('session stopped (cancelled)');
    expect(next.patch).toBe(o.patch);
    expect(next.notes.join('\n')).toMatch(/earlier session's patch was carried over: src\/a.ts/);
  });
});

describe('kimi_agent propose', () => {
  it('edits become one patch git apply accepts; a not-found edit is a tool error Kimi corrects; nothing on disk changes', async () => {
    const root = project();
    const before = hashTree(root);
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    sim.script(
      tool('read', { path: 'src/a.ts' }),
      tool('edit', { path: 'src/a.ts', old_text: 'return connect() ;', new_text: 'return connect({ timeout: 5000 });' }),
      tool('edit', { path: 'src/a.ts', old_text: '  return connect();', new_text: '  return connect({ timeout: 5000 });' }),
      tool('write', { path: 'src/timeout.ts', content: 'export const TIMEOUT_MS = 5000;\n' }),
      { content: 'reconnect now passes a timeout; TIMEOUT_MS is new.' },
    );
    const r = await call(client, 'kimi_agent', { task: 'Add a timeout to reconnect.', mode: 'propose' });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.steps[1]).toMatch(/^edit src\/a\.ts → error: old_text was not found in src\/a\.ts/);
    expect(toolResults(chatsSince(mark)[2]!)[1]!.content).toMatch(/^Error: old_text was not found/);
    expect(o.changed_files).toEqual(['src/a.ts', 'src/timeout.ts']);
    expect(o.patch).toContain('+  return connect({ timeout: 5000 });');
    expect(textOf(r)).toContain('```diff');
    expect(hashTree(root)).toEqual(before);

    const copy = tempDir('kimi-agent-apply-');
    cpSync(root, copy, { recursive: true });
    writeFileSync(join(copy, 'change.patch'), o.patch!);
    await run('git', ['apply', '--check', 'change.patch'], { cwd: copy });
    await run('git', ['apply', 'change.patch'], { cwd: copy });
    expect(readFileSync(join(copy, 'src/a.ts'), 'utf8')).toBe(A_TS.replace('  return connect();', '  return connect({ timeout: 5000 });'));
    expect(readFileSync(join(copy, 'src/timeout.ts'), 'utf8')).toBe('export const TIMEOUT_MS = 5000;\n');
  });

  it('reports a file changed on disk during the run', async () => {
    const root = project();
    sim.script(tool('read', { path: 'src/b.ts' }), tool('edit', { path: 'src/b.ts', old_text: '  reconnect();', new_text: '  reconnect();\n  log("dropped");' }), { content: 'Logged the drop.' });
    const o = await agentDirect(root, { task: 'Log drops.', mode: 'propose' }, (line) => {
      if (line.startsWith('step 1/')) writeFileSync(join(root, 'src/b.ts'), `// edited by the user meanwhile\n${B_TS}`);
    });
    expect(o.changed_on_disk).toEqual(['src/b.ts']);
    expect(o.notes.join('\n')).toMatch(/Changed on disk during the run: src\/b\.ts/);
    // The patch is made against the file as it is now.
    expect(o.patch).toContain('+  log("dropped");');
    const copy = tempDir('kimi-agent-apply-');
    cpSync(root, copy, { recursive: true });
    writeFileSync(join(copy, 'change.patch'), o.patch!);
    await run('git', ['apply', '--check', 'change.patch'], { cwd: copy });
  });
});

describe('kimi_agent refusals', () => {
  it('a model the host takes text only for is refused before anything is sent, naming those that take tools', async () => {
    const root = project();
    const { client } = await clientFor(root);
    const mark = sim.requests.length;
    const r = await call(client, 'kimi_agent', { task: 'Look around.', model: 'kimi-k3' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/kimi-k3/);
    expect(textOf(r)).toMatch(/kimi-k2\.6/);
    expect(chatsSince(mark)).toHaveLength(0);
  });

  it('a 2026-07-28 client (no roots) explores the server folders', async () => {
    const c = await connect(env(), {}, 'modern (pinned)');
    open.push(c);
    sim.script(tool('read', { path: 'package.json:1-3' }), { content: 'It is kimi-mcp.' });
    const r = await call(c.client, 'kimi_agent', { task: 'What package is this?' });
    expect(out(r).steps).toEqual(['read package.json:1-3']);
    expect(out(r).answer).toBe('It is kimi-mcp.');
  });
});

describe('kimi-mcp agent (CLI)', () => {
  it('prints steps to stderr, the answer then the patch to stdout, and writes nothing', async () => {
    const root = project();
    const before = hashTree(root);
    sim.script(tool('read', { path: 'src/a.ts:1-3' }), tool('edit', { path: 'src/a.ts', old_text: 'return open();', new_text: 'return open({ keepAlive: true });' }), { content: 'Kept the connection alive.' });
    const r = await runCli(['agent', 'Keep the connection alive.', '--mode', 'propose', '--max-steps', '5'], { RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }, { cwd: root });
    expect(r.stderr).toContain('[kimi] step 1/5: read src/a.ts:1-3');
    expect(r.stderr).toContain('[kimi] step 2/5: edit src/a.ts (1 replacement)');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Kept the connection alive\.\n\ndiff --git a\/src\/a\.ts b\/src\/a\.ts\n/);
    expect(r.stdout).toContain('+  return open({ keepAlive: true });');
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(hashTree(root)).toEqual(before);
  });
});
