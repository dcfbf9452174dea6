/**
 * Arguments the start-up path may act on without zod: only those the tool's own validation is
 * sure to accept, judged from the tool's JSON Schema in the start-up snapshot (the schema the
 * full server lists, made from the same zod schema). Anything less plain is the full server's to
 * validate and word.
 */
import type { StartupSnapshot } from './snapshot.js';

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  exclusiveMinimum?: number;
}

const above = (value: number, schema: PropertySchema) =>
  (schema.minimum === undefined || value >= schema.minimum) && (schema.exclusiveMinimum === undefined || value > schema.exclusiveMinimum);

/** Sure to pass the tool's own validation: a plain typed value, or one of an enum. */
function surelyValid(value: unknown, schema: PropertySchema): boolean {
  if (schema.enum) return schema.enum.includes(value);
  if (schema.type === 'string') return typeof value === 'string';
  if (schema.type === 'boolean') return typeof value === 'boolean';
  if (schema.type === 'integer') return Number.isSafeInteger(value) && above(value as number, schema);
  if (schema.type === 'number') return typeof value === 'number' && Number.isFinite(value) && above(value, schema);
  return false; // arrays, objects, unions: the full server's schemas decide
}

/** The call's arguments when every one is surely valid for tool `name`; otherwise undefined. */
export function sureArguments(snapshot: StartupSnapshot, name: string, args: unknown): Record<string, unknown> | undefined {
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) return undefined;
  const given = (args ?? {}) as Record<string, unknown>;
  const tool = snapshot.tools.find((t) => (t as { name: string }).name === name) as { inputSchema: { properties: Record<string, PropertySchema> } } | undefined;
  if (!tool) return undefined;
  const properties = tool.inputSchema.properties;
  return Object.entries(given).every(([key, value]) => Object.hasOwn(properties, key) && surelyValid(value, properties[key]!)) ? given : undefined;
}
