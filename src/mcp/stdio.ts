/**
 * The stdio server (dist/server.mjs): the SDK's serveStdio, which serves both protocol eras from
 * one factory, on our line transport (src/transport/stdio-line.ts). The process exits when the
 * client goes away (stdin end, SIGTERM, a closed stdout), after the requests it had received are
 * answered and cut-off calls have stored what they had.
 */
import type { Readable, Writable } from 'node:stream';
import { InMemoryTransport, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { currentCatalog } from '../catalog/current.js';
import type { Catalog } from '../catalog/load.js';
import { bundleDir } from '../catalog/snapshot.js';
import { callsSettled } from '../kimi/run-chat.js';
import { log } from '../log.js';
import { DRAIN_MS, guardStdio, SETTLE_MS } from '../transport/hygiene.js';
import { StdioLineTransport } from '../transport/stdio-line.js';
import { createServer, onProcessStart } from './server.js';

/**
 * The catalog the server will use, loaded, and one rehearsal of the protocol path: the start-up
 * path calls this while the client's model is still choosing a tool, so the first real call finds
 * the code loaded and compiled rather than paying for it (about 40 ms on a cold process).
 */
let preparing: Promise<Catalog> | undefined;
export function prepare(env: NodeJS.ProcessEnv = process.env): Promise<Catalog> {
  return (preparing ??= currentCatalog(env, bundleDir(import.meta.url)).then(async (catalog) => (await rehearse(catalog, env), catalog)));
}

/**
 * A throwaway server answers initialize, tools/list and an offline estimate_cost (given token
 * counts: nothing is read, written or sent) over an in-memory pair. A failure only costs speed.
 */
async function rehearse(catalog: Catalog, env: NodeJS.ProcessEnv): Promise<void> {
  const server = createServer(catalog, env);
  const [client, side] = InMemoryTransport.createLinkedPair();
  try {
    await server.connect(side);
    const done = new Promise<void>((resolve) => (client.onmessage = (m) => void ('id' in m && m.id === 3 && resolve())));
    await client.start();
    const request = (id: number, method: string, params: Record<string, unknown>) => client.send({ jsonrpc: '2.0', id, method, params });
    await request(1, 'initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'rehearsal', version: '0' } });
    await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await request(2, 'tools/list', {});
    await request(3, 'tools/call', { name: 'estimate_cost', arguments: { input_tokens: 1, output_tokens: 1 } });
    await done;
  } catch (e) {
    log('the start-up rehearsal failed (the first call may be slower):', e);
  } finally {
    await server.close().catch(() => undefined);
  }
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
