/** Zod pieces shared by several tools; names and enums come from the catalog. */
import * as z from 'zod';
import type { Catalog } from '../catalog/load.js';

const nonEmpty = <T extends string>(values: T[]): [T, ...T[]] => values as [T, ...T[]];

/**
 * A plain string checked against the catalog, like providerArg: an enum would cost every model's
 * name in tools/list on every turn (three tools carry it), and grows with the catalog. An unknown
 * name gets an error listing the models.
 */
export const modelArg = (catalog: Catalog) => {
  const ids = catalog.models.map((m) => m.id);
  return z.string().refine((id) => ids.includes(id), { error: (issue) => `unknown model ${JSON.stringify(issue.input)}; use one of: ${ids.join(', ')}` });
};

/** Every effort some model takes; which model takes which is checked with the call (request.ts). */
const effortArg = (catalog: Catalog) => z.enum(nonEmpty([...new Set(catalog.models.flatMap((m) => m.thinking.effort ?? []))]));

/** A plain string: the host is usually set once in the environment, so its list is not worth
 *  the context an enum costs on every turn; an unknown name gets an error listing the hosts. */
export const providerArg = z.string();

/** OpenAI chat messages, loosely: hosts validate the details, we only need role and content. */
export const chatMessages = z
  .array(
    z
      .object({
        role: z.enum(['system', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(z.looseObject({}))]),
      })
      .loose(),
  )
  // A refinement rather than .min(1): same check, without minItems in every schema the agent reads.
  .refine((list) => list.length > 0, 'must hold at least one message');

const amount = z.number().nullable();

/** Per 1M tokens, or the plan that covers calls on a host that bills no tokens. */
export const priceOut = z.union([
  z.object({
    input: z.union([z.number(), z.literal('unknown')]),
    cached_input: z.union([z.number(), z.literal('unknown')]),
    output: z.union([z.number(), z.literal('unknown')]),
    currency: z.enum(['USD', 'CNY']),
    source: z.string(),
    as_of: z.string(),
  }),
  z.object({ plan: z.string(), source: z.string(), as_of: z.string() }),
]);

/** Money in the host's currency (what the prompt cache saved, when some input was cached), or the plan that covered the call. */
export const costOut = z.union([
  z.object({
    currency: z.enum(['USD', 'CNY']),
    input: amount,
    cached: amount,
    output: amount,
    total: amount,
    saved_by_cache: amount.optional(),
  }),
  z.object({ covered_by_plan: z.string() }),
]);

const count = z.number().int().nonnegative();

/** Paths or globs the server reads itself (see SKILL.md for ranges, excludes and roots). */
export const filesArg = z.array(z.string());
export const sentFilesOut = z.array(z.object({ path: z.string(), tokens: z.number() }));
export const skippedFilesOut = z.array(z.object({ path: z.string(), reason: z.string() }));

/** The arguments of kimi_chat and kimi_stream (the same call, shown differently). */
export const chatInput = (catalog: Catalog) =>
  z.object({
    prompt: z.string().optional(),
    messages: chatMessages.optional(),
    system: z.string().optional(),
    model: modelArg(catalog).optional(),
    provider: providerArg.optional(),
    max_tokens: z.number().int().positive().optional(),
    temperature: z.number().optional(),
    thinking: z.boolean().optional(),
    reasoning_effort: effortArg(catalog).optional(),
    response_format: z.union([z.literal('json_object'), z.object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()) })]).optional(),
    images: z.array(z.string()).optional(),
    files: filesArg.optional(),
    conversation_id: z.string().optional(),
  });

/** Tokens of a call (or summed over an agent's steps), as the host reported them; null when it reported none. */
export const usageOut = z.object({ prompt_tokens: count, completion_tokens: count, cached_tokens: count, reasoning_tokens: count }).nullable();

/** Who answered and what it cost: the closing fields of an agent's and a review's result. */
export const spentFields = {
  model: z.string(),
  provider: z.string(),
  usage: usageOut,
  cost: costOut.nullable(),
  cost_usd: z.number().nullable(),
  usage_estimated: z.boolean().optional(),
};

export const chatOutput = z.object({
  text: z.string(),
  reasoning: z.string().optional(),
  tool_calls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional(),
  model: z.string(),
  provider: z.string(),
  host: z.string(),
  model_id: z.string(),
  finish_reason: z.string().nullable(),
  usage: usageOut,
  cost: costOut.nullable(),
  cost_usd: z.number().nullable(),
  request_id: z.string().nullable(),
  /** The host sent no usage (a broken stream, or a host that reports none): usage and cost are our estimate. */
  usage_estimated: z.boolean().optional(),
  /** Set when the text (or reasoning) was shortened to fit the client's result cap. */
  full_text_uri: z.string().optional(),
  /** Set on failures: the text is what arrived before the failure. */
  partial: z.boolean().optional(),
  error: z.string().optional(),
  /** Pass back to continue; absent only when a new conversation produced nothing. */
  conversation_id: z.string().optional(),
  files: sentFilesOut.optional(),
  skipped_files: skippedFilesOut.optional(),
  dropped_turns: z.number().optional(),
  attempts: z.array(z.object({ provider: z.string(), error: z.string().optional() })).optional(),
  budget: z.object({ spent_usd: z.number(), limit_usd: z.number(), period: z.enum(['day', 'month']) }).optional(),
  notes: z.array(z.string()).optional(),
});
