/**
 * The shapes a review deals in, shared by the MCP tool, the shell's review gate and the job store.
 * Findings are validated with zod wherever they come from (structured output or repaired text).
 */
import * as z from 'zod';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Most severe first: sort by this, and `--fail-on high` fails on rank <= rank('high'). */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export const finding = z.object({
  severity: z.enum(SEVERITIES),
  file: z.string(),
  line: z.number().int().nonnegative(),
  title: z.string(),
  detail: z.string(),
  suggestion: z.string().optional(),
  confidence: z.number().min(0).max(1),
});
export type Finding = z.output<typeof finding>;

/** What to review: the default is everything not yet committed (staged, unstaged and untracked). */
export interface ReviewRequest {
  /** "working" (default), "staged", "branch" or "commit:<ref>". */
  target?: string;
  /** For "branch": the ref to compare against instead of the merge base with the default branch. */
  base?: string;
  /** Words to weigh most ("security", "the retry logic"). */
  focus?: string;
  /** Limit the diff to these paths (relative to the repository's root folder or absolute inside it). */
  files?: string[];
  model?: string;
  /** Argue against the change: what breaks, what was not considered. */
  adversarial?: boolean;
}
