/**
 * `kimi-mcp install git-hook`: Kimi's review as a git pre-commit or pre-push hook, chained to the
 * hook already there rather than replacing it. The existing hook is moved beside ours as
 * `<hook>.kimi-chained` and run first, with the same arguments and stdin (pre-push reads the refs
 * being pushed from it); its failure stops the commit as it always did. Uninstalling moves it back.
 *
 * The hook is a fixed POSIX sh script: the only text put into it is the command that starts
 * kimi-mcp (absolute paths, single-quoted) and a severity the CLI validated.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../errors.js';
import type { Launch } from './agents.js';
import { replaceFile } from '../state/write-file.js';

export const GIT_HOOKS = { 'pre-commit': 'staged', 'pre-push': 'branch' } as const;
export type GitHookName = keyof typeof GIT_HOOKS;

/** The line that tells our hook from anyone else's (install is idempotent, uninstall removes only ours). */
export const MARKER = '# kimi-mcp review gate';
export const CHAINED_SUFFIX = '.kimi-chained';

/**
 * Git runs a hook only when it is executable; 0755 is what git's own sample hooks have. The script
 * holds no secret (the key stays in the environment), so others may read it, as they may read
 * the repository it guards.
 */
const HOOK_MODE = 0o755;

export interface GitHookOptions {
  /** A folder inside the repository. */
  cwd: string;
  hook: GitHookName;
  /** A severity or "none", already validated. */
  failOn: string;
  /** Block the commit when the review cannot run (no key, no network); by default it warns and passes. */
  strict: boolean;
  /** How the hook starts kimi-mcp (what `install` would put in an agent's config). */
  launch: Launch;
}

export function parseHookName(value: string | undefined): GitHookName {
  if (value === undefined) return 'pre-commit';
  if (value in GIT_HOOKS) return value as GitHookName;
  throw new UsageError(`--hook takes ${Object.keys(GIT_HOOKS).join(' or ')}, not "${value}".`);
}

/** Single quotes for sh: nothing inside them is expanded; a quote itself is closed, escaped, reopened. */
const shQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The hook's text: the chained hook first, then the review, whose exit code 2 ("could not run") passes unless strict. */
export function hookScript(options: Pick<GitHookOptions, 'hook' | 'failOn' | 'strict' | 'launch'>): string {
  const { hook, failOn, strict, launch } = options;
  // The CLI validated it; this keeps the script safe whoever calls.
  if (!/^[a-z]+$/.test(failOn)) throw new UsageError(`--fail-on takes a severity or none, not "${failOn}".`);
  const command = [launch.command, ...launch.args].map(shQuote).join(' ');
  const skip = hook === 'pre-push' ? 'git push --no-verify' : 'git commit --no-verify';
  const outcome = strict ? `blocking, as --strict asks (${skip} skips the hook)` : 'not blocking; install with --strict to block instead';
  // Files the command needs: a kimi-mcp that was removed must not block every commit.
  const needed = [launch.command, ...launch.args].filter((part) => isAbsolute(part));
  const checks = needed.map((path) => `[ -e ${shQuote(path)} ] || kimi_cannot_run ${shQuote(`${path} is gone; run kimi-mcp install git-hook --hook ${hook} again`)}`);
  return `#!/bin/sh
${MARKER} (kimi-mcp install git-hook --hook ${hook} --fail-on ${failOn}${strict ? ' --strict' : ''}).
# Remove it with: kimi-mcp uninstall git-hook --hook ${hook} (the hook that was here before comes back).
# The hook that was here before runs first, with the same arguments and input; its failure stops here.
kimi_chained="$0${CHAINED_SUFFIX}"
if [ -x "$kimi_chained" ]; then
  "$kimi_chained" "$@" || exit $?
fi

kimi_cannot_run() {
  echo "kimi-mcp review gate: $1" >&2
  echo "kimi-mcp review gate: ${outcome}" >&2
  exit ${strict ? 1 : 0}
}
${checks.join('\n')}

# \`git commit -a\` and \`git commit <paths>\` stage into a temporary index named by GIT_INDEX_FILE;
# the review leaves inherited GIT_* alone, so it is handed over by name (absolute: the review runs elsewhere).
if [ -n "\${GIT_INDEX_FILE:-}" ]; then
  case "$GIT_INDEX_FILE" in
    /*) KIMI_MCP_GIT_INDEX_FILE="$GIT_INDEX_FILE" ;;
    *) KIMI_MCP_GIT_INDEX_FILE="$PWD/$GIT_INDEX_FILE" ;;
  esac
  export KIMI_MCP_GIT_INDEX_FILE
fi

# Exit 0: nothing at or above ${failOn}; 1: a finding that is; anything else: the review could not run.
${command} review --target ${GIT_HOOKS[hook]} --fail-on ${failOn} </dev/null
kimi_status=$?
case $kimi_status in
  0|1) exit $kimi_status ;;
esac
kimi_cannot_run "the review could not run (exit $kimi_status; see above)"
`;
}

const run = promisify(execFile);

/** The repository's hooks folder as git itself finds it (core.hooksPath respected). */
async function hooksFolder(cwd: string): Promise<string> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--git-path', 'hooks'], { cwd, windowsHide: true });
    return resolve(cwd, stdout.trim());
  } catch (e) {
    const error = e as NodeJS.ErrnoException & { stderr?: string };
    if (error.code === 'ENOENT') throw new UsageError('git is not installed (or not on the PATH): a git hook needs git. Install git and try again.');
    if (/not a git repository/i.test(error.stderr ?? '')) throw new UsageError(`${cwd} is not in a git repository: run kimi-mcp install git-hook inside the repository whose commits Kimi should review.`);
    throw new UsageError(`git cannot find the hooks folder of ${cwd}: ${(error.stderr ?? error.message).trim()}`);
  }
}

const isOurs = (path: string) => existsSync(path) && readFileSync(path, 'utf8').includes(MARKER);
const exists = (path: string) => existsSync(path) || isLink(path);
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Installs (or updates) our hook; returns what was done, in words. */
export async function installGitHook(options: GitHookOptions): Promise<string[]> {
  const folder = await hooksFolder(options.cwd);
  const path = resolve(folder, options.hook);
  const chained = `${path}${CHAINED_SUFFIX}`;
  const script = hookScript(options);
  const done: string[] = [];
  if (isOurs(path)) {
    if (readFileSync(path, 'utf8') === script) return [`${path} is already kimi-mcp's review gate; nothing to change`];
    replaceFile(path, script, HOOK_MODE);
    return [`updated the review gate in ${path}`];
  }
  if (exists(path)) {
    // A leftover from an earlier install would be overwritten: it may be the user's original hook.
    if (exists(chained)) throw new UsageError(`${chained} already exists (a hook kept by an earlier kimi-mcp install), and ${path} is not ours. Move one of them away, then run this again.`);
    renameSync(path, chained);
    done.push(`kept the existing ${options.hook} hook as ${chained}; it runs first`);
  }
  mkdirSync(folder, { recursive: true });
  replaceFile(path, script, HOOK_MODE);
  done.push(`installed the review gate in ${path}: ${options.hook} reviews ${GIT_HOOKS[options.hook] === 'staged' ? 'the staged changes' : 'the branch'} and fails on ${options.failOn === 'none' ? 'nothing (--fail-on none)' : `${options.failOn} or worse`}`);
  return done;
}

/** Removes our hook and puts back the one it chained to; another tool's hook is left alone. */
export async function uninstallGitHook(options: Pick<GitHookOptions, 'cwd' | 'hook'>): Promise<string[]> {
  const folder = await hooksFolder(options.cwd);
  const path = resolve(folder, options.hook);
  const chained = `${path}${CHAINED_SUFFIX}`;
  if (!isOurs(path)) return [exists(path) ? `${path} is not kimi-mcp's review gate; left as it is` : `no ${options.hook} hook in ${folder}; nothing to remove`];
  if (exists(chained)) {
    renameSync(chained, path); // replaces ours in one step: there is always a hook
    return [`removed the review gate; ${path} is the hook that was there before`];
  }
  rmSync(path);
  return [`removed the review gate ${path}`];
}
