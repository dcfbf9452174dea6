/** What was spent: the report from the ledger, `kimi-mcp usage` and kimi://usage. */
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatUsage, usageReport } from '../src/kimi/usage-report.js';
import { Ledger, ledgerFile } from '../src/state/ledger.js';
import type { LedgerEntry } from '../src/state/ledger.js';
import { connect } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { tempDir } from './helpers/temp.js';

/** A call that ended at a local time (days are local, as budgets are). */
const call = (local: Date, cost: number | null, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  at: local.toISOString(), provider: 'runapi', host: 'api.runapi.example', model: 'kimi-k2.6', model_id: 'moonshotai/kimi-k2.6',
  prompt_tokens: 1000, completion_tokens: 100, cached_tokens: 0, cost_usd: cost, ...extra,
});

const NOW = new Date(2025, 2, 10, 15, 0);
const ENTRIES: LedgerEntry[] = [
  call(new Date(2025, 1, 20, 9), 5), // 18 days before NOW
  call(new Date(2025, 2, 8, 23, 59), 0.25),
  call(new Date(2025, 2, 9, 0, 1), 0.5, { model: 'kimi-k2.5' }),
  call(new Date(2025, 2, 9, 10), 0.125, { provider: 'moonshot', host: 'api.moonshot.ai' }),
  call(new Date(2025, 2, 9, 11), 0.125, { provider: 'moonshot', host: 'api.moonshot.ai', estimated: true }),
  call(new Date(2025, 2, 9, 12), 0.25, { model: 'kimi-k2.5' }),
  call(new Date(2025, 2, 10, 8), 0.1, { prompt_tokens: 50_000, completion_tokens: 2_000 }),
  call(new Date(2025, 2, 10, 9), 0.2),
  call(new Date(2025, 2, 10, 10), null, { provider: 'custom', host: 'kimi.internal' }),
];

describe('usageReport', () => {
  it('sums calls by local day, model and provider: newest day first, then model, then provider', () => {
    const report = usageReport(ENTRIES, { now: NOW });
    expect(report.since).toBeNull();
    expect(report.rows.map((r) => [r.day, r.model, r.provider, r.calls, r.cost_usd])).toEqual([
      ['2025-03-10', 'kimi-k2.6', 'custom', 1, 0],
      ['2025-03-10', 'kimi-k2.6', 'runapi', 2, 0.3], // 0.1 + 0.2 without float noise
      ['2025-03-09', 'kimi-k2.5', 'runapi', 2, 0.75],
      ['2025-03-09', 'kimi-k2.6', 'moonshot', 2, 0.25],
      ['2025-03-08', 'kimi-k2.6', 'runapi', 1, 0.25],
      ['2025-02-20', 'kimi-k2.6', 'runapi', 1, 5],
    ]);
    expect(report.rows[1]).toMatchObject({ prompt_tokens: 51_000, completion_tokens: 2_100, estimated_calls: 0, unpriced_calls: 0 });
    expect(report.rows[0]).toMatchObject({ unpriced_calls: 1, estimated_calls: 0 });
    expect(report.rows[3]).toMatchObject({ estimated_calls: 1, unpriced_calls: 0 });
    expect(report.total).toEqual({ calls: 9, cost_usd: 6.55, prompt_tokens: 58_000, completion_tokens: 2_800 });
    expect(report.torn).toBe(0);
  });

  it('`days` keeps today and the days before it, from local midnight', () => {
    const today = usageReport(ENTRIES, { now: NOW, days: 1, torn: 2 });
    expect(today.since).toBe('2025-03-10');
    expect(today.rows.map((r) => r.day)).toEqual(['2025-03-10', '2025-03-10']);
    expect(today.total).toEqual({ calls: 3, cost_usd: 0.3, prompt_tokens: 52_000, completion_tokens: 2_200 });
    expect(today.torn).toBe(2);
    const twoDays = usageReport(ENTRIES, { now: NOW, days: 2 });
    expect(twoDays.since).toBe('2025-03-09');
    expect(twoDays.total.calls).toBe(7); // 00:01 on the 9th is in, 23:59 on the 8th is not
    expect(usageReport(ENTRIES, { now: NOW, days: 18 }).total.calls).toBe(8);
    expect(usageReport(ENTRIES, { now: NOW, days: 19 }).total.calls).toBe(9);
    expect(usageReport([], { now: NOW, days: 30 })).toEqual({ since: '2025-02-09', rows: [], total: { calls: 0, cost_usd: 0, prompt_tokens: 0, completion_tokens: 0 }, torn: 0 });
  });
});

describe('formatUsage', () => {
  it('a markdown table whose columns line up, the total, and notes on estimated, unpriced and unreadable', () => {
    const text = formatUsage(usageReport(ENTRIES, { now: NOW, days: 30, torn: 1 }));
    const lines = text.split('\n');
    expect(lines[0]).toBe('# Kimi spending since 2025-02-09');
    const table = lines.filter((l) => l.startsWith('|'));
    expect(table).toHaveLength(8);
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
    expect(table[0]).toMatch(/^\| Day +\| Model +\| Provider +\| +Calls \| Input tokens \| Output tokens \| +Cost \(USD\) \|$/);
    expect(table[1]).toMatch(/^\|-+\|-+\|-+\|-+:\|-+:\|-+:\|-+:\|$/);
    expect(table[2]).toMatch(/^\| 2025-03-10 \| kimi-k2\.6 \| custom +\| +1 \| +1,000 \| +100 \| \$0\.00 \+ 1 unpriced \|$/);
    expect(table[3]).toMatch(/\| runapi +\| +2 \| +51,000 \| +2,100 \| +\$0\.30 \|$/);
    expect(table[5]).toMatch(/\| moonshot \| 2 \(1 est\.\) \|/);
    expect(text).toContain('\nTotal: 9 call(s), 58,000 input + 2,800 output tokens, $6.55.\n');
    expect(text).toMatch(/\n- 1 call\(s\) marked "est\." broke off before the host reported usage/);
    expect(text).toMatch(/\n- 1 call\(s\) had no USD price known; they are not in the costs above\./);
    expect(text).toMatch(/\n- 1 unreadable ledger line\(s\) were skipped/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('says so when nothing was recorded, and leaves out notes that do not apply', () => {
    const empty = formatUsage(usageReport([], { now: NOW }));
    expect(empty).toBe('# Kimi spending (every recorded call)\n\nNo calls recorded yet. Each Kimi call adds its cost to the ledger when it ends.\n');
    const plain = formatUsage(usageReport([call(NOW, 0.004)], { now: NOW }));
    expect(plain).not.toContain('\n- ');
    expect(plain).toContain('$0.004'); // small amounts keep their digits (formatMoney)
  });
});

/** A state folder whose ledger holds two calls today, one 40 days ago and one torn line. */
async function stateWithLedger(): Promise<string> {
  const dir = tempDir('kimi-usage-');
  const ledger = new Ledger(ledgerFile({ KIMI_MCP_STATE_DIR: dir }));
  const now = new Date();
  await ledger.record(call(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 40, 12), 9));
  await ledger.record(call(now, 0.5));
  await ledger.record(call(now, 0.25, { model: 'kimi-k2.5' }));
  appendFileSync(ledgerFile({ KIMI_MCP_STATE_DIR: dir }), '{"v":1,"at":"20');
  return dir;
}

describe('kimi-mcp usage (the built CLI)', () => {
  it('prints the last 30 days as a table, or as JSON; --days widens the window', async () => {
    const dir = await stateWithLedger();
    const text = await runCli(['usage'], { KIMI_MCP_STATE_DIR: dir });
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^# Kimi spending since \d{4}-\d{2}-\d{2}\n/);
    expect(text.stdout).toContain('Total: 2 call(s), 2,000 input + 200 output tokens, $0.75.');
    expect(text.stdout).toContain('1 unreadable ledger line(s) were skipped');

    const json = await runCli(['usage', '--json', '--days', '60'], { KIMI_MCP_STATE_DIR: dir });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as ReturnType<typeof usageReport>;
    expect(report.total).toEqual({ calls: 3, cost_usd: 9.75, prompt_tokens: 3000, completion_tokens: 300 });
    expect(report.rows.map((r) => r.model)).toEqual(['kimi-k2.5', 'kimi-k2.6', 'kimi-k2.6']);
    expect(report.torn).toBe(1);
  });

  it('an empty state folder has nothing recorded', async () => {
    const empty = await runCli(['usage'], { KIMI_MCP_STATE_DIR: tempDir('kimi-usage-') });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('No calls recorded yet.');
  });

  it('--days takes whole numbers from 1 to 3650: anything else exits 2 saying so, and 3650 reaches back ten years', async () => {
    const dir = await stateWithLedger();
    for (const bad of ['0', '-1', '1e9', '3651', '1.5', 'abc', '0x10', ' 7']) {
      const run = await runCli(['usage', `--days=${bad}`], { KIMI_MCP_STATE_DIR: dir });
      expect(run.code, bad).toBe(2);
      expect(run.stdout, bad).toBe('');
      expect(run.stderr).toBe(`--days takes a whole number of days from 1 to 3650 (e.g. --days 7 for today and the 6 days before), not "${bad}".\n`);
    }
    const now = new Date();
    const first = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 3649);
    const pad = (n: number) => String(n).padStart(2, '0');
    const decade = await runCli(['usage', '--days', '3650'], { KIMI_MCP_STATE_DIR: dir });
    expect(decade.stderr).toBe('');
    expect(decade.code).toBe(0);
    expect(decade.stdout).toContain(`# Kimi spending since ${first.getFullYear()}-${pad(first.getMonth() + 1)}-${pad(first.getDate())}\n`);
    expect(decade.stdout).toContain('Total: 3 call(s)');
  });
});

describe('kimi://usage', () => {
  it('is listed, and reads as the same report for the last 30 days, fresh on every read', async () => {
    const dir = await stateWithLedger();
    const { client, close } = await connect({ KIMI_MCP_STATE_DIR: dir });
    try {
      const { resources } = await client.listResources();
      expect(resources.find((r) => r.uri === 'kimi://usage')).toMatchObject({ name: 'usage', title: 'Kimi spending', mimeType: 'text/markdown' });
      const read = async () => {
        const [content] = (await client.readResource({ uri: 'kimi://usage' })).contents;
        expect(content).toMatchObject({ uri: 'kimi://usage', mimeType: 'text/markdown' });
        return content && 'text' in content ? String(content.text) : '';
      };
      const { entries, torn } = await new Ledger(ledgerFile({ KIMI_MCP_STATE_DIR: dir })).entries();
      expect(await read()).toBe(formatUsage(usageReport(entries, { days: 30, torn })));
      // Another server's call lands in the shared ledger: the next read shows it.
      await new Ledger(ledgerFile({ KIMI_MCP_STATE_DIR: dir })).record(call(new Date(), 1));
      expect(await read()).toContain('Total: 3 call(s), 3,000 input + 300 output tokens, $1.75.');
    } finally {
      await close();
    }
  });
});
