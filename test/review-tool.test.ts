/**
 * kimi_review end to end, offline: a real MCP client whose root is a fixture repository, the
 * server, git, and the Kimi host simulator. Both ways a review runs (a kimi_agent session with a
 * tool-capable model, one chat call with a text-only one, structured output where the model takes
 * it), findings in the result and its text, the refusals with nothing sent, a failure that keeps
 * what arrived, and the diff sized to the model's window.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/load.js';
import { resolveSettings } from '../src/kimi/config.js';
import { estimateTextTokens } from '../src/kimi/tokens.js';
import { loadChange } from '../src/review/diff.js';
import { reviewInstructions } from '../src/review/prompt.js';
import { runReview } from '../src/review/run-review.js';
import { reviewOutput } from '../src/mcp/tools/kimi-review.js';
import type * as z from 'zod';
import { gitRepo } from './helpers/git-repo.js';
import { call, closedAfterEach, connect, onRoots, ROOT, serverEnv, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Behaviour, Simulator } from './helpers/simulator.js';
import { hashTree, tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-review-7c21e9a4b5d3';
const CUSTOM_MODEL = 'moonshotai/Kimi-K2.6';
let sim: Simulator;

beforeAll(async () => {
  // RunAPI's rules (text only for kimi-k3), and the id a self-hosted server uses for kimi-k2.6.
  sim = await startSimulator({ apiKey: KEY, basicTextOnly: ['kimi-k3', 'kimi-k2.7-code'], models: ['kimi-k3.1-pro', 'kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5', CUSTOM_MODEL] });
});
afterAll(() => sim.close());

const open = closedAfterEach();

const runapi = () => serverEnv({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL });
const selfHosted = () => serverEnv({ KIMI_PROVIDER: 'custom', KIMI_BASE_URL: sim.baseURL, KIMI_API_KEY: KEY });

async function clientFor(root: string, env = runapi()): Promise<Connection> {
  const c = await connect(env, { roots: { listChanged: true } });
  onRoots(c.client, () => ({ roots: [{ uri: pathToFileURL(root).href, name: 'project' }] }));
  open.push(c);
  return c;
}

interface Body {
  messages: { role: string; content: string }[];
  tools?: unknown[];
  response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
}
const chatBodies = (mark: number): Body[] => sim.requests.slice(mark).filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as unknown as Body);

type Out = z.output<typeof reviewOutput>;
const out = (r: { structuredContent?: unknown }) => r.structuredContent as Out;

const A_TS = 'export function retry(fn: () => Promise<void>) {\n  for (;;) {\n    try {\n      return fn();\n    } catch {}\n  }\n}\n';
const A_TS_CHANGED = A_TS.replace('    } catch {}', '    } catch (e) {\n      console.log(process.env.TOKEN, e);\n    }');
const CALLER_TS = 'import { retry } from "./a";\n\nretry(() => send());\n';

/** A repository with an uncommitted change, an untracked file and one named like a command. */
function changedRepo() {
  const repo = gitRepo({ 'src/a.ts': A_TS, 'src/caller.ts': CALLER_TS, '$(touch pwned).ts': 'export {};\n' });
  repo.write({ 'src/a.ts': A_TS_CHANGED, 'src/new.ts': 'export const added = true;\n', '$(touch pwned).ts': 'export const x = 1;\n' });
  return repo;
}

const FINDINGS = {
  findings: [
    { severity: 'medium', file: 'src/a.ts', line: 2, title: 'Unbounded retry', detail: 'for (;;) retries forever on a permanent error.', suggestion: 'Cap the attempts.', confidence: 0.7 },
    { severity: 'critical', file: 'src/a.ts', line: 6, title: 'Token logged', detail: 'process.env.TOKEN is printed on every failure.', suggestion: null, confidence: 0.95 },
  ],
  summary: 'Adds error logging to retry; it leaks the token.',
};
const tool = (name: string, args: Record<string, unknown>): Behaviour => ({ toolCalls: [{ name, arguments: JSON.stringify(args) }], content: '' });

describe('kimi_review with a tool-capable model: a kimi_agent session seeded with the diff', () => {
  it('Kimi opens a caller, answers with findings; the text lists them most severe first, one line each with file:line', async () => {
    const repo = changedRepo();
    const before = hashTree(repo.dir);
    const { client } = await clientFor(repo.dir);
    const mark = sim.requests.length;
    sim.script(tool('read', { path: 'src/caller.ts' }), { content: `Here is my review.\n\`\`\`json\n${JSON.stringify(FINDINGS)}\n\`\`\`` });
    const r = await call(client, 'kimi_review', { focus: 'security' });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.findings.map((f) => `${f.severity} ${f.file}:${f.line}`)).toEqual(['critical src/a.ts:6', 'medium src/a.ts:2']);
    expect(o.summary).toBe(FINDINGS.summary);
    expect(o.target).toBe('working tree against HEAD');
    expect(o.files.sort()).toEqual(['$(touch pwned).ts', 'src/a.ts', 'src/new.ts']);
    expect(o.model).toBe('kimi-k2.6');
    const text = textOf(r);
    expect(text).toMatch(/^2 finding\(s\) \(1 critical, 1 medium\) in the working tree against HEAD \(3 file\(s\)\):\ncritical src\/a\.ts:6 Token logged\n  process\.env\.TOKEN is printed on every failure\.\nmedium src\/a\.ts:2 Unbounded retry\n  for \(;;\) retries forever on a permanent error\.\n  fix: Cap the attempts\.\n/);
    expect(text).toContain('1. read src/caller.ts');
    expect(text).toMatch(/— kimi-k2\.6 on runapi · 1 tool call\(s\)/);

    const bodies = chatBodies(mark);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]!.tools).toBeDefined();
    const task = bodies[0]!.messages.find((m) => m.role === 'user')!.content;
    expect(task).toContain('Weigh this most: security.');
    expect(task).toContain('open what it touches (callers, definitions, tests) with your tools');
    expect(task).toContain('+      console.log(process.env.TOKEN, e);');
    expect(task).toContain('+++ b/src/new.ts');
    expect(task).toContain('diff --git a/$(touch pwned).ts b/$(touch pwned).ts');
    expect(bodies[1]!.messages.find((m) => m.role === 'tool')!.content).toContain('retry(() => send());');
    // Reviewing changed nothing: no file appeared (pwned), the index was not rewritten.
    expect(hashTree(repo.dir)).toEqual(before);
    expect(existsSync(join(repo.dir, 'pwned'))).toBe(false);
  });
});

describe('kimi_review with a text-only model: one chat call', () => {
  it('no tools sent; adversarial instructions; findings read from messy text (a fence, prose, a missing field)', async () => {
    const repo = changedRepo();
    const { client } = await clientFor(repo.dir);
    const mark = sim.requests.length;
    const messy = `Arguing against it:\n\`\`\`json\n{"findings": [{"severity": "Major", "file": "src/a.ts", "line": "6", "title": "Leaks TOKEN", "detail": "Logged.",},]\n\`\`\`\nThe change should not go in as is.`;
    sim.script({ content: messy });
    const r = await call(client, 'kimi_review', { model: 'kimi-k3', adversarial: true, files: ['src/a.ts'] });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.findings).toEqual([{ severity: 'high', file: 'src/a.ts', line: 6, title: 'Leaks TOKEN', detail: 'Logged.', confidence: 0.5 }]);
    expect(o.summary).toBe('Arguing against it: The change should not go in as is.');
    expect(o.files).toEqual(['src/a.ts']);
    const [body] = chatBodies(mark);
    expect(chatBodies(mark)).toHaveLength(1);
    expect(body!.tools).toBeUndefined();
    expect(body!.response_format).toBeUndefined();
    expect(body!.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('adversarial reviewer') });
    expect(body!.messages[0]!.content).not.toContain('with your tools');
    expect(body!.messages[1]!.content).toMatch(/^The change: working tree against HEAD, 1 file\(s\)\./);
    expect(body!.messages[1]!.content).not.toContain('src/new.ts');
  });

  it('a reply with no findings list is returned whole as text, never lost', async () => {
    const repo = changedRepo();
    const { client } = await clientFor(repo.dir);
    const reply = 'I think the change is risky because the token is logged, but I will not write JSON today.';
    sim.script({ content: reply });
    const r = await call(client, 'kimi_review', { model: 'kimi-k3' });
    expect(r.isError).toBeFalsy();
    const o = out(r);
    expect(o.findings).toEqual([]);
    expect(o.unparsed_text).toBe(reply);
    expect(textOf(r)).toContain(reply);
    expect(o.notes.join('\n')).toMatch(/no findings list that could be read/);
  });

  it('a stream that breaks keeps what arrived: the complete finding, the cut one noted as written', async () => {
    const repo = changedRepo();
    const { client } = await clientFor(repo.dir);
    const content = '{"findings": [{"severity": "high", "file": "src/a.ts", "line": 6, "title": "Leaks TOKEN", "detail": "Logged.", "confidence": 0.9}, {"severity": "lo';
    sim.script({ content: `${content}w", "file": "never arrives"}]}`, chunkSize: 10, resetAfterChunks: Math.ceil(content.length / 10) });
    const r = await call(client, 'kimi_review', { model: 'kimi-k3' });
    expect(r.isError).toBe(true);
    const o = out(r);
    expect(o.error).toBeTruthy();
    expect(o.findings.map((f) => f.title)).toEqual(['Leaks TOKEN']);
    expect(o.notes.join('\n')).toMatch(/1 finding\(s\) Kimi wrote could not be read.*"severity":"lo/);
    expect(textOf(r)).toMatch(/high src\/a\.ts:6 Leaks TOKEN/);
  });
});

describe('kimi_review with structured output (a model that takes it, on a host that takes no tools for it)', () => {
  it('asks with the findings schema and reads the JSON reply', async () => {
    const repo = changedRepo();
    const { client } = await clientFor(repo.dir, selfHosted());
    const mark = sim.requests.length;
    sim.script({ content: JSON.stringify(FINDINGS) });
    const r = await call(client, 'kimi_review', { target: 'working' });
    expect(r.isError).toBeFalsy();
    const [body] = chatBodies(mark);
    expect(body!.response_format!.type).toBe('json_schema');
    expect(body!.response_format!.json_schema!.name).toBe('review');
    expect(body!.tools).toBeUndefined();
    const o = out(r);
    expect(o.provider).toBe('custom');
    expect(o.findings.map((f) => f.severity)).toEqual(['critical', 'medium']);
  });
});

describe('refusals: a clear result, nothing sent', () => {
  it.each([
    ['not a git repository', () => tempDir('kimi-review-plain-'), {}, /is not in a git repository/],
    ['no changes', () => gitRepo({ 'a.txt': 'one\n' }).dir, {}, /No changes to review: the working tree against HEAD shows no difference/],
    ['an unknown target', () => changedRepo().dir, { target: 'HEAD~1' }, /target "HEAD~1" is not one of/],
    ['an unknown ref', () => changedRepo().dir, { target: 'commit:does-not-exist' }, /commit "does-not-exist" names no commit/],
    ['a ref read as an option', () => changedRepo().dir, { target: 'branch', base: '--output=x' }, /starts with "-"/],
    ['files outside the roots', () => changedRepo().dir, { files: ['/etc/passwd'] }, /outside the folders this call may read/],
  ])('%s', async (_, folder, args, message) => {
    const { client } = await clientFor(folder());
    const mark = sim.requests.length;
    const r = await call(client, 'kimi_review', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
    expect(sim.requests.length).toBe(mark);
  });

  it('a root inside a bigger repository: only its changes are sent', async () => {
    const repo = gitRepo({ 'app/a.ts': 'a\n', 'other/b.ts': 'b\n' });
    repo.write({ 'app/a.ts': 'a2\n', 'other/b.ts': 'CANARY-review-other\n', 'other/new.ts': 'CANARY-review-other\n' });
    const { client } = await clientFor(join(repo.dir, 'app'));
    const mark = sim.requests.length;
    sim.script({ content: '{"findings": [], "summary": "fine"}' });
    const r = await call(client, 'kimi_review', { model: 'kimi-k3' });
    expect(out(r).files).toEqual(['a.ts']);
    expect(JSON.stringify(sim.requests.slice(mark))).not.toContain('CANARY');
    expect(textOf(r)).toMatch(/^No findings in the working tree against HEAD \(1 file\(s\)\):\n\nfine/);
  });
});

describe("the diff sized to the model's window", () => {
  /** 40 one-line changes 30 lines apart: ten lines of context cost far more than three. */
  function spreadRepo() {
    const lines = Array.from({ length: 1300 }, (_, i) => `export const value${i} = compute(${i}, "padding text for the line");`);
    const repo = gitRepo({ 'src/big.ts': `${lines.join('\n')}\n`, 'src/small.ts': 'a\n' });
    for (let i = 15; i < lines.length; i += 32) lines[i] = `export const value${i} = changed(${i});`;
    repo.write({ 'src/big.ts': `${lines.join('\n')}\n`, 'src/small.ts': 'b\n' });
    return repo;
  }

  /** kimi-k3 (text only on RunAPI) with a window of `room` tokens for the diff. */
  function contextWithRoom(room: number) {
    const catalog = loadCatalog(ROOT);
    const env = runapi();
    const settings = resolveSettings(catalog, env);
    const k3 = catalog.models.find((m) => m.id === 'kimi-k3')!;
    const window = Math.round(room) + 32_768 + estimateTextTokens(reviewInstructions({}, false)) + 200;
    return { catalog, env, settings: { ...settings, model: { ...k3, context_window: window } } };
  }

  const tokensAt = async (folder: string, context: number) => {
    const change = await loadChange({}, { folders: [folder], from: 'test' }, 1 << 20);
    return (await change.diff(context)).reduce((n, d) => n + estimateTextTokens(d.diff), 0);
  };
  const roots = (folder: string) => async () => ({ folders: [folder], from: 'the test repository' });

  it('sends fewer context lines when ten do not fit, and says so', async () => {
    const repo = spreadRepo();
    const [ten, three] = [await tokensAt(repo.dir, 10), await tokensAt(repo.dir, 3)];
    expect(ten).toBeGreaterThan(three * 2);
    const mark = sim.requests.length;
    sim.script({ content: '{"findings": [], "summary": "ok"}' });
    const r = await runReview(contextWithRoom((0.9 * (ten + three)) / 2), {}, { signal: new AbortController().signal, roots: roots(repo.dir) });
    expect(r.notes.join('\n')).toMatch(/sent with 3 lines of context around each change \(not 10\)/);
    const sent = chatBodies(mark)[0]!.messages.at(-1)!.content;
    expect(sent).toContain('@@ -13,7 +13,7 @@');
  });

  it('too large even without context: refused before sending, naming the largest files and what to do', async () => {
    const repo = spreadRepo();
    const none = await tokensAt(repo.dir, 0);
    const mark = sim.requests.length;
    const refused = runReview(contextWithRoom(none / 2), {}, { signal: new AbortController().signal, roots: roots(repo.dir) });
    await expect(refused).rejects.toThrow(/^The diff is about \d+ tokens even with 0 lines of context, too large to review in kimi-k3's \d+-token window\. Nothing was sent\. Largest files: src\/big\.ts ~\d+, src\/small\.ts ~\d+ tokens\. Limit the review with files/);
    expect(sim.requests.length).toBe(mark);
  });
});
