/** `write` (propose mode): a new file, or a file's whole new content, in the overlay only. */
import * as z from 'zod';
import { counted, defineAgentTool } from '../tool.js';
import { textLines } from './read.js';

export const writeTool = defineAgentTool({
  name: 'write',
  description: "Create a file or replace a file's whole content (in memory; the result becomes a patch).",
  input: z.object({ path: z.string(), content: z.string() }),
  modes: ['propose'],
  async run({ path, content }, workspace) {
    const file = await workspace.placeEditable(path);
    let before: string | undefined;
    if (await workspace.exists(file)) before = await workspace.text(file, 'rewritten');
    else workspace.noteAbsent(file);
    const size = counted(textLines(content).length, 'line');
    const what = before === undefined ? 'new file' : 'whole content replaced';
    if (content !== before) workspace.overlay.put(file, before, content);
    return {
      output: `Wrote ${file.shown} (${what}, ${size}), in memory only: it will be part of the patch.`,
      step: `write ${file.shown} (${size}, ${what === 'new file' ? 'new' : 'replaced'})`,
    };
  },
});
