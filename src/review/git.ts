/**
 * git for a review: run with execFile and an argument array (no shell, so no file name or ref is
 * ever read as a command), read-only commands only, and hardened against the repository it looks
 * at. A repository's own config can name programs git would run: an fsmonitor hook, an external
 * diff, textconv and clean filters, a pager. Each is switched off on the command line, which
 * beats every config file. GIT_OPTIONAL_LOCKS=0 keeps commands from taking the index lock (the
 * diffs themselves come from plumbing that never writes the index, see diff.ts), and GIT_*
 * variables the server inherited (GIT_DIR, GIT_INDEX_FILE…) cannot point git elsewhere. A
 * cancelled review ends the git process it is waiting for.
 */
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/** A diff larger than this is refused by git's side too: nothing that big fits any window. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Options that beat any config file: no pager, no fsmonitor hook, no hooks, no external diff. */
const HARDENING = ['--no-pager', '-c', 'core.fsmonitor=', '-c', 'core.hooksPath=/dev/null', '-c', 'diff.external='];

/** The environment git runs in: ours without the GIT_* that would change which repository or index it reads. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('GIT_')) env[name] = value;
  // A pre-commit hook's `git commit -a` stages into a temporary index; our hook names it (src/install/git-hook.ts).
  const index = process.env.KIMI_MCP_GIT_INDEX_FILE;
  // LC_ALL=C: git's messages in English, which the refusals below recognise.
  return { ...env, ...(index ? { GIT_INDEX_FILE: index } : {}), GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
}

class GitFailed extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`git ${args.join(' ')} failed: ${stderr.trim() || `exit ${exitCode}`}`);
  }
}

/** One git process with fixed options in front of `args`; resolves with stdout, GitFailed on a non-zero exit. */
function runGit(cwd: string, args: readonly string[], extra: readonly string[] = [], signal?: AbortSignal): Promise<string> {
  const full = [...HARDENING, ...extra, ...args];
  return new Promise((resolve, reject) => {
    execFile('git', full, { cwd, env: gitEnv(), maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', windowsHide: true, ...(signal ? { signal } : {}) }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if (signal?.aborted) return reject(new UsageError('The review was cancelled while git was reading the change; nothing was sent.'));
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new UsageError('git is not installed (or not on the PATH of the kimi-mcp process), so there is no change to review. Install git and try again.'));
      if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new UsageError(`The diff is larger than ${MAX_OUTPUT_BYTES / 1024 / 1024} MB, far more than any model's window. Limit it with files, or pick a narrower target.`));
      reject(new GitFailed(args, stderr, typeof code === 'number' ? code : null));
    });
  });
}

/** A refusal when `ref` could be read as an option: git would take `--output=x` as one. */
function checkRefText(ref: string, what: string): void {
  if (!ref.trim()) throw new UsageError(`${what} is empty; name a branch, tag or commit.`);
  if (ref.startsWith('-')) throw new UsageError(`${what} "${ref}" starts with "-", which git would read as an option; name a branch, tag or commit.`);
  if (/[\0\n\r]/.test(ref)) throw new UsageError(`${what} holds a control character; name a branch, tag or commit.`);
}

/**
 * A work tree opened for reading. `git(...)` runs a read-only command in its top folder, with the
 * commands of every filter driver the repository's own config defines blanked: git diff runs
 * clean filters on the work-tree files it compares. Drivers from the user's global config (git
 * LFS) are the user's own and stay, so their files do not all look changed.
 */
export class Repository {
  private constructor(
    /** The work tree's top folder (a real path). */
    readonly top: string,
    private readonly noFilters: readonly string[],
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The repository whose work tree holds `folder`; a UsageError naming the folder when there is none. */
  static async open(folder: string, signal?: AbortSignal): Promise<Repository> {
    let top: string;
    try {
      top = (await runGit(folder, ['rev-parse', '--show-toplevel'], [], signal)).trim();
    } catch (e) {
      if (!(e instanceof GitFailed)) throw e;
      if (/not a git repository/i.test(e.stderr)) throw new UsageError(`${folder} is not in a git repository, so there is no change to review. Run kimi_review in a git work tree, or review files with kimi_chat.`);
      throw new UsageError(`git cannot read the repository at ${folder}: ${e.stderr.trim() || e.message}`);
    }
    if (!top) throw new UsageError(`${folder} is inside a git folder but not in a work tree (a bare repository?), so there is no change to review.`);
    top = await realpath(top);
    const listed = await runGit(top, ['config', '-z', '--show-scope', '--name-only', '--get-regexp', '^filter\\.'], [], signal).catch((e: unknown) => {
      if (e instanceof GitFailed && e.exitCode === 1) return ''; // no filter configured
      throw e;
    });
    // Pairs of scope and name: "local\0filter.x.clean\0".
    const fields = listed.split('\0');
    const drivers = new Set<string>();
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'local' || fields[i] === 'worktree') drivers.add(fields[i + 1]!.replace(/\.[^.]+$/, ''));
    const noFilters = [...drivers].flatMap((d) => ['-c', `${d}.clean=`, '-c', `${d}.smudge=`, '-c', `${d}.process=`, '-c', `${d}.required=false`]);
    return new Repository(top, noFilters, signal);
  }

  /** A read-only git command in `cwd` (a folder of the work tree; its top by default). */
  git(args: readonly string[], cwd: string = this.top): Promise<string> {
    return runGit(cwd, args, this.noFilters, this.signal);
  }

  /** The commit `ref` names, as a full hash; a UsageError for a ref that names none. */
  async commit(ref: string, what: string): Promise<string> {
    checkRefText(ref, what);
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim();
    } catch (e) {
      if (e instanceof GitFailed) throw new UsageError(`${what} "${ref}" names no commit in ${this.top}; give a branch, tag or commit hash that exists (git log shows them).`);
      throw e;
    }
  }

  /** The commit `ref` names, or undefined when it names none (no error). */
  async tryCommit(ref: string): Promise<string | undefined> {
    return this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).then(
      (out) => out.trim() || undefined,
      () => undefined,
    );
  }

  /** The empty tree's id in this repository's hash: what a repository with no commit yet is compared with. */
  async emptyTree(): Promise<string> {
    return (await this.git(['hash-object', '-t', 'tree', '/dev/null'])).trim();
  }
}
