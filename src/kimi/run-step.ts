/**
 * One step of a tool-calling loop (kimi_agent): the whole history and the tools go to the model,
 * its text, reasoning and tool calls come back. It takes the same path as a kimi_chat call (the
 * request rules, the spending guard, retries, the idle timer, cancel, partial text, the ledger,
 * KIMI_FALLBACK) and adds what tools need: only hosts that accept tool calls for the model, and
 * the caller's own ceiling for the step. The conversation is the loop's; nothing is stored here.
 */
import type { ChatResult, ToolCallOut, Usage } from './chat.js';
import type { CallContext } from './config.js';
import type { Cost } from './cost.js';
import { formatMoney, isPlanPrice } from './cost.js';
import { UsageError } from './errors.js';
import { SpendingGuard, worstCaseOf } from './guard.js';
import type { Confirm } from './guard.js';
import type { ChatMessage } from './messages.js';
import { prepareChat } from './request.js';
import type { PreparedCall, ToolSpec } from './request.js';
import { answerFromHosts, hostsInOrder, tracked } from './run-chat.js';
import { acceptsTools, requireToolSupport, toolModelFor } from './tool-support.js';

export type { ToolSpec };
export { defaultAgentModel, requireToolSupport, toolCapableOffers } from './tool-support.js';

export interface StepRequest {
  /** Our model id; default: the configured model where the host accepts tools for it, else defaultAgentModel's. */
  model?: string;
  /** Our host id; default: the configured host. */
  provider?: string;
  /** The whole history, as the loop keeps it (assistant messages carry tool_calls and reasoning_content as received). */
  messages: ChatMessage[];
  /** [] for the concluding step (then tool_choice is omitted). */
  tools: ToolSpec[];
  max_tokens?: number;
  /** 'auto' (the host's default) or 'none'; thinking models refuse 'required'. */
  tool_choice?: 'auto' | 'none';
}

export interface StepOptions {
  signal: AbortSignal;
  /** The spending confirmation, as kimi_chat gets it. */
  confirm?: Confirm;
  /** What has streamed so far (optional). */
  progress?: (event: { text: string; reasoning: string }) => void;
  /** The rest of the agent's max_cost_usd: refuse before sending if this step's worst case exceeds it. */
  maxCostUsd?: number;
}

export interface StepResult {
  text: string;
  reasoning: string;
  tool_calls: ToolCallOut[];
  finish_reason: string | null;
  usage: Usage | null;
  cost: Cost | null;
  cost_usd: number | null;
  model: string;
  provider: string;
  usage_estimated?: boolean;
  attempts?: { provider: string; error?: string }[];
  notes?: string[];
}

/**
 * One model turn with tools: the guard (worst case of this step) before sending, per-step fallback
 * to hosts that accept tools for the model, the ledger after. Throws UsageError for a refusal
 * (nothing sent), ChatFailure (with .partial holding what arrived) for a failure after sending.
 * Stores no conversation.
 */
export function runStep(ctx: CallContext, req: StepRequest, options: StepOptions): Promise<StepResult> {
  return tracked(runStepOnce(ctx, req, options));
}

async function runStepOnce(ctx: CallContext, req: StepRequest, options: StepOptions): Promise<StepResult> {
  const hosts = hostsInOrder(ctx, req.provider);
  const chosen = hosts[0]!;
  const model = toolModelFor(ctx, chosen, req.model);
  requireToolSupport(ctx, model.id, chosen.id);
  const guard = new SpendingGuard(ctx, options.confirm);
  const withTools = req.tools.length > 0;
  const result = await answerFromHosts(
    ctx,
    {
      hosts,
      modelId: model.id,
      guard,
      unfit: (provider) => (acceptsTools(provider, model) ? undefined : `skipped: ${provider.id} does not accept tool calls for ${model.id}`),
      admit: async (provider) => {
        const call = await prepareChat(ctx, {
          model: model.id,
          provider: provider.id,
          messages: req.messages,
          ...(req.max_tokens !== undefined && { max_tokens: req.max_tokens }),
          ...(withTools && { tools: req.tools }),
          ...(withTools && req.tool_choice && { tool_choice: req.tool_choice }),
        }, { signal: options.signal });
        checkStepCeiling(ctx, call, req.max_tokens, options.maxCostUsd);
        await guard.admit(call, req.max_tokens);
        return call;
      },
    },
    { signal: options.signal, onEvent: (e) => (e.kind === 'delta' ? options.progress?.({ text: e.text, reasoning: e.reasoning }) : undefined) },
  );
  return stepResult(result);
}

/** Refuses, before sending, a step whose worst case exceeds what is left of the caller's max_cost_usd. */
function checkStepCeiling(ctx: CallContext, call: PreparedCall, maxTokens: number | undefined, maxCostUsd: number | undefined): void {
  if (maxCostUsd === undefined || isPlanPrice(call.price)) return;
  const worst = worstCaseOf(ctx, call, maxTokens);
  const left = formatMoney(maxCostUsd, 'USD');
  if (!worst) {
    throw new UsageError(`Not sent: no host publishes a price for ${call.model.id}, so this step cannot be held to max_cost_usd (${left} left). Use a model with a known price (list_models), or omit max_cost_usd.`);
  }
  if (worst.usd > maxCostUsd) {
    throw new UsageError(`Not sent: this step could cost up to ${formatMoney(worst.usd, 'USD')} (${worst.what}), more than the ${left} left of max_cost_usd. To fit, ${worst.lower(maxCostUsd)}, use a cheaper model or host, or raise max_cost_usd.`);
  }
}

function stepResult(r: ChatResult): StepResult {
  return {
    text: r.text,
    reasoning: r.reasoning,
    tool_calls: r.tool_calls,
    finish_reason: r.finish_reason,
    usage: r.usage,
    cost: r.cost,
    cost_usd: r.cost_usd,
    model: r.model,
    provider: r.provider,
    ...(r.usage_estimated ? { usage_estimated: true } : {}),
    ...(r.attempts ? { attempts: r.attempts } : {}),
    ...(r.notes ? { notes: r.notes } : {}),
  };
}
