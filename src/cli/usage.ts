/** `kimi-mcp usage`: what the ledger says was spent, by day, model and provider. */
import { UsageError } from '../kimi/errors.js';
import { DEFAULT_USAGE_DAYS, formatUsage, usageReport } from '../kimi/usage-report.js';
import { Ledger, ledgerFile } from '../state/ledger.js';
import type { CliContext } from './context.js';

export interface UsageOptions {
  json?: boolean;
  days?: string;
}

/** Ten years of days: more than any ledger holds, and still a date the calendar can name. */
const MAX_USAGE_DAYS = 3650;

/** Digits only: Number() would also take "1e9", "0x10" and " 7 ", which are not what a user means by days. */
function days(value: string | undefined): number {
  if (value === undefined) return DEFAULT_USAGE_DAYS;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_USAGE_DAYS)) {
    throw new UsageError(`--days takes a whole number of days from 1 to ${MAX_USAGE_DAYS} (e.g. --days 7 for today and the 6 days before), not "${value}".`);
  }
  return n;
}

export async function runUsageCommand(cli: CliContext, options: UsageOptions): Promise<number> {
  const shownDays = days(options.days);
  const { entries, torn } = await new Ledger(ledgerFile(cli.env)).entries();
  const report = usageReport(entries, { days: shownDays, torn });
  cli.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatUsage(report));
  return 0;
}
