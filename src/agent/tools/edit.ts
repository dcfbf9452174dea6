/**
 * `edit` (propose mode): exact-text replacement in one file, applied to the overlay only. The old
 * text must be found exactly once (or `replace_all`), so an edit never lands somewhere Kimi did
 * not mean; otherwise Kimi is told how many times it was found and how to fix the call.
 */
import * as z from 'zod';
import { UsageError } from '../../errors.js';
import { counted, defineAgentTool } from '../tool.js';
import { numbered, textLines } from './read.js';

/** Lines of context shown around the first replacement, so Kimi sees what the edit made. */
const CONTEXT_SHOWN = 3;
const MAX_LINES_SHOWN = 40;

function occurrences(text: string, part: string): number {
  let count = 0;
  for (let at = text.indexOf(part); at !== -1; at = text.indexOf(part, at + part.length)) count++;
  return count;
}

/**
 * The old and new text in the file's own line ends: `read` shows lines without their `\r`, so an
 * old text copied from it is matched against a CRLF file with CRLF line ends.
 */
function inFileLineEnds(text: string, oldText: string, newText: string): { old: string; replacement: string } {
  if (text.includes(oldText) || oldText.includes('\r') || !text.includes('\r\n')) return { old: oldText, replacement: newText };
  const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
  return { old: crlf(oldText), replacement: crlf(newText) };
}

export const editTool = defineAgentTool({
  name: 'edit',
  description: 'Replace exact text in one file (in memory; the result becomes a patch). old_text must match once unless replace_all.',
  input: z.object({
    path: z.string(),
    old_text: z.string().describe('Exact current text, without line numbers'),
    new_text: z.string(),
    replace_all: z.boolean().optional(),
  }),
  modes: ['propose'],
  async run({ path, old_text, new_text, replace_all }, workspace) {
    const file = await workspace.placeEditable(path);
    if (old_text === '') throw new UsageError(`old_text is empty; copy the exact text to replace from ${file.shown} (use write to replace the whole file).`);
    const before = await workspace.text(file, 'edited');
    const { old, replacement } = inFileLineEnds(before, old_text, new_text);
    const count = occurrences(before, old);
    if (count === 0) {
      const numbers = /^\s*\d+\|/m.test(old_text) ? ' It seems to hold line numbers from read: leave them out.' : '';
      throw new UsageError(`old_text was not found in ${file.shown}.${numbers} Read the lines again and copy the text exactly, whitespace included, then call edit again.`);
    }
    if (count > 1 && !replace_all) {
      throw new UsageError(`old_text was found ${count} times in ${file.shown}; include more of the surrounding lines so it matches once, or set replace_all to replace all ${count}.`);
    }
    if (old === replacement) throw new UsageError('old_text and new_text are the same; nothing would change.');
    const at = before.indexOf(old);
    const after = replace_all ? before.split(old).join(replacement) : before.slice(0, at) + replacement + before.slice(at + old.length);
    workspace.overlay.put(file, before, after);
    // The first replacement with a few lines around it, numbered as read would show them now.
    const lines = textLines(after);
    const first = before.slice(0, at).split('\n').length;
    const last = first + replacement.split('\n').length - 1;
    const from = Math.max(1, first - CONTEXT_SHOWN);
    const to = Math.min(lines.length, last + CONTEXT_SHOWN, from + MAX_LINES_SHOWN - 1);
    const shown = to >= from ? `\n${file.shown}:${from}-${to} now:\n${numbered(lines.slice(from - 1, to), from)}` : '';
    return {
      output: `Edited ${file.shown} (${counted(count, 'replacement')}), in memory only: it will be part of the patch.${shown}`,
      step: `edit ${file.shown} (${counted(count, 'replacement')})`,
    };
  },
});
