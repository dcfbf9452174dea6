import { readFileSync } from 'node:fs';
import { fc, test as property } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { estimateMessagesTokens, estimateTextTokens, preTokenize, TOKENS_PER_MESSAGE, TOKENS_PER_REPLY } from '../src/kimi/tokens.js';

interface Case {
  input: string;
  tokens: number;
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/kimi_token_counts.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

describe('the offline Kimi token estimator against true Kimi counts', () => {
  const rows = reference.cases.map((c) => ({ ...c, estimate: estimateTextTokens(c.input) }));
  const trueTotal = rows.reduce((s, r) => s + r.tokens, 0);
  const absError = rows.reduce((s, r) => s + Math.abs(r.estimate - r.tokens), 0);
  const estimateTotal = rows.reduce((s, r) => s + r.estimate, 0);

  it('covers all 73 reference strings', () => {
    expect(rows).toHaveLength(73);
  });

  it('is within 10% in mean absolute error and within 5% in total (measured: 8.0% and 0.0%)', () => {
    expect(absError / trueTotal).toBeLessThanOrEqual(0.1);
    expect(Math.abs(estimateTotal - trueTotal) / trueTotal).toBeLessThanOrEqual(0.05);
  });

  it('is never off by more than 3 tokens on a single string', () => {
    const worst = rows.filter((r) => Math.abs(r.estimate - r.tokens) > 3);
    expect(worst).toEqual([]);
  });

  it('counts the empty string as zero and numbers by groups of three digits', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('123456789')).toBe(3);
  });

  it('scales with length on long text, close to Moonshot published ratios', () => {
    const english = 'The quick brown fox jumps over the lazy dog while the reviewer reads the diff. '.repeat(500);
    const chinese = '北京市海淀区的开发者正在审查这个函数的实现细节。'.repeat(500);
    // Moonshot: English about 3-4 characters per token, Chinese about 1.5-2 Han characters per token.
    const englishRatio = english.length / estimateTextTokens(english);
    const chineseRatio = chinese.length / estimateTextTokens(chinese);
    expect(englishRatio).toBeGreaterThan(3);
    expect(englishRatio).toBeLessThan(6);
    expect(chineseRatio).toBeGreaterThan(1.3);
    expect(chineseRatio).toBeLessThan(2.5);
  });
});

describe('chat messages', () => {
  it('adds the chat template overhead per message and for the reply', () => {
    const text = 'Review this function for off-by-one errors.';
    const one = estimateMessagesTokens([{ role: 'user', content: text }]);
    expect(one).toBe(estimateTextTokens(text) + TOKENS_PER_MESSAGE + TOKENS_PER_REPLY);
    const two = estimateMessagesTokens([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: text },
    ]);
    expect(two).toBe(one + estimateTextTokens('Be terse.') + TOKENS_PER_MESSAGE);
  });

  it('counts the text parts of multimodal content', () => {
    const parts = [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ];
    expect(estimateMessagesTokens([{ role: 'user', content: parts }])).toBe(
      estimateMessagesTokens([{ role: 'user', content: 'What is in this picture?' }]),
    );
  });
});

describe('the ASCII pre-tokenizer (fast to compile; used for text that is all ASCII)', () => {
  // Code-like ASCII: words, contractions, digits, punctuation runs and every kind of space and line end.
  const piece = fc.constantFrom('The', 'cat', "'s", "'LL", "'re", 'HTTPServer', 'x', 'Z', '42', '12345', ' ', '  ', '\t', '\n', '\r\n', '\r', '\v', '\f', '{', '});', '=>', '"', "'", '...', '-', '_', '#', '\\');
  const asciiText = fc.oneof(fc.array(piece, { maxLength: 40 }).map((p) => p.join('')), fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 200 }));

  property.prop([asciiText], { seed: 20261125, numRuns: 2000 })('cuts ASCII text exactly as the full Unicode pattern does (seed 20261125)', (text) => {
    expect(preTokenize(text, false)).toEqual(preTokenize(text, true));
  });

  it('is taken only for ASCII text', () => {
    expect(preTokenize('naïve café')).toEqual(preTokenize('naïve café', true));
    expect(preTokenize('函数 returns 42')).toEqual(['函数', ' returns', ' ', '42']);
  });
});
