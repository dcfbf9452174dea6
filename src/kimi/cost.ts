/** Cost of a call from token counts and a catalog price (per 1M tokens). */
import type { Price } from '../catalog/schema.js';

export interface TokenCounts {
  /** All prompt tokens, cached ones included (as hosts report prompt_tokens). */
  input: number;
  /** The part of `input` served from the host's prompt cache. */
  cached: number;
  output: number;
}

/** Amounts in the price's currency; a part is null when its price is unknown and it is needed. */
export interface Cost {
  currency: Price['currency'];
  input: number | null;
  cached: number | null;
  output: number | null;
  total: number | null;
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
  const cached = Math.min(tokens.cached, tokens.input);
  const input = part(tokens.input - cached, price.input);
  const cachedCost = part(cached, price.cached_input);
  const output = part(tokens.output, price.output);
  const total = input === null || cachedCost === null || output === null ? null : round(input + cachedCost + output);
  return { currency: price.currency, input, cached: cachedCost, output, total };
}

/** At least two decimals; up to four (six below a cent) so small calls do not show as $0.00. */
export function formatMoney(amount: number | null, currency: Price['currency']): string {
  if (amount === null) return 'unknown';
  const symbol = currency === 'USD' ? '$' : '¥';
  const digits = amount !== 0 && Math.abs(amount) < 0.01 ? 6 : 4;
  const [whole, fraction = ''] = amount.toFixed(digits).split('.');
  return `${symbol}${whole}.${fraction.replace(/0+$/, '').padEnd(2, '0')}`;
}
