/**
 * Fixture git repositories made in the test: `git init` in a temp folder, commits with fixed
 * author and committer, and whatever staged, unstaged and untracked changes a test needs. The
 * fixture's git ignores the user's global and system config, so every machine builds the same.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './temp.js';

const FIXTURE_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Fixture Author',
  GIT_AUTHOR_EMAIL: 'author@example.invalid',
  GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z',
  GIT_COMMITTER_NAME: 'Fixture Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.invalid',
  GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

export interface GitRepo {
  dir: string;
  /** Runs git in the repository (argument array, no shell); returns stdout. */
  git(...args: string[]): string;
  /** Writes files (folders made as needed), relative to the repository. */
  write(files: Record<string, string | Buffer>): void;
  /** Stages everything and commits; returns the new commit's hash. */
  commit(message: string, files?: Record<string, string | Buffer>): string;
}

export function gitRepo(files: Record<string, string | Buffer> = {}, prefix = 'kimi-review-repo-'): GitRepo {
  const dir = tempDir(prefix);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: FIXTURE_ENV, encoding: 'utf8' });
  const write = (more: Record<string, string | Buffer>) => {
    for (const [rel, content] of Object.entries(more)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content);
    }
  };
  const commit = (message: string, more: Record<string, string | Buffer> = {}) => {
    write(more);
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD').trim();
  };
  git('init', '-q', '-b', 'main');
  if (Object.keys(files).length) commit('initial', files);
  return { dir, git, write, commit };
}
