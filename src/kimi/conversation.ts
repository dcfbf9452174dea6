/**
 * The conversation side of a call: earlier turns in before it, the finished turn out after it.
 * A turn is stored only once it has ended, and only when the model produced something, so an
 * id handed back can always be continued and a refused or empty call leaves no trace.
 */
import { ConversationStore } from '../state/conversations.js';
import type { Turn } from '../state/conversations.js';
import { scopedStateFolder } from '../state/dir.js';
import { generatedNothing } from './chat.js';
import type { ChatResult } from './chat.js';
import type { Env } from './config.js';
import { firstTime } from '../once.js';
import { log } from '../log.js';

/**
 * `<state>/conversations`, or a folder of it named by KIMI_MCP_CONVERSATION_SCOPE, which the HTTP
 * server sets so its clients keep their conversations apart from the stdio user's (one store per
 * token). The ledger is not scoped: every call counts against the one budget.
 */
export function conversationStore(env: Env): ConversationStore {
  return new ConversationStore(scopedStateFolder(env, 'conversations'));
}

/** What was generated, as the conversation keeps it. */
type Reply = Pick<ChatResult, 'text' | 'reasoning' | 'tool_calls'>;

export interface OpenConversation {
  id: string;
  /** Whether the id names a stored conversation (a new one exists only after its first turn). */
  stored: boolean;
  turns: Turn[];
  /** Things the caller should be told (unreadable lines skipped, a turn that could not be saved). */
  notes: string[];
  /** Appends the finished turn; never throws (a failed save becomes a note, the reply survives). */
  record(turn: Omit<Turn, 'at' | 'reply' | 'partial'>, reply: Reply, partial: boolean): Promise<void>;
}

export async function openConversation(env: Env, id: string | undefined): Promise<OpenConversation> {
  const store = conversationStore(env);
  const earlier = id ? await store.load(id) : { turns: [], torn: 0 };
  const conversation: OpenConversation = {
    id: id ?? ConversationStore.newId(),
    stored: id !== undefined,
    turns: earlier.turns,
    notes: earlier.torn ? [`${earlier.torn} unreadable line(s) of this conversation were skipped (a write cut short by a crash); the other turns were sent.`] : [],
    async record(turn, reply, partial) {
      if (generatedNothing(reply)) return;
      try {
        await store.append(conversation.id, {
          ...turn,
          at: new Date().toISOString(),
          reply: { content: reply.text, ...(reply.reasoning ? { reasoning: reply.reasoning } : {}) },
          ...(partial ? { partial: true } : {}),
        });
        conversation.stored = true;
      } catch (e) {
        log(`could not save a turn of conversation ${conversation.id}:`, e);
        conversation.notes.push(`This turn could not be saved to the conversation (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the reply above is complete, but a continuation will not include it.`);
      }
    },
  };
  return conversation;
}

/** Removes conversations older than KIMI_MCP_KEEP_DAYS, in the background (it never throws); once per process. */
export function pruneConversations(env: Env, keepDays: number): void {
  const store = conversationStore(env);
  if (firstTime(`prune conversations in ${store.folder}`)) void store.removeOlderThan(keepDays);
}
