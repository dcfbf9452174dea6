/**
 * Turns a tool's chat arguments into the upstream request, enforcing each model's rules before
 * anything is sent (and billed): fixed sampling, text-only models, output caps, the one output
 * cap field, the host's own thinking switch, the context window (with files and earlier turns).
 * Every refusal says what to change.
 */
import { findModel } from '../catalog/find.js';
import type { ModelEntry, ProviderEntry } from '../catalog/load.js';
import type { Price } from '../catalog/schema.js';
import { resolveHost } from './config.js';
import { requireOffer, requireProvider } from './catalog-view.js';
import { UsageError } from './errors.js';
import type { CallContext, Host } from './config.js';
import { isImageFile } from './images.js';
import type { Turn } from '../state/conversations.js';
import type { SentFile, SkippedFile } from './files/index.js';
import { allowedFolders, fitHistory, newTurnMessages, readCallFiles } from './messages.js';
import type { ChatMessage, RootsSource } from './messages.js';
import { estimateMessagesTokens } from './tokens.js';

export type ResponseFormat = 'json_object' | { name?: string; schema: Record<string, unknown> };

export interface ChatRequest {
  prompt?: string;
  messages?: ChatMessage[];
  system?: string;
  model?: string;
  provider?: string;
  max_tokens?: number;
  temperature?: number;
  thinking?: boolean;
  response_format?: ResponseFormat;
  images?: string[];
  /** Paths or globs read by the server, confined to the roots (see files/). */
  files?: string[];
  /** Continue this stored conversation (see state/conversations.ts). */
  conversation_id?: string;
}

/** What a call needs besides its arguments: earlier turns and the folders files may come from. */
export interface PrepareOptions {
  signal?: AbortSignal;
  /** Folders that `files` and image paths must lie in, asked for only when a call reads a path.
   *  Default: the working directory plus KIMI_MCP_ROOTS. */
  roots?: RootsSource;
  history?: readonly Turn[];
}

export interface PreparedCall {
  model: ModelEntry;
  provider: ProviderEntry;
  host: Host;
  modelId: string;
  price: Price;
  thinking: boolean;
  /** Offline estimate of the prompt, used for the context check. */
  promptTokens: number;
  body: Record<string, unknown>;
  /** The messages this turn added (stored in the conversation after the call). */
  turn: ChatMessage[];
  files: SentFile[];
  skipped: SkippedFile[];
  /** Earlier turns left out because the conversation no longer fits the window. */
  droppedTurns: number;
}

/** The estimator can be ~10% high; refuse only when even a generous reading does not fit. */
const ESTIMATE_SLACK = 0.9;

function hasMedia(messages: ChatMessage[]): boolean {
  return messages.some(
    (m) => Array.isArray(m.content) && m.content.some((part) => part.type === 'image_url' || part.type === 'video_url'),
  );
}

function modelsWith(ctx: CallContext, test: (m: ModelEntry) => boolean): string {
  return ctx.catalog.models.filter(test).map((m) => m.id).join(', ');
}

/** Room kept for the answer when fitting a conversation and no max_tokens is given. */
function answerReserve(model: ModelEntry, maxTokens: number | undefined): number {
  return maxTokens ?? Math.min(model.max_output, Math.floor(model.context_window / 4));
}

function largestFiles(files: readonly SentFile[]): string {
  const top = [...files].sort((a, b) => b.tokens - a.tokens).slice(0, 5);
  return ` Largest files: ${top.map((f) => `${f.path} ~${f.tokens}`).join(', ')} tokens. Send fewer files, a line range (path:40-120) or "!" excludes.`;
}

/** The model of a call: the one named, else the conversation's, else the configured default. */
export function modelFor(ctx: CallContext, req: ChatRequest, history: readonly Turn[] = []): ModelEntry {
  const modelName = req.model ?? history.at(-1)?.model;
  const model = modelName ? findModel(ctx.catalog, modelName) : ctx.settings.model;
  if (!model) throw new UsageError(`Unknown model "${modelName}". Use one of: ${ctx.catalog.models.map((m) => m.id).join(', ')}.`);
  return model;
}

export async function prepareChat(ctx: CallContext, req: ChatRequest, options: PrepareOptions = {}): Promise<PreparedCall> {
  const model = modelFor(ctx, req, options.history);
  const provider = req.provider ? requireProvider(ctx.catalog, req.provider) : ctx.settings.provider;
  const offer = requireOffer(ctx.catalog, model, provider);
  const host = resolveHost(provider, ctx.env);
  if (host.problem) throw new UsageError(host.problem);

  const thinkingDefault = model.thinking.default === 'enabled';
  const thinking = req.thinking ?? thinkingDefault;
  if (req.thinking !== undefined && req.thinking !== thinkingDefault) {
    if (!model.thinking.switchable) {
      throw new UsageError(`${model.id} always thinks; omit thinking, or use a model whose thinking can be turned off (${modelsWith(ctx, (m) => m.thinking.switchable)}).`);
    }
    if (provider.thinking_control === 'none') {
      const hosts = ctx.catalog.providers.filter((p) => p.thinking_control !== 'none' && p.models[model.id]).map((p) => p.id);
      throw new UsageError(`${provider.title} has no switch for thinking; omit thinking, or use a host that has one (${hosts.join(', ')}).`);
    }
  }

  if (req.temperature !== undefined) {
    const allowed = thinking ? model.sampling.temperature_thinking : model.sampling.temperature_instant;
    if (allowed === undefined || Math.abs(req.temperature - allowed) > 1e-9) {
      throw new UsageError(`${model.id} accepts only temperature ${allowed} with thinking ${thinking ? 'on' : 'off'}; omit temperature (the host fixes it).`);
    }
  }

  if (req.max_tokens !== undefined && req.max_tokens > model.max_output) {
    throw new UsageError(`${model.id} writes at most ${model.max_output} tokens; lower max_tokens to ${model.max_output} or less.`);
  }

  if (req.response_format !== undefined && !model.structured_output) {
    throw new UsageError(`${model.id} does not support response_format; ask for JSON in the prompt, or use ${modelsWith(ctx, (m) => m.structured_output)}.`);
  }

  const textOnly = !model.modalities.includes('image');
  if (textOnly && (req.images?.length || (req.messages && hasMedia(req.messages)))) {
    throw new UsageError(`${model.id} reads text only; drop the images, or use a model that takes them (${modelsWith(ctx, (m) => m.modalities.includes('image'))}).`);
  }

  const readsPaths = Boolean(req.files?.length) || (req.images ?? []).some(isImageFile);
  const roots = readsPaths ? await allowedFolders(ctx.env, options.roots) : undefined;
  const read = await readCallFiles(req.files, roots, ctx.settings.maxFileBytes);
  const turn = await newTurnMessages(req, read.files, roots, options.signal);
  const history = fitHistory(options.history ?? [], turn, model.context_window - answerReserve(model, req.max_tokens));
  const messages = [...history.messages, ...turn];
  const promptTokens = estimateMessagesTokens(messages);
  const lenient = Math.floor(promptTokens * ESTIMATE_SLACK);
  if (lenient > model.context_window) {
    const files = read.files.length ? largestFiles(read.files) : '';
    throw new UsageError(`The prompt is about ${promptTokens} tokens, more than ${model.id}'s ${model.context_window}-token window; shorten it or use a model with a larger window.${files}`);
  }
  if (req.max_tokens !== undefined && lenient + req.max_tokens > model.context_window) {
    throw new UsageError(`Prompt (~${promptTokens} tokens) plus max_tokens ${req.max_tokens} exceeds ${model.id}'s ${model.context_window}-token window; lower max_tokens to about ${model.context_window - promptTokens}.`);
  }

  const body: Record<string, unknown> = {
    model: offer.id,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  // Exactly one output cap field: some models refuse a request that carries both.
  if (req.max_tokens !== undefined) body[model.output_cap_field] = req.max_tokens;
  if (req.thinking !== undefined && model.thinking.switchable) {
    if (provider.thinking_control === 'thinking_object') body.thinking = { type: thinking ? 'enabled' : 'disabled' };
    if (provider.thinking_control === 'chat_template_kwargs') body.chat_template_kwargs = { thinking };
  }
  if (req.response_format === 'json_object') body.response_format = { type: 'json_object' };
  else if (req.response_format) {
    body.response_format = { type: 'json_schema', json_schema: { name: req.response_format.name ?? 'reply', schema: req.response_format.schema, strict: true } };
  }

  const files = read.files.map(({ path, tokens }) => ({ path, tokens }));
  return { model, provider, host, modelId: offer.id, price: offer.price, thinking, promptTokens, body, turn, files, skipped: read.skipped, droppedTurns: history.dropped };
}
