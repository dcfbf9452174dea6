/** kimi://usage: spending by day, model and provider over the last days, from the ledger. */
import type { McpServer } from '@modelcontextprotocol/server';
import type { Env } from '../kimi/config.js';
import { DEFAULT_USAGE_DAYS, formatUsage, usageReport } from '../kimi/usage-report.js';
import { Ledger, ledgerFile } from '../state/ledger.js';

export const USAGE_URI = 'kimi://usage';

export function registerUsage(server: McpServer, env: Env): void {
  const ledger = new Ledger(ledgerFile(env));
  server.registerResource(
    'usage',
    USAGE_URI,
    { title: 'Kimi spending', description: 'Spending by day, model and host, from the ledger.', mimeType: 'text/markdown' },
    async (uri) => {
      // Read on every request: other servers sharing the ledger keep appending to it.
      const { entries, torn } = await ledger.entries();
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: formatUsage(usageReport(entries, { days: DEFAULT_USAGE_DAYS, torn })) }] };
    },
  );
}
