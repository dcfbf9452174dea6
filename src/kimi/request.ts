/**
 * Turns a tool's chat arguments into the upstream request, enforcing each model's rules before
 * anything is sent (and billed): fixed sampling, text-only models, output caps, the one output
 * cap field, the host's own thinking switch, reasoning_effort where model and host take it, the
 * context window (with files and earlier turns). A limit nobody published is left to the host.
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
import { allowedFolders, checkMessages, fitHistory, newTurnMessages, readCallFiles } from './messages.js';
import type { ChatMessage, RootsSource } from './messages.js';
import { estimateMessagesTokens, estimateTextTokens } from './tokens.js';

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
  /** How hard a model with an effort knob reasons (the catalog lists each model's values). */
  reasoning_effort?: string;
  response_format?: ResponseFormat;
  images?: string[];
  /** Paths or globs read by the server, confined to the roots (see files/). */
  files?: string[];
  /** Continue this stored conversation (see state/conversations.ts). */
  conversation_id?: string;
  /** Functions the model may call, sent as OpenAI function tools (a kimi_agent step). */
  tools?: ToolSpec[];
  /** Whether the model may call them; thinking models take only these two values. */
  tool_choice?: 'auto' | 'none';
}

/** A function the model may call: sent as {type: 'function', function: {name, description, parameters}}. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/**
 * Prompt tokens that estimateMessagesTokens does not see: the tool declarations (the host
 * renders them into the prompt) and the calls of earlier assistant turns.
 */
export function toolTokens(messages: readonly ChatMessage[], tools: readonly ToolSpec[] = []): number {
  const calls = messages.flatMap((m) => (Array.isArray(m.tool_calls) ? (m.tool_calls as unknown[]) : []));
  return (tools.length ? estimateTextTokens(JSON.stringify(tools)) : 0) + (calls.length ? estimateTextTokens(JSON.stringify(calls)) : 0);
}

/** What a call needs besides its arguments: earlier turns and the folders files may come from. */
export interface PrepareOptions {
  signal?: AbortSignal;
  /** Folders that `files` and image paths must lie in, asked for only when a call reads a path.
   *  Default: the working directory plus KIMI_MCP_ROOTS. */
  roots?: RootsSource;
  history?: readonly Turn[];
  /** The conversation the call belongs to: the cache key for hosts that want one. */
  conversationId?: string;
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

/** A limit as a number, or undefined where nobody published it. */
function known(limit: number | 'unknown'): number | undefined {
  return limit === 'unknown' ? undefined : limit;
}

/**
 * The most output a call may produce: max_tokens, else the model's output cap, within what the
 * window leaves. Unbounded (Infinity) only for a model whose window is unknown, which the catalog
 * allows only where a plan, not money, pays for the call.
 */
export function outputBound(model: ModelEntry, promptTokens: number, maxTokens: number | undefined): number {
  const window = known(model.context_window) ?? Infinity;
  return Math.max(0, Math.min(maxTokens ?? known(model.max_output) ?? window, window - promptTokens));
}

/** Room kept for the answer when fitting a conversation and no max_tokens is given. */
function answerReserve(model: ModelEntry, window: number, maxTokens: number | undefined): number {
  return maxTokens ?? Math.min(known(model.max_output) ?? window, Math.floor(window / 4));
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

/** reasoning_effort goes only where the model has that knob and the host passes it on. */
function checkReasoningEffort(ctx: CallContext, model: ModelEntry, provider: ProviderEntry, effort: string): void {
  const efforts = model.thinking.effort ?? [];
  if (!efforts.length) {
    throw new UsageError(`${model.id} takes no reasoning_effort; omit it, or use a model that does (${modelsWith(ctx, (m) => Boolean(m.thinking.effort?.length))}).`);
  }
  if (!efforts.includes(effort)) throw new UsageError(`${model.id} takes reasoning_effort ${efforts.join(', ')}, not "${effort}".`);
  if (!provider.reasoning_effort) {
    const hosts = ctx.catalog.providers.filter((p) => p.reasoning_effort && p.models[model.id]).map((p) => p.id);
    throw new UsageError(`${provider.title} accepts no reasoning controls, so reasoning_effort cannot be sent there; omit it, or use a host that takes it${hosts.length ? ` (${hosts.join(', ')})` : ''}.`);
  }
}

export async function prepareChat(ctx: CallContext, req: ChatRequest, options: PrepareOptions = {}): Promise<PreparedCall> {
  const model = modelFor(ctx, req, options.history);
  const provider = req.provider ? requireProvider(ctx.catalog, req.provider) : ctx.settings.provider;
  const offer = requireOffer(ctx.catalog, model, provider);
  const host = resolveHost(provider, ctx.env);
  if (host.problem) throw new UsageError(host.problem);

  if (req.thinking !== undefined && model.thinking.default === 'unknown') {
    throw new UsageError(`Whether ${model.id} thinks, and whether that can be switched, is not published; omit thinking (the host decides).`);
  }
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

  if (req.reasoning_effort !== undefined) checkReasoningEffort(ctx, model, provider, req.reasoning_effort);

  // A model whose sampling rules nobody published gets the temperature asked for; the host judges it.
  if (req.temperature !== undefined && model.sampling) {
    const allowed = thinking ? model.sampling.temperature_thinking : model.sampling.temperature_instant;
    if (allowed === undefined || Math.abs(req.temperature - allowed) > 1e-9) {
      throw new UsageError(`${model.id} accepts only temperature ${allowed} with thinking ${thinking ? 'on' : 'off'}; omit temperature (the host fixes it).`);
    }
  }

  const maxOutput = known(model.max_output);
  if (req.max_tokens !== undefined && maxOutput !== undefined && req.max_tokens > maxOutput) {
    throw new UsageError(`${model.id} writes at most ${maxOutput} tokens; lower max_tokens to ${maxOutput} or less.`);
  }

  if (req.response_format !== undefined && !model.structured_output) {
    throw new UsageError(`${model.id} does not support response_format; ask for JSON in the prompt, or use ${modelsWith(ctx, (m) => m.structured_output)}.`);
  }

  const textOnly = !model.modalities.includes('image');
  if (textOnly && (req.images?.length || (req.messages && hasMedia(req.messages)))) {
    throw new UsageError(`${model.id} reads text only; drop the images, or use a model that takes them (${modelsWith(ctx, (m) => m.modalities.includes('image'))}).`);
  }

  await checkMessages(req.messages);
  const readsPaths = Boolean(req.files?.length) || (req.images ?? []).some(isImageFile);
  const roots = readsPaths ? await allowedFolders(ctx.env, options.roots) : undefined;
  const contextWindow = known(model.context_window);
  const fit = contextWindow === undefined ? undefined : { model: model.id, contextWindow, ...(req.max_tokens !== undefined && { maxTokens: req.max_tokens }) };
  const read = await readCallFiles(req.files, roots, ctx.settings.maxFileBytes, fit);
  const turn = await newTurnMessages(req, read.files, roots, options.signal, ctx.env);
  // Unknown window: every earlier turn goes, and the host says when they no longer fit.
  const window = contextWindow ?? Infinity;
  // Models with Preserved Thinking get each earlier reply's reasoning back, as the host sent it.
  const reasoningField = model.thinking.preserved ? provider.reasoning_field : undefined;
  const history = fitHistory(options.history ?? [], turn, window - answerReserve(model, window, req.max_tokens), reasoningField);
  const messages = [...history.messages, ...turn];
  const promptTokens = estimateMessagesTokens(messages) + toolTokens(messages, req.tools);
  const lenient = Math.floor(promptTokens * ESTIMATE_SLACK);
  if (lenient > window) {
    const files = read.files.length ? largestFiles(read.files) : '';
    throw new UsageError(`The prompt is about ${promptTokens} tokens, more than ${model.id}'s ${window}-token window; shorten it or use a model with a larger window.${files}`);
  }
  if (req.max_tokens !== undefined && lenient + req.max_tokens > window) {
    throw new UsageError(`Prompt (~${promptTokens} tokens) plus max_tokens ${req.max_tokens} exceeds ${model.id}'s ${window}-token window; lower max_tokens to about ${window - promptTokens}.`);
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
  if (req.reasoning_effort !== undefined) body.reasoning_effort = req.reasoning_effort;
  if (provider.prompt_cache_key && options.conversationId) body.prompt_cache_key = options.conversationId;
  if (req.temperature !== undefined && !model.sampling) body.temperature = req.temperature;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    if (req.tool_choice) body.tool_choice = req.tool_choice;
  }
  if (req.response_format === 'json_object') body.response_format = { type: 'json_object' };
  else if (req.response_format) {
    body.response_format = { type: 'json_schema', json_schema: { name: req.response_format.name ?? 'reply', schema: req.response_format.schema, strict: true } };
  }

  const files = read.files.map(({ path, tokens }) => ({ path, tokens }));
  return { model, provider, host, modelId: offer.id, price: offer.price, thinking, promptTokens, body, turn, files, skipped: read.skipped, droppedTurns: history.dropped };
}
