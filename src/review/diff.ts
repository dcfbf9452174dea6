/**
 * The change a review looks at: which repository (the work tree of the first root), which
 * target ("working", "staged", "branch", "commit:<ref>"), limited to the root folder and to
 * `files`, as a diff whose context lines can be narrowed until it fits the model's window.
 * Every refusal is a UsageError thrown before anything is sent.
 */
import { relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { AllowedFolders } from '../kimi/messages.js';
import { existingRoots, isInside, toPosix } from '../kimi/files/roots.js';
import { Repository } from './git.js';
import type { ReviewRequest } from './types.js';
import { newFiles } from './untracked.js';
import type { NewFile } from './untracked.js';
import { splitPatch } from './patch.js';
import type { FileDiff } from './patch.js';

/** Nothing to review: a refusal like the others, but a gate lets the commit through. */
export class NoChanges extends UsageError {}

export type { FileDiff };

/**
 * Options on every diff: git's own patch format whatever the config says, renames found, paths
 * relative to the folder under review (and nothing outside it).
 */
const PATCH_OPTIONS = ['-p', '--no-ext-diff', '--no-textconv', '--no-color', '--relative', '-M', '--src-prefix=a/', '--dst-prefix=b/'];

/**
 * The plumbing command comparing a range: diff-tree for two commits, diff-index for a commit
 * against the index or the work tree. Unlike `git diff`, neither refreshes (writes) the index.
 */
function diffCommand(range: Range): string[] {
  if (range.to) return ['diff-tree', '-r', range.from, range.to];
  return ['diff-index', ...(range.cached ? ['--cached'] : []), range.from];
}

/** What to compare: `from` against `to` (a commit), the index (`cached`), or the work tree (neither). */
interface Range {
  from: string;
  to?: string;
  cached?: boolean;
  /** Untracked files count too ("working"). */
  untracked?: boolean;
  /** The target in words: "working tree against HEAD". */
  words: string;
}

/** Context lines around each hunk by default: enough to see the code a change sits in. */
export const WIDEST_CONTEXT = 10;

export interface Change {
  /** The folder under review (the first root, real path); paths are relative to it. */
  folder: string;
  target: string;
  /** Changed files, relative to the folder under review, in git's order (untracked last). */
  files: string[];
  notes: string[];
  /** The change file by file, with `context` lines around each hunk. */
  diff(context: number): Promise<FileDiff[]>;
}

/** The folder under review: the first root that exists, as configured and as its real path. */
async function reviewFolder(allowed: AllowedFolders): Promise<{ given: string; real: string }> {
  const [first] = await existingRoots(allowed.folders, allowed.from);
  return first!;
}

/**
 * `files` as literal pathspecs relative to `folder` (the first root's real path; `given` is the
 * root as configured), each inside it. Checked lexically: git follows no symlink in a pathspec.
 */
function pathspecs(files: readonly string[] | undefined, folder: string, given: string, allowed: AllowedFolders): string[] {
  return (files ?? []).map((file) => {
    if (!file.trim()) throw new UsageError('files holds an empty path; name files or folders inside the repository, or leave files out.');
    const base = [folder, given].find((f) => isInside(resolve(f, file), f)) ?? folder;
    const place = resolve(base, file);
    if (!isInside(place, base)) {
      const inRoots = allowed.folders.some((root) => isInside(place, resolve(root)));
      throw new UsageError(inRoots
        ? `${file} is not in the folder under review (${folder}); kimi_review looks at the repository of the first root only. Name paths inside it.`
        : `${file} is outside the folders this call may read (${allowed.folders.join(', ')}: ${allowed.from}). Name paths inside ${folder}.`);
    }
    const rel = toPosix(relative(base, place));
    return `:(literal)${rel || '.'}`;
  });
}

/** The ref a "branch" review compares with when no base is given: origin's default branch, else main, else master. */
async function defaultBranch(repo: Repository): Promise<string> {
  const origin = await repo.git(['symbolic-ref', '-q', '--short', 'refs/remotes/origin/HEAD']).then((s) => s.trim(), () => '');
  for (const candidate of [origin, 'main', 'master'].filter(Boolean)) if (await repo.tryCommit(candidate)) return candidate;
  throw new UsageError(`${repo.top} has no default branch to compare with (no origin/HEAD, main or master); pass base with the branch to review against.`);
}

const short = (hash: string) => hash.slice(0, 7);

async function resolveRange(repo: Repository, req: ReviewRequest): Promise<Range> {
  const target = req.target ?? 'working';
  if (req.base !== undefined && target !== 'branch') throw new UsageError(`base is for target "branch" only, not "${target}"; drop base, or set target "branch".`);
  const head = await repo.tryCommit('HEAD');
  if (target === 'working') return head ? { from: head, untracked: true, words: 'working tree against HEAD' } : { from: await repo.emptyTree(), untracked: true, words: 'working tree (no commit yet)' };
  if (target === 'staged') return head ? { from: head, cached: true, words: 'staged changes against HEAD' } : { from: await repo.emptyTree(), cached: true, words: 'staged changes (no commit yet)' };
  if (target === 'branch') {
    if (!head) throw new UsageError(`${repo.top} has no commit yet, so there is no branch to review; use target "working" or "staged".`);
    const base = req.base ?? (await defaultBranch(repo));
    const baseCommit = await repo.commit(base, 'base');
    const mergeBase = (await repo.git(['merge-base', head, baseCommit]).catch(() => '')).trim();
    if (!mergeBase) throw new UsageError(`HEAD and ${base} share no history (no merge base); pass base with a branch this one grew from.`);
    return { from: mergeBase, to: head, words: `branch against ${base} (merge base ${short(mergeBase)})` };
  }
  if (target.startsWith('commit:')) {
    const ref = target.slice('commit:'.length);
    const commit = await repo.commit(ref, 'commit');
    const parent = await repo.tryCommit(`${commit}^1`);
    return { from: parent ?? (await repo.emptyTree()), to: commit, words: `commit ${short(commit)}${parent ? '' : ' (the first commit)'}` };
  }
  throw new UsageError(`target "${target}" is not one of: "working" (default: uncommitted changes), "staged", "branch", "commit:<ref>".`);
}

/**
 * The change `req` asks for in the repository of the first allowed root. Refuses, before
 * anything is sent: no repository, an unknown target or ref, and no change at all.
 */
export async function loadChange(req: ReviewRequest, allowed: AllowedFolders, maxFileBytes: number, signal?: AbortSignal): Promise<Change> {
  const root = await reviewFolder(allowed);
  const folder = root.real;
  const repository = await Repository.open(folder, signal);
  // A repository whose config points its work tree elsewhere must not widen the review past the roots.
  if (!isInside(folder, repository.top)) throw new UsageError(`The repository of ${folder} has its work tree at ${repository.top}, outside that folder; kimi_review reviews only a work tree that holds the folder.`);
  const range = await resolveRange(repository, req);
  const specs = pathspecs(req.files, folder, root.given, allowed);
  const git = (args: string[]) => repository.git(args, folder);
  const [command, ...revisions] = diffCommand(range);
  // Each width is asked of git once: sizing may come back to one it already tried.
  const patches = new Map<number, Promise<FileDiff[]>>();
  const patch = (context: number) => {
    let found = patches.get(context);
    if (!found) patches.set(context, (found = git([command!, ...PATCH_OPTIONS, `-U${context}`, ...revisions, '--', ...specs]).then(splitPatch)));
    return found;
  };
  // The widest diff is read now: its files are the change's, and the review most often sends it.
  const widest = await patch(WIDEST_CONTEXT);
  const notes: string[] = [];
  let added: NewFile[] = [];
  if (range.untracked) {
    const untracked = (await git(['ls-files', '--others', '--exclude-standard', '-z', '--', ...specs])).split('\0').filter(Boolean);
    added = await newFiles(folder, untracked, allowed, maxFileBytes);
    const skipped = added.filter((f) => f.skipped);
    if (skipped.length) notes.push(`Untracked files left out: ${skipped.map((f) => `${f.path} (${f.skipped})`).join(', ')}.`);
  }
  const sent = added.filter((f) => f.diff);
  if (!widest.length && !sent.length) {
    const limited = specs.length ? ` in ${req.files!.join(', ')}` : folder !== repository.top ? ` under ${folder}` : '';
    throw new NoChanges(`No changes to review: the ${range.words}${limited} shows no difference. Nothing was sent. Pick another target ("staged", "branch", "commit:HEAD") or other files.`);
  }
  return {
    folder,
    target: range.words,
    files: [...widest.map((d) => d.path), ...sent.map((f) => f.path)],
    notes,
    diff: async (context) => {
      const tracked = widest.length ? await patch(context) : widest;
      return [...tracked, ...sent.map((f) => ({ path: f.path, diff: f.diff! }))];
    },
  };
}
