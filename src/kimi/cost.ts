/**
 * Cost of a call from token counts and a catalog price (per 1M tokens). A host that bills a
 * membership plan's quota instead of tokens has a plan price: its calls cost no money, and say
 * what covered them rather than showing $0 or an unknown amount.
 */
import type { PlanPrice, Price, TokenPrice } from '../catalog/schema.js';

export interface TokenCounts {
  /** All prompt tokens, cached ones included (as hosts report prompt_tokens). */
  input: number;
  /** The part of `input` served from the host's prompt cache. */
  cached: number;
  output: number;
}

/** Amounts in the price's currency; a part is null when its price is unknown and it is needed. */
export interface TokenCost {
  currency: TokenPrice['currency'];
  input: number | null;
  cached: number | null;
  output: number | null;
  total: number | null;
  /** What the cached tokens saved against the uncached input price; present when some were cached. */
  saved_by_cache?: number | null;
}

/** A call a membership plan covers: no money, one use of the plan's quota. */
export interface PlanCost {
  covered_by_plan: string;
}

export type Cost = TokenCost | PlanCost;

export function isPlanPrice(price: Price): price is PlanPrice {
  return 'plan' in price;
}

export function isPlanCost(cost: Cost): cost is PlanCost {
  return 'covered_by_plan' in cost;
}

function part(tokens: number, perMillion: number | 'unknown'): number | null {
  if (tokens === 0) return 0;
  if (perMillion === 'unknown') return null;
  return round((tokens * perMillion) / 1_000_000);
}

/** Twelve significant digits: hides float noise (0.48 + 2 = 2.4800000000000004), keeps tiny costs. */
function round(n: number): number {
  return Number(n.toPrecision(12));
}

export function computeCost(price: Price, tokens: TokenCounts): Cost {
  if (isPlanPrice(price)) return { covered_by_plan: price.plan };
  const cached = Math.min(tokens.cached, tokens.input);
  const input = part(tokens.input - cached, price.input);
  const cachedCost = part(cached, price.cached_input);
  const output = part(tokens.output, price.output);
  const total = input === null || cachedCost === null || output === null ? null : round(input + cachedCost + output);
  const cost: TokenCost = { currency: price.currency, input, cached: cachedCost, output, total };
  if (cached > 0) {
    const uncached = part(cached, price.input);
    cost.saved_by_cache = uncached === null || cachedCost === null ? null : round(uncached - cachedCost);
  }
  return cost;
}

/** The money a call cost, when it costs money in US dollars (null: unknown, another currency, or a plan). */
export function costInUsd(cost: Cost): number | null {
  return !isPlanCost(cost) && cost.currency === 'USD' ? cost.total : null;
}

/** At least two decimals; up to four (six below a cent) so small calls do not show as $0.00. */
export function formatMoney(amount: number | null, currency: TokenPrice['currency']): string {
  if (amount === null) return 'unknown';
  const symbol = currency === 'USD' ? '$' : '¥';
  const digits = amount !== 0 && Math.abs(amount) < 0.01 ? 6 : 4;
  const [whole, fraction = ''] = amount.toFixed(digits).split('.');
  return `${symbol}${whole}.${fraction.replace(/0+$/, '').padEnd(2, '0')}`;
}

/** A cost in words: the amount (and what caching saved), "cost unknown", or the plan that covered it. */
export function costWords(cost: Cost): string {
  if (isPlanCost(cost)) return `no money: covered by the ${cost.covered_by_plan}`;
  if (cost.total === null) return 'cost unknown';
  const saved = cost.saved_by_cache ? `, ${formatMoney(cost.saved_by_cache, cost.currency)} saved by the prompt cache` : '';
  return `${formatMoney(cost.total, cost.currency)}${saved}`;
}
