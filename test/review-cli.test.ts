/**
 * `kimi-mcp review`, the gate from the shell and CI, and the Claude Code stop-time gate
 * (hooks/review-gate.mjs): the built CLI against the Kimi simulator in fixture repositories.
 * Exit codes are the contract: 0 passed (or no changes), 1 a finding at or above --fail-on,
 * 2 the review could not run; a refusal sends nothing.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { annotation, untrustedBlock } from '../src/cli/review-format.js';
import type { Finding } from '../src/review/types.js';
import { gitRepo } from './helpers/git-repo.js';
import { ROOT } from './helpers/mcp.js';
import { runProcess } from './helpers/process.js';
import { runCli } from './helpers/run-cli.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-review-cli-5d1e2f3a4b';
const sim = simulatorForFile({ apiKey: KEY });

const upstream = () => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MODEL: 'kimi-k2.6' });
const chats = () => sim.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

const medium: Finding = { severity: 'medium', file: 'src/retry.ts', line: 3, title: 'No backoff', detail: 'Retries at once, forever.', suggestion: 'Wait 2^n seconds.', confidence: 0.8 };
const low: Finding = { severity: 'low', file: 'src/retry.ts', line: 1, title: 'Name', detail: 'Unclear name.', confidence: 0.4 };
const reply = (findings: Finding[], summary = 'The retry loop needs a backoff.') => JSON.stringify({ findings, summary });

/** A repository with one commit and an untracked retry.ts (the "working" target); its folder. */
function changedRepo(): string {
  const repo = gitRepo({ 'README.md': '# fixture\n' });
  repo.write({ 'retry.ts': 'export function retry() {\n  for (;;) call();\n}\n' });
  return repo.dir;
}

describe('kimi-mcp review', () => {
  it('exits 1 exactly when a finding is at or above --fail-on (default none: 0)', async () => {
    const repo = changedRepo();
    const levels = ['critical', 'high', 'medium', 'low', 'none', undefined] as const;
    sim.script(...levels.map(() => ({ content: reply([low, medium]) })));
    const runs = await Promise.all(levels.map((level) => runCli(['review', ...(level ? ['--fail-on', level] : [])], upstream(), { cwd: repo })));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(runs[2]!.stderr).toContain('1 finding at or above medium: failing (exit 1)');
    expect(runs[3]!.stderr).toContain('2 findings at or above low: failing (exit 1)');
  });

  it('prints findings most severe first, one line each with file:line, then the summary and cost', async () => {
    const repo = changedRepo();
    sim.script({ content: reply([low, medium]) });
    const r = await runCli(['review'], upstream(), { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('medium   src/retry.ts:3  No backoff: Retries at once, forever. → fix: Wait 2^n seconds. (confidence 0.8)');
    expect(lines[1]).toBe('low      src/retry.ts:1  Name: Unclear name. (confidence 0.4)');
    expect(lines).toContain('The retry loop needs a backoff.');
    expect(lines.at(-1)).toMatch(/^kimi-k2\.6 on runapi reviewed working tree against HEAD \(1 file\): 2 findings \(1 medium, 1 low\), \d+ in \+ \d+ out tokens, \$[\d.]+/);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('--json is one JSON document: the review result', async () => {
    const repo = changedRepo();
    sim.script({ content: reply([medium]) });
    const r = await runCli(['review', '--json', '--fail-on', 'high'], upstream(), { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { findings: Finding[]; summary: string; files: string[]; cost_usd: number };
    expect(result.findings).toEqual([medium]);
    expect(result.files).toEqual(['retry.ts']);
    expect(result.cost_usd).toBeGreaterThan(0);
  });

  it('--format github: workflow-command annotations, escaped, and the model\'s free text cannot issue commands', async () => {
    const repo = changedRepo();
    const tricky: Finding = { severity: 'high', file: 'src/a,b:c.ts', line: 7, title: '100% wrong: a, b', detail: 'Line one\nline two', confidence: 1 };
    sim.script({ content: reply([low, tricky, medium], 'Fine.\n::error file=x::forged') });
    const r = await runCli(['review', '--format', 'github'], upstream(), { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      '::error file=src/a%2Cb%3Ac.ts,line=7,title=Kimi (high)%3A 100%25 wrong%3A a%2C b::Line one%0Aline two%0A%0A(confidence 1)',
      '::warning file=src/retry.ts,line=3,title=Kimi (medium)%3A No backoff::Retries at once, forever.%0A%0ASuggestion: Wait 2^n seconds.%0A%0A(confidence 0.8)',
      '::notice file=src/retry.ts,line=1,title=Kimi (low)%3A Name::Unclear name.%0A%0A(confidence 0.4)',
    ]);
    // The summary sits between ::stop-commands::<token> and ::<token>::, so its "::error" is text.
    const stop = lines.findIndex((l) => l.startsWith('::stop-commands::'));
    const token = lines[stop]!.slice('::stop-commands::'.length);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(lines.slice(stop + 1, stop + 4)).toEqual(['Fine.', '::error file=x::forged', `::${token}::`]);
  });

  it('an unreadable reply is printed whole; with --fail-on it cannot pass the gate (2), without it passes', async () => {
    const repo = changedRepo();
    const prose = 'I looked at it and it seems mostly fine, though the loop worries me.';
    sim.script({ content: prose }, { content: prose });
    const gated = await runCli(['review', '--fail-on', 'high'], upstream(), { cwd: repo });
    expect(gated.code).toBe(2);
    expect(gated.stdout).toContain(prose);
    expect(gated.stderr).toContain('could not be read as findings, so --fail-on high cannot be checked');
    const plain = await runCli(['review'], upstream(), { cwd: repo });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(prose);
  });

  it('--skip-unchanged: a change that passed is not reviewed (nor paid for) again at that --fail-on; a stricter level, a failed review or a changed tree is', async () => {
    const repo = changedRepo();
    const state = tempDir('kimi-gate-state-');
    const env = { ...upstream(), KIMI_MCP_STATE_DIR: state };
    const gate = (level: string) => runCli(['review', '--fail-on', level, '--skip-unchanged'], env, { cwd: repo });
    sim.script({ content: reply([low]) });
    expect((await gate('medium')).code).toBe(0);
    const sent = chats();
    const again = await gate('medium');
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('unchanged since a review that passed at --fail-on medium: not reviewed again');
    expect(chats()).toBe(sent);
    const [mark] = readdirSync(join(state, 'review-gate'));
    expect(statSync(join(state, 'review-gate', mark!)).mode & 0o777).toBe(0o600);

    sim.script({ content: reply([low]) }, { content: reply([low]) });
    expect((await gate('low')).code).toBe(1);
    expect((await gate('low')).code).toBe(1); // a failed review is not remembered
    expect(chats()).toBe(sent + 2);

    writeFileSync(join(repo, 'retry.ts'), 'export function retry() {\n  return call();\n}\n');
    sim.script({ content: reply([]) });
    expect((await gate('medium')).code).toBe(0);
    expect(chats()).toBe(sent + 3);
  });

  it('no changes: exit 0 with a message on stderr, so an empty commit is not blocked; nothing sent', async () => {
    const repo = gitRepo({ 'README.md': '# fixture\n' }).dir;
    const before = chats();
    const r = await runCli(['review', '--target', 'staged', '--fail-on', 'low'], upstream(), { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/No changes to review/);
    const json = await runCli(['review', '--json'], upstream(), { cwd: repo });
    expect(JSON.parse(json.stdout)).toMatchObject({ findings: [] });
    expect(chats()).toBe(before);
  });

  it('exit 2, nothing sent: git missing, not a repository, no key, a bad option', async () => {
    const repo = changedRepo();
    const before = chats();
    const noGit = await runCli(['review'], { ...upstream(), PATH: tempDir('kimi-empty-path-') }, { cwd: repo });
    expect(noGit.code).toBe(2);
    expect(noGit.stderr).toMatch(/git is not installed/);
    const notRepo = await runCli(['review', '--fail-on', 'high'], upstream(), { cwd: tempDir('kimi-not-repo-') });
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toMatch(/not in a git repository/);
    const noKey = await runCli(['review'], { ...upstream(), RUNAPI_KEY: undefined }, { cwd: repo });
    expect(noKey.code).toBe(2);
    const badLevel = await runCli(['review', '--fail-on', 'severe'], upstream(), { cwd: repo });
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toContain('--fail-on takes critical, high, medium, low or none, not "severe".');
    const badFormat = await runCli(['review', '--format', 'sarif'], upstream(), { cwd: repo });
    expect(badFormat.code).toBe(2);
    const positional = await runCli(['review', 'staged'], upstream(), { cwd: repo });
    expect(positional.code).toBe(2);
    expect(positional.stderr).toMatch(/--target/);
    expect(chats()).toBe(before);
  });

  it('exit 2 when the host fails; the text that arrived before the failure is printed, not lost', async () => {
    const repo = changedRepo();
    sim.script({ status: 401, errorMessage: 'Invalid Authentication' });
    const refused = await runCli(['review', '--fail-on', 'high'], upstream(), { cwd: repo });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/review did not finish \(exit 2\)/);
    sim.script({ content: 'The loop in retry.ts never waits between attempts, so', chunkSize: 10, resetAfterChunks: 3 });
    const cut = await runCli(['review', '--fail-on', 'high'], upstream(), { cwd: repo });
    expect(cut.code).toBe(2);
    expect(cut.stdout).toContain('The loop in retry.ts ');
  });
});

describe('GitHub annotation escaping', () => {
  it('escapes %, CR and LF in the message, and also : and , in properties; a finding on no line has no line=', () => {
    const f: Finding = { severity: 'critical', file: 'a%b.ts', line: 0, title: 'x\r\ny', detail: '50%\r\ndone: yes, no', confidence: 0.5 };
    expect(annotation(f)).toBe('::error file=a%25b.ts,title=Kimi (critical)%3A x%0D%0Ay::50%25%0D%0Adone: yes, no%0A%0A(confidence 0.5)');
    expect(untrustedBlock('a')).toMatch(/^::stop-commands::([0-9a-f]{32})\na\n::\1::\n$/);
  });
});

describe('Claude Code stop-time gate (hooks/review-gate.mjs)', () => {
  const gate = (env: Record<string, string | undefined>, input: Record<string, unknown>) =>
    runProcess(process.execPath, [join(ROOT, 'hooks/review-gate.mjs')], {
      env: { ...upstream(), CLAUDE_PLUGIN_ROOT: ROOT, ...env },
      input: JSON.stringify({ session_id: 's', transcript_path: '/dev/null', hook_event_name: 'Stop', stop_hook_active: false, ...input }),
    });
  const high: Finding = { ...medium, severity: 'high', title: 'Unbounded retry' };

  it('is off by default: no review, no request, Claude stops', async () => {
    const repo = changedRepo();
    const before = chats();
    const r = await gate({}, { cwd: repo });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(chats()).toBe(before);
  });

  it('on: a finding at or above the level blocks the stop with the findings as the reason; below it, Claude stops', async () => {
    const repo = changedRepo();
    sim.script({ content: reply([high, low]) }, { content: reply([medium]) });
    const blocked = await gate({ KIMI_MCP_REVIEW_GATE: 'high' }, { cwd: repo });
    expect(blocked.code, blocked.stderr).toBe(0);
    const decision = JSON.parse(blocked.stdout) as { decision: string; reason: string };
    expect(decision.decision).toBe('block');
    expect(decision.reason).toMatch(/found issues at or above "high".*\n\nhigh {5}src\/retry\.ts:3 {2}Unbounded retry/);
    const passed = await gate({ KIMI_MCP_REVIEW_GATE: 'high' }, { cwd: repo });
    expect(passed).toMatchObject({ code: 0, stdout: '' });
  });

  it('lets Claude stop while it is already continuing for a stop hook (stop_hook_active), and on its own failure', async () => {
    const repo = changedRepo();
    const before = chats();
    const active = await gate({ KIMI_MCP_REVIEW_GATE: 'low' }, { cwd: repo, stop_hook_active: true });
    expect(active).toMatchObject({ code: 0, stdout: '' });
    const noKey = await gate({ KIMI_MCP_REVIEW_GATE: 'low', RUNAPI_KEY: undefined }, { cwd: repo });
    expect(noKey).toMatchObject({ code: 0, stdout: '' });
    expect(noKey.stderr).toMatch(/review could not run \(exit 2\); not blocking/);
    expect(chats()).toBe(before);
  });
});
