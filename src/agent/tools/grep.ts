/**
 * `grep`: a JavaScript regular expression over the files a glob names (every file by default),
 * matches as `path:line: text`, the overlay's text where Kimi edited. Fast on large trees: large
 * and binary files are skipped, most files are ruled out by one test of their whole text, and the
 * search stops once the matches it can show are in (in path order, so the same call always shows
 * the same matches).
 */
import safeRegex from 'safe-regex2';
import * as z from 'zod';
import { UsageError } from '../../errors.js';
import { describeSize } from '../../kimi/files/read.js';
import { clipLine } from '../cap.js';
import { findFiles } from '../find.js';
import { counted, defineAgentTool, quoted } from '../tool.js';
import type { DiskText } from '../disk.js';
import type { Workspace, WorkspaceFile } from '../workspace.js';

export const MAX_MATCHES = 200;
const MATCH_LINE_CHARS = 300;
/** The longest the scan holds the event loop at a time. */
const SLICE_MS = 10;
/** Larger files are skipped: generated or data files, rarely what a search is for. */
export const GREP_MAX_FILE_BYTES = 1024 * 1024;

interface Scanned {
  matches: Array<{ line: number; text: string }>;
  skipped?: string;
}

function compile(pattern: string, ignoreCase: boolean): { line: RegExp; file?: RegExp } {
  if (pattern === '') throw new UsageError('The pattern is empty; give a regular expression, e.g. "reconnect|resume".');
  const flags = ignoreCase ? 'i' : '';
  let line: RegExp;
  try {
    line = new RegExp(pattern, flags);
  } catch (e) {
    throw new UsageError(`${quoted(pattern)} is not a valid JavaScript regular expression (${(e as Error).message}). Escape special characters such as ( [ { . * + ? with a backslash.`);
  }
  // A repetition inside a repetition ("(a+)+", "(\\w+\\s*)*") can backtrack for minutes on one
  // line, and the scan runs on the server's only thread: refused before any file is read.
  if (!safeRegex(line)) {
    throw new UsageError(`${quoted(pattern)} nests one repetition inside another (like "(a+)+"), which can take minutes on some lines. Write it without the outer repetition, e.g. "a+" or "(\\w+\\s)" instead of "(\\w+\\s*)+".`);
  }
  // Without lookarounds, a line that matches also matches within the whole text (in multiline
  // mode ^ $ \b see the same line edges), so one test of the whole file rules most files out.
  // A lookaround could look past the line's end, so such patterns are tested line by line only.
  const lookaround = /\(\?<?[=!]/.test(pattern);
  return lookaround ? { line } : { line, file: new RegExp(pattern, `${flags}m`) };
}

function skipReason(content: Exclude<DiskText, { text: string }>): string {
  if ('absent' in content) return 'gone';
  if (content.problem === 'binary') return 'binary';
  return content.problem.includes('over the') ? `over ${describeSize(GREP_MAX_FILE_BYTES)}` : 'not readable';
}

function scan(workspace: Workspace, file: WorkspaceFile, regex: { line: RegExp; file?: RegExp }): Scanned {
  const content = workspace.scanContent(file, GREP_MAX_FILE_BYTES);
  if (!('text' in content)) return { matches: [], skipped: skipReason(content) };
  const { text } = content;
  if (regex.file && !regex.file.test(text)) return { matches: [] };
  const matches: Scanned['matches'] = [];
  const lines = text.split(/\r?\n/);
  // One more than can be shown, so a cut is known to be one.
  for (let i = 0; i < lines.length && matches.length <= MAX_MATCHES; i++) {
    if (regex.line.test(lines[i]!)) matches.push({ line: i + 1, text: clipLine(lines[i]!, MATCH_LINE_CHARS) });
  }
  return { matches };
}

/**
 * Each file scanned in path order, synchronously (disk.ts says why) in slices of SLICE_MS with
 * the event loop let through between them, so other requests and progress go on during a long
 * search. Stops once MAX_MATCHES matches are in: later files could not be shown.
 */
async function scanInOrder(workspace: Workspace, files: readonly WorkspaceFile[], regex: { line: RegExp; file?: RegExp }): Promise<Scanned[]> {
  const results: Scanned[] = [];
  let found = 0;
  let slice = performance.now();
  for (const file of files) {
    if (found > MAX_MATCHES) break;
    if (performance.now() - slice > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
    const result = scan(workspace, file, regex);
    found += result.matches.length;
    results.push(result);
  }
  return results;
}

export const grepTool = defineAgentTool({
  name: 'grep',
  description: `Search files for a JavaScript regular expression; matches as path:line: text, at most ${MAX_MATCHES}.`,
  input: z.object({
    pattern: z.string().describe('JavaScript regular expression'),
    glob: z.string().optional().describe('Files to search, e.g. "src/**/*.ts"; default all'),
    ignore_case: z.boolean().optional(),
  }),
  modes: ['explore', 'propose'],
  async run({ pattern, glob, ignore_case }, workspace) {
    const regex = compile(pattern, ignore_case ?? false);
    const where = glob ?? '**';
    const { files } = await findFiles(workspace, where);
    const results = await scanInOrder(workspace, files, regex);
    const lines: string[] = [];
    const skipped = new Map<string, number>();
    let found = 0;
    let matchedFiles = 0;
    for (const [i, result] of results.entries()) {
      found += result.matches.length;
      if (result.matches.length) matchedFiles++;
      if (result.skipped) skipped.set(result.skipped, (skipped.get(result.skipped) ?? 0) + 1);
      for (const m of result.matches) if (lines.length < MAX_MATCHES) lines.push(`${files[i]!.shown}:${m.line}: ${m.text}`);
    }
    const searched = results.length;
    const cut = found > lines.length || searched < files.length;
    const notes: string[] = [];
    if (!lines.length) notes.push(`No match for ${quoted(pattern)} in ${counted(files.length, 'file')}${glob ? ` matching ${glob}` : ''}.`);
    else if (cut) notes.push(`[cut at ${MAX_MATCHES} matches, ${searched} of ${counted(files.length, 'file')} searched: narrow the glob or the pattern to see the rest]`);
    else notes.push(`[${counted(lines.length, 'match', 'matches')} in ${counted(matchedFiles, 'file')}]`);
    if (skipped.size) notes.push(`[skipped: ${[...skipped].map(([why, n]) => `${n} ${why}`).join(', ')}]`);
    const step = `grep ${quoted(pattern)}${glob ? ` ${glob}` : ''} → ${cut ? `${MAX_MATCHES}+ matches (cut)` : counted(lines.length, 'match', 'matches')}`;
    return { output: [...lines, ...notes].join('\n'), step };
  },
});
