/**
 * The spending guard. Before a call goes to a host, its worst case (the estimated prompt plus
 * max_tokens, or all the output the window leaves, at that host's price) is held against the
 * per-call cap, what is left of the budget, and the threshold above which the user confirms.
 * Off unless the user set a limit; a limit set but unreadable refuses every call. Every refusal
 * happens before anything is sent and says what to change. Under a budget, an admitted call
 * reserves its worst case in the ledger until its cost settles it, so calls in flight, in this
 * process or another, count against what is left. After each call its cost goes to the ledger.
 */
import { Ledger, ledgerFile, periodStart } from '../state/ledger.js';
import type { LedgerEntry, Standing } from '../state/ledger.js';
import type { ModelEntry } from '../catalog/load.js';
import type { Price } from '../catalog/schema.js';
import type { CallContext, SpendingLimits } from './config.js';
import { formatMoney, isPlanPrice } from './cost.js';
import { UsageError } from './errors.js';
import type { ChatResult } from './chat.js';
import { outputBound } from './request.js';
import type { PreparedCall } from './request.js';

/** Asks the user whether to send a call; how depends on the client (MCP elicitation, a terminal). */
export interface SpendQuestion {
  model: string;
  provider: string;
  worstCaseUsd: number;
  message: string;
}
export type Confirm = (question: SpendQuestion) => Promise<'accept' | 'decline' | 'cancel'>;

/** A USD price per 1M tokens; `highestKnown` when some part came from other hosts' prices. */
export interface UsdPrice {
  input: number;
  cached: number;
  output: number;
  highestKnown: boolean;
}

export interface BudgetStatus {
  spent_usd: number;
  limit_usd: number;
  period: 'day' | 'month';
}

const usd = (amount: number) => formatMoney(amount, 'USD');
const PER_MILLION = 1_000_000;

/**
 * This host's USD price for the model; a part it has not published (or prices in yuan) counts
 * at the model's highest known USD price on any host. Null when input or output is known nowhere.
 */
export function usdPrice(ctx: CallContext, model: ModelEntry, price: Price): UsdPrice | null {
  const known = ctx.catalog.providers.flatMap((p) => {
    const offer = p.models[model.id];
    return offer && !isPlanPrice(offer.price) && offer.price.currency === 'USD' ? [offer.price] : [];
  });
  const highest = (part: 'input' | 'cached_input' | 'output') => {
    const values = known.map((p) => p[part]).filter((v): v is number => typeof v === 'number');
    return values.length ? Math.max(...values) : undefined;
  };
  const own = (part: 'input' | 'cached_input' | 'output') => (!isPlanPrice(price) && price.currency === 'USD' && typeof price[part] === 'number' ? (price[part] as number) : undefined);
  const input = own('input') ?? highest('input');
  const output = own('output') ?? highest('output');
  if (input === undefined || output === undefined) return null;
  const cached = own('cached_input') ?? highest('cached_input') ?? input;
  const highestKnown = own('input') === undefined || own('output') === undefined || own('cached_input') === undefined;
  return { input, cached, output, highestKnown };
}

/** A call's worst case in USD, what it is made of, and how to bring it under a limit. */
export interface WorstCase {
  usd: number;
  price: UsdPrice;
  /** The tokens, model, host and price the worst case is made of, in words. */
  what: string;
  /** What to change so the worst case fits `limitUsd`: a max_tokens, or a shorter prompt. */
  lower: (limitUsd: number) => string;
}

/**
 * The most a call can cost: its estimated prompt plus all the output it may produce, at this
 * host's USD price (the highest known where it published none). Null when no host published one.
 */
export function worstCaseOf(ctx: CallContext, call: PreparedCall, maxTokens: number | undefined): WorstCase | null {
  const { model, provider } = call;
  const price = usdPrice(ctx, model, call.price);
  if (!price) return null;
  const output = outputBound(model, call.promptTokens, maxTokens);
  const inputUsd = (call.promptTokens * price.input) / PER_MILLION;
  const what = `~${call.promptTokens} input + up to ${output} output tokens on ${model.id} via ${provider.id} at ${usd(price.input)}/${usd(price.output)} per 1M${price.highestKnown ? ` (${provider.id} has published no USD price, so its highest known price on any host is used)` : ''}`;
  /** The max_tokens that keeps the worst case within `limit`, as a hint. */
  const fits = (limit: number) => Math.floor(((limit - inputUsd) * PER_MILLION) / price.output);
  const lower = (limit: number) => (fits(limit) > 0 ? `lower max_tokens to ${fits(limit)} or less` : 'send a shorter prompt');
  return { usd: inputUsd + (output * price.output) / PER_MILLION, price, what, lower };
}

export function guardIsOn(limits: SpendingLimits): boolean {
  return limits.maxPerCallUsd !== undefined || limits.budgetUsd !== undefined || limits.confirmAboveUsd !== undefined || limits.invalid.length > 0;
}

/** "$0.04 is reserved by 2 calls in flight" when calls are in flight. */
function inFlight(standing: Standing): string {
  if (standing.in_flight === 0) return '';
  return ` and ${usd(standing.reserved_usd)} is reserved by ${standing.in_flight} call${standing.in_flight === 1 ? '' : 's'} in flight (their worst case, until they end)`;
}

export class SpendingGuard {
  private readonly limits: SpendingLimits;
  private readonly ledger: Ledger;
  /** The ledger reservation of the admitted call, until its cost or a release settles it. */
  private reservation: string | undefined;
  private confirmedUpTo = 0;
  /** Things the result should say (a price counted at the highest known). */
  readonly notes: string[] = [];

  constructor(
    private readonly ctx: CallContext,
    private readonly confirm?: Confirm,
  ) {
    this.limits = ctx.settings.spending;
    this.ledger = new Ledger(ledgerFile(ctx.env));
  }

  /**
   * Throws a UsageError, before anything is sent, when the call may not go to this host. Under a
   * budget, an admitted call holds a reservation until `record` or `release`.
   */
  async admit(call: PreparedCall, maxTokens: number | undefined): Promise<void> {
    if (!guardIsOn(this.limits)) return;
    if (this.limits.invalid.length) throw new UsageError(`Not sent: ${this.limits.invalid.map((i) => i.problem).join(' ')}`);
    const { model, provider } = call;
    if (isPlanPrice(call.price)) {
      this.notes.push(`${model.id} on ${provider.id} is covered by the ${call.price.plan}: it costs no money, so the spending limits do not count it.`);
      return;
    }
    const worstCase = worstCaseOf(this.ctx, call, maxTokens);
    if (!worstCase) {
      throw new UsageError(`No price for ${model.id} is published by any host, so the spending guard cannot bound this call. Use a model with a known price (list_models), or unset KIMI_MAX_COST_PER_CALL_USD, KIMI_BUDGET_USD and KIMI_CONFIRM_ABOVE_USD.`);
    }
    const { usd: worst, what, lower, price } = worstCase;
    if (price.highestKnown) this.notes.push(`${model.id} has no published USD price on ${provider.id}; the spending guard counts it at its highest known price (${usd(price.input)} input, ${usd(price.output)} output per 1M).`);

    const cap = this.limits.maxPerCallUsd;
    if (cap !== undefined && worst > cap) {
      throw new UsageError(`Not sent: this call could cost up to ${usd(worst)} (${what}), more than KIMI_MAX_COST_PER_CALL_USD=${usd(cap)}. To fit, ${lower(cap)}, use a cheaper model or host (list_models), or raise the limit.`);
    }
    const budget = this.limits.budgetUsd;
    if (budget !== undefined) {
      await this.release(); // a previous host's reservation, if this call moved on to a fallback host
      const admission = await this.reserve(worst, budget);
      if (!admission.admitted) {
        const { standing } = admission;
        const left = Math.max(0, budget - standing.spent_usd - standing.reserved_usd);
        const waitFor = standing.in_flight ? 'wait for the calls in flight to end (they usually cost far less than their worst case) or for' : 'wait for';
        throw new UsageError(`Not sent: ${usd(standing.spent_usd)} of ${this.limits.budgetPeriod === 'day' ? "today's" : "this month's"} ${usd(budget)} budget (KIMI_BUDGET_USD) is spent${inFlight(standing)}, ${usd(left)} is left, and this call could cost up to ${usd(worst)} (${what}). To fit, ${lower(left)} or use a cheaper model; or ${waitFor} the next ${this.limits.budgetPeriod}, or raise KIMI_BUDGET_USD.`);
      }
      this.reservation = admission.reservation;
    }
    const threshold = this.limits.confirmAboveUsd;
    if (threshold !== undefined && worst > threshold && worst > this.confirmedUpTo) {
      const message = `Send this Kimi call? It could cost up to ${usd(worst)}: ${what}. (KIMI_CONFIRM_ABOVE_USD=${usd(threshold)})`;
      try {
        if (!this.confirm) {
          throw new UsageError(`Not sent: this call could cost up to ${usd(worst)} (${what}), above KIMI_CONFIRM_ABOVE_USD=${usd(threshold)}, and the user cannot be asked here (an MCP client without elicitation, or a shell without a terminal). Ask the user; then ${lower(threshold)}, have them raise KIMI_CONFIRM_ABOVE_USD, or (from the shell) pass --yes.`);
        }
        const answer = await this.confirm({ model: model.id, provider: provider.id, worstCaseUsd: worst, message });
        if (answer !== 'accept') throw new UsageError(`Not sent: the user ${answer === 'decline' ? 'declined' : 'dismissed'} the confirmation for a call that could cost up to ${usd(worst)}. Nothing was spent; ${lower(threshold)} to stay under the confirmation threshold.`);
      } catch (e) {
        await this.release(); // not sent (declined, or asked in a later request): nothing to hold
        throw e;
      }
      this.confirmedUpTo = worst;
    }
  }

  /** The budget reservation for a worst case, as a UsageError when the ledger cannot hold it. */
  private async reserve(worst: number, budget: number) {
    try {
      return await this.ledger.reserve(worst, { limit: budget, since: periodStart(this.limits.budgetPeriod) });
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new UsageError(`Not sent: the spending ledger ${ledgerFile(this.ctx.env)} could not be used (${why}), so KIMI_BUDGET_USD cannot be kept. Make its folder writable, set KIMI_MCP_STATE_DIR to a folder that is, or unset KIMI_BUDGET_USD.`);
    }
  }

  /**
   * Withdraws the admitted call's reservation when it will not be sent, or ended with nothing
   * billed. If that cannot be written, the reservation counts until this process ends: too
   * strict for a while, never too loose.
   */
  async release(): Promise<void> {
    const reservation = this.reservation;
    if (reservation === undefined) return;
    this.reservation = undefined;
    await this.ledger.release(reservation).catch(() => undefined);
  }

  /**
   * Appends what a call cost to the ledger (always, guard or not; a call the host billed nothing
   * for is left out), settling its reservation in the same line. A failure to write becomes a
   * note: the reply matters more.
   */
  async record(call: PreparedCall, result: ChatResult): Promise<void> {
    const usage = result.usage;
    if (!usage) return this.release();
    const entry: LedgerEntry = {
      at: new Date().toISOString(),
      provider: call.provider.id,
      host: result.host,
      model: call.model.id,
      model_id: call.modelId,
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      cached_tokens: usage.cached_tokens,
      cost_usd: result.cost_usd,
      ...(result.usage_estimated ? { estimated: true } : {}),
    };
    // Settled by this line; if it cannot be written, the reservation stays open in the ledger,
    // holding the worst case in place of the lost cost (until this process ends).
    if (this.reservation !== undefined) entry.settles = this.reservation;
    this.reservation = undefined;
    if (isPlanPrice(call.price)) entry.covered_by_plan = call.price.plan;
    const price = result.cost_usd === null && !isPlanPrice(call.price) ? usdPrice(this.ctx, call.model, call.price) : null;
    if (price) {
      const cached = Math.min(usage.cached_tokens, usage.prompt_tokens);
      entry.cost_usd = Number((((usage.prompt_tokens - cached) * price.input + cached * price.cached + usage.completion_tokens * price.output) / PER_MILLION).toPrecision(12));
      entry.priced_at = 'highest known';
    }
    try {
      await this.ledger.record(entry);
    } catch (e) {
      this.notes.push(`The spending ledger could not be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); this call's cost is missing from it.`);
    }
  }

  /** Where the budget stands after the calls recorded so far, when one is set. */
  async status(): Promise<BudgetStatus | undefined> {
    const limit = this.limits.budgetUsd;
    if (limit === undefined) return undefined;
    let spent: number;
    try {
      spent = await this.ledger.spentSince(periodStart(this.limits.budgetPeriod));
    } catch (e) {
      this.notes.push(`The spending ledger could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the budget's state is unknown.`);
      return undefined;
    }
    return { spent_usd: Number(spent.toPrecision(12)), limit_usd: limit, period: this.limits.budgetPeriod };
  }
}
