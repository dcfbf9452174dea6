/** kimi://conversations/{id}: the transcript of a stored conversation, newest listed first. */
import { ResourceNotFoundError, ResourceTemplate } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Env } from '../kimi/config.js';
import { conversationStore } from '../kimi/conversation.js';
import { transcript } from '../state/conversations.js';

export const CONVERSATION_URI_PREFIX = 'kimi://conversations/';
/** Listing and completion show the most recent ones; any stored id can still be read. */
const LISTED = 50;

export function registerConversations(server: McpServer, env: Env): void {
  const store = conversationStore(env);
  const template = new ResourceTemplate(`${CONVERSATION_URI_PREFIX}{id}`, {
    list: async () => ({
      resources: (await store.list(LISTED)).map((c) => ({
        uri: `${CONVERSATION_URI_PREFIX}${c.id}`,
        name: c.id,
        title: `Kimi conversation, last turn ${c.updated}`,
        mimeType: 'text/markdown',
      })),
    }),
    complete: { id: async (value: string) => (await store.list(LISTED)).map((c) => c.id).filter((id) => id.startsWith(value)) },
  });
  server.registerResource('conversation', template, { title: 'Kimi conversation transcript', mimeType: 'text/markdown' }, async (uri, variables) => {
    const id = String(variables.id);
    try {
      const { turns } = await store.load(id);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: transcript(id, turns) }] };
    } catch (e) {
      if ((e as Error).name === 'UsageError') throw new ResourceNotFoundError(uri.href, (e as Error).message);
      throw e;
    }
  });
}
