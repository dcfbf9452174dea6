/**
 * Shared by kimi_chat and kimi_stream: runs the call and turns its outcome (or its failure,
 * with the partial text) into a tool reply that fits the client's result cap.
 */
import type * as z from 'zod';
import { ChatFailure } from '../kimi/chat.js';
import { runChat } from '../kimi/run-chat.js';
import type { ChatResult } from '../kimi/chat.js';
import { costWords, isPlanCost } from '../kimi/cost.js';
import type { ChatRequest } from '../kimi/request.js';
import { estimateTextTokens } from '../kimi/tokens.js';
import { aboutTheCall, retryWords, whatArrived } from '../kimi/summary.js';
import { ProgressReporter } from './progress.js';
import type { ReplyStore } from './replies.js';
import type { chatOutput } from './schemas.js';
import type { ToolCall, ToolContext } from './tool.js';
import type { ToolReply } from './tool-result.js';

export type ChatContext = ToolContext & { replies: ReplyStore };
type ChatOutput = z.output<typeof chatOutput>;

/** Share of the client's cap for the answer (it appears in the text block and in structuredContent). */
const ANSWER_SHARE = 0.45;
const REASONING_SHARE = 0.05;

/** The longest prefix of `text` within `maxTokens` by our estimate. */
export function prefixWithin(text: string, maxTokens: number): string {
  let cut = text.length;
  let tokens = estimateTextTokens(text);
  while (tokens > maxTokens && cut > 0) {
    cut = Math.floor(cut * (maxTokens / tokens) * 0.97);
    tokens = estimateTextTokens(text.slice(0, cut));
  }
  return text.slice(0, cut);
}

function footer(r: ChatResult, failure?: ChatFailure): string {
  const parts = [`${r.model} on ${r.provider}`];
  const about = r.usage_estimated ? '~' : '';
  if (r.usage) parts.push(`${about}${r.usage.prompt_tokens} in (${r.usage.cached_tokens} cached) + ${about}${r.usage.completion_tokens} out tokens`);
  // A plan's call or an unknown price has no amount to estimate.
  if (r.cost) parts.push(isPlanCost(r.cost) || r.cost.total === null ? costWords(r.cost) : `${about}${costWords(r.cost)}${r.usage_estimated ? ` (estimated: ${failure ? 'the stream broke before the host reported usage' : 'the host reported no usage'})` : ''}`);
  if (r.finish_reason) parts.push(`finish ${r.finish_reason}`);
  if (r.conversation_id) parts.push(`conversation_id ${r.conversation_id}`);
  return `— ${parts.join(' · ')}`;
}

export function renderChat(ctx: ChatContext, result: ChatResult, failure?: ChatFailure): ToolReply<ChatOutput> {
  const cap = ctx.settings.maxResultTokens;
  const answer = prefixWithin(result.text, Math.floor(cap * ANSWER_SHARE));
  const reasoning = prefixWithin(result.reasoning, Math.floor(cap * REASONING_SHARE));
  const shortened = answer.length < result.text.length || reasoning.length < result.reasoning.length;
  const structured: ChatOutput = {
    text: answer,
    ...(reasoning ? { reasoning } : {}),
    ...(result.tool_calls.length ? { tool_calls: result.tool_calls } : {}),
    model: result.model,
    provider: result.provider,
    host: result.host,
    model_id: result.model_id,
    finish_reason: result.finish_reason,
    usage: result.usage,
    cost: result.cost,
    cost_usd: result.cost_usd,
    request_id: result.request_id,
    ...(result.usage_estimated ? { usage_estimated: true } : {}),
    ...(failure ? { ...(failure.isPartial ? { partial: true } : {}), error: failure.message } : {}),
    ...(result.conversation_id ? { conversation_id: result.conversation_id } : {}),
    ...(result.files ? { files: result.files } : {}),
    ...(result.skipped_files ? { skipped_files: result.skipped_files } : {}),
    ...(result.dropped_turns ? { dropped_turns: result.dropped_turns } : {}),
    ...(result.attempts ? { attempts: result.attempts } : {}),
    ...(result.budget ? { budget: result.budget } : {}),
    ...(result.notes ? { notes: result.notes } : {}),
  };
  const lines: string[] = [];
  if (failure) lines.push(failure.message, '', whatArrived(result));
  // Reasoning that arrived without text is all the call produced: it is shown, not only returned.
  if (answer || !failure) lines.push(answer);
  else if (reasoning) lines.push(reasoning);
  const links: NonNullable<ToolReply<ChatOutput>['links']> = [];
  if (shortened) {
    const full = result.reasoning ? `${result.text}\n\n---\nReasoning:\n\n${result.reasoning}` : result.text;
    const uri = ctx.replies.save(`${result.model} reply${failure ? ' (partial)' : ''}`, full);
    structured.full_text_uri = uri;
    links.push({ uri, name: 'full reply', mimeType: 'text/markdown' });
    const shown = answer.length < result.text.length ? `${answer.length} of ${result.text.length} characters shown` : `reasoning: ${reasoning.length} of ${result.reasoning.length} characters shown`;
    lines.push('', `[Shortened to fit this client's ${cap}-token result limit: ${shown}. Read ${uri} for all of it.]`);
  }
  lines.push('', ...aboutTheCall(result), footer(result, failure));
  return { text: lines.join('\n'), structured, links, isError: failure !== undefined };
}

/** Runs a chat call for a tool; `streamText` decides whether progress shows the text itself. */
export async function chatTool(ctx: ChatContext, args: ChatRequest, call: ToolCall, streamText: boolean): Promise<ToolReply<ChatOutput>> {
  const label = `${args.model ?? ctx.settings.model.id}`;
  const reporter = call.progress ? new ProgressReporter(call.progress, label, streamText) : undefined;
  try {
    const result = await runChat(ctx, args, {
      signal: call.signal,
      roots: call.roots,
      ...(call.confirm ? { confirm: call.confirm } : {}),
      onEvent: async (event) => {
        if (event.kind === 'delta') call.record?.({ text: event.text, reasoning: event.reasoning });
        if (!reporter) return;
        if (event.kind === 'delta') await reporter.update(event.text, event.reasoning);
        else await reporter.note(retryWords(event));
      },
    });
    await reporter?.finish();
    return renderChat(ctx, result);
  } catch (e) {
    await reporter?.finish();
    if (e instanceof ChatFailure) return renderChat(ctx, e.partial, e);
    throw e;
  }
}
