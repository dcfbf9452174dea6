/**
 * The cap on every tool output Kimi receives: each lands in the context window of every later
 * step, so one careless `grep` or `read` must not fill it. Outputs are cut at a line, by our
 * token estimate, and the cut says so and how to ask for the rest.
 */
import { estimateTextTokens } from '../kimi/tokens.js';

/** About 20K tokens per tool output. */
export const OUTPUT_TOKEN_CAP = 20_000;
/**
 * No pre-tokenizer piece is shorter than one UTF-16 unit or estimated above 1.5 tokens per unit
 * (a lone 3-byte symbol), so text short enough cannot pass a budget and is not estimated.
 */
const MAX_TOKENS_PER_CHAR = 1.5;
const SURELY_UNDER_CAP_CHARS = Math.floor(OUTPUT_TOKEN_CAP / MAX_TOKENS_PER_CHAR);
/** A single line longer than this is cut: minified code would otherwise fill a page alone. */
export const MAX_LINE_CHARS = 2_000;

export function clipLine(line: string, max = MAX_LINE_CHARS): string {
  return line.length <= max ? line : `${line.slice(0, max)}… [line cut at ${max} of ${line.length} characters]`;
}

/** How many of the first `max` of `lines` fit in `budget` tokens (at least one, so a page always moves on). */
export function linesWithin(lines: readonly string[], budget: number, max = lines.length): number {
  const count = Math.min(max, lines.length);
  let chars = 0;
  for (let i = 0; i < count; i++) chars += lines[i]!.length + 1;
  if (chars * MAX_TOKENS_PER_CHAR <= budget) return count; // surely within: no need to estimate
  let used = 0;
  for (let i = 0; i < count; i++) {
    used += estimateTextTokens(lines[i]!) + 1; // + the newline
    if (used > budget) return Math.max(1, i);
  }
  return count;
}

/** `text` within OUTPUT_TOKEN_CAP, cut at a line with a note that says what was left out and `how` to get it. */
export function capOutput(text: string, how = 'ask for less at a time (a line range, a narrower glob or pattern)'): string {
  if (text.length <= SURELY_UNDER_CAP_CHARS || estimateTextTokens(text) <= OUTPUT_TOKEN_CAP) return text;
  const lines = text.split('\n').map((line) => clipLine(line));
  const kept = linesWithin(lines, OUTPUT_TOKEN_CAP - 100);
  return `${lines.slice(0, kept).join('\n')}\n[output cut at about ${OUTPUT_TOKEN_CAP / 1000}K tokens: ${kept} of ${lines.length} lines shown; ${how}]`;
}
