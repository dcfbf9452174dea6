/**
 * Fuzzing the Streamable HTTP server with raw requests: random and invalid JSON bodies, wrong
 * content types, missing or garbage Accept, malformed session ids, foreign Host and Origin,
 * bodies over the limit, unsupported methods, odd paths, requests that stop half way, and
 * 2026-07-28 requests (the `_meta` envelope, well-formed and malformed, with the era's
 * MCP-Protocol-Version, Mcp-Method and Mcp-Name headers right, wrong or missing). Properties:
 * every request gets a status below 500 and, where the body is JSON, a JSON-RPC message (an
 * error when the status is one; 202 and no body for an accepted notification); the server never
 * crashes, and a well-formed session started before keeps working. Seeds are fixed and in the
 * test names; FUZZ_SEED=<n> replays another.
 */
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect as connectSocket } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadCatalog } from '../src/catalog/load.js';
import { startHttpServer } from '../src/http/server.js';
import type { RunningHttpServer } from '../src/http/server.js';
import { ROOT, serverEnv } from './helpers/mcp.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1);
const LIMIT = 64 * 1024;
const TIMEOUT_MS = 10_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: RunningHttpServer;
let client: Client;
let url: URL;
let session: string;
/** A second server bound beyond loopback, started by the property that needs it. */
let beyond: RunningHttpServer | undefined;

beforeAll(async () => {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog: loadCatalog(ROOT), env: serverEnv({}), maxBodyBytes: LIMIT });
  url = new URL(server.url);
  client = new Client({ name: 'well-formed', version: '0' });
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  session = transport.sessionId!;
});
afterAll(async () => {
  await client.close();
  await server.close();
  await beyond?.close();
});

/** One HTTP request with exactly these headers (Host included); SSE answers are read until they end or for a moment. */
function send(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, port = url.port): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      // A GET that opened the session's standing SSE stream never ends by itself.
      const stop = setTimeout(() => res.destroy(), res.headers['content-type']?.startsWith('text/event-stream') ? 1500 : TIMEOUT_MS);
      res.on('data', (d: Buffer) => chunks.push(d));
      const done = () => {
        clearTimeout(stop);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('end', done);
      res.on('close', done);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** What every answer must look like. */
function checkReply(r: Reply, shown: string, head = false): void {
  expect(r.status, shown).toBeGreaterThanOrEqual(200);
  expect(r.status, `a 5xx for a client's request: ${shown}`).toBeLessThan(500);
  if (head) return expect(r.body).toBe(''); // HEAD answers carry no body
  const type = r.headers['content-type'] ?? '';
  const messages: unknown[] = [];
  if (type.startsWith('application/json')) messages.push(JSON.parse(r.body));
  else if (type.startsWith('text/event-stream')) {
    for (const line of r.body.split('\n')) if (line.startsWith('data: ') && line.length > 6) messages.push(JSON.parse(line.slice(6)));
  } else expect(r.body, `a body that is not JSON-RPC: ${shown}`).toBe('');
  for (const m of messages) {
    expect(m, shown).toMatchObject({ jsonrpc: '2.0' });
    if (r.status >= 400) expect(m, shown).toMatchObject({ error: { code: expect.any(Number), message: expect.any(String) } });
  }
  if (r.status >= 400) expect(messages, `an error status without a JSON-RPC error: ${shown}`).toHaveLength(1);
}

// ---- what is sent ---------------------------------------------------------------------------

const message = (method: string, params?: Json, id: Json = 7): Json => ({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
const initialize = message('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } });
const MESSAGES: Json[] = [
  initialize,
  message('ping'),
  message('tools/list'),
  message('tools/call', { name: 'estimate_cost', arguments: { input_tokens: 10 } }),
  message('tools/call', { name: 'estimate_cost', arguments: { input_tokens: 'ten' } }),
  message('tools/call', { name: 5 }),
  message('resources/read', { uri: '' }),
  message('no/such/method'),
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 99, result: {} },
];

// ---- 2026-07-28 requests: the per-request envelope, whole or broken --------------------------

const MODERN = '2026-07-28';
const PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const ENVELOPE: { [key: string]: Json } = {
  [PROTOCOL_VERSION]: MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const ENVELOPE_KEYS = [...Object.keys(ENVELOPE), 'io.modelcontextprotocol/logLevel', 'progressToken'];
/** The requests a 2026-07-28 client makes (and some it must not: methods the era removed), before their envelope. */
const MODERN_BASES: { method: string; params?: { [key: string]: Json }; notification?: true }[] = [
  { method: 'server/discover' },
  { method: 'tools/list' },
  { method: 'tools/list', params: { cursor: 5 } },
  { method: 'tools/call', params: { name: 'estimate_cost', arguments: { input_tokens: 10 } } },
  { method: 'tools/call', params: { name: 'estimate_cost', arguments: { input_tokens: 'ten' } } },
  { method: 'tools/call', params: { name: 'estimate_cost', arguments: { input_tokens: 10 }, inputResponses: { x: 1 }, requestState: 'forged' } },
  { method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } },
  { method: 'resources/list' },
  { method: 'resources/read', params: { uri: 'kimi://replies/00000000-0000-4000-8000-000000000000' } },
  { method: 'resources/templates/list' },
  { method: 'ping' },
  { method: 'initialize' },
  { method: 'logging/setLevel', params: { level: 'info' } },
  { method: 'no/such/method' },
  { method: 'notifications/cancelled', params: { requestId: 8 }, notification: true },
  { method: 'notifications/initialized', notification: true },
];
/** An envelope as sent: whole, one key set to something else, some keys left out, or no envelope shape at all. */
const envelopeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(MODERN, '2025-11-25', '2026-07-29', '', 'debug', null, 2026, true, {}, [], { name: 5 }, { sampling: 'yes' }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const meta: fc.Arbitrary<Json | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(ENVELOPE) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...ENVELOPE_KEYS), envelopeValue).map(([key, value]) => ({ ...ENVELOPE, [key]: value })) },
  { weight: 2, arbitrary: fc.subarray(Object.keys(ENVELOPE)).map((keys) => Object.fromEntries(keys.map((k) => [k, ENVELOPE[k]!]))) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(undefined), envelopeValue) },
);
interface ModernRequest {
  method: string;
  notification: boolean;
  body: Json;
}
const modernMessage: fc.Arbitrary<ModernRequest> = fc
  .tuple(fc.constantFrom(...MODERN_BASES), meta, fc.oneof({ weight: 5, arbitrary: fc.constant<Json>(8) }, { weight: 1, arbitrary: fc.constantFrom<Json>('id-x', null, 1.5, {}, []) }))
  .map(([base, m, id]) => {
    const params = { ...base.params, ...(m === undefined ? {} : { _meta: m }) };
    const body: Json = { jsonrpc: '2.0', ...(base.notification ? {} : { id }), method: base.method, params };
    return { method: base.method, notification: base.notification === true, body };
  });
/** A body with 2026-07-28 requests: one (mostly), a batch (the era has none), or one cut short. */
const modernBody: fc.Arbitrary<{ single?: ModernRequest; text: string }> = fc.oneof(
  { weight: 8, arbitrary: modernMessage.map((m) => ({ single: m, text: JSON.stringify(m.body) })) },
  { weight: 1, arbitrary: fc.array(modernMessage, { minLength: 1, maxLength: 3 }).map((ms) => ({ text: JSON.stringify(ms.map((m) => m.body)) })) },
  { weight: 1, arbitrary: fc.tuple(modernMessage, fc.nat()).map(([m, at]) => ({ text: JSON.stringify(m.body).slice(0, 1 + (at % 40)) })) },
);
const MODERN_MESSAGES: Json[] = MODERN_BASES.map((b) => ({ jsonrpc: '2.0', ...(b.notification ? {} : { id: 8 }), method: b.method, params: { ...b.params, _meta: ENVELOPE } }));

/** A body as it shows in a counterexample: text, hex for bytes that are no UTF-8, or a marker for the large one. */
type Body = { text: string } | { hex: string } | { overLimit: true } | undefined;
const asBody = (b: Buffer): Body => (Buffer.from(b.toString('utf8')).equals(b) ? { text: b.toString('utf8') } : { hex: b.toString('hex') });
function bytesOf(b: Body): Buffer | undefined {
  if (!b) return undefined;
  if ('text' in b) return Buffer.from(b.text);
  if ('hex' in b) return Buffer.from(b.hex, 'hex');
  return Buffer.from(JSON.stringify(message('ping', { pad: 'x'.repeat(LIMIT + 10) })));
}

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...MESSAGES).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 2, arbitrary: fc.constantFrom(...MODERN_MESSAGES).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...MESSAGES), { maxLength: 3 }).map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => asBody(Buffer.from(b))) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...MESSAGES), fc.nat()).map(([m, at]) => {
      const text = JSON.stringify(m);
      return { text: text.slice(0, 1 + (at % (text.length - 1))) };
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...MESSAGES).map((m) => asBody(Buffer.concat([Buffer.from(JSON.stringify(m).slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from('}')]))) },
  { weight: 1, arbitrary: (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>).map((v) => ({ text: JSON.stringify(v) ?? '' })) },
  { weight: 1, arbitrary: fc.constantFrom<Body>({ overLimit: true }, { text: '' }, undefined) },
);

/** Header values, raw: latin1 strings carry any bytes (UTF-8 of an emoji, say) onto the wire. */
const raw = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

interface Shape {
  method: string;
  path: string;
  host: string | undefined;
  origin: string | undefined;
  contentType: string | undefined;
  accept: string | undefined;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  body: Body;
}

/** Mostly right, sometimes wrong: `right` three times in four, else one of `wrong` (undefined leaves the header out). */
const usually = <T>(right: T, ...wrong: T[]) => fc.oneof({ weight: 3, arbitrary: fc.constant(right) }, { weight: 1, arbitrary: fc.constantFrom(...wrong) });

const shape: fc.Arbitrary<Shape> = fc.record({
  method: usually('POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'FOO'),
  path: fc.oneof({ weight: 6, arbitrary: fc.constant('/mcp') }, { weight: 1, arbitrary: fc.constantFrom('/mcp?x=1', '/mcp/', '/MCP', '/', '//mcp', '/%zz', '/mcp%00', '/mcp#frag', '/../mcp') }),
  host: usually<string | undefined>('self', undefined, 'evil.example', '', 'localhost', '127.0.0.1:1', '[::1]:1', raw('ü.example'), 'a'.repeat(2000)),
  origin: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<string | undefined>(undefined, 'self') }, { weight: 1, arbitrary: fc.constantFrom('http://evil.example', 'null', '', raw('http://😀'), 'file://', 'https://127.0.0.1') }),
  contentType: usually<string | undefined>('application/json', undefined, 'text/plain', 'application/json; charset=utf-16', 'application/json; charset=utf-8', 'multipart/form-data', 'application/jsonx', '', raw('application/json; ☃'), 'application/json, text/html'),
  accept: usually<string | undefined>('application/json, text/event-stream', undefined, 'application/json', 'text/event-stream', '*/*', '', raw('ümlaut'), 'text/event-stream, application/json;q=0'),
  // The well-formed session is fuzzed only by requests that cannot end it (no DELETE, see below).
  sessionId: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<string | undefined>(undefined, 'session') },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom('unknown', '', 'x'.repeat(8000), raw('😀-session'), ' '), fc.uuid()) },
  ),
  protocolVersion: fc.oneof({ weight: 3, arbitrary: fc.constantFrom<string | undefined>(undefined, '2025-11-25', MODERN) }, { weight: 1, arbitrary: fc.constantFrom('2025-06-18', '1999-01-01', 'garbage', '') }),
  body,
}).filter((s) => !(s.sessionId === 'session' && s.method === 'DELETE'));

function headersOf(s: Shape): Record<string, string> {
  const headers: Record<string, string> = {};
  const self = `${url.hostname}:${url.port}`;
  if (s.host !== undefined) headers.host = s.host === 'self' ? self : s.host;
  if (s.origin !== undefined) headers.origin = s.origin === 'self' ? url.origin : s.origin;
  if (s.contentType !== undefined) headers['content-type'] = s.contentType;
  if (s.accept !== undefined) headers.accept = s.accept;
  if (s.sessionId !== undefined) headers['mcp-session-id'] = s.sessionId === 'session' ? session : s.sessionId === 'unknown' ? '6f1e0c1a-0000-4000-8000-000000000000' : s.sessionId;
  if (s.protocolVersion !== undefined) headers['mcp-protocol-version'] = s.protocolVersion;
  const bytes = bytesOf(s.body);
  if (bytes !== undefined) headers['content-length'] = String(bytes.length);
  return headers;
}

/** A request that stops part way: headers promise more body than comes, then the client half-closes or resets. */
function truncated(headers: Record<string, string>, bytes: Buffer, promised: number, reset: boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectSocket({ host: url.hostname, port: Number(url.port) }, () => {
      const head = Object.entries({ ...headers, 'content-length': String(promised) })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n');
      socket.write(`POST /mcp HTTP/1.1\r\n${head}\r\n\r\n`);
      socket.write(bytes, () => (reset ? socket.resetAndDestroy() : socket.end()));
    });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy());
  });
}

/** Sends raw bytes on a fresh connection, half-closes, and returns everything that came back. */
function rawExchange(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connectSocket({ host: url.hostname, port: Number(url.port) }, () => socket.end(bytes));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy());
  });
}

/** The status and body of a raw HTTP/1.1 answer (chunked bodies decoded). */
function parseRaw(answer: Buffer): { status: number; type: string; body: string } {
  // Interim answers (100 Continue) come first.
  const text = answer.toString('latin1').replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, '');
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? 0);
  const type = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
  let body = text.slice(end + 4);
  if (/\r\ntransfer-encoding: chunked/i.test(head)) {
    let out = '';
    for (let at = 0; ; ) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.slice(at, eol), 16);
      if (!size) break;
      out += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    body = out;
  }
  return { status, type, body: Buffer.from(body, 'latin1').toString('utf8') };
}

describe('Streamable HTTP server under fuzzed requests', () => {
  const self = () => `${url.hostname}:${url.port}`;
  const ping = JSON.stringify(message('ping'));
  const post = (head: string, body = ping) => `POST /mcp HTTP/1.1\r\nHost: ${self()}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  /** Requests Node's own parser has a say on: bad request lines, oversized or broken headers, odd framing. */
  const rawRequests: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom(
      'GET //[ HTTP/1.1\r\nHost: HOST\r\n\r\n',
      'GET /mcp HTTP/1.0\r\n\r\n',
      'GARBAGE\r\n\r\n',
      '\r\n\r\n',
      'POST /mcp HTTP/9.9\r\nHost: HOST\r\n\r\n',
      'POST /mcp HTTP/1.1\r\nHost: HOST\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
      'POST /mcp HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad\r\n0\r\n\r\n',
      'POST /mcp HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"jso\r\n0\r\n\r\n',
      'POST /mcp HTTP/1.1\r\nHost: HOST\r\nBad Header: x\r\n\r\n',
      'POST /mcp HTTP/1.1\r\nHost: HOST\r\nX: a\u0000b\r\n\r\n',
    ).map((r) => r.replaceAll('HOST', self())),
    fc.constantFrom('X-Pad', 'Mcp-Session-Id', 'Accept').map((h) => post(`${h}: ${'x'.repeat(20_000)}\r\n`)),
    fc.constantFrom('mcp-session-id: \u00ff\u00fe\r\n', 'mcp-session-id: \r\n', 'Origin: \u00e9\r\n', 'Expect: 100-continue\r\n', 'Content-Encoding: gzip\r\n').map((h) => post(h)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((junk) => `POST /mcp HTTP/1.1\r\nHost: ${self()}\r\n${junk}\r\n\r\n`),
  );

  test.prop([rawRequests], { seed: SEED + 2, numRuns: runs(60) })(`answers requests Node's parser refuses with a JSON-RPC error too (seed ${SEED + 2})`, async (text) => {
    const answer = await rawExchange(Buffer.from(text, 'latin1'));
    const shown0 = JSON.stringify(text.slice(0, 300));
    // Blank lines before a request line are ignored (RFC 9112 §2.2): with nothing after them there is nothing to answer.
    if (!answer.length) {
      expect(text.trim(), `no answer to ${shown0}`).toBe('');
      return;
    }
    const r = parseRaw(answer);
    const shown = `${JSON.stringify(text.slice(0, 300))} → ${answer.toString('latin1').slice(0, 400)}`;
    expect(r.status, shown).toBeGreaterThanOrEqual(200);
    expect(r.status, shown).toBeLessThan(500);
    if (r.status >= 400) expect(JSON.parse(r.body), shown).toMatchObject({ jsonrpc: '2.0', error: { message: expect.any(String) } });
    expect((await client.ping()) as unknown).toEqual({});
  });

  test.prop([shape], { seed: SEED, numRuns: runs(300) })(`answers every request with a status below 500 and a JSON-RPC body (seed ${SEED})`, async (s) => {
    const headers = headersOf(s);
    const bytes = bytesOf(s.body);
    const r = await send(s.method, s.path, headers, bytes);
    if (process.env.FUZZ_DEBUG) console.log(`STATUS ${r.status} ${r.body.replace(/"id":\S+?,/, '').slice(0, 110)}`);
    checkReply(r, `${s.method} ${s.path} ${JSON.stringify(headers).slice(0, 400)} ${bytes?.toString('utf8').slice(0, 200) ?? ''} → ${r.status} ${r.body.slice(0, 300)}`, s.method === 'HEAD');
    expect((await client.ping()) as unknown, 'the well-formed session stopped answering').toEqual({});
  });

  /** 2026-07-28 traffic: mostly with the era's headers right, so that the envelope itself is what is fuzzed. */
  const modernShape = fc.record({
    body: modernBody,
    protocolVersion: usually<string | undefined>(MODERN, undefined, '2025-11-25', '2026-07-29', ''),
    mcpMethod: usually<string | undefined>('match', undefined, 'tools/list', 'TOOLS/LIST', ' ', raw('tools/ü')),
    mcpName: usually<string | undefined>('match', undefined, 'list_models', ''),
    accept: usually<string | undefined>('application/json, text/event-stream', undefined, 'application/json', 'text/event-stream'),
    sessionId: fc.oneof({ weight: 6, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 1, arbitrary: fc.constantFrom('session', 'unknown') }),
    origin: fc.oneof({ weight: 6, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 1, arbitrary: fc.constantFrom('self', 'http://evil.example') }),
  });

  test.prop([modernShape], { seed: SEED + 4, numRuns: runs(150) })(
    `answers 2026-07-28 requests (enveloped, malformed envelopes, wrong era headers) below 500 with a JSON-RPC body or a 202, and no session (seed ${SEED + 4})`,
    async (s) => {
      const headers: Record<string, string> = { host: self(), 'content-type': 'application/json' };
      if (s.accept !== undefined) headers.accept = s.accept;
      if (s.origin !== undefined) headers.origin = s.origin === 'self' ? url.origin : s.origin;
      if (s.protocolVersion !== undefined) headers['mcp-protocol-version'] = s.protocolVersion;
      const single = s.body.single;
      if (s.mcpMethod !== undefined) headers['mcp-method'] = s.mcpMethod === 'match' ? (single?.method ?? 'tools/list') : s.mcpMethod;
      const name = (single?.body as { params?: { name?: unknown } } | undefined)?.params?.name;
      if (s.mcpName !== undefined && typeof name === 'string') headers['mcp-name'] = s.mcpName === 'match' ? name : s.mcpName;
      if (s.sessionId !== undefined) headers['mcp-session-id'] = s.sessionId === 'session' ? session : '6f1e0c1a-0000-4000-8000-000000000000';
      const r = await send('POST', '/mcp', headers, Buffer.from(s.body.text));
      const shown = `POST ${JSON.stringify(headers).slice(0, 400)} ${s.body.text.slice(0, 300)} → ${r.status} ${r.body.slice(0, 300)}`;
      if (process.env.FUZZ_DEBUG) console.log(`STATUS ${r.status} ${r.body.replace(/"id":\S+?,/, '').slice(0, 110)}`);
      checkReply(r, shown);
      // A notification that was accepted is answered 202 with nothing to read.
      if (single?.notification && r.status < 300) expect(r.status, shown).toBe(202);
      // Nothing here is a well-formed initialize: no request may have started a session.
      if (s.sessionId === undefined) expect(r.headers['mcp-session-id'], shown).toBeUndefined();
      expect((await client.ping()) as unknown, 'the well-formed session stopped answering').toEqual({});
    },
  );

  test.prop([fc.constantFrom(...MESSAGES), fc.nat(), fc.boolean(), fc.boolean()], { seed: SEED + 1, numRuns: runs(30) })(
    `survives requests that stop part way, in or out of a session (seed ${SEED + 1})`,
    async (m, cut, inSession, reset) => {
      const text = Buffer.from(JSON.stringify(m));
      const headers = { host: `${url.hostname}:${url.port}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(inSession ? { 'mcp-session-id': session } : {}) };
      const answer = await truncated(headers, text.subarray(0, cut % text.length), text.length + 100, reset);
      // Whatever came back (possibly nothing: the client left) is an HTTP answer below 500.
      if (answer) expect(answer).toMatch(/^HTTP\/1\.1 [1-4]\d\d /);
      expect((await client.ping()) as unknown).toEqual({});
    },
  );

  test.prop(
    [
      fc.constantFrom<string | undefined>(undefined, 'self', 'a b', raw('ü.example'), '[', 'x:99999', '', 'evil.example', '127.0.0.1'),
      fc.constantFrom<string | undefined>(undefined, 'right', 'Bearer wrong', 'token-only', 'Bearer  right', `Bearer ${'x'.repeat(5000)}`, 'Basic Zm9vOmJhcg=='),
      fc.constantFrom('/mcp', 'http://evil.example/mcp', 'http://[/mcp', '/mcp?\\x'),
      body,
    ],
    { seed: SEED + 3, numRuns: runs(60) },
  )(`beyond loopback (bearer token, no Host check) as well (seed ${SEED + 3})`, async (host, auth, path, b) => {
    const token = 'a-long-random-fuzz-token-0123456789';
    const open = (beyond ??= await startHttpServer({ host: '0.0.0.0', port: 0, catalog: loadCatalog(ROOT), env: serverEnv({}), token, maxBodyBytes: LIMIT }));
    const port = new URL(open.url).port;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (host !== undefined) headers.host = host === 'self' ? `127.0.0.1:${port}` : host;
    if (auth !== undefined) headers.authorization = auth === 'right' ? `Bearer ${token}` : auth === 'token-only' ? token : auth.replace('right', token);
    const bytes = bytesOf(b);
    if (bytes) headers['content-length'] = String(bytes.length);
    const r = await send('POST', path, headers, bytes, port);
    checkReply(r, `POST ${path} ${JSON.stringify(headers).slice(0, 300)} → ${r.status} ${r.body.slice(0, 300)}`);
  });

  test('the well-formed session still works, and a fresh one can start', async () => {
    expect((await client.listTools()).tools).toHaveLength(7);
    const r = await client.callTool({ name: 'estimate_cost', arguments: { input_tokens: 1_000_000, output_tokens: 1_000_000 } });
    expect(r.structuredContent).toMatchObject({ cost: { total: 2.48 } });
    const other = new Client({ name: 'after', version: '0' });
    await other.connect(new StreamableHTTPClientTransport(url));
    expect((await other.listTools()).tools).toHaveLength(7);
    await other.close();
  });
});
