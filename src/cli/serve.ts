/** `kimi-mcp serve --http`: runs until SIGINT/SIGTERM. */
import { startHttpServer } from '../http/server.js';
import { onProcessStart } from '../mcp/server.js';
import { readVar } from '../env.js';
import { UsageError } from '../kimi/errors.js';
import { callsSettled } from '../kimi/run-chat.js';
import { SETTLE_MS } from '../transport/hygiene.js';
import type { CliContext } from './context.js';

const DEFAULT_PORT = 3917;
const DEFAULT_HOST = '127.0.0.1';

export async function runServe(cli: CliContext, options: { port?: string; host?: string }): Promise<number | undefined> {
  const port = options.port === undefined ? DEFAULT_PORT : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a port number, not "${options.port}".`);
  const { value: token, unexpanded } = readVar(cli.env, 'KIMI_MCP_HTTP_TOKEN');
  const { sessionIdleMs, maxHttpSessions: maxSessions, keepDays } = cli.settings;
  const server = await startHttpServer({ host: options.host ?? DEFAULT_HOST, port, catalog: cli.catalog, env: cli.env, sessionIdleMs, maxSessions, keepDays, tokenIsPlaceholder: unexpanded, ...(token ? { token } : {}) });
  onProcessStart(cli.catalog, cli.env);
  cli.err(`kimi-mcp serving MCP over Streamable HTTP at ${server.url}${token ? ' (bearer token required)' : ''}\n`);
  // Closing the sessions cancels their calls; each then stores its partial turn and cost.
  const stop = () => void server.close().then(() => callsSettled(SETTLE_MS)).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}
