/**
 * Offline tool calls answered on the start-up path, without the SDK or zod: `list_models`
 * without a live check, and `estimate_cost` without files or an exact count from the host.
 * Only arguments the check below is sure the full server accepts are taken; the result is built
 * by the same call-path code and worded by the same functions, so it is exactly what the full
 * server would answer. Anything else (undefined here) is handed over to the full server.
 */
import { reportConfiguration, resolveHost } from '../kimi/config.js';
import type { CallContext } from '../kimi/config.js';
import { estimateCost } from '../kimi/estimate.js';
import { listModels } from '../kimi/list-models.js';
import { estimateText, modelListText } from '../kimi/summary.js';
import { findProvider } from '../catalog/find.js';
import { errorResult, replyResult } from '../mcp/tool-result.js';
import type { ToolResult } from '../mcp/tool-result.js';
import { sureArguments } from './sure-args.js';
import { snapshotContext } from './context.js';
import type { StartupSnapshot } from './snapshot.js';

/** Would this estimate ask the host for an exact count (a network call)? Then it is not offline. */
function countsExactly(ctx: CallContext, args: Record<string, unknown>): boolean {
  if (args.input_tokens !== undefined) return false;
  const provider = typeof args.provider === 'string' ? findProvider(ctx.catalog, args.provider) : ctx.settings.provider;
  return Boolean(provider?.token_count_endpoint) && !resolveHost(provider!, ctx.env).problem;
}

/** The answer to a tools/call, or undefined when the full server must give it. */
export async function offlineCall(snapshot: StartupSnapshot, distDir: string, skillRoot: string, env: NodeJS.ProcessEnv, name: unknown, args: unknown): Promise<ToolResult | undefined> {
  if (name !== 'list_models' && name !== 'estimate_cost') return undefined;
  const given = sureArguments(snapshot, name, args);
  if (!given) return undefined;
  const ctx = snapshotContext(snapshot, distDir, skillRoot, env);
  if (!ctx) return undefined;
  reportConfiguration(ctx.settings);
  try {
    if (name === 'list_models') {
      if (given.live === true) return undefined;
      const list = await listModels(ctx, given);
      return replyResult({ text: modelListText(list), structured: list });
    }
    if (countsExactly(ctx, given)) return undefined;
    const estimate = await estimateCost(ctx, given);
    return replyResult({ text: estimateText(estimate), structured: estimate });
  } catch (e) {
    // Refusals are the agent's to fix, worded as the full server words them; anything else is its to handle.
    if (e instanceof Error && e.name === 'UsageError') return errorResult(e.message);
    return undefined;
  }
}
