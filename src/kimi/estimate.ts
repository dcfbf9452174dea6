/** Pre-call token and cost estimate: counts the prompt (exactly where the host can) and prices it. */
import { findModel } from '../catalog/find.js';
import type { Price } from '../catalog/schema.js';
import { resolveHost } from './config.js';
import type { CallContext } from './config.js';
import { computeCost, isPlanCost } from './cost.js';
import type { Cost } from './cost.js';
import { requireOffer, requireProvider } from './catalog-view.js';
import { UsageError } from './errors.js';
import type { FileSet, SentFile, SkippedFile } from './files/index.js';
import { allowedFolders, checkMessages, newTurnMessages, readCallFiles } from './messages.js';
import type { ChatMessage, RootsSource } from './messages.js';
import { estimateMessagesTokens } from './tokens.js';
import { countTokensExactly, describeFailure } from './upstream.js';

export interface EstimateRequest {
  model?: string;
  provider?: string;
  input_tokens?: number;
  text?: string;
  messages?: ChatMessage[];
  /** Paths or globs, read under the same rules as a chat call's files. */
  files?: string[];
  output_tokens?: number;
  cached_tokens?: number;
}

export interface EstimateOptions {
  signal?: AbortSignal;
  /** Folders files may be read from; default: cwd + KIMI_MCP_ROOTS. */
  roots?: RootsSource;
}

export type CountedBy = 'given' | 'estimate' | 'exact';

export interface Estimate {
  model: string;
  provider: string;
  model_id: string;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  counted_by: CountedBy;
  /** The files counted, with their estimated tokens. */
  files?: SentFile[];
  skipped_files?: SkippedFile[];
  cost: Cost;
  price: Price;
  notes: string[];
}

export async function estimateCost(ctx: CallContext, req: EstimateRequest, options: EstimateOptions = {}): Promise<Estimate> {
  const { catalog, settings } = ctx;
  const { signal } = options;
  const hasFiles = Boolean(req.files?.length);
  const sources = [req.input_tokens !== undefined, req.text !== undefined, req.messages !== undefined].filter(Boolean).length;
  if (sources > 1 || (sources === 0 && !hasFiles) || (hasFiles && req.input_tokens !== undefined)) {
    throw new UsageError('Give exactly one of input_tokens (a known count), text (a prompt to count) or messages (a chat to count); files may come alone or with text or messages.');
  }
  const model = req.model ? findModel(catalog, req.model) : settings.model;
  if (!model) throw new UsageError(`Unknown model "${req.model}". Use one of: ${catalog.models.map((m) => m.id).join(', ')}.`);
  const provider = req.provider ? requireProvider(catalog, req.provider) : settings.provider;
  const offer = requireOffer(catalog, model, provider);
  const notes: string[] = [];

  let inputTokens: number;
  let countedBy: CountedBy;
  let read: FileSet = { files: [], skipped: [] };
  if (req.input_tokens !== undefined) {
    inputTokens = req.input_tokens;
    countedBy = 'given';
  } else {
    await checkMessages(req.messages);
    // A set that can never fit the window is refused from its sizes, not read to be priced.
    const fit = typeof model.context_window === 'number' ? { model: model.id, contextWindow: model.context_window } : undefined;
    if (hasFiles) read = await readCallFiles(req.files, await allowedFolders(ctx.env, options.roots), settings.maxFileBytes, fit);
    const turn = req.messages ? { messages: req.messages } : { prompt: req.text ?? '' };
    const messages = await newTurnMessages(turn, read.files, undefined, signal);
    inputTokens = estimateMessagesTokens(messages);
    countedBy = 'estimate';
    const host = resolveHost(provider, ctx.env);
    if (provider.token_count_endpoint && !host.problem) {
      try {
        inputTokens = await countTokensExactly(host, provider.token_count_endpoint, offer.id, messages, signal);
        countedBy = 'exact';
      } catch (e) {
        notes.push(`Exact count failed, so the offline estimate is used: ${describeFailure(e, host)}`);
      }
    }
    if (countedBy === 'estimate') notes.push('Offline estimate of Kimi tokens (chat template included); typically within about 10%.');
  }

  const outputTokens = req.output_tokens ?? 0;
  if (req.output_tokens === undefined) notes.push('No output_tokens given, so output is priced at 0; pass the answer length you expect.');
  const cachedTokens = Math.min(req.cached_tokens ?? 0, inputTokens);
  if ((req.cached_tokens ?? 0) > inputTokens) notes.push(`cached_tokens was more than the ${inputTokens} input tokens; capped.`);
  if (typeof model.max_output === 'number' && outputTokens > model.max_output) notes.push(`${model.id} writes at most ${model.max_output} output tokens; the host refuses a larger max_tokens.`);
  if (typeof model.context_window === 'number' && inputTokens + outputTokens > model.context_window) {
    notes.push(`Input plus output (${inputTokens + outputTokens}) exceeds ${model.id}'s ${model.context_window}-token window; the host would answer 400.`);
  }

  const cost = computeCost(offer.price, { input: inputTokens, cached: cachedTokens, output: outputTokens });
  if (isPlanCost(cost)) notes.push(`${provider.id} bills no tokens: the ${cost.covered_by_plan} covers the call, so it costs no money and spending limits do not count it; it uses the plan's quota.`);
  else if (cost.total === null) notes.push(`${provider.id} has not published every price for ${model.id} (source: ${offer.price.source}).`);
  return {
    model: model.id,
    provider: provider.id,
    model_id: offer.id,
    input_tokens: inputTokens,
    cached_tokens: cachedTokens,
    output_tokens: outputTokens,
    counted_by: countedBy,
    ...(read.files.length ? { files: read.files.map(({ path, tokens }) => ({ path, tokens })) } : {}),
    ...(read.skipped.length ? { skipped_files: read.skipped } : {}),
    cost,
    price: offer.price,
    notes,
  };
}
