/**
 * The stdio server (dist/server.mjs): the SDK's serveStdio, which serves both protocol eras from
 * one factory, on our line transport (src/transport/stdio-line.ts). The process exits when the
 * client goes away (stdin end, SIGTERM, a closed stdout), after the requests it had received are
 * answered and cut-off calls have stored what they had.
 */
import type { Readable, Writable } from 'node:stream';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { currentCatalog } from '../catalog/current.js';
import type { Catalog } from '../catalog/load.js';
import { bundleDir } from '../catalog/snapshot.js';
import { callsSettled } from '../kimi/run-chat.js';
import { log } from '../log.js';
import { DRAIN_MS, guardStdio, SETTLE_MS } from '../transport/hygiene.js';
import { StdioLineTransport } from '../transport/stdio-line.js';
import { createServer, onProcessStart } from './server.js';

/** The catalog the server will use; the start-up path calls this early, so the first call finds it loaded. */
let preparing: Promise<Catalog> | undefined;
export function prepare(env: NodeJS.ProcessEnv = process.env): Promise<Catalog> {
  return (preparing ??= currentCatalog(env, bundleDir(import.meta.url)));
}

export async function runStdioServer(env: NodeJS.ProcessEnv = process.env, input: Readable = process.stdin, output: Writable = process.stdout): Promise<void> {
  let shutdown: (why: string, drain: boolean) => void = () => process.exit(0);
  guardStdio((why) => shutdown(why, false));
  const catalog = await prepare(env);
  onProcessStart(catalog, env);
  const transport = new StdioLineTransport(input, output);
  const handle = serveStdio(() => createServer(catalog, env), { transport, onerror: (e) => log('protocol error:', e.message) });
  let closing = false;
  shutdown = (why, drain) => {
    if (closing) return;
    closing = true;
    log(`shutting down: ${why}`);
    void (drain ? transport.idle(DRAIN_MS) : Promise.resolve())
      .then(() => handle.close())
      .then(() => callsSettled(SETTLE_MS))
      .finally(() => output.write('', () => process.exit(0)));
  };
  transport.onend = () => shutdown('stdin ended', true);
  process.on('SIGTERM', () => shutdown('SIGTERM', false));
  process.on('SIGINT', () => shutdown('SIGINT', false));
}
