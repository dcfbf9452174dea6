/**
 * Turns a tool's chat arguments into the upstream request, enforcing each model's rules before
 * anything is sent (and billed): fixed sampling, text-only models, output caps, the one output
 * cap field, the host's own thinking switch. Every refusal says what to change.
 */
import { findModel } from '../catalog/load.js';
import type { ModelEntry, ProviderEntry } from '../catalog/load.js';
import type { Price } from '../catalog/schema.js';
import { resolveHost } from './config.js';
import { requireOffer, requireProvider } from './catalog-view.js';
import { UsageError } from './errors.js';
import type { CallContext, Host } from './config.js';
import { imageDataUrl } from './images.js';
import { estimateMessagesTokens } from './tokens.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Record<string, unknown>[];
  [extra: string]: unknown;
}

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

async function buildMessages(req: ChatRequest, signal?: AbortSignal): Promise<ChatMessage[]> {
  if ((req.prompt === undefined) === (req.messages === undefined)) {
    throw new UsageError('Give either prompt (a string) or messages (OpenAI chat messages), not both and not neither.');
  }
  const messages: ChatMessage[] = req.messages ? req.messages.map((m) => ({ ...m })) : [{ role: 'user', content: req.prompt ?? '' }];
  if (req.system !== undefined) messages.unshift({ role: 'system', content: req.system });
  if (req.images?.length) {
    const target = [...messages].reverse().find((m) => m.role === 'user');
    if (!target) throw new UsageError('images need a user message to attach to; add one to messages.');
    const urls = await Promise.all(req.images.map((source) => imageDataUrl(source, signal)));
    const text = typeof target.content === 'string' ? [{ type: 'text', text: target.content }] : target.content;
    target.content = [...text, ...urls.map((url) => ({ type: 'image_url', image_url: { url } }))];
  }
  return messages;
}

export async function prepareChat(ctx: CallContext, req: ChatRequest, signal?: AbortSignal): Promise<PreparedCall> {
  const model = req.model ? findModel(ctx.catalog, req.model) : ctx.settings.model;
  if (!model) throw new UsageError(`Unknown model "${req.model}". Use one of: ${ctx.catalog.models.map((m) => m.id).join(', ')}.`);
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

  const messages = await buildMessages(req, signal);
  const promptTokens = estimateMessagesTokens(messages);
  const lenient = Math.floor(promptTokens * ESTIMATE_SLACK);
  if (lenient > model.context_window) {
    throw new UsageError(`The prompt is about ${promptTokens} tokens, more than ${model.id}'s ${model.context_window}-token window; shorten it or use a model with a larger window.`);
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

  return { model, provider, host, modelId: offer.id, price: offer.price, thinking, promptTokens, body };
}
