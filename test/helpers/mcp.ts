/** Connects the SDK's own Client to our server over an in-memory transport pair. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { Env } from '../../src/kimi/config.js';
import { createServer } from '../../src/mcp/server.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export async function connect(env: Env = {}): Promise<{ client: Client; close: () => Promise<void> }> {
  const server = createServer(loadCatalog(ROOT), env);
  const client = new Client({ name: 'test-client', version: '0.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}
