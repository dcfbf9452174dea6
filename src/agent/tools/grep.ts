/**
 * `grep`: a JavaScript regular expression over the files a glob names (every file by default),
 * matches as `path:line: text`, the overlay's text where Kimi edited. Fast on large trees: large
 * and binary files are skipped, most files are ruled out by one test of their whole text, and the
 * search stops once the matches it can show are in (in path order, so the same call always shows
 * the same matches).
 */
import * as z from 'zod';
import { UsageError } from '../../errors.js';
import { describeSize } from '../../kimi/files/read.js';
import { clipLine } from '../cap.js';
import { findFiles } from '../find.js';
import { counted, defineAgentTool, quoted } from '../tool.js';
import type { DiskText } from '../disk.js';
import { MATCH_DEADLINE_MS, Matcher, PatternTooSlow } from './grep-match.js';
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

/** The pattern checked (a clear refusal when it is no regular expression) and its matcher. */
function compile(pattern: string, ignoreCase: boolean): Matcher {
  if (pattern === '') throw new UsageError('The pattern is empty; give a regular expression, e.g. "reconnect|resume".');
  const flags = ignoreCase ? 'i' : '';
  try {
    new RegExp(pattern, flags);
  } catch (e) {
    throw new UsageError(`${quoted(pattern)} is not a valid JavaScript regular expression (${(e as Error).message}). Escape special characters such as ( [ { . * + ? with a backslash.`);
  }
  // Without lookarounds, a line that matches also matches within the whole text (in multiline
  // mode ^ $ \b see the same line edges), so one test of the whole file rules most files out.
  // A lookaround could look past the line's end, so such patterns are tested line by line only.
  const lookaround = /\(\?<?[=!]/.test(pattern);
  return new Matcher(pattern, flags, !lookaround, MAX_MATCHES);
}

function skipReason(content: Exclude<DiskText, { text: string }>): string {
  if ('absent' in content) return 'gone';
  if (content.problem === 'binary') return 'binary';
  return content.problem.includes('over the') ? `over ${describeSize(GREP_MAX_FILE_BYTES)}` : 'not readable';
}

/**
 * Files matched in one go, doubling from the first batch to the last: each batch costs the
 * deadline's watchdog thread (about 0.2 ms), and a search whose matches come early does not read
 * far past the last one it can show.
 */
const FIRST_BATCH = 32;
const LAST_BATCH = 1024;

/** The matches of one batch of files, in order, each read synchronously (disk.ts says why). */
function scanBatch(workspace: Workspace, files: readonly WorkspaceFile[], matcher: Matcher, pattern: string): Scanned[] {
  const scanned: Scanned[] = [];
  const texts: string[] = [];
  const textOf: number[] = [];
  for (const file of files) {
    const content = workspace.scanContent(file, GREP_MAX_FILE_BYTES);
    if ('text' in content) {
      textOf.push(scanned.length);
      texts.push(content.text);
    }
    scanned.push({ matches: [], ...('text' in content ? {} : { skipped: skipReason(content) }) });
  }
  let matched: Array<Array<[number, string]>>;
  try {
    matched = matcher.match(texts);
  } catch (e) {
    if (!(e instanceof PatternTooSlow)) throw e;
    const where = files.map((f) => f.shown);
    throw new UsageError(`${quoted(pattern)} ran over ${MATCH_DEADLINE_MS / 1000} s on ${where.length > 3 ? `${where.slice(0, 3).join(', ')} and ${where.length - 3} more` : where.join(', ')} and was stopped: it backtracks too much (a repetition of overlapping choices, such as "(a|aa)+"). Write a simpler pattern, e.g. without the outer repetition.`);
  }
  matched.forEach((lines, i) => (scanned[textOf[i]!]!.matches = lines.map(([index, text]) => ({ line: index + 1, text: clipLine(text, MATCH_LINE_CHARS) }))));
  return scanned;
}

/**
 * Each file scanned in path order, in batches under the matcher's deadline, with the event loop
 * let through between batches once SLICE_MS has passed, so other requests and progress go on
 * during a long search. Stops once MAX_MATCHES matches are in: later files could not be shown.
 */
async function scanInOrder(workspace: Workspace, files: readonly WorkspaceFile[], matcher: Matcher, pattern: string): Promise<Scanned[]> {
  const results: Scanned[] = [];
  let found = 0;
  let slice = performance.now();
  for (let next = 0, size = FIRST_BATCH; next < files.length && found <= MAX_MATCHES; next += size, size = Math.min(size * 2, LAST_BATCH)) {
    if (performance.now() - slice > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
    for (const result of scanBatch(workspace, files.slice(next, next + size), matcher, pattern)) {
      if (found > MAX_MATCHES) break;
      found += result.matches.length;
      results.push(result);
    }
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
    const matcher = compile(pattern, ignore_case ?? false);
    const where = glob ?? '**';
    const { files } = await findFiles(workspace, where);
    const results = await scanInOrder(workspace, files, matcher, pattern);
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
