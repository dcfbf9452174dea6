/**
 * The change a review sends, from fixture repositories made here: every target, the root folder
 * and `files` limits, untracked files, and git run without a shell against a hostile repository
 * (file names that look like commands or options, a config that names programs). Nothing here
 * reaches Kimi: loadChange is what runs before anything is sent.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChange } from '../src/review/diff.js';
import type { Change } from '../src/review/diff.js';
import type { ReviewRequest } from '../src/review/types.js';
import { gitRepo } from './helpers/git-repo.js';
import { tempDir } from './helpers/temp.js';

const MAX_FILE_BYTES = 64 * 1024;
const load = (folder: string, req: ReviewRequest = {}, folders: string[] = [folder]) => loadChange(req, { folders, from: 'the test roots' }, MAX_FILE_BYTES);
const diffText = async (change: Change, context = 10) => (await change.diff(context)).map((d) => d.diff).join('');

/** main with two commits, then every kind of uncommitted change. */
function workingRepo() {
  const repo = gitRepo({ '.gitignore': 'build/\n', 'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'export const b = 1;\n' });
  repo.commit('second', { 'src/c.ts': 'export const c = 1;\n' });
  repo.write({ 'src/a.ts': 'export const a = 2;\n', 'src/staged.ts': 'export const s = 1;\n', 'notes.md': '# new, untracked\n', 'build/out.js': 'ignored\n' });
  repo.git('add', 'src/staged.ts');
  return repo;
}

describe('targets', () => {
  it('"working" (the default): unstaged, staged and untracked files, .gitignore respected, untracked shown as new files', async () => {
    const repo = workingRepo();
    const change = await load(repo.dir);
    expect(change.target).toBe('working tree against HEAD');
    expect(change.files.sort()).toEqual(['notes.md', 'src/a.ts', 'src/staged.ts']);
    const text = await diffText(change);
    expect(text).toContain('-export const a = 1;\n+export const a = 2;');
    expect(text).toContain('diff --git a/notes.md b/notes.md\nnew file mode 100644\n--- /dev/null\n+++ b/notes.md\n@@ -0,0 +1,1 @@\n+# new, untracked');
    expect(text).not.toContain('ignored');
  });

  it('"staged": the index against HEAD only', async () => {
    const repo = workingRepo();
    const change = await load(repo.dir, { target: 'staged' });
    expect(change.target).toBe('staged changes against HEAD');
    expect(change.files).toEqual(['src/staged.ts']);
    expect(await diffText(change)).not.toContain('export const a = 2');
  });

  it('"branch": the commits since the merge base with main, not main\'s own later commits nor uncommitted work', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    const fork = repo.git('rev-parse', 'HEAD').trim();
    repo.commit('main moves on', { 'main-only.txt': 'later on main\n' });
    repo.git('checkout', '-q', '-b', 'feature', fork);
    repo.commit('feature work', { 'feature.txt': 'feature\n' });
    repo.write({ 'a.txt': 'uncommitted\n' });
    const change = await load(repo.dir, { target: 'branch' });
    expect(change.target).toBe(`branch against main (merge base ${fork.slice(0, 7)})`);
    expect(change.files).toEqual(['feature.txt']);

    repo.git('tag', 'v1', fork);
    expect((await load(repo.dir, { target: 'branch', base: 'v1' })).target).toBe(`branch against v1 (merge base ${fork.slice(0, 7)})`);
  });

  it('"branch" prefers origin\'s default branch, then main, then master, and says which', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    const first = repo.git('rev-parse', 'HEAD').trim();
    repo.commit('two', { 'b.txt': 'two\n' });
    repo.git('branch', '-m', 'main', 'master');
    const onMaster = await load(repo.dir, { target: 'branch', base: undefined }).catch((e: Error) => e);
    // HEAD is master itself: nothing on the branch since its merge base with master.
    expect((onMaster as Error).message).toMatch(/No changes to review: the branch against master/);
    repo.git('update-ref', 'refs/remotes/origin/trunk', first);
    repo.git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/trunk');
    const change = await load(repo.dir, { target: 'branch' });
    expect(change.target).toBe(`branch against origin/trunk (merge base ${first.slice(0, 7)})`);
    expect(change.files).toEqual(['b.txt']);
  });

  it('"commit:<ref>": that commit\'s own change, the first commit too', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    const root = repo.git('rev-parse', 'HEAD').trim();
    repo.commit('two', { 'b.txt': 'two\n' });
    repo.commit('three', { 'c.txt': 'three\n' });
    const previous = await load(repo.dir, { target: 'commit:HEAD~1' });
    expect(previous.files).toEqual(['b.txt']);
    expect(previous.target).toMatch(/^commit [0-9a-f]{7}$/);
    const first = await load(repo.dir, { target: `commit:${root}` });
    expect(first.files).toEqual(['a.txt']);
    expect(first.target).toBe(`commit ${root.slice(0, 7)} (the first commit)`);
  });

  it('a repository with no commit yet: staged and untracked files against the empty tree', async () => {
    const repo = gitRepo();
    repo.write({ 'staged.txt': 'staged\n', 'loose.txt': 'loose\n' });
    repo.git('add', 'staged.txt');
    const working = await load(repo.dir);
    expect(working.target).toBe('working tree (no commit yet)');
    expect(working.files.sort()).toEqual(['loose.txt', 'staged.txt']);
    expect((await load(repo.dir, { target: 'staged' })).files).toEqual(['staged.txt']);
  });

  it('fewer context lines on request: -U10 shows the far line, -U0 does not', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const repo = gitRepo({ 'f.txt': `${lines.join('\n')}\n` });
    lines[14] = 'changed';
    repo.write({ 'f.txt': `${lines.join('\n')}\n` });
    const change = await load(repo.dir);
    expect(await diffText(change, 10)).toContain(' line 6\n');
    expect(await diffText(change, 0)).not.toContain('line 6');
  });
});

describe('limits: the root folder and files', () => {
  it('a root that is a subfolder of a bigger repository sends only its own changes, paths relative to it', async () => {
    const repo = gitRepo({ 'app/a.ts': 'a\n', 'secret/key.txt': 'old\n' });
    repo.write({ 'app/a.ts': 'a2\n', 'app/new.ts': 'new\n', 'secret/key.txt': 'CANARY-outside-root\n', 'secret/loose.txt': 'CANARY-outside-root\n' });
    const change = await load(join(repo.dir, 'app'));
    expect(change.files.sort()).toEqual(['a.ts', 'new.ts']);
    const text = await diffText(change);
    expect(text).not.toContain('CANARY');
    expect(text).toContain('diff --git a/a.ts b/a.ts');
  });

  it('files limits the diff (literal paths: a glob character matches only itself); paths outside the root are refused', async () => {
    const repo = workingRepo();
    repo.write({ 'src/[ab].ts': 'odd name\n' });
    const limited = await load(repo.dir, { files: ['src/a.ts', 'notes.md'] });
    expect(limited.files.sort()).toEqual(['notes.md', 'src/a.ts']);
    expect((await load(repo.dir, { files: ['src/[ab].ts'] })).files).toEqual(['src/[ab].ts']);
    expect((await load(repo.dir, { files: [join(repo.dir, 'src')] })).files.sort()).toEqual(['src/[ab].ts', 'src/a.ts', 'src/staged.ts']);
    await expect(load(repo.dir, { files: ['../elsewhere.ts'] })).rejects.toThrow(/outside the folders this call may read/);
    await expect(load(repo.dir, { files: ['/etc/passwd'] })).rejects.toThrow(/outside the folders this call may read/);
    await expect(load(repo.dir, { files: ['src/c.ts'] })).rejects.toThrow(/No changes to review: the working tree against HEAD in src\/c\.ts/);
  });

  it('untracked files that are binary, too large or lead outside the roots are left out and named', async () => {
    const outside = tempDir('kimi-review-outside-');
    writeFileSync(join(outside, 'secret.txt'), 'CANARY-symlink-target\n');
    const repo = gitRepo({ 'a.txt': 'one\n' });
    repo.write({ 'ok.txt': 'fine\n', 'blob.bin': Buffer.from([1, 0, 2, 3]), 'huge.txt': 'x'.repeat(MAX_FILE_BYTES + 1) });
    symlinkSync(join(outside, 'secret.txt'), join(repo.dir, 'link.txt'));
    const change = await load(repo.dir);
    expect(change.files).toEqual(['ok.txt']);
    expect(await diffText(change)).not.toContain('CANARY');
    const note = change.notes.join('\n');
    expect(note).toMatch(/blob\.bin \(binary\)/);
    expect(note).toMatch(/huge\.txt \(64\.0 KB, over the 64\.0 KB limit/);
    expect(note).toMatch(/link\.txt \(it leads outside the roots\)/);
  });
});

describe('refusals, before anything is sent', () => {
  it('not a git repository: names the folder', async () => {
    const plain = tempDir('kimi-review-plain-');
    await expect(load(plain)).rejects.toThrow(`${plain} is not in a git repository`);
  });

  it('no changes: says what was compared', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    await expect(load(repo.dir)).rejects.toThrow(/^No changes to review: the working tree against HEAD shows no difference\. Nothing was sent\./);
    await expect(load(repo.dir, { target: 'staged' })).rejects.toThrow(/the staged changes against HEAD shows no difference/);
  });

  it('an unknown target, an unknown ref, a ref that reads as an option, base without "branch"', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    await expect(load(repo.dir, { target: 'yesterday' })).rejects.toThrow(/target "yesterday" is not one of: "working".*"commit:<ref>"/);
    await expect(load(repo.dir, { target: 'commit:nope' })).rejects.toThrow(/commit "nope" names no commit/);
    await expect(load(repo.dir, { target: 'commit:--output=x' })).rejects.toThrow(/starts with "-", which git would read as an option/);
    await expect(load(repo.dir, { target: 'branch', base: '--all' })).rejects.toThrow(/base "--all" starts with "-"/);
    await expect(load(repo.dir, { base: 'main' })).rejects.toThrow(/base is for target "branch" only/);
    expect(existsSync(join(repo.dir, 'x'))).toBe(false);
  });

  it('a cancelled review stops git and says so', async () => {
    const repo = workingRepo();
    const cancelled = new AbortController();
    cancelled.abort();
    await expect(loadChange({}, { folders: [repo.dir], from: 'the test roots' }, MAX_FILE_BYTES, cancelled.signal)).rejects.toThrow(/cancelled while git was reading the change; nothing was sent/);
  });

  it('git missing: says to install it', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    const path = process.env.PATH;
    process.env.PATH = tempDir('kimi-review-empty-path-');
    try {
      await expect(load(repo.dir)).rejects.toThrow(/git is not installed .*Install git/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('git without a shell, read-only, against a hostile repository', () => {
  it('file names like $(touch pwned) and --output=x are only names: no file appears, the review still sees them', async () => {
    const repo = gitRepo({ '$(touch pwned).txt': 'one\n', '--output=x': 'one\n' });
    repo.write({ '$(touch pwned).txt': 'two\n', '--output=x': 'two\n', '`touch pwned2`': 'new\n' });
    const change = await load(repo.dir, { files: ['--output=x', '$(touch pwned).txt', '`touch pwned2`'] });
    expect(change.files.sort()).toEqual(['$(touch pwned).txt', '--output=x', '`touch pwned2`']);
    expect(await diffText(change)).toContain('+two');
    expect(readdirSync(repo.dir).sort()).toEqual(['$(touch pwned).txt', '--output=x', '.git', '`touch pwned2`']);
    expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false);
  });

  it('programs the repository config names (clean filter, fsmonitor, external diff, textconv) never run', async () => {
    const repo = gitRepo({ '.gitattributes': '*.txt filter=evil diff=evil\n', 'a.txt': 'one\n' });
    const marker = join(repo.dir, 'ran');
    const script = join(tempDir('kimi-review-hook-'), 'evil.sh');
    writeFileSync(script, `#!/bin/sh\necho "$0 $*" >> ${marker}\ncat\n`);
    chmodSync(script, 0o755);
    for (const [key, value] of [['filter.evil.clean', script], ['filter.evil.required', 'true'], ['core.fsmonitor', script], ['diff.external', script], ['diff.evil.textconv', script], ['diff.evil.command', script], ['core.pager', script]]) repo.git('config', key!, value!);
    repo.write({ 'a.txt': 'two\n' });
    const change = await load(repo.dir);
    expect(await diffText(change)).toContain('-one\n+two');
    expect(existsSync(marker)).toBe(false);
  });

  it('reading does not write the index, even when its stat data is stale', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n', 'b.txt': 'one\n' });
    repo.write({ 'a.txt': 'two\n' });
    utimesSync(join(repo.dir, 'b.txt'), new Date(2030, 0, 1), new Date(2030, 0, 1));
    const index = readFileSync(join(repo.dir, '.git', 'index'));
    await diffText(await load(repo.dir));
    expect(readFileSync(join(repo.dir, '.git', 'index')).equals(index)).toBe(true);
    expect(existsSync(join(repo.dir, '.git', 'index.lock'))).toBe(false);
  });

  it('GIT_DIR and GIT_INDEX_FILE inherited by the server do not point git at another repository', async () => {
    const repo = gitRepo({ 'a.txt': 'one\n' });
    repo.write({ 'a.txt': 'two\n' });
    const other = gitRepo({ 'other.txt': 'other\n' });
    const saved = { dir: process.env.GIT_DIR, index: process.env.GIT_INDEX_FILE };
    process.env.GIT_DIR = join(other.dir, '.git');
    process.env.GIT_INDEX_FILE = join(other.dir, '.git', 'index');
    try {
      expect((await load(repo.dir)).files).toEqual(['a.txt']);
    } finally {
      if (saved.dir === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved.dir;
      if (saved.index === undefined) delete process.env.GIT_INDEX_FILE;
      else process.env.GIT_INDEX_FILE = saved.index;
    }
  });
});
