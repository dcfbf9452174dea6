/**
 * A `kimi_agent` session in the conversation store, so `conversation_id` continues it: each
 * session is one turn (the task as sent, the answer as the reply) with what it did besides
 * answering (mode, steps, files read, the patch). A continuation gets the earlier tasks and
 * answers, the earlier patch's summary, and in propose mode the earlier patch laid on the overlay.
 */
import { applyPatch, parsePatch } from 'diff';
import { openConversation } from '../kimi/conversation.js';
import type { OpenConversation } from '../kimi/conversation.js';
import type { Env } from '../kimi/config.js';
import type { ChatMessage } from '../kimi/messages.js';
import { estimateMessagesTokens } from '../kimi/tokens.js';
import type { Turn } from '../state/conversations.js';
import type { FileRead } from './files-read.js';
import type { AgentMode } from './tool.js';
import type { Workspace } from './workspace.js';

/** What a session leaves in its turn besides the answer. */
export interface AgentRecord {
  mode: AgentMode;
  stopped: string;
  steps: string[];
  files_read: FileRead[];
  patch?: string;
  changed_files?: string[];
}

type AgentTurn = Turn & { agent?: AgentRecord };

export class AgentSession {
  private constructor(
    readonly conversation: OpenConversation,
    private readonly turns: AgentTurn[],
  ) {}

  static async open(env: Env, id: string | undefined): Promise<AgentSession> {
    const conversation = await openConversation(env, id);
    return new AgentSession(conversation, conversation.turns as AgentTurn[]);
  }

  /** The patch the latest earlier session left, if any. */
  get earlierPatch(): string | undefined {
    return this.turns.findLast((t) => t.agent?.patch)?.agent?.patch;
  }

  /**
   * The earlier turns as messages (tasks, answers, what each patch changed) within `budget`
   * tokens, the oldest left out first; with how many were left out.
   */
  history(budget: number): { messages: ChatMessage[]; dropped: number } {
    const perTurn = this.turns.map(turnMessages);
    let used = 0;
    let keepFrom = perTurn.length;
    while (keepFrom > 0) {
      const cost = estimateMessagesTokens(perTurn[keepFrom - 1]!);
      if (used + cost > budget) break;
      used += cost;
      keepFrom--;
    }
    return { messages: perTurn.slice(keepFrom).flat(), dropped: keepFrom };
  }

  /** Stores the session as one turn; a failed save becomes a note (conversation.ts), the result survives. */
  async record(model: string, provider: string, task: ChatMessage, answer: string, agent: AgentRecord, partial: boolean): Promise<void> {
    const turn: Omit<AgentTurn, 'at' | 'reply' | 'partial'> = { model, provider, messages: [task], agent };
    // A session stopped before any answer still keeps its work, so a continuation knows what was done.
    const reply = answer || `(No answer: the session stopped (${agent.stopped}) after ${agent.steps.length} tool call(s).)`;
    await this.conversation.record(turn, { text: reply, reasoning: '', tool_calls: [] }, partial);
  }
}

function turnMessages(turn: AgentTurn): ChatMessage[] {
  const asked = turn.messages.filter((m) => m.role !== 'system') as ChatMessage[];
  const agent = turn.agent;
  const did = agent ? [`[${agent.mode} session: ${agent.steps.length} tool call(s)${agent.files_read.length ? `; read ${agent.files_read.map((f) => f.path).join(', ')}` : ''}]`] : [];
  if (agent?.patch) did.push(`[Proposed change (a patch, not applied to disk) to: ${(agent.changed_files ?? []).join(', ')}]`);
  return [...asked, { role: 'assistant', content: [turn.reply.content, ...did].join('\n\n') }];
}

/**
 * Lays an earlier session's patch on the overlay, file by file, so a continued propose session
 * builds on it. Returns notes for files where that was not possible (changed on disk since, gone).
 */
export async function restorePatch(workspace: Workspace, patch: string): Promise<string[]> {
  const notes: string[] = [];
  const restored: string[] = [];
  for (const filePatch of parsePatch(patch)) {
    const created = filePatch.oldFileName === '/dev/null';
    const path = (filePatch.newFileName ?? '').replace(/^b\//, '');
    try {
      const file = await workspace.placeEditable(path);
      const exists = await workspace.exists(file);
      if (created && exists) throw new Error('it exists on disk now');
      if (created) workspace.noteAbsent(file);
      const before = created ? undefined : await workspace.text(file, 'patched');
      const after = applyPatch(before ?? '', filePatch);
      if (after === false) throw new Error('it changed on disk since and the earlier edits no longer fit');
      workspace.overlay.put(file, before, after);
      restored.push(file.shown);
    } catch (e) {
      notes.push(`The earlier session's change to ${path} could not be carried over (${(e as Error).message}); this session starts from that file as it is on disk.`);
    }
  }
  if (restored.length) notes.unshift(`The earlier session's patch was carried over: ${restored.join(', ')} start from Kimi's earlier version, and this patch includes those changes.`);
  return notes;
}
