/**
 * What the calling agent pays for on every turn: the model-visible tools/list, and KIMI_MCP_TOOLS
 * to expose fewer tools (the same list from the full server and from a spawned stdio server).
 */
import { describe, expect, it } from 'vitest';
import { call, connect, textOf } from './helpers/mcp.js';
import type { AnyClient } from './helpers/mcp.js';
import { exchange } from './raw-session.js';

const CONSULT = ['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost'];

/** What a model sees of the tools (clients hide output schemas and annotations from it). */
function visibleSize(tools: { name: string; title?: string; description?: string; inputSchema: unknown }[]): number {
  return JSON.stringify(tools.map(({ name, title, description, inputSchema }) => ({ name, title, description, inputSchema }))).length;
}

async function listed(env: Record<string, string>): Promise<{ names: string[]; client: AnyClient; close: () => Promise<void> }> {
  const { client, close } = await connect(env);
  const { tools } = await client.listTools();
  return { names: tools.map((t) => t.name), client, close };
}

describe('the tools an agent pays for', () => {
  it('keeps every tool within 5,600 characters and the four consult tools within 3,400', async () => {
    const { client, close } = await connect({});
    const { tools } = await client.listTools();
    await close();
    expect(visibleSize(tools)).toBeLessThanOrEqual(5600);
    expect(visibleSize(tools.filter((t) => CONSULT.includes(t.name)))).toBeLessThanOrEqual(3400);
    expect(JSON.stringify(tools)).not.toMatch(/\$schema|9007199254740991/);
  });

  it('KIMI_MCP_TOOLS exposes only the tools named (commas or spaces), in the usual order', async () => {
    const { names, client, close } = await listed({ KIMI_MCP_TOOLS: 'estimate_cost, kimi_chat list_models' });
    try {
      expect(names).toEqual(['kimi_chat', 'list_models', 'estimate_cost']);
      // A hidden tool cannot be called either.
      const hidden = await call(client, 'kimi_agent', { task: 'x' }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
      expect(hidden.isError).toBe(true);
      expect(textOf(hidden as never)).toMatch(/kimi_agent/);
    } finally {
      await close();
    }
  });

  it('without kimi_job, no tool offers background (its job_id could never be read back)', async () => {
    const withJobs = await connect({ KIMI_MCP_TOOLS: 'kimi_chat kimi_job' });
    const { tools: both } = await withJobs.client.listTools();
    await withJobs.close();
    expect(Object.keys(both.find((t) => t.name === 'kimi_chat')!.inputSchema.properties!)).toContain('background');

    const { client, close } = await connect({ KIMI_MCP_TOOLS: 'kimi_chat' });
    try {
      const { tools } = await client.listTools();
      expect(Object.keys(tools[0]!.inputSchema.properties!)).not.toContain('background');
      const refused = await call(client, 'kimi_chat', { prompt: 'hi', background: true });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/kimi_chat does not take "background"; nothing was sent/);
    } finally {
      await close();
    }
  });

  it('a misspelt name is reported at start and never hides every tool', async () => {
    const one = await listed({ KIMI_MCP_TOOLS: 'kimi_chat,kimi_chta' });
    await one.close();
    expect(one.names).toEqual(['kimi_chat']);
    const none = await listed({ KIMI_MCP_TOOLS: 'kimichat' });
    await none.close();
    expect(none.names).toEqual(expect.arrayContaining([...CONSULT, 'kimi_agent']));
  });

  it('a spawned server lists the same choice in both eras (the start-up snapshot stands aside) and says what was wrong on stderr', async () => {
    const env = { KIMI_MCP_TOOLS: 'kimi_chat list_models nope' };
    const legacy = await exchange(
      [
        { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      ],
      { env },
    );
    const tools = legacy.messages.find((m) => m.id === 2)?.result?.tools as { name: string }[];
    expect(tools.map((t) => t.name)).toEqual(['kimi_chat', 'list_models']);
    expect(legacy.stderr).toMatch(/KIMI_MCP_TOOLS names "nope", which is not a tool/);
    expect(legacy.stderr.match(/KIMI_MCP_TOOLS names/g)).toHaveLength(1);
  });
});
