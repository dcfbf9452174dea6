/**
 * Findings read from Kimi's reply: structured output as the schema asks, and text as models
 * really write it (fences, prose around, trailing commas, a missing bracket or field, their own
 * words for a severity). What cannot be read is said and kept, never silently lost.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIDENCE, parseReview, REVIEW_SCHEMA } from '../src/review/findings.js';

const STRUCTURED = {
  findings: [
    { severity: 'low', file: 'src/b.ts', line: 3, title: 'Unused import', detail: 'reconnect is imported and never used.', suggestion: null, confidence: 0.9 },
    { severity: 'critical', file: 'src/a.ts', line: 12, title: 'Token written to the log', detail: 'The bearer token is logged on every retry.', suggestion: 'Log the host only.', confidence: 0.8 },
    { severity: 'high', file: 'src/a.ts', line: 40, title: 'Retry never stops', detail: 'The loop has no upper bound.', suggestion: 'Cap it at 3.', confidence: 0.6 },
  ],
  summary: 'Adds retries; one leaks the token.',
};

describe('structured output', () => {
  it('reads the schema\'s JSON as is, most severe first, a null suggestion left out', () => {
    const r = parseReview(JSON.stringify(STRUCTURED))!;
    expect(r.findings.map((f) => `${f.severity} ${f.file}:${f.line}`)).toEqual(['critical src/a.ts:12', 'high src/a.ts:40', 'low src/b.ts:3']);
    expect(r.findings[2]).not.toHaveProperty('suggestion');
    expect(r.findings[0]!.suggestion).toBe('Log the host only.');
    expect(r.summary).toBe('Adds retries; one leaks the token.');
    expect(r.notes).toEqual([]);
  });

  it('the schema asks for every field the zod finding needs (strict mode: all required)', () => {
    const item = (REVIEW_SCHEMA.properties as { findings: { items: { required: string[] } } }).findings.items;
    expect(item.required.sort()).toEqual(['confidence', 'detail', 'file', 'line', 'severity', 'suggestion', 'title']);
  });

  it('an empty findings list is a result ("nothing wrong"), not a failure', () => {
    expect(parseReview('{"findings": [], "summary": "Looks right."}')).toEqual({ findings: [], summary: 'Looks right.', notes: [] });
  });
});

describe('messy text', () => {
  it('a ```json fence with prose before and after', () => {
    const reply = `I looked at the retry logic.\n\n\`\`\`json\n${JSON.stringify(STRUCTURED, null, 2)}\n\`\`\`\n\nLet me know if you want more detail.`;
    const r = parseReview(reply)!;
    expect(r.findings).toHaveLength(3);
    expect(r.summary).toBe('Adds retries; one leaks the token.');
  });

  it('no fence, prose around, and no summary in the JSON: the prose becomes the summary', () => {
    const reply = 'Overall the change is fine apart from one thing. {"findings": [{"severity": "medium", "file": "x.ts", "line": 5, "title": "Off by one", "detail": "< should be <=", "confidence": 0.7}]} That is all.';
    const r = parseReview(reply)!;
    expect(r.findings[0]!.title).toBe('Off by one');
    expect(r.summary).toBe('Overall the change is fine apart from one thing. That is all.');
  });

  it('trailing commas and a reply cut off before its closing brackets', () => {
    const reply = '```json\n{"summary": "cut", "findings": [{"severity": "high", "file": "a.ts", "line": 1, "title": "T", "detail": "D", "confidence": 0.5,},\n  {"severity": "low", "file": "b.ts", "line": 2, "title": "U", "detail": "E", "confidence": 0.4}';
    const r = parseReview(reply)!;
    expect(r.findings.map((f) => f.file)).toEqual(['a.ts', 'b.ts']);
    expect(r.summary).toBe('cut');
  });

  it('missing and loosely written fields are repaired: confidence, severity words, line ranges, file:line, title from detail', () => {
    const reply = JSON.stringify({
      findings: [
        { severity: 'Major', file: 'a.ts', line: '42-50', title: 'No confidence given', detail: 'd' },
        { severity: 'BLOCKER', path: 'b.ts:7', description: 'Deletes the wrong row. Then commits.', confidence: '80%' },
        { severity: 'minor', file: 'c.ts', title: 'Nit', detail: 'n', confidence: 'high', fix: 'rename it' },
        { severity: 'info', file: 'd.ts', line: 'L9', title: 'FYI', detail: 'i', confidence: 30 },
      ],
    });
    const [b, a, c, d] = parseReview(reply)!.findings;
    expect(b).toEqual({ severity: 'critical', file: 'b.ts', line: 7, title: 'Deletes the wrong row.', detail: 'Deletes the wrong row. Then commits.', confidence: 0.8 });
    expect(a).toEqual({ severity: 'high', file: 'a.ts', line: 42, title: 'No confidence given', detail: 'd', confidence: DEFAULT_CONFIDENCE });
    expect(c).toEqual({ severity: 'low', file: 'c.ts', line: 0, title: 'Nit', detail: 'n', suggestion: 'rename it', confidence: 0.9 });
    expect(d).toMatchObject({ severity: 'low', line: 9, confidence: 0.3 });
  });

  it('a bare array of findings', () => {
    const r = parseReview('[{"severity": "high", "file": "a.ts", "line": 3, "title": "T", "detail": "D", "confidence": 1}]')!;
    expect(r.findings).toHaveLength(1);
    expect(r.summary).toBe('');
  });

  it('a finding that cannot be repaired is dropped with a note that keeps it as written', () => {
    const reply = JSON.stringify({ findings: [{ severity: 'high', file: 'a.ts', line: 1, title: 'Kept', detail: 'd' }, { severity: 'catastrophic-ish', file: 'b.ts', title: 'Odd severity' }, { file: 'c.ts' }], summary: 's' });
    const r = parseReview(reply)!;
    expect(r.findings.map((f) => f.title)).toEqual(['Kept']);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/^2 finding\(s\) Kimi wrote could not be read/);
    expect(r.notes[0]).toContain('"severity":"catastrophic-ish"');
    expect(r.notes[0]).toContain('{"file":"c.ts"}');
  });
});

describe('unparseable replies', () => {
  it.each([
    ['prose only', 'The change looks fine to me; I found nothing to report.'],
    ['a stray bracket in prose', 'See the notes [below] and the {config} block.'],
    ['JSON without findings', '{"verdict": "ok"}'],
    ['empty', ''],
  ])('%s: undefined, so the caller returns the text', (_, reply) => {
    expect(parseReview(reply)).toBeUndefined();
  });

  test.prop([fc.string({ maxLength: 400 })], { seed: 19, numRuns: 300 })('never throws on any reply', (reply) => {
    const r = parseReview(reply);
    if (r) expect(Array.isArray(r.findings)).toBe(true);
  });
});
