/**
 * What a call did besides answering, in short lines for the agent (tool result) or the shell
 * (stderr): files sent and skipped, turns left out, hosts tried, the budget, notes.
 */
import type { ChatResult } from './chat.js';
import { formatMoney } from './cost.js';
import type { SentFile, SkippedFile } from './files/index.js';

const NAMED = 10;

/** The first few items, then how many more: a 500-file glob must not flood the agent's context. */
function someOf<T>(items: readonly T[], show: (item: T) => string): string {
  const more = items.length > NAMED ? `, and ${items.length - NAMED} more` : '';
  return `${items.slice(0, NAMED).map(show).join(', ')}${more}`;
}

export function fileLines(files: readonly SentFile[] | undefined, skipped: readonly SkippedFile[] | undefined): string[] {
  const lines: string[] = [];
  if (files?.length) {
    const total = files.reduce((sum, f) => sum + f.tokens, 0);
    lines.push(`Files (${files.length}, ~${total} tokens): ${someOf(files, (f) => `${f.path} ~${f.tokens}`)}`);
  }
  if (skipped?.length) lines.push(`Files skipped: ${someOf(skipped, (f) => `${f.path} (${f.reason})`)}`);
  return lines;
}

export function aboutTheCall(r: ChatResult): string[] {
  const lines = fileLines(r.files, r.skipped_files);
  if (r.dropped_turns) lines.push(`${r.dropped_turns} oldest turn(s) of the conversation were left out to fit the context window.`);
  if (r.attempts?.some((a) => a.error)) lines.push(`Hosts tried: ${r.attempts.map((a) => `${a.provider} (${a.error ?? 'answered'})`).join('; ')}`);
  if (r.budget) lines.push(`Budget: ${formatMoney(r.budget.spent_usd, 'USD')} of ${formatMoney(r.budget.limit_usd, 'USD')} spent ${r.budget.period === 'day' ? 'today' : 'this month'}.`);
  return [...lines, ...(r.notes ?? [])];
}
