/** How the files of a call are told to the agent: a count, a total and the first few names. */
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
