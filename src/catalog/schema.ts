/**
 * Zod schemas for the YAML frontmatter of SKILL.md and skill/references/**.md.
 * These files are the single source of truth for models, hosts and prices; the schemas are
 * strict so that a typo in a field name fails at load instead of silently dropping a fact.
 */
import * as z from 'zod';

const id = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lowercase letters, digits, dots and dashes');
const envName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name in CAPITALS');
/** YAML turns an unquoted 2026-01-27 into a Date; accept both and keep the text form. */
const day = z
  .union([z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'a date as YYYY-MM or YYYY-MM-DD'), z.date()])
  .transform((v) => (typeof v === 'string' ? v : v.toISOString().slice(0, 10)));

/** A fact nobody published stays `unknown` (never guessed); the number branch comes first so its error is the one shown. */
const orUnknown = <T extends z.ZodType>(known: T) => z.union([known, z.literal('unknown')]);
const tokens = z.number().int().positive();

/** A per-1M-token price, or `unknown` where nobody published one. */
const priceValue = orUnknown(z.number().nonnegative());

export const tokenPriceSchema = z
  .object({
    input: priceValue,
    cached_input: priceValue,
    output: priceValue,
    currency: z.enum(['USD', 'CNY']),
    source: z.string().min(1),
    as_of: day,
  })
  .strict();

/** A host that bills a membership plan's quota instead of tokens: its calls cost no money. */
export const planPriceSchema = z
  .object({
    /** What covers the call, in words (the plan and its quota). */
    plan: z.string().min(1),
    source: z.string().min(1),
    as_of: day,
  })
  .strict();

export const priceSchema = z.union([tokenPriceSchema, planPriceSchema]);

/**
 * Whether the host accepts OpenAI function tools, and tool history, for the model (kimi_agent
 * needs both), with who says so; `unknown` where nobody published it, which kimi_agent treats as
 * "cannot".
 */
const toolCallsSchema = orUnknown(z.object({ accepted: z.boolean(), source: z.string().min(1), as_of: day }).strict());

/** The host has put this model on its deprecated list: still callable, but say so. */
const deprecationSchema = z.object({ source: z.string().min(1), as_of: day }).strict();

/** A limit above another, when both are known. */
function exceeds(value: number | 'unknown', limit: number | 'unknown'): boolean {
  return typeof value === 'number' && typeof limit === 'number' && value > limit;
}

export const modelSchema = z
  .object({
    kind: z.literal('model'),
    id,
    title: z.string().min(1),
    default: z.boolean().optional(),
    released: z.union([day, z.literal('unknown')]),
    context_window: orUnknown(tokens),
    max_output: orUnknown(tokens),
    default_output: orUnknown(tokens),
    output_cap_field: z.enum(['max_tokens', 'max_completion_tokens']),
    modalities: z.array(z.enum(['text', 'image', 'video'])).min(1),
    /** Whether the model honours response_format (JSON mode / JSON schema). */
    structured_output: z.boolean(),
    thinking: z
      .object({
        default: z.enum(['enabled', 'disabled', 'unknown']),
        switchable: z.boolean(),
        /** The values the model takes for `reasoning_effort`. */
        effort: z.array(z.string()).optional(),
        /** The host expects earlier turns' reasoning back, as received (Moonshot's Preserved Thinking). */
        preserved: z.boolean().optional(),
      })
      .strict(),
    /** Absent when nobody published the model's sampling rules: the host then judges temperature. */
    sampling: z
      .object({
        temperature_thinking: z.number().min(0).max(2),
        temperature_instant: z.number().min(0).max(2).optional(),
        top_p: z.number().gt(0).max(1),
      })
      .strict()
      .optional(),
    sources: z.array(z.string().min(1)).min(1),
  })
  .strict()
  .refine((m) => !exceeds(m.default_output, m.max_output), { message: 'default_output exceeds max_output', path: ['default_output'] })
  .refine((m) => !exceeds(m.max_output, m.context_window), { message: 'max_output exceeds context_window', path: ['max_output'] });

export const providerSchema = z
  .object({
    kind: z.literal('provider'),
    id,
    title: z.string().min(1),
    default: z.boolean().optional(),
    base_url: z.url().optional(),
    base_url_env: envName.optional(),
    key_env: z.array(envName).min(1),
    key_optional: z.boolean().optional(),
    key_url: z.url().optional(),
    thinking_control: z.enum(['thinking_object', 'chat_template_kwargs', 'none']),
    /** The host passes a top-level `reasoning_effort` on to models that take one. */
    reasoning_effort: z.boolean().optional(),
    /** The host wants a `prompt_cache_key` (a session id) on every request. */
    prompt_cache_key: z.boolean().optional(),
    reasoning_field: z.enum(['reasoning_content', 'reasoning']),
    models_endpoint: z.boolean(),
    token_count_endpoint: z.string().startsWith('/').optional(),
    models: z.record(id, z.object({ id: z.string().min(1), tool_calls: toolCallsSchema, price: priceSchema, deprecated: deprecationSchema.optional() }).strict()),
  })
  .strict()
  .refine((p) => p.base_url !== undefined || p.base_url_env !== undefined, {
    message: 'needs base_url, base_url_env, or both',
    path: ['base_url'],
  });

export const noteSchema = z
  .object({
    kind: z.literal('note'),
    id,
    title: z.string().min(1),
  })
  .strict();

/** SKILL.md: only the Agent Skills spec's top-level keys; everything else under `metadata`. */
export const skillSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes').max(64),
    description: z.string().min(1).max(1024),
    license: z.string().optional(),
    compatibility: z.string().max(500).optional(),
    'allowed-tools': z.string().optional(),
    metadata: z
      .object({
        openclaw: z
          .object({
            primaryEnv: envName,
            homepage: z.url(),
            requires: z.object({ env: z.array(envName).min(1) }).loose(),
          })
          .loose(),
      })
      .loose(),
  })
  .strict();

export type TokenPrice = z.output<typeof tokenPriceSchema>;
export type PlanPrice = z.output<typeof planPriceSchema>;
export type Price = z.output<typeof priceSchema>;
export type Deprecation = z.output<typeof deprecationSchema>;
export type ToolCallsSupport = z.output<typeof toolCallsSchema>;
export type Model = z.output<typeof modelSchema>;
export type Provider = z.output<typeof providerSchema>;
export type Note = z.output<typeof noteSchema>;
export type SkillFrontmatter = z.output<typeof skillSchema>;
