import * as z from 'zod';
import { listModels } from '../../kimi/list-models.js';
import type { ModelView } from '../../kimi/catalog-view.js';
import { formatMoney } from '../../kimi/cost.js';
import { defineTool } from '../tool.js';
import type { ToolContext } from '../tool.js';
import { priceOut, providerArg } from '../schemas.js';

function priceLine(h: ModelView['hosts'][number]): string {
  const p = h.price;
  const parts = [p.input, p.cached_input, p.output].map((v) => (v === 'unknown' ? '?' : formatMoney(v, p.currency)));
  const listed = h.listed === undefined ? '' : h.listed ? ' [live: listed]' : ' [live: NOT listed]';
  return `${h.provider} ${parts.join('/')}${listed}`;
}

export const listModelsTool = (ctx: ToolContext) =>
  defineTool({
    name: 'list_models',
    title: 'List Kimi models',
    description: "Kimi models: context, max output, modalities, thinking, each host's model ID and price per 1M tokens (input/cached/output). live:true checks the host's /models.",
    input: z.object({
      provider: providerArg.optional(),
      live: z.boolean().optional(),
    }),
    output: z.object({
      models: z.array(
        z.object({
          id: z.string(),
          title: z.string(),
          context_window: z.number(),
          max_output: z.number(),
          modalities: z.array(z.string()),
          thinking: z.object({ default: z.enum(['enabled', 'disabled']), switchable: z.boolean(), effort: z.array(z.string()).optional() }),
          hosts: z.array(z.object({ provider: z.string(), model_id: z.string(), price: priceOut, listed: z.boolean().optional() })),
        }),
      ),
      live: z.object({ provider: z.string(), kimi_ids: z.array(z.string()), error: z.string().optional() }).optional(),
    }),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
    async handle(args, call) {
      const list = await listModels(ctx, args, call.signal);
      const lines = list.models.map((m) => {
        const thinking = m.thinking.switchable ? `thinking ${m.thinking.default} (switchable)` : 'always thinks';
        return `${m.id}: ${m.context_window} ctx, ${m.max_output} max out, ${m.modalities.join('+')}, ${thinking}; ${m.hosts.map(priceLine).join('; ')}`;
      });
      if (list.live) lines.push(list.live.error ? `live check of ${list.live.provider} failed: ${list.live.error}` : `live ${list.live.provider} Kimi IDs: ${list.live.kimi_ids.join(', ') || 'none'}`);
      return { text: `Prices per 1M tokens, input/cached/output.\n${lines.join('\n')}`, structured: list };
    },
  });
