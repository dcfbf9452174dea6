/** Conversations through real MCP clients: kept on disk, continued by a new server process. */
import { existsSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConversationStore } from '../src/state/conversations.js';
import { call, closedAfterEach, connect, ROOT, textOf } from './helpers/mcp.js';
import type { Connection, Era } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-conv-2b7e4a91c0d3';
let sim: Simulator;
let stateDir: string;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  stateDir = tempDir('kimi-state-');
});
afterAll(() => sim.close());

const env = () => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir });
const open = closedAfterEach();
async function kimi(era: Era = 'legacy'): Promise<Connection> {
  const c = await connect(env(), {}, era);
  open.push(c);
  return c;
}

/** The built server as an agent spawns it: a process of its own. */
async function spawnServer(extraEnv: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'second-window', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'dist/cli.js')], env: { ...getDefaultEnvironment(), ...env(), ...extraEnv }, stderr: 'ignore' }));
  return client;
}

type Out = { text: string; conversation_id?: string; dropped_turns?: number; partial?: boolean };
const out = (r: CallToolResult) => r.structuredContent as Out;
const chatRequests = () => sim.requests.filter((r) => r.path === '/v1/chat/completions');
const lastMessages = () => chatRequests().at(-1)!.body!.messages as { role: string; content: string }[];

describe('conversations', () => {
  it('three turns, then a new server process continues with every earlier turn sent first', async () => {
    const { client } = await kimi();
    sim.script({ content: 'First answer.' }, { content: 'Second answer.' }, { content: 'Third answer.' });
    const first = await call(client, 'kimi_chat', { prompt: 'Turn one.', system: 'Be terse.' });
    const id = out(first).conversation_id!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(textOf(first)).toContain(`conversation_id ${id}`);
    expect(out(await call(client, 'kimi_chat', { prompt: 'Turn two.', conversation_id: id })).conversation_id).toBe(id);
    await call(client, 'kimi_stream', { prompt: 'Turn three.', conversation_id: id });
    const file = join(stateDir, 'conversations', `${id}.jsonl`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'conversations')).mode & 0o777).toBe(0o700);

    const restarted = await spawnServer();
    try {
      sim.script({ content: 'Fourth answer.' });
      const r = await restarted.callTool({ name: 'kimi_chat', arguments: { prompt: 'Turn four.', conversation_id: id } });
      expect(r.isError).toBeFalsy();
      expect(lastMessages().map((m) => [m.role, m.content])).toEqual([
        ['system', 'Be terse.'],
        ['user', 'Turn one.'], ['assistant', 'First answer.'],
        ['user', 'Turn two.'], ['assistant', 'Second answer.'],
        ['user', 'Turn three.'], ['assistant', 'Third answer.'],
        ['user', 'Turn four.'],
      ]);
      // The transcript, read from yet another angle: the resource.
      const res = await restarted.readResource({ uri: `kimi://conversations/${id}` });
      const transcript = (res.contents[0] as { text: string }).text;
      for (const text of ['Turn one.', 'Third answer.', 'Turn four.', 'Fourth answer.']) expect(transcript).toContain(text);
    } finally {
      await restarted.close();
    }
  });

  it('a conversation begun by a 2026-07-28 client continues on a legacy connection, and back', async () => {
    // Modern requests each get a fresh server: the conversation lives on disk, not in a session.
    const modern = await kimi('modern (pinned)');
    const legacy = await kimi('legacy');
    sim.script({ content: 'Modern answer.' }, { content: 'Legacy answer.' }, { content: 'Modern again.' });
    const id = out(await call(modern.client, 'kimi_chat', { prompt: 'From a 2026 client.' })).conversation_id!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out(await call(legacy.client, 'kimi_chat', { prompt: 'From a 2025 client.', conversation_id: id })).conversation_id).toBe(id);
    await call(modern.client, 'kimi_stream', { prompt: 'Back again.', conversation_id: id });
    expect(lastMessages().map((m) => m.content)).toEqual(['From a 2026 client.', 'Modern answer.', 'From a 2025 client.', 'Legacy answer.', 'Back again.']);
    const res = await modern.client.readResource({ uri: `kimi://conversations/${id}` });
    const transcript = (res.contents[0] as { text: string }).text;
    for (const text of ['From a 2026 client.', 'Legacy answer.', 'Modern again.']) expect(transcript).toContain(text);
  });

  it('two server processes continuing the same conversation at once both keep their turns', async () => {
    const { client } = await kimi();
    const id = out(await call(client, 'kimi_chat', { prompt: 'Start.' })).conversation_id!;
    const [a, b] = await Promise.all([spawnServer(), spawnServer()]);
    try {
      await Promise.all([
        a.callTool({ name: 'kimi_chat', arguments: { prompt: 'From window A.', conversation_id: id } }),
        b.callTool({ name: 'kimi_chat', arguments: { prompt: 'From window B.', conversation_id: id } }),
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const { turns, torn } = await new ConversationStore(join(stateDir, 'conversations')).load(id);
    expect(torn).toBe(0);
    expect(turns.map((t) => t.messages.at(-1)!.content).sort()).toEqual(['From window A.', 'From window B.', 'Start.']);
  });

  it("keeps a broken stream's partial reply, marked partial, and sends it on the next turn", async () => {
    const { client } = await kimi();
    sim.script({ content: 'The answer begins here and then the connection drops', chunkSize: 10, dropAfterChunks: 2 });
    const broken = await call(client, 'kimi_chat', { prompt: 'Explain.' });
    expect(out(broken).partial).toBe(true);
    const id = out(broken).conversation_id!;
    expect(id).toBeDefined();
    await call(client, 'kimi_chat', { prompt: 'Go on.', conversation_id: id });
    expect(lastMessages().map((m) => m.content)).toEqual(['Explain.', 'The answer begins he', 'Go on.']);
    const { turns } = await new ConversationStore(join(stateDir, 'conversations')).load(id);
    expect(turns[0]!.partial).toBe(true);
  });

  it('drops the oldest turns when the history no longer fits, never the first system message', async () => {
    const store = new ConversationStore(join(stateDir, 'conversations'));
    const id = ConversationStore.newId();
    const big = (n: number) => Array.from({ length: 20_000 }, (_, i) => `w${n}x${i % 501}`).join(' ');
    for (let n = 1; n <= 3; n++) {
      await store.append(id, {
        at: new Date().toISOString(), model: 'kimi-k2.6', provider: 'runapi',
        messages: [...(n === 1 ? [{ role: 'system' as const, content: 'Ground rules.' }] : []), { role: 'user', content: `question ${n} ${big(n)}` }],
        reply: { content: `answer ${n}` },
      });
    }
    const { client } = await kimi();
    const r = await call(client, 'kimi_chat', { prompt: 'And now?', conversation_id: id });
    expect(r.isError).toBeFalsy();
    expect(out(r).dropped_turns).toBeGreaterThanOrEqual(1);
    expect(textOf(r)).toMatch(/oldest turn\(s\) of the conversation were left out/);
    const sentMessages = lastMessages();
    expect(sentMessages[0]).toEqual({ role: 'system', content: 'Ground rules.' });
    expect(sentMessages.map((m) => m.content)).not.toContain('answer 1');
    expect(sentMessages.map((m) => m.content)).toContain('answer 3');
    expect(sentMessages.at(-1)!.content).toBe('And now?');
  });

  it('refuses an unknown or malformed id with no upstream request', async () => {
    const { client } = await kimi();
    const before = chatRequests().length;
    const unknown = await call(client, 'kimi_chat', { prompt: 'hi', conversation_id: ConversationStore.newId() });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/No conversation/);
    const malformed = await call(client, 'kimi_chat', { prompt: 'hi', conversation_id: '../../etc/passwd' });
    expect(malformed.isError).toBe(true);
    expect(textOf(malformed)).toMatch(/not a conversation id/);
    expect(chatRequests().length).toBe(before);
  });

  it('a new server process removes conversations older than KIMI_MCP_KEEP_DAYS', async () => {
    const store = new ConversationStore(join(stateDir, 'conversations'));
    const [old, fresh] = [ConversationStore.newId(), ConversationStore.newId()];
    for (const id of [old, fresh]) await store.append(id, { at: new Date().toISOString(), model: 'kimi-k2.6', provider: 'runapi', messages: [{ role: 'user', content: 'x' }], reply: { content: 'y' } });
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(join(stateDir, 'conversations', `${old}.jsonl`), tenDaysAgo, tenDaysAgo);
    const server = await spawnServer({ KIMI_MCP_KEEP_DAYS: '7' });
    try {
      // Any request beyond the start-up path's own starts the full server, which prunes.
      await server.listResources();
      await expect.poll(() => existsSync(join(stateDir, 'conversations', `${old}.jsonl`))).toBe(false);
      expect(readFileSync(join(stateDir, 'conversations', `${fresh}.jsonl`), 'utf8')).toContain('"y"');
    } finally {
      await server.close();
    }
  });
});
