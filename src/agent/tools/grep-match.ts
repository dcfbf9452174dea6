/**
 * grep's matching, run in a V8 context of its own with a deadline: a pattern that backtracks
 * without end ("(a|aa)+$" on a long line of a's) would otherwise hold the server's only thread,
 * and with it every call and job, for minutes. vm's timeout interrupts a running RegExp; the
 * script is fixed text and the pattern reaches it only as data, never as code.
 */
import { createContext, Script } from 'node:vm';
import type { Context } from 'node:vm';

/** Far beyond any sane pattern's time for one batch of files (a batch is about 10 ms of work). */
export const MATCH_DEADLINE_MS = 2_000;

const COMPILE = new Script('lineRegex = new RegExp(pattern, flags); fileRegex = wholeFile ? new RegExp(pattern, flags + "m") : null;');

/**
 * For each text, the matching lines as [index, line], at most `max + 1` (one more than can be
 * shown, so a cut is known to be one). A file the whole-text test rules out costs one test.
 */
const MATCH = new Script(`
  matched = texts.map((text) => {
    if (fileRegex && !fileRegex.test(text)) return [];
    const found = [];
    const lines = text.split(/\\r?\\n/);
    for (let i = 0; i < lines.length && found.length <= max; i++) if (lineRegex.test(lines[i])) found.push([i, lines[i]]);
    return found;
  });
  texts = null;
`);

export class PatternTooSlow extends Error {}

export class Matcher {
  private readonly context: Context;

  /** `wholeFile`: the pattern may rule out a whole file in one test (no lookarounds, grep.ts says why). */
  constructor(pattern: string, flags: string, wholeFile: boolean, max: number) {
    this.context = createContext({ pattern, flags, wholeFile, max, texts: null, matched: null, lineRegex: null, fileRegex: null });
    COMPILE.runInContext(this.context, { timeout: MATCH_DEADLINE_MS });
  }

  /** The matching lines of each text; PatternTooSlow when the batch passed the deadline. */
  match(texts: readonly string[]): Array<Array<[number, string]>> {
    this.context.texts = texts;
    try {
      MATCH.runInContext(this.context, { timeout: MATCH_DEADLINE_MS });
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new PatternTooSlow();
      throw e;
    }
    return this.context.matched as Array<Array<[number, string]>>;
  }
}
