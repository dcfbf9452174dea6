/**
 * `serve --http` against a hostile user (issue 17 #4, #10, #14): weak or placeholder tokens,
 * look-alike loopback names, a flood of sessions, and conversations that must stay apart.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../src/catalog/load.js';
import { bindsLoopback, conversationScope, isLoopbackAddress } from '../src/http/access.js';
import { startHttpServer } from '../src/http/server.js';
import { ROOT, connect, call } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-hardening-5d1e0c';
const catalog = loadCatalog(ROOT);
const sim = simulatorForFile({ apiKey: KEY });

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'flood', version: '0' } } });
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });

describe('who may reach serve --http', () => {
  it('decides loopback on addresses, not on how a name starts', async () => {
    for (const address of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', '::ffff:10.0.0.1', '127.evil.example']) expect(isLoopbackAddress(address), address).toBe(false);
    expect(await bindsLoopback('localhost')).toBe(true);
    // A name that merely starts with 127. is no loopback: without a token it may not serve.
    expect(await bindsLoopback('127.0.0.1.example.invalid')).toBe(false);
    await expect(startHttpServer({ host: '127.0.0.1.example.invalid', port: 0, catalog, env: {} })).rejects.toThrow(/exposes your Kimi key to the network/);
  });

  it('refuses a public bind with a short token, and any bind with a placeholder token, saying what to set', async () => {
    await expect(startHttpServer({ host: '0.0.0.0', port: 0, catalog, env: {}, token: 'hunter2' })).rejects.toThrow(/is 7 characters; serving on 0\.0\.0\.0 needs at least 32.*openssl rand -hex 32/);
    const r = await runCli(['serve', '--http', '--port', '0'], { KIMI_MCP_HTTP_TOKEN: '${KIMI_MCP_HTTP_TOKEN}' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('KIMI_MCP_HTTP_TOKEN holds an unexpanded placeholder, not a token');
  });
});

describe('a flood of 2025-era sessions', () => {
  it('is capped with a 503 that says what to do, while 2026-07-28 requests, which need no session, are still served', async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env: {}, maxSessions: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(server.url, initialize)).status);
      expect(statuses).toEqual([200, 200, 200, 503, 503]);
      const refused = await post(server.url, initialize);
      expect(refused.headers.get('retry-after')).toBe('30');
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('Too many sessions: 3 are open (KIMI_MCP_HTTP_MAX_SESSIONS)');
      const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'modern', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
      const modern = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope } }), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
      expect(modern.status, await modern.clone().text()).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('frees a slot once an idle session is reclaimed', async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env: {}, maxSessions: 1, sessionIdleMs: 200 });
    try {
      expect((await post(server.url, initialize)).status).toBe(200);
      expect((await post(server.url, initialize)).status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await post(server.url, initialize)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('conversations over HTTP', () => {
  it("are kept apart from the stdio user's and per token: neither listed nor readable across", async () => {
    const stateDir = tempDir('kimi-http-scope-');
    const env = { RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir };
    // The local (stdio) user's conversation, with a file's content in it.
    const local = await connect(env);
    sim.script({ content: 'local reply' });
    const mine = (await call(local.client, 'kimi_chat', { prompt: 'the local secret plan' })).structuredContent as { conversation_id: string };
    await local.close();

    const server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog, env });
    try {
      const client = new Client({ name: 'remote', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).not.toContain(`kimi://conversations/${mine.conversation_id}`);
      await expect(client.readResource({ uri: `kimi://conversations/${mine.conversation_id}` })).rejects.toThrow();
      // Continuing the local conversation from HTTP finds nothing to continue, and sends nothing.
      const before = sim.requests.length;
      const continued = (await client.callTool({ name: 'kimi_chat', arguments: { prompt: 'go on', conversation_id: mine.conversation_id } })) as CallToolResult;
      expect(continued.isError).toBe(true);
      expect(sim.requests.length).toBe(before);
      sim.script({ content: 'remote reply' });
      await client.callTool({ name: 'kimi_chat', arguments: { prompt: 'remote question' } });
      await client.close();
      const scoped = join(stateDir, 'conversations', conversationScope(undefined));
      expect(existsSync(scoped) && readdirSync(scoped).length).toBe(1);
      expect(conversationScope('one-token-of-at-least-32-characters!')).not.toBe(conversationScope('another-token-of-at-least-32-chars'));
    } finally {
      await server.close();
    }
  });
});
