/**
 * The stdio server (dist/server.mjs): the SDK's serveStdio, which serves both protocol eras from
 * one factory, on our line transport (src/transport/stdio-line.ts). The process exits when the
 * client goes away (stdin end, SIGTERM, a closed stdout), after the requests it had received are
 * answered and cut-off calls have stored what they had.
 */
import type { Readable, Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { currentCatalog } from '../catalog/current.js';
import type { Catalog } from '../catalog/load.js';
import { bundleDir } from '../catalog/snapshot.js';
import { callsSettled } from '../kimi/run-chat.js';
import { log } from '../log.js';
import { DRAIN_MS, guardStdio, SETTLE_MS } from '../transport/hygiene.js';
import { StdioLineTransport } from '../transport/stdio-line.js';
import { processJobs } from '../jobs/runner.js';
import { createServer, onProcessStart } from './server.js';

type Era = 'legacy' | 'modern';

/**
 * The catalog the server will use, loaded, and one rehearsal of the protocol path in the era the
 * client opened with: the start-up path calls this while the client's model is still choosing a
 * tool, so the first real call finds the code loaded and compiled rather than paying for it.
 */
let preparing: Promise<Catalog> | undefined;
export function prepare(env: NodeJS.ProcessEnv = process.env, era: Era = 'legacy'): Promise<Catalog> {
  return (preparing ??= currentCatalog(env, bundleDir(import.meta.url)).then(async (catalog) => (await rehearse(catalog, env, era), catalog)));
}

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'rehearsal', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };

/**
 * A throwaway stdio server, on the same entry and transport as the real one, answers the opening,
 * tools/list and an offline estimate_cost (given token counts: nothing is read, written or sent).
 * A failure only costs speed.
 */
async function rehearse(catalog: Catalog, env: NodeJS.ProcessEnv, era: Era): Promise<void> {
  const input = new PassThrough();
  const output = new PassThrough();
  // Every tool, whatever KIMI_MCP_TOOLS hides: the rehearsal calls estimate_cost.
  const everyTool = { ...env, KIMI_MCP_TOOLS: undefined };
  const handle = serveStdio(({ era: pinned }) => createServer(catalog, everyTool, { era: pinned }), { transport: new StdioLineTransport(input, output) });
  const params = (p: Record<string, unknown>) => (era === 'modern' ? { ...p, _meta: ENVELOPE } : p);
  const opening = era === 'modern' ? { method: 'server/discover', params: params({}) } : { method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'rehearsal', version: '0' } } };
  const lines = [
    { id: 1, ...opening },
    ...(era === 'legacy' ? [{ method: 'notifications/initialized' }] : []),
    { id: 2, method: 'tools/list', params: params({}) },
    { id: 3, method: 'tools/call', params: params({ name: 'estimate_cost', arguments: { input_tokens: 1, output_tokens: 1 } }) },
  ];
  let seen = '';
  const answered = new Promise<void>((resolve) => {
    output.on('data', (d: Buffer) => ((seen += d.toString()), seen.includes('"id":3') && resolve()));
    setTimeout(resolve, REHEARSAL_MS).unref();
  });
  input.write(lines.map((m) => `${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`).join(''));
  await answered;
  await handle.close().catch((e: unknown) => log('the start-up rehearsal failed (the first call may be slower):', e));
}

/** A rehearsal that has not finished by then is left: it only ever saves time. */
const REHEARSAL_MS = 2_000;

export async function runStdioServer(env: NodeJS.ProcessEnv = process.env, input: Readable = process.stdin, output: Writable = process.stdout): Promise<void> {
  let shutdown: (why: string, drain: boolean) => void = () => process.exit(0);
  guardStdio((why) => shutdown(why, false));
  const catalog = await prepare(env);
  onProcessStart(catalog, env);
  const transport = new StdioLineTransport(input, output);
  const handle = serveStdio(({ era }) => createServer(catalog, env, { era }), { transport, onerror: (e) => log('protocol error:', e.message) });
  let closing = false;
  shutdown = (why, drain) => {
    if (closing) return;
    closing = true;
    log(`shutting down: ${why}`);
    void (drain ? transport.idle(DRAIN_MS) : Promise.resolve())
      .then(() => handle.close())
      // Background jobs end with the client that started them, keeping what arrived, rather than spend unseen.
      .then(() => processJobs.stopAll(`the server stopped (${why}) before the job finished; what had arrived is kept`, SETTLE_MS))
      .then(() => callsSettled(SETTLE_MS))
      .finally(() => output.write('', () => process.exit(0)));
  };
  transport.onend = () => shutdown('stdin ended', true);
  process.on('SIGTERM', () => shutdown('SIGTERM', false));
  process.on('SIGINT', () => shutdown('SIGINT', false));
}
