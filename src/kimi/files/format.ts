/**
 * How a file is shown to Kimi: a heading that names it, then a fenced block.
 *
 *     File `src/a.ts`:
 *     ```ts
 *     …the text exactly as it is…
 *     ```
 *
 *     File `src/server.ts` (lines 98-120 of 300):
 *     ```ts
 *      98| const server = …
 *      99|
 *     100| export function start() {
 *     ```
 *
 * A range's lines carry their numbers (right-aligned to the widest, then `| `; an empty line is
 * just `NN|`) so the answer can cite them. A whole file is sent unnumbered: numbers on every
 * line cost tokens, and the model can count from the top. The fence is longer than any run of
 * backticks in the text, so no file can close it early.
 */
import { basename, extname } from 'node:path';
import { UsageError } from '../errors.js';
import type { LineRange } from './spec.js';

const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  '.ts': 'ts', '.tsx': 'tsx', '.mts': 'ts', '.cts': 'ts',
  '.js': 'js', '.jsx': 'jsx', '.mjs': 'js', '.cjs': 'js',
  '.json': 'json', '.jsonc': 'jsonc', '.md': 'md', '.mdx': 'mdx',
  '.py': 'python', '.rb': 'ruby', '.rs': 'rust', '.go': 'go', '.java': 'java', '.kt': 'kotlin',
  '.swift': 'swift', '.c': 'c', '.h': 'c', '.cc': 'cpp', '.cpp': 'cpp', '.hpp': 'cpp', '.cs': 'csharp',
  '.php': 'php', '.lua': 'lua', '.sh': 'sh', '.bash': 'bash', '.zsh': 'zsh', '.ps1': 'powershell',
  '.sql': 'sql', '.html': 'html', '.css': 'css', '.scss': 'scss', '.vue': 'vue', '.svelte': 'svelte',
  '.xml': 'xml', '.svg': 'xml', '.yml': 'yaml', '.yaml': 'yaml', '.toml': 'toml', '.ini': 'ini',
};
const LANGUAGE_BY_NAME: Record<string, string> = { Dockerfile: 'dockerfile', Makefile: 'makefile' };

function language(path: string): string {
  const name = basename(path);
  return LANGUAGE_BY_NAME[name] ?? LANGUAGE_BY_EXTENSION[extname(name).toLowerCase()] ?? '';
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  return longest;
}

/** `path` as inline code, even when the name itself holds backticks. */
function inlineCode(path: string): string {
  const ticks = '`'.repeat(longestBacktickRun(path) + 1);
  return ticks.length === 1 ? `\`${path}\`` : `${ticks} ${path} ${ticks}`;
}

/** The numbered lines of `range` (clamped to the end) and the heading that says which they are. */
function numberedRange(shown: string, text: string, range: LineRange): { heading: string; body: string } {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line; it does not start another
  const total = lines.length;
  if (total === 0) throw new UsageError(`${shown} is empty; it has no lines to send. Leave it out, or drop the range.`);
  if (range.start > total) throw new UsageError(`${shown} has ${total} lines; line ${range.start} is past the end. Ask for a range within 1-${total}.`);
  const end = Math.min(range.end ?? total, total);
  const width = String(end).length;
  const body = lines
    .slice(range.start - 1, end)
    .map((line, i) => {
      const number = String(range.start + i).padStart(width);
      return line === '' ? `${number}|` : `${number}| ${line}`;
    })
    .join('\n');
  const which = range.start === end ? `line ${end}` : `lines ${range.start}-${end}`;
  return { heading: `File ${inlineCode(shown)} (${which} of ${total}):`, body };
}

/** The block for one file: the whole text as is, or the numbered lines of `range`. */
export function formatFile(shown: string, text: string, range?: LineRange): string {
  const { heading, body } = range ? numberedRange(shown, text, range) : { heading: `File ${inlineCode(shown)}:`, body: text };
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(body) + 1));
  const close = body === '' || body.endsWith('\n') ? '' : '\n';
  return `${heading}\n${fence}${language(shown)}\n${body}${close}${fence}`;
}
