/**
 * What the ledger says was spent, by day, model and provider: one report shared by
 * `kimi-mcp usage` and kimi://usage. Days are the machine's local days, as budgets are.
 */
import type { LedgerEntry } from '../state/ledger.js';
import { formatMoney } from './cost.js';

export interface UsageRow {
  /** YYYY-MM-DD, local time. */
  day: string;
  model: string;
  provider: string;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Priced calls only; see unpriced_calls. */
  cost_usd: number;
  /** Calls whose usage was estimated from what arrived (a broken stream). */
  estimated_calls: number;
  /** Calls with no USD price known, counted as 0 in cost_usd. */
  unpriced_calls: number;
  /** Calls a membership plan covered (a host that bills no tokens): no money, so not in cost_usd. */
  plan_calls: number;
}

export interface UsageReport {
  /** The first local day included (YYYY-MM-DD), or null for every recorded call. */
  since: string | null;
  /** Newest day first, then model, then provider. */
  rows: UsageRow[];
  total: { calls: number; cost_usd: number; prompt_tokens: number; completion_tokens: number };
  /** Unreadable ledger lines that were skipped. */
  torn: number;
}

/** What `kimi-mcp usage` and kimi://usage show unless told otherwise. */
export const DEFAULT_USAGE_DAYS = 30;

function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Sums of prices gather float noise (0.1 + 0.2); a ten-billionth of a dollar is below any price's resolution. */
function roundUsd(n: number): number {
  return Number(n.toFixed(10));
}

/** `days` = today and the days before it, in local time; without it, every entry. */
export function usageReport(entries: readonly LedgerEntry[], options: { days?: number; now?: Date; torn?: number } = {}): UsageReport {
  const now = options.now ?? new Date();
  const start = options.days === undefined ? undefined : new Date(now.getFullYear(), now.getMonth(), now.getDate() - (options.days - 1));
  const rows = new Map<string, UsageRow>();
  for (const e of entries) {
    const at = new Date(e.at);
    if (start && at < start) continue;
    const day = localDay(at);
    const key = JSON.stringify([day, e.model, e.provider]);
    let row = rows.get(key);
    if (!row) {
      row = { day, model: e.model, provider: e.provider, calls: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, estimated_calls: 0, unpriced_calls: 0, plan_calls: 0 };
      rows.set(key, row);
    }
    row.calls++;
    row.prompt_tokens += e.prompt_tokens;
    row.completion_tokens += e.completion_tokens;
    row.cost_usd = roundUsd(row.cost_usd + (e.cost_usd ?? 0));
    if (e.estimated) row.estimated_calls++;
    if (e.covered_by_plan) row.plan_calls++;
    else if (e.cost_usd === null) row.unpriced_calls++;
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...rows.values()].sort((a, b) => order(b.day, a.day) || order(a.model, b.model) || order(a.provider, b.provider));
  const total = { calls: 0, cost_usd: 0, prompt_tokens: 0, completion_tokens: 0 };
  for (const row of sorted) {
    total.calls += row.calls;
    total.cost_usd = roundUsd(total.cost_usd + row.cost_usd);
    total.prompt_tokens += row.prompt_tokens;
    total.completion_tokens += row.completion_tokens;
  }
  return { since: start ? localDay(start) : null, rows: sorted, total, torn: options.torn ?? 0 };
}

const count = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => formatMoney(n, 'USD');

/** Pads every column to its widest cell, so the markdown table also lines up in a terminal. */
function table(header: string[], body: string[][], rightAligned: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)];
}

/** The money a row cost, and the calls it could not price or a plan covered (those have no amount). */
function costCell(r: UsageRow): string {
  const parts = r.plan_calls === r.calls ? [] : [usd(r.cost_usd)];
  if (r.unpriced_calls) parts.push(`${count(r.unpriced_calls)} unpriced`);
  if (r.plan_calls) parts.push(`${count(r.plan_calls)} covered by plan`);
  return parts.join(' + ');
}

/** Markdown: a table, the total, and notes on what the numbers leave out. */
export function formatUsage(report: UsageReport): string {
  const title = `# Kimi spending ${report.since ? `since ${report.since}` : '(every recorded call)'}`;
  const out = [title, ''];
  if (report.rows.length === 0) {
    out.push('No calls recorded yet. Each Kimi call adds its cost to the ledger when it ends.');
  } else {
    const body = report.rows.map((r) => [
      r.day, r.model, r.provider,
      r.estimated_calls ? `${count(r.calls)} (${count(r.estimated_calls)} est.)` : count(r.calls),
      count(r.prompt_tokens), count(r.completion_tokens),
      costCell(r),
    ]);
    out.push(...table(['Day', 'Model', 'Provider', 'Calls', 'Input tokens', 'Output tokens', 'Cost (USD)'], body, [false, false, false, true, true, true, true]));
    const { total } = report;
    out.push('', `Total: ${count(total.calls)} call(s), ${count(total.prompt_tokens)} input + ${count(total.completion_tokens)} output tokens, ${usd(total.cost_usd)}.`);
  }
  const estimated = report.rows.reduce((n, r) => n + r.estimated_calls, 0);
  const unpriced = report.rows.reduce((n, r) => n + r.unpriced_calls, 0);
  const onPlan = report.rows.reduce((n, r) => n + r.plan_calls, 0);
  const notes = [
    ...(estimated ? [`${count(estimated)} call(s) marked "est." broke off before the host reported usage; their tokens and cost are estimated from what arrived.`] : []),
    ...(unpriced ? [`${count(unpriced)} call(s) had no USD price known; they are not in the costs above.`] : []),
    ...(onPlan ? [`${count(onPlan)} call(s) were covered by a membership plan (a host that bills no tokens): they cost no money, and budgets do not count them.`] : []),
    ...(report.torn ? [`${count(report.torn)} unreadable ledger line(s) were skipped (a write cut short by a crash); their calls are not counted.`] : []),
  ];
  if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
  return out.join('\n') + '\n';
}
