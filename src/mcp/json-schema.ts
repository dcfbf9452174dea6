/**
 * JSON Schema from the tools' zod schemas, written once and used for tools/list and for the
 * schema resources. It drops what costs the agent context but tells it nothing: the `$schema`
 * URI, the ±2^53 bounds zod puts on every integer, empty `additionalProperties`/`properties`,
 * and string `propertyNames`.
 */
import * as z from 'zod';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function compact(node: Json): Json {
  if (Array.isArray(node)) return node.map(compact);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if ((key === 'maximum' && value === Number.MAX_SAFE_INTEGER) || (key === 'minimum' && value === Number.MIN_SAFE_INTEGER)) continue;
    const isEmptyObject = value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
    if ((key === 'additionalProperties' || key === 'properties') && isEmptyObject) continue;
    // Record keys are always strings in JSON; saying so informs nobody.
    if (key === 'propertyNames' && JSON.stringify(value) === '{"type":"string"}') continue;
    out[key] = compact(value);
  }
  return out;
}

/**
 * Converted once per schema: every server (each HTTP session, the start-up rehearsal and the one
 * that takes over) registers the same output schemas, and a conversion costs about a millisecond.
 */
const converted = { input: new WeakMap<z.ZodType, Record<string, unknown>>(), output: new WeakMap<z.ZodType, Record<string, unknown>>() };

/** The JSON Schema of `schema`; shared between callers, so never to be changed. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  let json = converted[io].get(schema);
  if (!json) converted[io].set(schema, (json = compact(z.toJSONSchema(schema, { target: 'draft-7', io }) as Json) as Record<string, unknown>));
  return json;
}
