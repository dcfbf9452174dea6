/**
 * One Kimi call, always streamed upstream: headers arrive at once (no 5-minute fetch timeout on
 * long thinking), an idle timer catches stalled bodies, cancellation closes the connection, and
 * whatever text arrived survives a failure. Both chat tools and the CLI use this.
 */
import { computeCost, costInUsd } from './cost.js';
import type { Cost } from './cost.js';
import type { CallContext } from './config.js';
import type { SentFile, SkippedFile } from './files/index.js';
import type { RootsSource } from './messages.js';
import type { PreparedCall } from './request.js';
import { estimateTextTokens } from './tokens.js';
import { clientFor, describeFailure, isConnectionError } from './upstream.js';
import { scrub } from '../log.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
}

export interface ToolCallOut {
  id: string;
  name: string;
  arguments: string;
}

export interface Attempt {
  provider: string;
  /** Why this host did not answer; absent for the one that did. */
  error?: string;
}

export interface ChatResult {
  text: string;
  reasoning: string;
  tool_calls: ToolCallOut[];
  model: string;
  provider: string;
  host: string;
  model_id: string;
  finish_reason: string | null;
  usage: Usage | null;
  cost: Cost | null;
  /** The total when the host bills in USD; null for other currencies, unknown prices, or a plan (see cost). */
  cost_usd: number | null;
  request_id: string | null;
  /** Set when the host sent no usage (a stream that broke, or a host that reports none): usage and cost are our estimate. */
  usage_estimated?: boolean;
  /** Continue with this id; absent only when a new conversation produced nothing to keep. */
  conversation_id?: string;
  /** The files that were sent, with their estimated tokens. */
  files?: SentFile[];
  skipped_files?: SkippedFile[];
  /** Earlier turns of the conversation left out because they no longer fit the window. */
  dropped_turns?: number;
  /** Every host tried, in order, when KIMI_FALLBACK is set; the answering one has no error. */
  attempts?: Attempt[];
  /** Where the budget stands after this call, when KIMI_BUDGET_USD is set. */
  budget?: { spent_usd: number; limit_usd: number; period: 'day' | 'month' };
  notes?: string[];
}

/** Nothing came back to keep: no text, no reasoning, no tool call. */
export function generatedNothing(r: Pick<ChatResult, 'text' | 'reasoning' | 'tool_calls'>): boolean {
  return !r.text && !r.reasoning && r.tool_calls.length === 0;
}

export type FailureKind = 'cancelled' | 'idle' | 'broken' | 'upstream';

/** A failed call, carrying everything that was generated before it failed. */
export class ChatFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly partial: ChatResult,
    /** Nothing was generated and the fault was the host's (down, overloaded, refusing the key),
     *  so another host may answer the same request. */
    readonly hostFault = false,
  ) {
    super(scrub(message));
    this.name = 'ChatFailure';
  }

  /** Something was generated before the failure, so it is a partial reply; else a plain failure. */
  get isPartial(): boolean {
    return !generatedNothing(this.partial);
  }
}

export type ChatEvent =
  | { kind: 'delta'; text: string; reasoning: string }
  | { kind: 'retry'; attempt: number; delayMs: number; reason: string };

export interface ChatOptions {
  signal: AbortSignal;
  onEvent?: (event: ChatEvent) => void | Promise<void>;
  /** The folders files may be read from, with the caller's words for them; default: cwd + KIMI_MCP_ROOTS. */
  roots?: RootsSource;
}

const MAX_RETRIES = 3;
const MAX_RETRY_AFTER_MS = 60_000;

class IdleTimeout extends Error {}

/** Moonshot reports cached tokens at the top level, newer responses under prompt_tokens_details. */
function readUsage(raw: unknown): Usage | null {
  if (!raw || typeof raw !== 'object') return null;
  const u = raw as {
    prompt_tokens?: number;
    completion_tokens?: number;
    cached_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number } | null;
    completion_tokens_details?: { reasoning_tokens?: number } | null;
  };
  return {
    prompt_tokens: u.prompt_tokens ?? 0,
    completion_tokens: u.completion_tokens ?? 0,
    cached_tokens: u.cached_tokens ?? u.prompt_tokens_details?.cached_tokens ?? 0,
    reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

interface ErrorLike {
  status?: number;
  type?: string;
  message?: string;
  headers?: Headers;
}

/** How long to wait before retrying, or null when retrying cannot help. */
export function retryDelay(error: unknown, attempt: number): number | null {
  const e = error as ErrorLike;
  const retryable =
    isConnectionError(error) ||
    (e?.status === 429 && e.type !== 'exceeded_current_quota_error') ||
    (typeof e?.status === 'number' && e.status >= 500);
  if (!retryable || attempt >= MAX_RETRIES) return null;
  const afterMs = e.headers?.get('retry-after-ms');
  const after = e.headers?.get('retry-after');
  let wait: number | undefined;
  if (afterMs && Number.isFinite(Number(afterMs))) wait = Number(afterMs);
  else if (after && Number.isFinite(Number(after))) wait = Number(after) * 1000;
  else if (after && !Number.isNaN(Date.parse(after))) wait = Math.max(0, Date.parse(after) - Date.now());
  else {
    // Moonshot puts it in the message: "please try again after 3 seconds".
    const inMessage = /try again after (\d+(?:\.\d+)?) ?s/i.exec(e.message ?? '');
    if (inMessage) wait = Number(inMessage[1]) * 1000;
  }
  if (wait !== undefined) return wait <= MAX_RETRY_AFTER_MS ? wait : null;
  const backoff = Math.min(8_000, 500 * 2 ** attempt);
  return backoff * (0.8 + Math.random() * 0.2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function price(result: ChatResult, call: PreparedCall, usage: Usage): void {
  result.usage = usage;
  result.cost = computeCost(call.price, { input: usage.prompt_tokens, cached: usage.cached_tokens, output: usage.completion_tokens });
  result.cost_usd = costInUsd(result.cost);
}

function emptyResult(call: PreparedCall): ChatResult {
  return {
    ...(call.files.length ? { files: call.files } : {}),
    ...(call.skipped.length ? { skipped_files: call.skipped } : {}),
    ...(call.droppedTurns ? { dropped_turns: call.droppedTurns } : {}),
    text: '',
    reasoning: '',
    tool_calls: [],
    model: call.model.id,
    provider: call.provider.id,
    host: call.host.baseURL ? new URL(call.host.baseURL).host : '',
    model_id: call.modelId,
    finish_reason: null,
    usage: null,
    cost: null,
    cost_usd: null,
    request_id: null,
  };
}

/** What had arrived when a stream broke: the text, or the reasoning when no text came (it is billed too). */
function arrivedSoFar(r: ChatResult): string {
  const calls = r.tool_calls.length ? ` and ${r.tool_calls.length} tool call${r.tool_calls.length === 1 ? '' : 's'}` : '';
  return !r.text && r.reasoning ? `${r.reasoning.length} characters of reasoning${calls}, before any text` : `${r.text.length} characters${calls}`;
}

/** The streamed request itself: retries, idle timer, cancellation, partial text on failure. */
export async function streamChat(ctx: CallContext, call: PreparedCall, options: ChatOptions): Promise<ChatResult> {
  const result = emptyResult(call);
  const client = await clientFor(call.host);
  const upstream = new AbortController();
  const forwardAbort = () => upstream.abort(options.signal.reason);
  if (options.signal.aborted) forwardAbort();
  options.signal.addEventListener('abort', forwardAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => upstream.abort(new IdleTimeout()), ctx.settings.idleTimeoutMs);
  };
  let chunks = 0;
  /**
   * Generated tokens are billed even when the host does not say how many: the stream broke
   * before its usage chunk, or it sent none. Then usage and cost are our estimate.
   */
  const estimateUsage = () => {
    if (result.usage || generatedNothing(result)) return;
    const reasoningTokens = estimateTextTokens(result.reasoning);
    const callTokens = result.tool_calls.length ? estimateTextTokens(JSON.stringify(result.tool_calls)) : 0;
    price(result, call, { prompt_tokens: call.promptTokens, completion_tokens: estimateTextTokens(result.text) + reasoningTokens + callTokens, cached_tokens: 0, reasoning_tokens: reasoningTokens });
    result.usage_estimated = true;
  };
  const fail = (kind: FailureKind, message: string, hostFault = false) => {
    estimateUsage();
    return new ChatFailure(kind, message, result, hostFault && generatedNothing(result));
  };
  const abortFailure = () =>
    upstream.signal.reason instanceof IdleTimeout
      ? fail('idle', `${call.provider.title} sent nothing for ${ctx.settings.idleTimeoutMs / 1000} s, so the stream was ended. Retry, or raise KIMI_IDLE_TIMEOUT_MS.`, chunks === 0)
      : fail('cancelled', 'The call was cancelled; the upstream request was closed.');

  try {
    armIdle();
    let stream;
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await client.chat.completions
          .create(call.body as never, { signal: upstream.signal, maxRetries: 0 })
          .withResponse();
        stream = created.data as unknown as AsyncIterable<Record<string, unknown>>;
        result.request_id = created.request_id ?? null;
        break;
      } catch (e) {
        if (upstream.signal.aborted) throw abortFailure();
        const delay = retryDelay(e, attempt);
        if (delay === null) throw fail('upstream', `${describeFailure(e, call.host)} ${advice(e)}`.trim(), isHostFault(e));
        await options.onEvent?.({ kind: 'retry', attempt: attempt + 1, delayMs: Math.round(delay), reason: describeFailure(e, call.host) });
        // Our own wait before a retry is not the host going silent.
        clearTimeout(idle);
        await sleep(delay, upstream.signal);
        if (upstream.signal.aborted) throw abortFailure();
        armIdle();
      }
    }

    const calls = new Map<number, ToolCallOut>();
    try {
      for await (const chunk of stream) {
        armIdle();
        chunks++;
        const choice = (chunk.choices as Record<string, unknown>[] | undefined)?.[0];
        if (choice) {
          const delta = (choice.delta ?? {}) as { content?: string | null; reasoning_content?: string | null; reasoning?: string | null; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] };
          if (delta.content) result.text += delta.content;
          const thought = delta.reasoning_content ?? delta.reasoning;
          if (thought) result.reasoning += thought;
          for (const tc of delta.tool_calls ?? []) {
            const entry = calls.get(tc.index) ?? { id: '', name: '', arguments: '' };
            if (tc.id) entry.id = tc.id;
            if (tc.function?.name) entry.name += tc.function.name;
            if (tc.function?.arguments) entry.arguments += tc.function.arguments;
            calls.set(tc.index, entry);
          }
          if (typeof choice.finish_reason === 'string') result.finish_reason = choice.finish_reason;
          // Moonshot puts usage inside the choice of the finishing chunk.
          result.usage = readUsage(choice.usage) ?? result.usage;
        }
        result.usage = readUsage(chunk.usage) ?? result.usage;
        if (!result.request_id && typeof chunk.id === 'string') result.request_id = chunk.id;
        if (choice) await options.onEvent?.({ kind: 'delta', text: result.text, reasoning: result.reasoning });
      }
    } catch (e) {
      result.tool_calls = [...calls.values()];
      if (upstream.signal.aborted) throw abortFailure();
      throw fail('broken', `The stream broke after ${arrivedSoFar(result)}: ${describeFailure(e, call.host)} Retry to get the rest.`, true);
    }
    result.tool_calls = [...calls.values()];
    // openai ends the loop silently when the signal aborts mid-stream.
    if (upstream.signal.aborted) throw abortFailure();
    if (result.finish_reason === null) {
      throw fail('broken', `The stream ended before the reply was complete (after ${arrivedSoFar(result)}, no finish_reason). Retry to get the rest.`, true);
    }
    if (result.usage) price(result, call, result.usage);
    else estimateUsage();
    return result;
  } finally {
    clearTimeout(idle);
    options.signal.removeEventListener('abort', forwardAbort);
  }
}

/** Failures about the host rather than the request: down, overloaded or limited, or refusing the key. */
function isHostFault(error: unknown): boolean {
  const status = (error as ErrorLike)?.status;
  return isConnectionError(error) || status === 401 || status === 403 || status === 429 || (typeof status === 'number' && status >= 500);
}

/** What to do about a failure the host reported, by status and Moonshot error type. */
function advice(error: unknown): string {
  const e = error as ErrorLike;
  if (e?.type === 'exceeded_current_quota_error' || e?.status === 402) return 'Your balance or quota is used up: top up your account, then retry.';
  if (e?.status === 401) return 'Check that the key belongs to this host (Moonshot .ai and .cn keys differ).';
  if (e?.status === 403) return 'This key is not allowed to use this model or endpoint: check its plan and permissions with the host, or use another model or key.';
  if (e?.status === 404) return 'The host does not know this model ID; see list_models with live: true.';
  if (e?.status === 429) return 'Still rate limited after retries; wait a minute or lower concurrency.';
  if (typeof e?.status === 'number' && e.status >= 500) return 'The host kept failing after retries; try again later or another provider.';
  if (e?.status === 400) {
    // The SDK's words for an error response with an empty body: then there is no message to follow.
    const noReason = /status code \(no body\)$/.test(e.message ?? '');
    return noReason ? 'The host gave no reason: check the call against list_models (model, max_tokens, images, thinking), or try another provider.' : 'Fix the request as the message says.';
  }
  return '';
}
