import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { loadCatalog } from '../src/catalog/load.js';
import { startHttpServer } from '../src/http/server.js';
import type { RunningHttpServer } from '../src/http/server.js';
import { storedTurn } from './helpers/fault-matrix.js';
import { ROOT, serverEnv } from './helpers/mcp.js';
import { CLI } from './helpers/run-cli.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-http-8c2f6a1e9b7d';
const catalog = loadCatalog(ROOT);
const sim = simulatorForFile({ apiKey: KEY });

async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'http-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
/** fetch will not send a forged Host header; node:http will, as a rebinding attacker's browser would. */
function postWithHost(url: string, host: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });

describe('HTTP cancellation', () => {
  it("closes a cancelled request's event stream (it gets no response, so it would stay open and leak)", async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env: serverEnv({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }) });
    try {
      const init = await post(server.url, initialize);
      const headers = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
      await init.text();
      await (await post(server.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers)).text();
      sim.script({ content: 'a slow answer that will be cancelled', chunkSize: 2, delayMs: 50 });
      const call = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'kimi_stream', arguments: { prompt: 'slow', thinking: false }, _meta: { progressToken: 't' } } }), headers);
      const reader = call.body!.getReader();
      // Progress with reply text: the call is running upstream.
      for (let seen = ''; !seen.includes('a slow'); ) seen += new TextDecoder().decode((await reader.read()).value);
      await (await post(server.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'user' } }), headers)).text();
      const ended = (async () => {
        for (;;) if ((await reader.read()).done) return true;
      })();
      expect(await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve(false), 3_000))])).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('HTTP sessions a client abandons', () => {
  it('are closed once idle, never while a call or an event stream is open in them', async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env: serverEnv({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }), sessionIdleMs: 300 });
    try {
      const transport = new StreamableHTTPClientTransport(new URL(server.url));
      const client = new Client({ name: 'vanishing', version: '0.0.0' });
      await client.connect(transport);
      const id = transport.sessionId!;
      // A call that lasts longer than the idle limit, and then a pause while the client's
      // event stream stays open: the session is in use throughout.
      sim.script({ content: 'slow answer', chunkSize: 2, delayMs: 100 });
      expect((await client.callTool({ name: 'kimi_chat', arguments: { prompt: 'slow', thinking: false } })).isError).toBeFalsy();
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect((await client.listTools()).tools).toHaveLength(7);
      // The client goes away without DELETE (its sockets close): the session is closed once idle.
      await client.close();
      await new Promise((resolve) => setTimeout(resolve, 900));
      const ping = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }), { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' });
      expect(ping.status).toBe(404);
      expect(await ping.text()).toMatch(/Session not found \(it may have been idle too long\); initialize a new one/);
    } finally {
      await server.close();
    }
  });
});

describe('serve over Streamable HTTP on loopback', () => {
  let server: RunningHttpServer;
  beforeAll(async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env: serverEnv({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }), maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => server.close());

  it('serves tools, resources and a streamed call with progress to the SDK client', async () => {
    const client = await connectHttp(server.url);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost', 'kimi_agent', 'kimi_review', 'kimi_job']);
      expect((await client.listResources()).resources.length).toBeGreaterThanOrEqual(20);
      const content = 'over http, streamed in pieces, over several throttle windows';
      sim.script({ content, chunkSize: 3, delayMs: 20 });
      const progress: string[] = [];
      const r = await client.callTool({ name: 'kimi_stream', arguments: { prompt: 'hi' } }, undefined, { onprogress: (p) => progress.push(p.message ?? '') });
      expect((r.structuredContent as { text: string }).text).toBe(content);
      const withText = progress.filter((m) => m.startsWith('over'));
      expect(withText.length).toBeGreaterThanOrEqual(2);
      for (const m of withText) expect(content.startsWith(m)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('keeps sessions apart', async () => {
    const [a, b] = await Promise.all([connectHttp(server.url), connectHttp(server.url)]);
    try {
      const ids = [(a.transport as StreamableHTTPClientTransport).sessionId, (b.transport as StreamableHTTPClientTransport).sessionId];
      expect(ids[0]).toBeTruthy();
      expect(ids[0]).not.toBe(ids[1]);
      const r = await b.callTool({ name: 'estimate_cost', arguments: { input_tokens: 1_000_000, output_tokens: 1_000_000 } });
      expect(r.structuredContent).toMatchObject({ cost: { total: 2.48 } });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('refuses a foreign Host or Origin (DNS rebinding) with 403', async () => {
    const host = await postWithHost(server.url, 'evil.example:80', initialize);
    expect(host.status).toBe(403);
    expect((JSON.parse(host.text) as { error: { message: string } }).error.message).toBe('Invalid Host header "evil.example:80"');
    const origin = await post(server.url, initialize, { origin: 'http://evil.example' });
    expect(origin.status).toBe(403);
    expect(await origin.text()).toMatch(/Invalid Origin/);
    const local = await post(server.url, initialize, { origin: new URL(server.url).origin });
    expect(local.status).toBe(200);
  });

  it('answers an oversized body with a clear 413, and keeps serving', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { padding: 'x'.repeat(100 * 1024) } });
    const r = await post(server.url, big);
    expect(r.status).toBe(413);
    const client = await connectHttp(server.url);
    expect((await client.listTools()).tools).toHaveLength(7);
    await client.close();
  });

  it('answers an unknown session with 404 and other paths with 404', async () => {
    const r = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), { 'mcp-session-id': 'nope' });
    expect(r.status).toBe(404);
    expect((await fetch(server.url.replace('/mcp', '/other'))).status).toBe(404);
  });
});

describe('serve beyond loopback', () => {
  it('refuses to start without KIMI_MCP_HTTP_TOKEN, saying why', async () => {
    await expect(startHttpServer({ host: '0.0.0.0', port: 0, catalog, env: {} })).rejects.toThrow(/set KIMI_MCP_HTTP_TOKEN to a long random secret/);
  });

  it('requires the bearer token on every request', async () => {
    const token = 'a-long-random-test-token-1234567890';
    const server = await startHttpServer({ host: '0.0.0.0', port: 0, catalog, env: {}, token });
    try {
      const url = server.url.replace('0.0.0.0', '127.0.0.1');
      const anonymous = await post(url, initialize);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expect((await post(url, initialize, { authorization: 'Bearer wrong' })).status).toBe(401);
      const client = await connectHttp(url, { authorization: `Bearer ${token}` });
      expect((await client.listTools()).tools).toHaveLength(7);
      await client.close();
    } finally {
      await server.close();
    }
  });
});

describe('kimi-mcp serve --http', () => {
  it('starts from the CLI, says where, and serves', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.on('exit', () => reject(new Error(err)));
      });
      const client = await connectHttp(url);
      expect((await client.listTools()).tools).toHaveLength(7);
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
  });
});

// ---- the 2026-07-28 era ------------------------------------------------------------------------

const MODERN = '2026-07-28';
/** The per-request `_meta` envelope a 2026-07-28 request carries (no initialize before it). */
const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const modernRequest = (method: string, params: Record<string, unknown> = {}, id: number | string = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...(params._meta as object | undefined), ...envelope } } });
/** The headers a 2026-07-28 client sends with a request (SEP-2243: the method in a header too). */
const modernHeaders = (method: string) => ({ 'mcp-protocol-version': MODERN, 'mcp-method': method });

type Mode = 'pinned' | 'auto';
const MODES: Mode[] = ['pinned', 'auto'];

describe('the 2026-07-28 era over HTTP: stateless, beside 2025 sessions', () => {
  const stateDir = tempDir('kimi-http-modern-');
  let server: RunningHttpServer;
  /** Every HTTP response the modern clients got: none may carry a session. */
  const seen: { request: string; status: number; headers: Headers }[] = [];
  const LONG = Array.from({ length: 300 }, (_, i) => `Line ${i} of a long answer.`).join('\n');

  beforeAll(async () => {
    // A small result cap (MAX_MCP_OUTPUT_TOKENS), so that a long reply is shortened into kimi://replies/*.
    const env = { RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir, MAX_MCP_OUTPUT_TOKENS: '1000' };
    server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => server.close());

  /** A v2 client pinned to 2026-07-28, or negotiating (`auto`: it probes with server/discover). */
  async function connectModern(mode: Mode, url = server.url, headers: Record<string, string> = {}): Promise<ModernClient> {
    const client = new ModernClient({ name: `modern-${mode}`, version: '0.0.0' }, { versionNegotiation: { mode: mode === 'pinned' ? { pin: MODERN } : 'auto' } });
    const transport = new ModernHttpTransport(new URL(url), {
      requestInit: { headers },
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        seen.push({ request: String(init?.body).slice(0, 200), status: res.status, headers: res.headers });
        return res;
      },
    });
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe('modern');
    return client;
  }

  it.each(MODES)('%s: the same tools as a 2025 client, and results of the tools that need no host', async (mode) => {
    const legacy = await connectHttp(server.url);
    const modern = await connectModern(mode);
    try {
      const tools = (await modern.listTools()).tools;
      expect(tools.map((t) => t.name)).toEqual(['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost', 'kimi_agent', 'kimi_review', 'kimi_job']);
      expect(tools).toEqual((await legacy.listTools()).tools);
      const cost = await modern.callTool({ name: 'estimate_cost', arguments: { input_tokens: 1_000_000, output_tokens: 1_000_000 } });
      expect(cost.isError).toBeFalsy();
      expect(cost.structuredContent).toMatchObject({ cost: { total: 2.48 } });
      const models = await modern.callTool({ name: 'list_models', arguments: {} });
      expect(models.isError).toBeFalsy();
      expect(JSON.stringify(models.content)).toMatch(/kimi-k2\.6/);
      expect((await modern.listResources()).resources.length).toBeGreaterThanOrEqual(20);
    } finally {
      await Promise.all([legacy.close(), modern.close()]);
    }
  });

  it.each(MODES)('%s: kimi_stream with progress that shows the text as it arrives', async (mode) => {
    const client = await connectModern(mode);
    try {
      const content = `modern ${mode}: streamed in pieces, over several throttle windows`;
      sim.scriptFor(`progress ${mode}`, { content, chunkSize: 3, delayMs: 20 });
      const progress: string[] = [];
      const r = await client.callTool({ name: 'kimi_stream', arguments: { prompt: `progress ${mode}`, thinking: false } }, { onprogress: (p) => progress.push(p.message ?? '') });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect((r.structuredContent as { text: string }).text).toBe(content);
      const withText = progress.filter((m) => m.startsWith('modern'));
      expect(withText.length).toBeGreaterThanOrEqual(2);
      for (const m of withText) expect(content.startsWith(m)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it.each(MODES)('%s: a cancel (the request stream closed) closes the upstream request and keeps the partial turn', async (mode) => {
    const client = await connectModern(mode);
    const marker = `modern cancel ${mode}`;
    try {
      const content = Array.from({ length: 80 }, (_, i) => `Text part ${i}.`).join(' ');
      sim.scriptFor(marker, { content, chunkSize: 6, delayMs: 30 });
      // Cancelled from the first progress that shows reply text: the server has text to keep.
      const ac = new AbortController();
      const pending = client.callTool(
        { name: 'kimi_stream', arguments: { prompt: `${marker}: go`, thinking: false } },
        { signal: ac.signal, onprogress: (p) => void (p.message?.includes('Text part') && ac.abort('the user pressed stop')) },
      );
      await expect(pending).rejects.toThrow(/the user pressed stop/);
      // The server saw its response stream close and closed the upstream request, long before the reply's end.
      await vi.waitFor(() => expect(sim.inFlight(marker), 'the upstream request is still open').toBe(0), { timeout: 2000, interval: 20 });
      const upstream = sim.chatsFor(marker)[0]!;
      expect(sim.streams.some((e) => e.requestId === upstream.requestId && e.kind === 'closed-by-client')).toBe(true);
      expect(upstream.content.length).toBeLessThan(content.length);
      const turn = await vi.waitFor(() => {
        const t = storedTurn(stateDir, marker);
        expect(t, 'no partial turn stored').toBeDefined();
        return t!;
      }, { timeout: 5000, interval: 20 });
      expect(turn.partial).toBe(true);
      expect(turn.reply.content.length).toBeGreaterThan(0);
      expect(sim.chatsFor(marker)[0]!.content.startsWith(turn.reply.content)).toBe(true);
      // Nothing was cut short for the user: a later call works.
      expect((await client.callTool({ name: 'estimate_cost', arguments: { input_tokens: 10 } })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it.each(MODES)('%s: a long reply is shortened and readable in full as kimi://replies/{id} from later requests and other clients', async (mode) => {
    const client = await connectModern(mode);
    const other = await connectModern(mode);
    const legacy = await connectHttp(server.url);
    try {
      sim.scriptFor(`long ${mode}`, { content: LONG, chunkSize: 400 });
      const r = await client.callTool({ name: 'kimi_chat', arguments: { prompt: `long ${mode}`, thinking: false } });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      const out = r.structuredContent as { text: string; full_text_uri?: string };
      expect(out.full_text_uri).toMatch(/^kimi:\/\/replies\//);
      expect(out.text.length).toBeLessThan(LONG.length);
      expect(LONG.startsWith(out.text)).toBe(true);
      // Each request had a server of its own: the reply outlives the one that made it.
      for (const reader of [client, other, legacy]) {
        const { contents } = await reader.readResource({ uri: out.full_text_uri! });
        expect((contents[0] as { text: string }).text.startsWith(LONG)).toBe(true);
      }
      expect((await other.listResources()).resources.map((x) => x.uri)).toContain(out.full_text_uri);
    } finally {
      await Promise.all([client.close(), other.close(), legacy.close()]);
    }
  });

  it('answers modern requests without a session: no mcp-session-id in any response', async () => {
    const raw = await post(server.url, modernRequest('tools/list'), modernHeaders('tools/list'));
    expect(raw.status).toBe(200);
    expect(raw.headers.get('mcp-session-id')).toBeNull();
    expect(JSON.parse(await raw.text())).toMatchObject({ jsonrpc: '2.0', id: 1, result: { tools: expect.any(Array) } });
    const discover = await post(server.url, modernRequest('server/discover'), modernHeaders('server/discover'));
    expect(discover.headers.get('mcp-session-id')).toBeNull();
    expect(JSON.parse(await discover.text())).toMatchObject({ result: { supportedVersions: expect.arrayContaining([MODERN]) } });
    // The clients of the tests above: every answer they got was sessionless.
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((s) => s.headers.get('mcp-session-id') !== null).map((s) => s.request)).toEqual([]);
    // A 2025 client at the same endpoint still gets its session.
    const init = await post(server.url, initialize);
    expect(init.headers.get('mcp-session-id')).toBeTruthy();
    await init.text();
  });

  it('answers a method the 2026-07-28 era removed with 404 and -32601 (Method not found), whatever its params', async () => {
    // The spec (SEP-2575): initialize, ping, logging/setLevel, resources/(un)subscribe are no methods
    // of 2026-07-28; the conformance suite sends them enveloped, with no other params.
    const removed = ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe'];
    const answers = await Promise.all(
      removed.map(async (method) => {
        const r = await post(server.url, modernRequest(method, {}, `removed ${method}`), modernHeaders(method));
        const { id, error } = JSON.parse(await r.text()) as { id: unknown; error?: { code: number } };
        return `${method}: ${r.status} ${error?.code} (id ${JSON.stringify(id)})`;
      }),
    );
    expect(answers).toEqual(removed.map((method) => `${method}: 404 -32601 (id "removed ${method}")`));
  });

  it('refuses a modern request under a foreign Host or Origin with 403, as a 2025 one', async () => {
    const body = modernRequest('tools/list');
    const host = await postWithHost(server.url, 'evil.example:80', body);
    expect(host.status).toBe(403);
    expect((JSON.parse(host.text) as { error: { message: string } }).error.message).toBe('Invalid Host header "evil.example:80"');
    const origin = await post(server.url, body, { origin: 'http://evil.example', ...modernHeaders('tools/list') });
    expect(origin.status).toBe(403);
    expect(await origin.text()).toMatch(/Invalid Origin/);
    const local = await post(server.url, body, { origin: new URL(server.url).origin, ...modernHeaders('tools/list') });
    expect(local.status).toBe(200);
    await local.text();
  });

  it('answers an oversized modern request with 413, and keeps serving', async () => {
    const big = modernRequest('tools/call', { name: 'kimi_chat', arguments: { prompt: 'x'.repeat(100 * 1024) } });
    const r = await post(server.url, big, modernHeaders('tools/call'));
    expect(r.status).toBe(413);
    expect(r.headers.get('mcp-session-id')).toBeNull();
    expect(await r.text()).toMatch(/Payload Too Large: the limit is 65536 bytes/);
    const client = await connectModern('pinned');
    expect((await client.listTools()).tools).toHaveLength(7);
    await client.close();
  });

  it('requires the bearer token on every modern request beyond loopback', async () => {
    const token = 'a-long-random-test-token-modern-0987654321';
    const open = await startHttpServer({ host: '0.0.0.0', port: 0, catalog, env: {}, token });
    try {
      const url = open.url.replace('0.0.0.0', '127.0.0.1');
      for (const method of ['server/discover', 'tools/list']) {
        const anonymous = await post(url, modernRequest(method), modernHeaders(method));
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
        expect(JSON.parse(await anonymous.text())).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/bearer token/) } });
        expect((await post(url, modernRequest(method), { ...modernHeaders(method), authorization: 'Bearer wrong' })).status).toBe(401);
      }
      // A client without the token is refused at its probe (auth is no evidence of an era).
      await expect(connectModern('auto', url)).rejects.toThrow(/requires authorization \(HTTP 401\)/);
      const client = await connectModern('pinned', url, { authorization: `Bearer ${token}` });
      expect((await client.listTools()).tools).toHaveLength(7);
      await client.close();
    } finally {
      await open.close();
    }
  });
});
