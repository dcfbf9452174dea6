/**
 * `kimi-mcp review`: the review gate for the shell, git hooks and CI. The same review as the
 * kimi_review tool, over the current folder (plus KIMI_MCP_ROOTS). Findings go to stdout (text,
 * `--json` or `--format github`); the exit code is the gate:
 *   0  reviewed, nothing at or above --fail-on (also: no changes, so an empty commit passes)
 *   1  a finding at or above --fail-on
 *   2  the review could not run (bad option, no key, git missing, upstream failure)
 */
import { join } from 'node:path';
import { UsageError } from '../kimi/errors.js';
import { NoChanges } from '../review/diff.js';
import { reviewedChange, reviewFingerprint, runReview } from '../review/run-review.js';
import { stateDir } from '../state/dir.js';
import { PassedReviews } from '../state/passed-reviews.js';
import type { ReviewRequest } from '../review/types.js';
import { log } from '../log.js';
import { failing, parseFailOn, reviewGithub, reviewText } from './review-format.js';
import type { FailOn } from './review-format.js';
import { shellCall, shellFolders, terminalConfirm } from './chat.js';
import type { CliContext } from './context.js';

export interface ReviewCommandOptions {
  target?: string;
  base?: string;
  focus?: string;
  file?: string[];
  model?: string;
  adversarial?: boolean;
  failOn?: string;
  json?: boolean;
  format?: string;
  yes?: boolean;
  /** Pass at once when the same change already passed at this --fail-on (the Stop hook: one paid review per change, not per turn). */
  skipUnchanged?: boolean;
}

export const EXIT = { passed: 0, failed: 1, couldNotRun: 2 } as const;

function format(options: ReviewCommandOptions): 'text' | 'github' | 'json' {
  if (options.format !== undefined && options.format !== 'text' && options.format !== 'github') throw new UsageError(`--format takes text or github, not "${options.format}".`);
  if (options.json && options.format !== undefined) throw new UsageError('Give --json or --format, not both.');
  return options.json ? 'json' : (options.format ?? 'text') as 'text' | 'github';
}

/** "No changes" is a refusal like the others, but for a gate it is a pass: an empty commit is not blocked. */
const isNoChanges = (e: unknown) => e instanceof NoChanges;

export async function runReviewCommand(cli: CliContext, options: ReviewCommandOptions): Promise<number> {
  let failOn: FailOn;
  let shape: ReturnType<typeof format>;
  try {
    failOn = parseFailOn(options.failOn);
    shape = format(options);
  } catch (e) {
    cli.err(`${(e as Error).message}\n`);
    return EXIT.couldNotRun;
  }
  const request: ReviewRequest = {
    ...(options.target !== undefined ? { target: options.target } : {}),
    ...(options.base !== undefined ? { base: options.base } : {}),
    ...(options.focus !== undefined ? { focus: options.focus } : {}),
    ...(options.file?.length ? { files: options.file } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
    ...(options.adversarial ? { adversarial: true } : {}),
  };
  // Progress is for a person watching; a hook's or CI's log gets the result only.
  const progress = process.stderr.isTTY ? (line: string) => cli.err(`[kimi] ${line}\n`) : undefined;
  const { ctx, signal, done } = shellCall(cli);
  const roots = shellFolders(cli.env);
  try {
    let remember: (() => Promise<void>) | undefined;
    // Read once: fingerprinted here, then reviewed as it was read.
    const change = options.skipUnchanged ? await reviewedChange(ctx, request, roots, signal) : undefined;
    if (change) {
      const mark = `${failOn} ${await reviewFingerprint(ctx, request, change)}`;
      const passed = new PassedReviews(join(stateDir(cli.env), 'review-gate'));
      if (await passed.passed(change.folder, mark)) {
        if (shape === 'json') cli.out(`${JSON.stringify({ findings: [], summary: 'Unchanged since a review that passed.' }, null, 2)}\n`);
        cli.err(`[kimi] unchanged since a review that passed at --fail-on ${failOn}: not reviewed again (exit 0)\n`);
        return EXIT.passed;
      }
      remember = () => passed.remember(change.folder, mark).catch((e: unknown) => log('could not remember the passed review:', e));
    }
    const confirm = terminalConfirm(options.yes);
    const result = await runReview(ctx, request, {
      signal,
      roots,
      ...(confirm ? { confirm } : {}),
      ...(progress ? { onStep: progress } : {}),
    }, change);
    if (shape === 'json') cli.out(`${JSON.stringify(result, null, 2)}\n`);
    else cli.out(shape === 'github' ? reviewGithub(result) : reviewText(result));
    for (const note of result.notes) cli.err(`[kimi] ${note}\n`);
    // Findings that arrived before a failure are real: they still fail the gate.
    const blocking = failing(result.findings, failOn);
    if (blocking.length) {
      cli.err(`[kimi] ${blocking.length} finding${blocking.length === 1 ? '' : 's'} at or above ${failOn}: failing (exit 1)\n`);
      return EXIT.failed;
    }
    if (result.error !== undefined) {
      cli.err(`[kimi] ${result.error}\n[kimi] the review did not finish (exit 2)\n`);
      return EXIT.couldNotRun;
    }
    // A gate cannot pass what it could not read: the reply is printed above, the gate says so.
    if (result.unparsed_text !== undefined && failOn !== 'none') {
      cli.err(`[kimi] the reply could not be read as findings, so --fail-on ${failOn} cannot be checked (exit 2)\n`);
      return EXIT.couldNotRun;
    }
    await remember?.();
    return EXIT.passed;
  } catch (e) {
    if (isNoChanges(e)) {
      if (shape === 'json') cli.out(`${JSON.stringify({ findings: [], summary: (e as Error).message }, null, 2)}\n`);
      cli.err(`[kimi] ${(e as Error).message}\n`);
      return EXIT.passed;
    }
    // Refusals (not a repository, too large, no key, the spending guard) say what to do; a failed
    // call is not thrown (runReview returns what arrived, with its error, above).
    if (shape === 'json') cli.out(`${JSON.stringify({ error: (e as Error).message }, null, 2)}\n`);
    if (e instanceof UsageError) cli.err(`[kimi] ${e.message}\n`);
    else log(e);
    cli.err('[kimi] the review could not run (exit 2)\n');
    return EXIT.couldNotRun;
  } finally {
    done();
  }
}
