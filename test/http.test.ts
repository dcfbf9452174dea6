import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { loadCatalog } from '../src/catalog/load.js';
import { startHttpServer } from '../src/http/server.js';
import type { RunningHttpServer } from '../src/http/server.js';
import { ROOT, serverEnv } from './helpers/mcp.js';
import { CLI } from './helpers/run-cli.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';

const KEY = 'sk-http-8c2f6a1e9b7d';
const catalog = loadCatalog(ROOT);
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(() => sim.close());

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
      expect((await client.listTools()).tools).toHaveLength(4);
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
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost']);
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
    expect((await client.listTools()).tools).toHaveLength(4);
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
      expect((await client.listTools()).tools).toHaveLength(4);
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
      expect((await client.listTools()).tools).toHaveLength(4);
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
