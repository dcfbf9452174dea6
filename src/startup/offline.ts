/**
 * Offline tool calls answered on the start-up path, without the SDK or zod: `list_models`
 * without a live check, and `estimate_cost` without files or an exact count from the host.
 * Only arguments the check below is sure the full server accepts are taken; the result is built
 * by the same call-path code and worded by the same functions, so it is exactly what the full
 * server would answer. Anything else (undefined here) is handed over to the full server.
 */
import { fromSnapshot } from '../catalog/current.js';
import { resolveHost, resolveSettings } from '../kimi/config.js';
import type { CallContext } from '../kimi/config.js';
import { estimateCost } from '../kimi/estimate.js';
import { listModels } from '../kimi/list-models.js';
import { estimateText, modelListText } from '../kimi/summary.js';
import { findProvider } from '../catalog/find.js';
import { log, scrub } from '../log.js';
import { readCatalogSnapshot } from './snapshot.js';
import type { StartupSnapshot } from './snapshot.js';

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
}

/** Sure to pass the tool's own validation: a plain typed value, or one of an enum. */
function surelyValid(value: unknown, schema: PropertySchema): boolean {
  if (schema.enum) return schema.enum.includes(value);
  if (schema.type === 'string') return typeof value === 'string';
  if (schema.type === 'boolean') return typeof value === 'boolean';
  if (schema.type === 'integer') return Number.isSafeInteger(value) && (schema.minimum === undefined || (value as number) >= schema.minimum);
  return false; // arrays, objects, unions: the full server's schemas decide
}

export interface OfflineResult {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: true;
}

/** What the full server returns for a reply or a refusal (see src/mcp/tool.ts). */
function toolResult(text: string, structured?: unknown): OfflineResult {
  if (structured === undefined) return { isError: true, content: [{ type: 'text', text: scrub(text) }] };
  return { content: [{ type: 'text', text: scrub(text) }], structuredContent: JSON.parse(scrub(JSON.stringify(structured))) as Record<string, unknown> };
}

/** Bad configuration is logged once, as the full server does when it starts (it then does not). */
let reported = false;
function reportConfiguration(problems: readonly string[]): void {
  if (reported) return;
  reported = true;
  for (const problem of problems) log(`configuration: ${problem}`);
}

/** Whether an offline call logged the configuration already (the full server then does not). */
export function configurationReported(): boolean {
  return reported;
}

/** Would this estimate ask the host for an exact count (a network call)? Then it is not offline. */
function countsExactly(ctx: CallContext, args: Record<string, unknown>): boolean {
  if (args.input_tokens !== undefined) return false;
  const provider = typeof args.provider === 'string' ? findProvider(ctx.catalog, args.provider) : ctx.settings.provider;
  return Boolean(provider?.token_count_endpoint) && !resolveHost(provider!, ctx.env).problem;
}

/**
 * The answer to a tools/call, or undefined when the full server must give it. `snapshot` is the
 * start-up snapshot already checked against the skill on disk, so its fingerprint vouches for
 * the stored catalog too.
 */
export async function offlineCall(snapshot: StartupSnapshot, distDir: string, skillRoot: string, env: NodeJS.ProcessEnv, name: unknown, args: unknown): Promise<OfflineResult | undefined> {
  if (name !== 'list_models' && name !== 'estimate_cost') return undefined;
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) return undefined;
  const given = (args ?? {}) as Record<string, unknown>;
  const tool = snapshot.tools.find((t) => (t as { name: string }).name === name) as { inputSchema: { properties: Record<string, PropertySchema> } } | undefined;
  if (!tool) return undefined;
  const properties = tool.inputSchema.properties;
  if (!Object.entries(given).every(([key, value]) => Object.hasOwn(properties, key) && surelyValid(value, properties[key]!))) return undefined;
  const stored = readCatalogSnapshot(env, snapshot.version, distDir, snapshot.skillHash);
  if (!stored) return undefined;
  const catalog = fromSnapshot(stored, skillRoot);
  const ctx: CallContext = { catalog, settings: resolveSettings(catalog, env), env };
  reportConfiguration(ctx.settings.problems);
  try {
    if (name === 'list_models') {
      if (given.live === true) return undefined;
      const list = await listModels(ctx, given);
      return toolResult(modelListText(list), list);
    }
    if (countsExactly(ctx, given)) return undefined;
    const estimate = await estimateCost(ctx, given);
    return toolResult(estimateText(estimate), estimate);
  } catch (e) {
    // Refusals are the agent's to fix, worded as the full server words them; anything else is its to handle.
    if (e instanceof Error && e.name === 'UsageError') return toolResult(e.message);
    return undefined;
  }
}
