/** Connects the SDK's own Client to our server over an in-memory transport pair. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult, ClientCapabilities, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { Env } from '../../src/kimi/config.js';
import { createServer } from '../../src/mcp/server.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export interface Connection {
  client: Client;
  /** Every message the server sent, in order (to check what was sent when). */
  sent: JSONRPCMessage[];
  close: () => Promise<void>;
}

/** The environment a test server gets: the run's state folder unless the test names one. */
export function serverEnv(env: Env = {}): Env {
  return { KIMI_MCP_STATE_DIR: process.env.KIMI_MCP_STATE_DIR, ...env };
}

export async function connect(env: Env = {}, capabilities: ClientCapabilities = {}): Promise<Connection> {
  const server = createServer(loadCatalog(ROOT), serverEnv(env));
  const client = new Client({ name: 'test-client', version: '0.0.0' }, { capabilities });
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
    sent,
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
