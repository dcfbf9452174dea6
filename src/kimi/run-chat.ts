/**
 * One Kimi call as the tools and the CLI make it: within its conversation (earlier turns first,
 * the finished turn stored, a partial reply included), through the spending guard, and on the
 * next host of KIMI_FALLBACK when the chosen one fails before anything was generated. The host
 * loop (answerFromHosts) is shared with an agent step (run-step.ts), which differs only in what it
 * sends, which hosts may take it and what it keeps.
 */
import type { ProviderEntry } from '../catalog/load.js';
import { ChatFailure, streamChat } from './chat.js';
import type { Attempt, ChatOptions, ChatResult } from './chat.js';
import { resolveHost } from './config.js';
import type { CallContext } from './config.js';
import { openConversation } from './conversation.js';
import { UsageError } from './errors.js';
import { SpendingGuard } from './guard.js';
import type { Confirm } from './guard.js';
import { modelFor, prepareChat } from './request.js';
import type { ChatRequest, PreparedCall } from './request.js';
import { requireProvider } from './catalog-view.js';

export interface RunOptions extends ChatOptions {
  /** Asks the user to confirm an expensive call; absent when the client cannot ask. */
  confirm?: Confirm;
}

/** The chosen host (`providerId`, else the configured one) first, then the fallback hosts in the user's order, each once. */
export function hostsInOrder(ctx: CallContext, providerId: string | undefined): ProviderEntry[] {
  const chosen = providerId ? requireProvider(ctx.catalog, providerId) : ctx.settings.provider;
  return [chosen, ...ctx.settings.fallback.filter((p) => p.id !== chosen.id)];
}

/** Why a host cannot take this call at all (not serving the model, no key), or undefined. */
function cannotServe(ctx: CallContext, provider: ProviderEntry, modelId: string): string | undefined {
  if (!provider.models[modelId]) return `skipped: ${provider.id} does not serve ${modelId}`;
  const problem = resolveHost(provider, ctx.env).problem;
  return problem ? `skipped: ${problem}` : undefined;
}

/** Calls still running in this process: a server that is going away lets them store what they have. */
const running = new Set<Promise<unknown>>();

/**
 * Resolves once every promise `pending()` gives has settled, asking again until it gives none
 * (calls may still start meanwhile), or after `ms`.
 */
export function settledWithin(pending: () => Promise<unknown>[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const check = (): void => {
      const now = pending();
      if (now.length === 0) return void (clearTimeout(timer), resolve());
      void Promise.allSettled(now).then(check);
    };
    check();
  });
}

/**
 * Resolves once every call running now has ended (after a cancel: its partial turn stored, its
 * cost in the ledger), or after `ms`. A server shutting down aborts its calls, then waits here.
 */
export function callsSettled(ms: number): Promise<void> {
  return settledWithin(() => [...running], ms);
}

export function runChat(ctx: CallContext, req: ChatRequest, options: RunOptions): Promise<ChatResult> {
  return tracked(runChatOnce(ctx, req, options));
}

/** Registers a call in `running` until it settles (see callsSettled). */
export function tracked<T>(call: Promise<T>): Promise<T> {
  running.add(call);
  void call.catch(() => undefined).finally(() => running.delete(call));
  return call;
}

async function runChatOnce(ctx: CallContext, req: ChatRequest, options: RunOptions): Promise<ChatResult> {
  const conversation = await openConversation(ctx.env, req.conversation_id);
  const guard = new SpendingGuard(ctx, options.confirm);
  return answerFromHosts(ctx, {
    hosts: hostsInOrder(ctx, req.provider),
    modelId: modelFor(ctx, req, conversation.turns).id,
    guard,
    admit: async (provider) => {
      const call = await prepareChat(ctx, { ...req, provider: provider.id }, { signal: options.signal, roots: options.roots, history: conversation.turns, conversationId: conversation.id });
      await guard.admit(call, req.max_tokens);
      return call;
    },
    finish: async (call, result, failure) => {
      await conversation.record({ model: call.model.id, provider: call.provider.id, messages: call.turn }, result, failure !== undefined);
      if (conversation.stored) result.conversation_id = conversation.id;
      const budget = await guard.status();
      if (budget) result.budget = budget;
      return conversation.notes;
    },
  }, options);
}

/** One request on the first host that answers it: what differs between a chat call and an agent step. */
export interface HostPlan {
  /** The chosen host first, then the fallback hosts (hostsInOrder). */
  hosts: ProviderEntry[];
  modelId: string;
  guard: SpendingGuard;
  /** Why a host cannot take this request, beyond serving the model and having a key (skipped, not tried). */
  unfit?: (provider: ProviderEntry) => string | undefined;
  /** The request for this host, admitted by the guard; a UsageError refuses it before anything is sent. */
  admit: (provider: ProviderEntry) => Promise<PreparedCall>;
  /** What the result tells besides the reply (a stored turn, the budget), after its cost is in the ledger; returns notes for the result. */
  finish?: (call: PreparedCall, result: ChatResult, failure?: ChatFailure) => Promise<readonly string[]>;
}

/**
 * Sends the request to the first host of `plan.hosts` that can take it, moving on to the next one
 * when a host fails before anything was generated; records each answered or partial call's cost
 * in the ledger and lists every host tried.
 */
export async function answerFromHosts(ctx: CallContext, plan: HostPlan, options: ChatOptions): Promise<ChatResult> {
  const { hosts, guard } = plan;
  const attempts: Attempt[] = [];

  /** Fills in what the result tells besides the reply. */
  const finish = async (call: PreparedCall, result: ChatResult, failure?: ChatFailure) => {
    await guard.record(call, result);
    const planNotes = (await plan.finish?.(call, result, failure)) ?? [];
    if (hosts.length > 1) result.attempts = [...attempts, { provider: call.provider.id, ...(failure ? { error: failure.message } : {}) }];
    const notes = [...guard.notes, ...planNotes];
    if (notes.length) result.notes = notes;
  };

  // Refusals at the first host that can serve the call are the caller's to fix (a bad argument,
  // a spending limit), so they are thrown; a later host that cannot take the call is skipped.
  let firstServable = true;
  try {
    for (const [i, provider] of hosts.entries()) {
      const reason = (hosts.length > 1 ? cannotServe(ctx, provider, plan.modelId) : undefined) ?? plan.unfit?.(provider);
      if (reason) {
        attempts.push({ provider: provider.id, error: reason });
        continue;
      }
      let call: PreparedCall;
      try {
        call = await plan.admit(provider);
      } catch (e) {
        if (firstServable || !(e instanceof UsageError)) throw e;
        attempts.push({ provider: provider.id, error: `skipped: ${e.message}` });
        continue;
      } finally {
        firstServable = false;
      }
      try {
        const result = await streamChat(ctx, call, options);
        await finish(call, result);
        return result;
      } catch (e) {
        const last = i === hosts.length - 1;
        if (!(e instanceof ChatFailure) || !e.hostFault || last) {
          if (e instanceof ChatFailure) await finish(call, e.partial, e);
          throw e;
        }
        attempts.push({ provider: provider.id, error: e.message });
      }
    }
  } finally {
    // A call admitted but never billed (its host failed before any text, or an error no reply
    // came back from) must not hold its reservation of the budget.
    await guard.release();
  }
  // Every remaining host was skipped (or none could serve): say what each attempt met.
  throw new UsageError(`No host could answer: ${attempts.map((a) => `${a.provider}: ${a.error}`).join('; ')}.`);
}
