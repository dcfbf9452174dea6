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

/** A per-1M-token price, or `unknown` where nobody published one (never guessed). */
const priceValue = z.union([z.number().nonnegative(), z.literal('unknown')]);

export const priceSchema = z
  .object({
    input: priceValue,
    cached_input: priceValue,
    output: priceValue,
    currency: z.enum(['USD', 'CNY']),
    source: z.string().min(1),
    as_of: day,
  })
  .strict();

export const modelSchema = z
  .object({
    kind: z.literal('model'),
    id,
    title: z.string().min(1),
    default: z.boolean().optional(),
    released: day,
    context_window: z.number().int().positive(),
    max_output: z.number().int().positive(),
    default_output: z.number().int().positive(),
    output_cap_field: z.enum(['max_tokens', 'max_completion_tokens']),
    modalities: z.array(z.enum(['text', 'image', 'video'])).min(1),
    /** Whether the model honours response_format (JSON mode / JSON schema). */
    structured_output: z.boolean(),
    thinking: z
      .object({
        default: z.enum(['enabled', 'disabled']),
        switchable: z.boolean(),
        effort: z.array(z.string()).optional(),
      })
      .strict(),
    sampling: z
      .object({
        temperature_thinking: z.number().min(0).max(2),
        temperature_instant: z.number().min(0).max(2).optional(),
        top_p: z.number().gt(0).max(1),
      })
      .strict(),
    sources: z.array(z.string().min(1)).min(1),
  })
  .strict()
  .refine((m) => m.default_output <= m.max_output, { message: 'default_output exceeds max_output', path: ['default_output'] })
  .refine((m) => m.max_output <= m.context_window, { message: 'max_output exceeds context_window', path: ['max_output'] });

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
    reasoning_field: z.enum(['reasoning_content', 'reasoning']),
    models_endpoint: z.boolean(),
    token_count_endpoint: z.string().startsWith('/').optional(),
    models: z.record(id, z.object({ id: z.string().min(1), price: priceSchema }).strict()),
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

export type Price = z.output<typeof priceSchema>;
export type Model = z.output<typeof modelSchema>;
export type Provider = z.output<typeof providerSchema>;
export type Note = z.output<typeof noteSchema>;
export type SkillFrontmatter = z.output<typeof skillSchema>;
