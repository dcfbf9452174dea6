import { describe, expect, it } from 'vitest';
import type { TokenPrice } from '../src/catalog/schema.js';
import { computeCost as costOf, formatMoney } from '../src/kimi/cost.js';
import type { TokenCost, TokenCounts } from '../src/kimi/cost.js';

/** A per-token price always gives an amount (a plan's price gives none). */
const computeCost = (p: TokenPrice, tokens: TokenCounts) => costOf(p, tokens) as TokenCost;

const price: TokenPrice = { input: 0.48, cached_input: 0.08, output: 2, currency: 'USD', source: 'test', as_of: '2026-11-23' };

describe('cost from tokens and a per-1M price', () => {
  it('prices a million in and a million out at input plus output', () => {
    expect(computeCost(price, { input: 1_000_000, cached: 0, output: 1_000_000 })).toEqual({
      currency: 'USD', input: 0.48, cached: 0, output: 2, total: 2.48,
    });
  });

  it('bills cached prompt tokens at the cached price and the rest at the input price', () => {
    const cost = computeCost(price, { input: 1_000_000, cached: 250_000, output: 0 });
    expect(cost.input).toBeCloseTo(0.36, 10);
    expect(cost.cached).toBeCloseTo(0.02, 10);
    expect(cost.total).toBeCloseTo(0.38, 10);
  });

  it('never counts more cached tokens than prompt tokens', () => {
    expect(computeCost(price, { input: 100, cached: 1_000, output: 0 }).input).toBe(0);
  });

  it('leaves the total unknown when a needed price is unknown, but not when it is not needed', () => {
    const partial: TokenPrice = { ...price, output: 'unknown', cached_input: 'unknown' };
    expect(computeCost(partial, { input: 1000, cached: 0, output: 10 })).toMatchObject({ output: null, total: null });
    expect(computeCost(partial, { input: 1_000_000, cached: 0, output: 0 })).toMatchObject({ input: 0.48, cached: 0, total: 0.48 });
  });

  it('formats small and large amounts readably in their currency', () => {
    expect(formatMoney(2.48, 'USD')).toBe('$2.48');
    expect(formatMoney(0.000123, 'USD')).toBe('$0.000123');
    expect(formatMoney(12.5, 'CNY')).toBe('¥12.50');
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(null, 'USD')).toBe('unknown');
  });
});
