/**
 * Connects a real MCP client to our server in-process, in either protocol era:
 *
 * - legacy (2024-10-07 … 2025-11-25): the SDK 1.x Client over the SDK 1 in-memory transport pair,
 *   opening with `initialize`, as every 2025 client does;
 * - modern (2026-07-28): the v2 Client over Streamable HTTP, whose fetch is the SDK's
 *   createMcpHandler served in-process (there is no in-memory modern entry), either pinned to
 *   2026-07-28 or negotiating with `server/discover` (`auto`). Every request gets a fresh server
 *   from the factory, as over real HTTP, sharing one ReplyStore as src/http/server.ts does.
 *
 * Either way `sent` is every message the server sent, in order.
 */
import { Client as ModernClient, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { ClientCapabilities as ModernCapabilities, ElicitRequest as ModernElicitRequest, ElicitResult as ModernElicitResult } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterEach } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, ListRootsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, ClientCapabilities, ElicitResult, JSONRPCMessage, ListRootsResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { Env } from '../../src/kimi/config.js';
import { ReplyStore } from '../../src/mcp/replies.js';
import { createServer } from '../../src/mcp/server.js';
import { MAX_MESSAGE_BYTES } from '../../src/transport/jsonrpc.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** How the client connects: the 2025 handshake, or 2026-07-28 pinned, or negotiated (`server/discover`). */
export type Era = 'legacy' | 'modern (pinned)' | 'modern (auto)';
export const ERAS: readonly Era[] = ['legacy', 'modern (pinned)', 'modern (auto)'];
/** The two eras a suite runs in when the negotiated variant adds nothing over the pinned one. */
export const BOTH_ERAS: readonly Era[] = ['legacy', 'modern (pinned)'];

export type AnyClient = LegacyClient | ModernClient;

export interface Connection {
  /** The SDK's own client: SDK 1.x for legacy, v2 for modern. Era-neutral helpers below cover the differences. */
  client: AnyClient;
  /** The protocol era the connection landed on. */
  era: 'legacy' | 'modern';
  /** Every message the server sent, in order (to check what was sent when). */
  sent: JSONRPCMessage[];
  close: () => Promise<void>;
}

/** Where a test file keeps the connections it opens; each is closed after the test that opened it. */
export function closedAfterEach(): Connection[] {
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  return open;
}

/** The environment a test server gets: the run's state folder unless the test names one. */
export function serverEnv(env: Env = {}): Env {
  return { KIMI_MCP_STATE_DIR: process.env.KIMI_MCP_STATE_DIR, ...env };
}

export async function connect(env: Env = {}, capabilities: ClientCapabilities = {}, era: Era = 'legacy'): Promise<Connection> {
  return era === 'legacy' ? connectLegacy(env, capabilities) : connectModern(env, capabilities, era === 'modern (auto)' ? 'auto' : { pin: '2026-07-28' });
}

async function connectLegacy(env: Env, capabilities: ClientCapabilities): Promise<Connection> {
  const server = createServer(loadCatalog(ROOT), serverEnv(env), { era: 'legacy' });
  const client = new LegacyClient({ name: 'test-client', version: '0.0.0' }, { capabilities });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const sent: JSONRPCMessage[] = [];
  const send = serverSide.send.bind(serverSide);
  serverSide.send = (message, options) => {
    sent.push(message);
    return send(message, options);
  };
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    era: 'legacy',
    sent,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/**
 * Records the JSON-RPC messages of a response body as the client reads them: a JSON body whole,
 * an SSE stream event by event (so progress shows before the result, as it was sent).
 */
function recording(response: Response, sent: JSONRPCMessage[]): Response {
  const type = response.headers.get('content-type') ?? '';
  if (!response.body || !(type.includes('text/event-stream') || type.includes('application/json'))) return response;
  const record = (text: string) => {
    if (!text.trim()) return;
    const value = JSON.parse(text) as JSONRPCMessage | JSONRPCMessage[];
    sent.push(...(Array.isArray(value) ? value : [value]));
  };
  const decoder = new TextDecoder();
  let buffered = '';
  const sse = type.includes('text/event-stream');
  const takeEvents = () => {
    let end: number;
    while ((end = buffered.search(/\r?\n\r?\n/)) !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length) record(data.join('\n'));
    }
  };
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    // Recorded before the chunk is passed on, so `sent` is never behind what the client saw.
    transform(chunk, controller) {
      buffered += decoder.decode(chunk, { stream: true });
      if (sse) takeEvents();
      controller.enqueue(chunk);
    },
    flush() {
      buffered += decoder.decode();
      if (sse) takeEvents();
      else record(buffered);
    },
  });
  return new Response(response.body.pipeThrough(tap), { status: response.status, statusText: response.statusText, headers: response.headers });
}

async function connectModern(env: Env, capabilities: ClientCapabilities, mode: 'auto' | { pin: '2026-07-28' }): Promise<Connection> {
  const catalog = loadCatalog(ROOT);
  const replies = new ReplyStore();
  // As src/http/server.ts builds it: a server per request, for the era it serves, one reply store for all.
  const handler = createMcpHandler(({ era }) => createServer(catalog, serverEnv(env), { era, replies }), { legacy: 'reject', maxRequestBodySize: MAX_MESSAGE_BYTES });
  const sent: JSONRPCMessage[] = [];
  const transport = new StreamableHTTPClientTransport(new URL('http://test.local/mcp'), {
    fetch: async (url, init) => recording(await handler.fetch(new Request(url, init)), sent),
  });
  const client = new ModernClient({ name: 'test-client', version: '0.0.0' }, { capabilities: capabilities as ModernCapabilities, versionNegotiation: { mode } });
  await client.connect(transport);
  const landed = client.getProtocolEra();
  if (landed !== 'modern') throw new Error(`the client negotiated the ${landed} era, not modern`);
  return {
    client,
    era: 'modern',
    sent,
    close: async () => {
      await client.close();
      await handler.close();
    },
  };
}

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (progress: Progress) => void;
  timeout?: number;
}

/** tools/call in either era (the two SDKs' callTool signatures differ). */
export async function call(client: AnyClient, name: string, args: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult> {
  const params = { name, arguments: args };
  if (client instanceof LegacyClient) return (await client.callTool(params, undefined, options)) as CallToolResult;
  return (await client.callTool(params, options)) as CallToolResult;
}

/** A JSON-RPC error from the server as either SDK throws it (McpError in 1.x, ProtocolError in v2). */
export function protocolError(e: unknown): { code: number; message: string } | undefined {
  return e instanceof McpError || e instanceof ProtocolError ? { code: e.code, message: e.message } : undefined;
}

export interface ElicitQuestion {
  message: string;
  requestedSchema?: unknown;
}

/**
 * Answers the server's elicitation: a pushed elicitation/create request (legacy) or an embedded
 * request in an input_required result, which the v2 client fulfils and retries the call with (modern).
 */
export function onElicit(client: AnyClient, answer: (question: ElicitQuestion) => ElicitResult | Promise<ElicitResult>): void {
  if (client instanceof LegacyClient) {
    client.setRequestHandler(ElicitRequestSchema, (request) => answer(request.params as ElicitQuestion));
    return;
  }
  client.setRequestHandler('elicitation/create', async (request: ModernElicitRequest) => (await answer(request.params as ElicitQuestion)) as ModernElicitResult);
}

/** Answers roots/list: legacy only (2026-07-28 has no roots). */
export function onRoots(client: AnyClient, answer: () => ListRootsResult): void {
  if (!(client instanceof LegacyClient)) throw new Error('roots are a legacy-era feature');
  client.setRequestHandler(ListRootsRequestSchema, answer);
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}
