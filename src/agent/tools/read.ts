/** `read`: a file, or `path:from-to`, as numbered lines; a long file one page at a time. */
import * as z from 'zod';
import { splitRange } from '../../kimi/files/spec.js';
import type { LineRange } from '../../kimi/files/spec.js';
import { UsageError } from '../../errors.js';
import { OUTPUT_TOKEN_CAP, clipLine, linesWithin } from '../cap.js';
import { defineAgentTool } from '../tool.js';
import type { Workspace, WorkspaceFile } from '../workspace.js';

/** Lines a page shows at most (fewer when they would pass the output cap). */
export const PAGE_LINES = 400;

/** The file and range `name` means: the whole name when such a file exists (a name may hold `:12`), else `path:from-to`. */
async function fileAndRange(workspace: Workspace, name: string): Promise<{ file: WorkspaceFile; range?: LineRange }> {
  const whole = await workspace.place(name);
  const ranged = splitRange(name);
  if (!ranged || (await workspace.exists(whole))) return { file: whole };
  return { file: await workspace.place(ranged.path), range: ranged.range };
}

export function textLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line; it does not start another
  return lines;
}

export function numbered(lines: readonly string[], first: number): string {
  const width = String(first + lines.length - 1).length;
  return lines.map((line, i) => `${String(first + i).padStart(width)}|${line === '' ? '' : ` ${clipLine(line)}`}`).join('\n');
}

export const readTool = defineAgentTool({
  name: 'read',
  description: `Read a text file as numbered lines: "src/a.ts", or a range "src/a.ts:80-140". Long files come in pages of ${PAGE_LINES} lines.`,
  input: z.object({ path: z.string().describe('File path relative to the project, optionally with :from-to') }),
  modes: ['explore', 'propose'],
  async run({ path }, workspace) {
    const { file, range } = await fileAndRange(workspace, path);
    const lines = textLines(await workspace.text(file, 'read'));
    const total = lines.length;
    if (total === 0) return { output: `${file.shown} is empty.`, step: `read ${file.shown} (empty)` };
    const start = range?.start ?? 1;
    if (start > total) throw new UsageError(`${file.shown} has ${total} lines; line ${start} is past the end. Ask for a range within 1-${total}.`);
    const asked = Math.min(range?.end ?? total, total);
    const shown = linesWithin(lines.slice(start - 1, asked), OUTPUT_TOKEN_CAP - 200, PAGE_LINES);
    const end = start + shown - 1;
    workspace.reads.record(file.shown, start, end);
    let heading = `${file.shown}: lines ${start}-${end} of ${total}`;
    if (end < asked) {
      const cut = shown < PAGE_LINES ? ' (cut at about 20K tokens)' : range ? '' : ` (page ${Math.ceil(end / PAGE_LINES)} of ${Math.ceil(total / PAGE_LINES)})`;
      heading += `${cut}; next: read ${file.shown}:${end + 1}-${Math.min(asked, end + PAGE_LINES)}`;
    }
    return { output: `${heading}\n${numbered(lines.slice(start - 1, end), start)}`, step: `read ${file.shown}:${start}-${end}` };
  },
});
