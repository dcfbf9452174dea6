/** The spending ledger: appends shared by processes, and a fast "spent since" over a long file. */
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger, ledgerFile, periodStart } from '../src/state/ledger.js';
import type { LedgerEntry } from '../src/state/ledger.js';
import { tempDir } from './helpers/temp.js';
import { runTogether } from './helpers/together.js';
import { underUmask } from './helpers/umask.js';

underUmask();

const mode = (path: string) => statSync(path).mode & 0o777;
const HOUR = 3_600_000;
const entry = (at: Date | string, cost: number | null, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  at: typeof at === 'string' ? at : at.toISOString(), provider: 'runapi', host: 'api.runapi.example', model: 'kimi-k2.6', model_id: 'moonshotai/kimi-k2.6',
  prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 0, cost_usd: cost, ...extra,
});

describe('Ledger', () => {
  it('ledgerFile is ledger.jsonl in the state folder', () => {
    expect(ledgerFile({ KIMI_MCP_STATE_DIR: '/srv/kimi' })).toBe(join('/srv/kimi', 'ledger.jsonl'));
  });

  it('records entries as lines of a 0600 file in a 0700 folder and reads them back as recorded', async () => {
    const folder = join(tempDir('kimi-ledger-'), 'state');
    const ledger = new Ledger(join(folder, 'ledger.jsonl'));
    const first = entry('2025-03-01T10:00:00.000Z', 0.0125);
    const second = entry('2025-03-01T11:00:00.000Z', null, { estimated: true, priced_at: 'highest known', provider: 'custom', host: 'kimi.internal' });
    await ledger.record(first);
    await ledger.record(second);
    expect(mode(folder)).toBe(0o700);
    expect(mode(join(folder, 'ledger.jsonl'))).toBe(0o600);
    expect(readFileSync(join(folder, 'ledger.jsonl'), 'utf8').split('\n')).toHaveLength(3);
    expect(await ledger.entries()).toEqual({ entries: [first, second], torn: 0 });
  });

  it('a missing ledger has no entries and nothing spent', async () => {
    const ledger = new Ledger(join(tempDir('kimi-ledger-'), 'none', 'ledger.jsonl'));
    expect(await ledger.entries()).toEqual({ entries: [], torn: 0 });
    expect(await ledger.spentSince(new Date(0))).toBe(0);
  });

  it('a torn last line and lines that are not entries are skipped and counted; appends go on', async () => {
    const file = join(tempDir('kimi-ledger-'), 'ledger.jsonl');
    const ledger = new Ledger(file);
    await ledger.record(entry('2025-03-01T10:00:00.000Z', 0.5));
    appendFileSync(file, '{"v":1,"at":"2025-03-01T10:05:00.000Z","cost_usd":7'); // a crash mid-write
    expect(await ledger.entries()).toMatchObject({ entries: [{ cost_usd: 0.5 }], torn: 1 });
    expect(await ledger.spentSince(new Date(0))).toBe(0.5);
    await ledger.record(entry('2025-03-01T10:10:00.000Z', 0.25));
    appendFileSync(file, '{"v":1,"note":"not an entry"}\n');
    expect(await ledger.entries()).toMatchObject({ entries: [{ cost_usd: 0.5 }, { cost_usd: 0.25 }], torn: 2 });
    expect(await ledger.spentSince(new Date(0))).toBe(0.75);
  });

  it('spentSince counts only calls that ended at or after `since`; unpriced calls count 0', async () => {
    const ledger = new Ledger(join(tempDir('kimi-ledger-'), 'ledger.jsonl'));
    for (const [at, cost] of [['2025-03-01T09:59:59.999Z', 1], ['2025-03-01T10:00:00.000Z', 0.1], ['2025-03-01T10:30:00.000Z', null], ['2025-03-01T11:00:00.000Z', 0.2]] as const) {
      await ledger.record(entry(at, cost));
    }
    // 0.1 + 0.2 without the float noise (0.30000000000000004).
    expect(await ledger.spentSince(new Date('2025-03-01T10:00:00.000Z'))).toBe(0.3);
    expect(await ledger.spentSince(new Date('2025-03-01T11:00:00.001Z'))).toBe(0);
  });

  it('a new Ledger on the same file (a restarted server) sees the earlier spend', async () => {
    const env = { KIMI_MCP_STATE_DIR: join(tempDir('kimi-ledger-'), 'state') };
    await new Ledger(ledgerFile(env)).record(entry(new Date(), 0.375));
    const restarted = new Ledger(ledgerFile(env));
    expect(await restarted.spentSince(periodStart('day'))).toBe(0.375);
    expect(await restarted.spentSince(periodStart('month'))).toBe(0.375);
  });
});

describe('periodStart', () => {
  it('is local midnight today, or local midnight on the 1st of this month', () => {
    const now = new Date(2025, 2, 15, 13, 45, 12, 345);
    expect(periodStart('day', now)).toEqual(new Date(2025, 2, 15));
    expect(periodStart('month', now)).toEqual(new Date(2025, 2, 1));
    const day = periodStart('day', now);
    expect([day.getHours(), day.getMinutes(), day.getSeconds(), day.getMilliseconds()]).toEqual([0, 0, 0, 0]);
    // The first moment of a period is in it; the last moment before it is not.
    expect(periodStart('day', new Date(2025, 2, 15))).toEqual(new Date(2025, 2, 15));
    expect(periodStart('month', new Date(2025, 2, 31, 23, 59, 59, 999))).toEqual(new Date(2025, 2, 1));
    expect(periodStart('month', new Date(2025, 0, 1))).toEqual(new Date(2025, 0, 1));
  });
});

describe('spentSince on a long ledger', () => {
  // 20,000 calls three minutes apart (~42 days), appended with up to ±20 minutes of disorder
  // as concurrent writers produce; costs are multiples of 1/1024 so every sum is exact.
  const COUNT = 20_000;
  const last = Date.UTC(2025, 5, 30, 12);
  const calls = Array.from({ length: COUNT }, (_, i) => {
    const jitter = (((i * 7919) % 41) - 20) * 60_000;
    const cost = i % 97 === 0 ? null : ((i % 50) + 1) / 1024;
    return entry(new Date(last - (COUNT - 1 - i) * 180_000 + jitter), cost, i === COUNT - 500 ? { model_id: 'x'.repeat(100_000) } : {});
  });
  const lines = calls.map((c) => `${JSON.stringify({ v: 1, ...c })}\n`);
  const bruteForce = (since: number) => calls.reduce((sum, c) => (Date.parse(c.at) >= since ? sum + (c.cost_usd ?? 0) : sum), 0);

  it('sums exactly what a full read sums, for periods ending across chunk boundaries', async () => {
    const file = join(tempDir('kimi-ledger-'), 'ledger.jsonl');
    writeFileSync(file, lines.join(''));
    const ledger = new Ledger(file);
    // Where the 64 KB chunks (read from the end) begin: a `since` there puts the period's first
    // calls on both sides of a boundary, and the one long line spans several chunks.
    const size = statSync(file).size;
    const boundaries = [1, 2, 5, 20].map((k) => size - k * 64 * 1024);
    let offset = 0;
    const offsets = lines.map((line) => (offset += Buffer.byteLength(line)) - Buffer.byteLength(line));
    const atBoundary = boundaries.map((b) => Date.parse(calls[offsets.findIndex((o) => o >= b)]!.at));
    const sinces = [...atBoundary, last - HOUR, last - 24 * HOUR, last - 10 * 24 * HOUR, Date.parse(calls[0]!.at), last + HOUR];
    for (const since of sinces) expect(await ledger.spentSince(new Date(since)), new Date(since).toISOString()).toBe(bruteForce(since));

    for (const [label, since] of [['the last day', last - 24 * HOUR], ['30 days', last - 30 * 24 * HOUR]] as const) {
      const started = performance.now();
      const spent = await ledger.spentSince(new Date(since));
      const ms = performance.now() - started;
      expect(spent).toBe(bruteForce(since));
      console.log(`spentSince(${label}) on ${COUNT} entries (${(size / 1e6).toFixed(1)} MB): ${ms.toFixed(1)} ms`);
    }
  });

  it('counts calls appended up to an hour out of order, and stops at a whole chunk older than that', async () => {
    const file = join(tempDir('kimi-ledger-'), 'ledger.jsonl');
    const since = Date.UTC(2025, 5, 1, 12);
    const block = (minutesBefore: number) => Array.from({ length: 2000 }, (_, i) => `${JSON.stringify(entry(new Date(since - minutesBefore * 60_000 - i), 0))}\n`).join('');
    const call = (minutesAfter: number, cost: number) => `${JSON.stringify(entry(new Date(since + minutesAfter * 60_000), cost))}\n`;
    // A call that ended after `since`, appended before a chunk or more of calls 30 minutes older: counted.
    writeFileSync(file, call(1, 1) + block(30) + call(2, 2));
    expect(await new Ledger(file).spentSince(new Date(since))).toBe(3);
    // Behind a chunk or more of calls two hours older, the scan has stopped: that is what keeps it fast.
    writeFileSync(file, call(1, 1) + block(120) + call(2, 2));
    expect(await new Ledger(file).spentSince(new Date(since))).toBe(2);
  });
});

describe('two processes spending at once', () => {
  it('records every call from both (2 × 200), and the sums are exact', async () => {
    const file = join(tempDir('kimi-ledger-procs-'), 'state', 'ledger.jsonl');
    const exits = await runTogether('src/state/ledger.ts', `
      const [file] = args;
      const ledger = new module.Ledger(file);
      for (let i = 0; i < 200; i++) {
        await ledger.record({ at: new Date().toISOString(), provider: tag, host: tag + '.example', model: 'kimi-k2.6', model_id: String(i),
          prompt_tokens: i, completion_tokens: 1, cached_tokens: 0, cost_usd: (i + 1) / 256 });
      }`, [file]);
    expect(exits).toEqual([0, 0]);

    const ledger = new Ledger(file);
    const { entries, torn } = await ledger.entries();
    expect(torn).toBe(0);
    expect(entries).toHaveLength(400);
    const ids = (tag: string) => entries.filter((e) => e.provider === tag).map((e) => Number(e.model_id)).sort((a, b) => a - b);
    expect(ids('A')).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(ids('B')).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // Each process: (1 + … + 200) / 256 = 78.515625.
    expect(await ledger.spentSince(new Date(0))).toBe(157.03125);
    expect(await ledger.spentSince(periodStart('day'))).toBe(157.03125);
  }, 60_000);
});
