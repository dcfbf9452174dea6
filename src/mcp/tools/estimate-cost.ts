import * as z from 'zod';
import { estimateCost } from '../../kimi/estimate.js';
import { estimateText } from '../../kimi/summary.js';
import { defineTool } from '../tool.js';
import type { ToolContext } from '../tool.js';
import { chatMessages, costOut, filesArg, modelArg, priceOut, providerArg, sentFilesOut, skippedFilesOut } from '../schemas.js';

const count = z.number().int().nonnegative();

/** Module-level, so every server shares it (its JSON Schema is converted once). */
const estimateOutput = z.object({
  model: z.string(),
  provider: z.string(),
  model_id: z.string(),
  input_tokens: z.number(),
  cached_tokens: z.number(),
  output_tokens: z.number(),
  counted_by: z.enum(['given', 'estimate', 'exact']),
  files: sentFilesOut.optional(),
  skipped_files: skippedFilesOut.optional(),
  cost: costOut,
  price: priceOut,
  notes: z.array(z.string()),
});

export const estimateCostTool = (ctx: ToolContext) =>
  defineTool({
    name: 'estimate_cost',
    title: 'Estimate Kimi cost',
    description: 'Tokens and cost of a Kimi call before sending it. Give input_tokens, or text, messages and/or files to count; add expected output_tokens.',
    input: z.object({
      model: modelArg(ctx.catalog).optional(),
      provider: providerArg.optional(),
      input_tokens: count.optional(),
      text: z.string().optional(),
      messages: chatMessages.optional(),
      files: filesArg.optional(),
      output_tokens: count.optional(),
      cached_tokens: count.optional(),
    }),
    output: estimateOutput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    async handle(args, call) {
      const e = await estimateCost(ctx, args, { signal: call.signal, roots: call.roots });
      return { text: estimateText(e), structured: e };
    },
  });
