/** `kimi-mcp usage`: what the ledger says was spent, by day, model and provider. */
import { UsageError } from '../kimi/errors.js';
import { DEFAULT_USAGE_DAYS, formatUsage, usageReport } from '../kimi/usage-report.js';
import { Ledger, ledgerFile } from '../state/ledger.js';
import type { CliContext } from './context.js';

export interface UsageOptions {
  json?: boolean;
  days?: string;
}

function days(value: string | undefined): number {
  if (value === undefined) return DEFAULT_USAGE_DAYS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--days takes a whole number of days, 1 or more (e.g. --days 7 for today and the 6 days before), not "${value}".`);
  return n;
}

export async function runUsageCommand(cli: CliContext, options: UsageOptions): Promise<number> {
  const shownDays = days(options.days);
  const { entries, torn } = await new Ledger(ledgerFile(cli.env)).entries();
  const report = usageReport(entries, { days: shownDays, torn });
  cli.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatUsage(report));
  return 0;
}
