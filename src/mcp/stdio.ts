/**
 * The stdio server with the hygiene a long-lived child process needs (see the SDK notes):
 * stdout carries JSON-RPC only, a stray rejection is logged instead of killing the process,
 * and the process exits when the client goes away (stdin end/close, EPIPE, SIGTERM).
 */
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { findSkillRoot, loadCatalog } from '../catalog/load.js';
import { log } from '../log.js';
import { createServer } from './server.js';

export function skillRootFromHere(): string {
  return findSkillRoot(dirname(fileURLToPath(import.meta.url)));
}

export async function runStdioServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Libraries that print with console.log/info/debug must not corrupt the protocol stream.
  console.log = console.info = console.debug = console.error;
  process.on('unhandledRejection', (e) => log('unhandled rejection:', e));
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    log('stdout error:', e);
  });

  const server = createServer(loadCatalog(env.KIMI_MCP_SKILL_DIR ?? skillRootFromHere()), env);
  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    log(`shutting down: ${why}`);
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.on('end', () => shutdown('stdin ended'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await server.connect(new StdioServerTransport());
}
