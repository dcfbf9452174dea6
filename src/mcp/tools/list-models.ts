import * as z from 'zod';
import { listModels } from '../../kimi/list-models.js';
import { modelListText } from '../../kimi/summary.js';
import { defineTool } from '../tool.js';
import type { ToolContext } from '../tool.js';
import { priceOut, providerArg } from '../schemas.js';

/** Tokens, or `unknown` where nobody published the limit (the host enforces its own). */
const limit = z.union([z.number(), z.literal('unknown')]);

/** Module-level, so every server shares it (its JSON Schema is converted once). */
const modelListOutput = z.object({
  models: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      context_window: limit,
      max_output: limit,
      modalities: z.array(z.string()),
      thinking: z.object({ default: z.enum(['enabled', 'disabled', 'unknown']), switchable: z.boolean(), effort: z.array(z.string()).optional() }),
      hosts: z.array(
        z.object({
          provider: z.string(),
          model_id: z.string(),
          price: priceOut,
          /** The host lists the model as deprecated (still callable). */
          deprecated: z.object({ source: z.string(), as_of: z.string() }).optional(),
          listed: z.boolean().optional(),
        }),
      ),
    }),
  ),
  live: z.object({ provider: z.string(), kimi_ids: z.array(z.string()), error: z.string().optional() }).optional(),
});

export const listModelsTool = (ctx: ToolContext) =>
  defineTool({
    name: 'list_models',
    title: 'List Kimi models',
    description: "Kimi models: context, max output, modalities, thinking, each host's model ID and price per 1M tokens (input/cached/output). live:true checks the host's /models.",
    input: z.object({
      provider: providerArg.optional(),
      live: z.boolean().optional(),
    }),
    output: modelListOutput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
    async handle(args, call) {
      const list = await listModels(ctx, args, call.signal);
      return { text: modelListText(list), structured: list };
    },
  });
