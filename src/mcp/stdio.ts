/**
 * The full stdio server. Process hygiene (stdout for JSON-RPC only, logged rejections, EPIPE)
 * is set up by src/startup before this loads; here the process exits when the client goes away
 * (stdin end/close, SIGTERM), which the 1.x SDK transport does not do by itself.
 */
import type { Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../catalog/load.js';
import { log } from '../log.js';
import { guardStdio } from '../startup/hygiene.js';
import { bundleDir, requireSkillRoot } from '../startup/snapshot.js';
import { createServer, onProcessStart } from './server.js';

/** How long requests already received may take to finish after the client closes stdin. */
const DRAIN_MS = 5_000;

/**
 * Counts requests that have no answer yet, so that closing stdin right after the last request
 * (a piped session) still gets its answers. Cancelled requests are never answered, so they
 * stop counting too.
 */
function trackPending(transport: StdioServerTransport): { idle: () => Promise<void> } {
  const pending = new Set<string | number>();
  let wake: (() => void) | undefined;
  const dispatch = transport.onmessage!;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) pending.add(message.id);
    if ('method' in message && message.method === 'notifications/cancelled') pending.delete((message.params as { requestId: string | number }).requestId);
    dispatch(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    if ('id' in message && message.id !== undefined && !('method' in message) && pending.delete(message.id) && pending.size === 0) wake?.();
  };
  return {
    idle: () =>
      pending.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, DRAIN_MS).unref();
          }),
  };
}

export async function runStdioServer(env: NodeJS.ProcessEnv = process.env, output: Writable = process.stdout): Promise<void> {
  guardStdio();
  const catalog = loadCatalog(requireSkillRoot(env, bundleDir(import.meta.url)));
  onProcessStart(catalog, env);
  const server = createServer(catalog, env);
  const transport = new StdioServerTransport(process.stdin, output);
  let closing = false;
  let requests: { idle: () => Promise<void> } | undefined;
  const shutdown = (why: string, drain: boolean) => {
    if (closing) return;
    closing = true;
    log(`shutting down: ${why}`);
    void (drain && requests ? requests.idle() : Promise.resolve())
      .then(() => server.close())
      .finally(() => process.exit(0));
  };
  process.stdin.on('end', () => shutdown('stdin ended', true));
  process.stdin.on('close', () => shutdown('stdin closed', true));
  process.on('SIGTERM', () => shutdown('SIGTERM', false));
  process.on('SIGINT', () => shutdown('SIGINT', false));
  await server.connect(transport);
  requests = trackPending(transport);
  // After a hand-over from the fast path stdin is explicitly paused, and a new 'data' listener
  // does not restart a paused stream.
  process.stdin.resume();
}
