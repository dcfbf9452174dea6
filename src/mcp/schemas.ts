/** Zod pieces shared by several tools; names and enums come from the catalog. */
import * as z from 'zod';
import type { Catalog } from '../catalog/load.js';

const nonEmpty = <T extends string>(values: T[]): [T, ...T[]] => values as [T, ...T[]];

export const modelArg = (catalog: Catalog) => z.enum(nonEmpty(catalog.models.map((m) => m.id)));
/** A plain string: the host is usually set once in the environment, so its list is not worth
 *  the context an enum costs on every turn; an unknown name gets an error listing the hosts. */
export const providerArg = z.string();

/** OpenAI chat messages, loosely: hosts validate the details, we only need role and content. */
export const chatMessages = z
  .array(
    z
      .object({
        role: z.enum(['system', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
      })
      .loose(),
  )
  .min(1);

const amount = z.number().nullable();

export const priceOut = z.object({
  input: z.union([z.number(), z.literal('unknown')]),
  cached_input: z.union([z.number(), z.literal('unknown')]),
  output: z.union([z.number(), z.literal('unknown')]),
  currency: z.enum(['USD', 'CNY']),
  source: z.string(),
  as_of: z.string(),
});

export const costOut = z.object({
  currency: z.enum(['USD', 'CNY']),
  input: amount,
  cached: amount,
  output: amount,
  total: amount,
});
