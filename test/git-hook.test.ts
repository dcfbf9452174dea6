/**
 * `kimi-mcp install git-hook`: the hook git runs on a real `git commit` / `git push`, chained to
 * the hook that was there (arguments, stdin, its failure), idempotent, and undone by uninstall.
 * Most cases start a stand-in for kimi-mcp (a script that records its arguments and exits as told)
 * so they test the hook itself; the last ones run the real CLI against the simulator.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAINED_SUFFIX, hookScript, installGitHook, MARKER, uninstallGitHook } from '../src/install/git-hook.js';
import type { GitHookName } from '../src/install/git-hook.js';
import { gitRepo } from './helpers/git-repo.js';
import { runProcess } from './helpers/process.js';
import { runCli } from './helpers/run-cli.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';
import { underUmask } from './helpers/umask.js';

underUmask();

/** What `git commit` and `git push` run with: a fixed identity, no user or system config. */
const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: tempDir('kimi-hook-home-'),
  KIMI_MCP_STATE_DIR: process.env.KIMI_MCP_STATE_DIR,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
};

/** A repository with one commit; its folder. */
const newRepo = () => gitRepo({ 'README.md': '# fixture\n' }).dir;
const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });

/** A stand-in for kimi-mcp: appends its arguments to $FAKE_LOG and exits with $FAKE_EXIT. */
function fakeKimi(): { command: string; args: string[] } {
  const script = join(tempDir('kimi-fake-'), 'fake-kimi.sh');
  writeFileSync(script, '#!/bin/sh\necho "kimi $*" >> "$FAKE_LOG"\nexit "${FAKE_EXIT:-0}"\n');
  return { command: '/bin/sh', args: [script] };
}

/** A hook another tool left: records its arguments and stdin in $FAKE_LOG, exits with $OLD_EXIT. */
const OLD_HOOK = '#!/bin/sh\necho "old $*" >> "$FAKE_LOG"\ncat >> "$FAKE_LOG"\nexit "${OLD_EXIT:-0}"\n';

function commit(repo: string, env: Record<string, string>, message = 'change') {
  writeFileSync(join(repo, 'a.txt'), `${message} ${Math.random()}\n`);
  git(repo, ['add', 'a.txt']);
  return runProcess('git', ['commit', '-m', message], { cwd: repo, env: { ...GIT_ENV, ...env } });
}

const head = (repo: string) => git(repo, ['rev-parse', 'HEAD']).trim();

describe('install git-hook (the hook itself)', () => {
  const launch = fakeKimi();
  const install = (cwd: string, hook: GitHookName = 'pre-commit', extra: { failOn?: string; strict?: boolean } = {}) =>
    installGitHook({ cwd, hook, failOn: extra.failOn ?? 'high', strict: extra.strict ?? false, launch });

  it('runs the review of the staged changes before each commit: exit 0 commits, exit 1 blocks', async () => {
    const repo = newRepo();
    const log = join(tempDir('kimi-hook-log-'), 'calls.log');
    const done = await install(repo);
    expect(done.join('\n')).toMatch(/installed the review gate in .*pre-commit/);
    const hook = join(repo, '.git/hooks/pre-commit');
    // git runs only an executable hook.
    expect(statSync(hook).mode & 0o777).toBe(0o755);

    const passed = await commit(repo, { FAKE_LOG: log, FAKE_EXIT: '0' });
    expect(passed.code, passed.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('kimi review --target staged --fail-on high\n');

    const before = head(repo);
    const blocked = await commit(repo, { FAKE_LOG: log, FAKE_EXIT: '1' });
    expect(blocked.code).not.toBe(0);
    expect(head(repo)).toBe(before);
  });

  it('does not block when the review cannot run (exit 2, a missing kimi-mcp) unless installed with --strict', async () => {
    const repo = newRepo();
    const log = join(tempDir('kimi-hook-log-'), 'calls.log');
    await install(repo);
    const lenient = await commit(repo, { FAKE_LOG: log, FAKE_EXIT: '2' });
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stderr).toMatch(/review could not run \(exit 2.*\n.*not blocking; install with --strict/);

    await install(repo, 'pre-commit', { strict: true });
    const before = head(repo);
    const strict = await commit(repo, { FAKE_LOG: log, FAKE_EXIT: '2' });
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toMatch(/blocking, as --strict asks \(git commit --no-verify skips the hook\)/);
    expect(head(repo)).toBe(before);

    // kimi-mcp removed since (an npx cache cleared): a warning, not a blocked repository.
    const gone = join(tempDir('kimi-gone-'), 'cli.js');
    await installGitHook({ cwd: repo, hook: 'pre-commit', failOn: 'high', strict: false, launch: { command: process.execPath, args: [gone] } });
    const missing = await commit(repo, { FAKE_LOG: log });
    expect(missing.code, missing.stderr).toBe(0);
    expect(missing.stderr).toContain(`${gone} is gone; run kimi-mcp install git-hook --hook pre-commit again`);
  });

  it('keeps an existing hook and runs it first; its failure stops the commit before any review', async () => {
    const repo = newRepo();
    const log = join(tempDir('kimi-hook-log-'), 'calls.log');
    const hook = join(repo, '.git/hooks/pre-commit');
    writeFileSync(hook, OLD_HOOK, { mode: 0o755 });
    const done = await install(repo);
    expect(done[0]).toContain(`kept the existing pre-commit hook as ${hook}${CHAINED_SUFFIX}`);
    expect(readFileSync(`${hook}${CHAINED_SUFFIX}`, 'utf8')).toBe(OLD_HOOK);

    const passed = await commit(repo, { FAKE_LOG: log });
    expect(passed.code, passed.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('old \nkimi review --target staged --fail-on high\n');

    writeFileSync(log, '');
    const blocked = await commit(repo, { FAKE_LOG: log, OLD_EXIT: '3' });
    expect(blocked.code).not.toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('old \n'); // the review never ran
  });

  it('pre-push: the chained hook gets git\'s arguments and the pushed refs on stdin; the review covers the branch', async () => {
    const repo = newRepo();
    const remote = tempDir('kimi-remote-');
    git(remote, ['init', '--bare', '-q']);
    git(repo, ['remote', 'add', 'origin', remote]);
    const log = join(tempDir('kimi-hook-log-'), 'calls.log');
    writeFileSync(join(repo, '.git/hooks/pre-push'), OLD_HOOK, { mode: 0o755 });
    await install(repo, 'pre-push');
    const pushed = await runProcess('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env: { ...GIT_ENV, FAKE_LOG: log } });
    expect(pushed.code, pushed.stderr).toBe(0);
    const sha = head(repo);
    expect(readFileSync(log, 'utf8')).toBe(`old origin ${remote}\nrefs/heads/main ${sha} refs/heads/main ${'0'.repeat(40)}\nkimi review --target branch --fail-on high\n`);
  });

  it('is idempotent, updates its settings in place, and uninstall puts the original hook back as it was', async () => {
    const repo = newRepo();
    const hook = join(repo, '.git/hooks/pre-commit');
    writeFileSync(hook, OLD_HOOK, { mode: 0o750 });
    await install(repo);
    const again = await install(repo);
    expect(again).toEqual([`${hook} is already kimi-mcp's review gate; nothing to change`]);
    expect(readFileSync(`${hook}${CHAINED_SUFFIX}`, 'utf8')).toBe(OLD_HOOK); // not chained to itself

    expect(await install(repo, 'pre-commit', { failOn: 'medium' })).toEqual([`updated the review gate in ${hook}`]);
    expect(readFileSync(hook, 'utf8')).toContain('--fail-on medium');

    expect(await uninstallGitHook({ cwd: repo, hook: 'pre-commit' })).toEqual([`removed the review gate; ${hook} is the hook that was there before`]);
    expect(readFileSync(hook, 'utf8')).toBe(OLD_HOOK);
    expect(statSync(hook).mode & 0o777).toBe(0o750);
    expect(existsSync(`${hook}${CHAINED_SUFFIX}`)).toBe(false);
    // Another tool's hook is not ours to remove.
    expect(await uninstallGitHook({ cwd: repo, hook: 'pre-commit' })).toEqual([`${hook} is not kimi-mcp's review gate; left as it is`]);
    expect(readFileSync(hook, 'utf8')).toBe(OLD_HOOK);
  });

  it('uninstall without an earlier hook removes ours; a foreign hook beside a leftover chained one is refused', async () => {
    const repo = newRepo();
    const hook = join(repo, '.git/hooks/pre-commit');
    await install(repo);
    expect(await uninstallGitHook({ cwd: repo, hook: 'pre-commit' })).toEqual([`removed the review gate ${hook}`]);
    expect(existsSync(hook)).toBe(false);

    writeFileSync(`${hook}${CHAINED_SUFFIX}`, OLD_HOOK, { mode: 0o755 });
    writeFileSync(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await expect(install(repo)).rejects.toThrow(/already exists .* Move one of them away/);
    expect(readFileSync(`${hook}${CHAINED_SUFFIX}`, 'utf8')).toBe(OLD_HOOK);
  });

  it('goes where git looks for hooks (core.hooksPath), and refuses outside a repository', async () => {
    const repo = newRepo();
    git(repo, ['config', 'core.hooksPath', 'team-hooks']);
    await install(repo);
    expect(readFileSync(join(repo, 'team-hooks/pre-commit'), 'utf8')).toContain(MARKER);
    await expect(install(tempDir('kimi-not-repo-'))).rejects.toThrow(/is not in a git repository: run kimi-mcp install git-hook inside the repository/);
  });

  it('puts nothing but quoted paths and a checked severity into the script', () => {
    const script = hookScript({ hook: 'pre-commit', failOn: 'low', strict: false, launch: { command: "/opt/it's/node", args: ['/x/$(touch pwned)/cli.js'] } });
    expect(script).toContain(`'/opt/it'\\''s/node' '/x/$(touch pwned)/cli.js' review --target staged --fail-on low </dev/null`);
    expect(() => hookScript({ hook: 'pre-commit', failOn: 'high; rm -rf ~', strict: false, launch })).toThrow(/--fail-on takes/);
  });
});

describe('install git-hook (the real CLI against the simulator)', () => {
  const KEY = 'sk-hook-test-0123456789';
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
  });
  afterAll(() => sim.close());
  const finding = (severity: string) =>
    JSON.stringify({ findings: [{ severity, file: 'a.txt', line: 1, title: `A ${severity} problem`, detail: 'It breaks.', confidence: 0.9 }], summary: 'One problem.' });

  it('blocks a real git commit on a high finding and lets a low one through; uninstall via the CLI', async () => {
    const repo = newRepo();
    const env = { RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MODEL: 'kimi-k2.6' };
    const preview = await runCli(['install', 'git-hook', '--print'], GIT_ENV, { cwd: repo });
    expect(preview.stdout).toContain(`${MARKER} (kimi-mcp install git-hook --hook pre-commit --fail-on high)`);
    expect(existsSync(join(repo, '.git/hooks/pre-commit'))).toBe(false); // a preview writes nothing
    const installed = await runCli(['install', 'git-hook', '--fail-on', 'high'], GIT_ENV, { cwd: repo });
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/installed the review gate .* fails on high or worse/);
    // A file name that would run a command if anything built a shell line from it.
    writeFileSync(join(repo, '$(touch pwned)'), 'x\n');
    git(repo, ['add', '--', '$(touch pwned)']);

    const before = head(repo);
    sim.script({ content: finding('high') });
    const blocked = await commit(repo, env);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toMatch(/high\s+a\.txt:1 {2}A high problem/);
    expect(head(repo)).toBe(before);

    sim.script({ content: finding('low') });
    const passed = await commit(repo, env);
    expect(passed.code, passed.stderr).toBe(0);
    expect(existsSync(join(repo, 'pwned'))).toBe(false);

    // git commit -a stages into a temporary index: the review sees that change, not the old index.
    writeFileSync(join(repo, 'a.txt'), 'changed without git add\n');
    sim.script({ content: finding('critical') });
    const all = await runProcess('git', ['commit', '-a', '-m', 'all'], { cwd: repo, env: { ...GIT_ENV, ...env } });
    expect(all.code).not.toBe(0);
    expect(all.stdout + all.stderr).toMatch(/critical\s+a\.txt:1/);
    expect(JSON.stringify(sim.requests.at(-1)?.body)).toContain('changed without git add');

    const removed = await runCli(['uninstall', 'git-hook'], GIT_ENV, { cwd: repo });
    expect(removed.stdout).toMatch(/removed the review gate/);
  });
});
