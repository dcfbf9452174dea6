/**
 * The MCP server over Streamable HTTP, for shared and remote use. Loopback by default, with
 * Host and Origin checks against DNS rebinding; any other bind needs a strong bearer token
 * (access.ts). Both protocol eras at one endpoint: a 2026-07-28 request (its `_meta` carries the
 * envelope) is served statelessly by the SDK's createMcpHandler; a 2025-era client gets a session
 * of its own (sessions.ts), so cancellation, progress and elicitation work as over stdio. HTTP
 * clients keep their conversations apart from the stdio user's, one store per token.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import { NodeStreamableHTTPServerTransport, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import type { Catalog } from '../catalog/load.js';
import { DEFAULT_MAX_HTTP_SESSIONS, DEFAULT_SESSION_IDLE_MS } from '../kimi/config.js';
import type { Env } from '../kimi/config.js';
import { pruneConversations } from '../kimi/conversation.js';
import { log } from '../log.js';
import { ReplyStore } from '../mcp/replies.js';
import { createServer as createMcpServer } from '../mcp/server.js';
import { MAX_MESSAGE_BYTES, PARSE_ERROR } from '../transport/jsonrpc.js';
import { bindsLoopback, checkToken, conversationScope, foreignOrigin, sameSecret } from './access.js';
import { LegacySessions } from './sessions.js';

export const MCP_PATH = '/mcp';
/** Same ceiling as over stdio: a 256K-token prompt is about 1 MB. */
export const MAX_BODY_BYTES = MAX_MESSAGE_BYTES;

export interface HttpOptions {
  host: string;
  port: number;
  catalog: Catalog;
  env: Env;
  /** Bearer token every request must carry; required (at least 32 characters) for a non-loopback bind. */
  token?: string;
  /** KIMI_MCP_HTTP_TOKEN held an unexpanded placeholder: refused, whatever the bind. */
  tokenIsPlaceholder?: boolean;
  maxBodyBytes?: number;
  /** A session with nothing in flight for this long is closed (its client may re-initialize). */
  sessionIdleMs?: number;
  /** At most this many 2025-era sessions at once; a new one beyond it gets a 503. */
  maxSessions?: number;
  /** Days a conversation is kept (pruned at start, like stdio's). */
  keepDays?: number;
}

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

const errorBody = (message: string, code = -32000) => JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code?: number): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(errorBody(message, code));
}

/** A POST body, read up to `limit` bytes; undefined past it (a 413 answered) or when the client gave up mid-body (no one to answer). */
async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        reply(res, 413, `Payload Too Large: the limit is ${limit} bytes. Name large inputs by path in "files" instead of inlining them.`, { connection: 'close' });
        req.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || req.destroyed) return undefined;
    throw e;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Requests Node's parser refuses (bad request line, headers too large) get a JSON-RPC body too, not a bare status. */
function refuseUnparsable(e: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || e.code === 'ECONNRESET') return void socket.destroy();
  const [status, text] = e.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
  const body = errorBody(`${text}: the HTTP request could not be read (${e.code ?? e.message})`);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * A cancelled request gets no response (MCP), so the SDK would keep its event stream open for as
 * long as the client does, and clients do not close it: every cancel leaked the stream and what
 * it holds (about 25 KB). The stream is closed once the cancel has been dispatched.
 */
function closeStreamsOfCancelledRequests(transport: NodeStreamableHTTPServerTransport): void {
  const dispatch = transport.onmessage!;
  transport.onmessage = (message, extra) => {
    dispatch(message, extra);
    if ('method' in message && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: string | number } | undefined)?.requestId;
      if (requestId !== undefined) setImmediate(() => transport.closeSSEStream(requestId));
    }
  };
}

export async function startHttpServer(options: HttpOptions): Promise<RunningHttpServer> {
  const loopback = await bindsLoopback(options.host);
  checkToken(options.token, options.tokenIsPlaceholder ?? false, options.host, loopback);
  // Conversations over HTTP live in a store of their own (ledger and budget stay shared).
  const env = { ...options.env, KIMI_MCP_CONVERSATION_SCOPE: conversationScope(options.token) };
  if (options.keepDays !== undefined) pruneConversations(env, options.keepDays);
  const sessions = new LegacySessions(options.maxSessions ?? DEFAULT_MAX_HTTP_SESSIONS, options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
  let port = options.port;
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  // Long replies stay readable from any later request or session of this process.
  const replies = new ReplyStore();
  const modern = toNodeHandler(
    createMcpHandler(({ era }) => createMcpServer(options.catalog, env, { era, replies }), { legacy: 'reject', maxRequestBodySize: maxBody, onerror: (e) => log('protocol error:', e.message) }),
    { maxRequestBodySize: maxBody, onerror: (e) => log('http request failed:', e) },
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Answered here rather than by Node, so that the answer is JSON-RPC like every other.
    if (!req.headers.host) return reply(res, 400, 'Missing Host header (HTTP/1.1 requires one)');
    if (!/^(\[[\da-f:.]+\]|[a-z\d._-]+)(:\d{1,5})?$/i.test(req.headers.host)) return reply(res, 400, `Invalid Host header "${req.headers.host.slice(0, 100)}"`);
    // The URL the SDK's request adapter will build; one it cannot build is the client's mistake, not a 500.
    const target = req.url ?? '/';
    const base = `http://${req.headers.host}`;
    if (!URL.canParse(target, base) || (!/^https?:\/\//i.test(target) && !URL.canParse(`${base}${target}`))) return reply(res, 400, `Malformed request target or Host header`);
    if (new URL(target, base).pathname !== MCP_PATH) return reply(res, 404, `Not found; the MCP endpoint is ${MCP_PATH}`);
    // DNS rebinding: a browser page may reach a loopback port only under a foreign Host/Origin.
    const refusal = loopback ? foreignOrigin(req, port) : undefined;
    if (refusal) return reply(res, 403, refusal);
    if (options.token && !sameSecret(req.headers.authorization ?? '', `Bearer ${options.token}`)) {
      return reply(res, 401, 'Missing or wrong bearer token (Authorization: Bearer <KIMI_MCP_HTTP_TOKEN>)', { 'www-authenticate': 'Bearer' });
    }
    const sessionId = req.headers['mcp-session-id'];
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, res, maxBody);
      if (text === undefined) return;
      try {
        body = JSON.parse(text);
      } catch (e) {
        return reply(res, 400, `Parse error: ${(e as Error).message.slice(0, 200)}`, {}, PARSE_ERROR);
      }
      // A 2026-07-28 request (by the SDK's own rule) is served statelessly.
      if (sessionId === undefined && !(await isLegacyRequest(await toWebRequest(req, body), body))) return modern(req, res, body);
    }
    if (typeof sessionId === 'string') {
      if (!sessions.has(sessionId)) return reply(res, 404, 'Session not found (it may have been idle too long); initialize a new one');
      return sessions.serve(sessionId, req, res, body);
    }
    if (sessions.full) {
      return reply(res, 503, `Too many sessions: ${sessions.max} are open (KIMI_MCP_HTTP_MAX_SESSIONS). Close one (DELETE), wait for idle ones to be closed, or use the 2026-07-28 protocol, which needs none.`, { 'retry-after': '30' });
    }
    // No session yet: only an initialize request can start one; the transport refuses others.
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      maxRequestBodySize: maxBody,
      onsessioninitialized: (id: string) => void sessions.add(id, transport),
    });
    const server = createMcpServer(options.catalog, env, { replies });
    transport.onclose = () => {
      if (transport.sessionId) sessions.remove(transport.sessionId);
      void server.close();
    };
    await server.connect(transport);
    closeStreamsOfCancelledRequests(transport);
    // The initialize request counts as open (see onsessioninitialized) until its response ends.
    res.once('close', () => sessions.settle(transport.sessionId));
    await transport.handleRequest(req, res, body);
    if (!transport.sessionId) await server.close();
  }

  const http = createServer({ requireHostHeader: false }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      log('http request failed:', e);
      if (!res.headersSent) reply(res, 500, 'Internal error');
    });
  });
  http.on('clientError', refuseUnparsable);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}${MCP_PATH}`,
    close: async () => {
      await sessions.closeAll();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
