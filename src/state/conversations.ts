/**
 * Conversations that survive a restart: one `<id>.jsonl` file per conversation in the folder,
 * one line per finished turn (see jsonl.ts for why appends cannot corrupt earlier turns).
 * Ids are checked against a strict pattern before any path is built, so an id can only ever
 * name a file directly inside the folder.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../errors.js';
import { appendRecord, readShaped } from './jsonl.js';
import { RecordFolder } from './record-folder.js';

export interface StoredMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Record<string, unknown>[];
  [extra: string]: unknown;
}

export interface Turn {
  /** ISO time the turn ended. */
  at: string;
  /** Our model id, as in the catalog (not the host's own id). */
  model: string;
  /** Our provider id. */
  provider: string;
  /** What this turn sent new (system on the first turn, the user message with file blocks), exactly as sent. */
  messages: StoredMessage[];
  /** As received. */
  reply: { content: string; reasoning?: string };
  /** The stream broke: reply is what arrived. */
  partial?: boolean;
}

/** Lowercase UUID form, as randomUUID makes them: no dots, slashes or anything else path-like. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUFFIX = '.jsonl';
/** The line format; bump it if a turn's shape ever changes incompatibly. */
const VERSION = 1;

function checkId(id: string): void {
  if (typeof id === 'string' && ID.test(id)) return;
  // Shown quoted and cut short: the bad value may be huge or hold control characters.
  const shown = JSON.stringify(String(id).slice(0, 80)) + (String(id).length > 80 ? '…' : '');
  throw new UsageError(`${shown} is not a conversation id; pass the conversation_id from an earlier kimi_chat/kimi_stream result.`);
}

/** A parsed line is used only if it has a turn's shape; anything else counts as unreadable. */
function isTurn(value: unknown): value is Turn & { v?: number } {
  const t = value as Partial<Turn> | null;
  return typeof t === 'object' && t !== null && Array.isArray(t.messages) && typeof t.reply?.content === 'string';
}

export class ConversationStore {
  private readonly files: RecordFolder;

  /** `<stateDir>/conversations`. */
  constructor(readonly folder: string) {
    this.files = new RecordFolder(folder, SUFFIX, (id) => ID.test(id), 'conversation');
  }

  static newId(): string {
    return randomUUID();
  }

  private file(id: string): string {
    return this.files.file(id);
  }

  /** The turns so far; `torn` counts unreadable lines, which the caller reports. */
  async load(id: string): Promise<{ turns: Turn[]; torn: number }> {
    checkId(id);
    try {
      const { records, torn } = await readShaped(this.file(id), isTurn);
      return { turns: records, torn };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new UsageError(
        `No conversation ${id}; it may have expired (KIMI_MCP_KEEP_DAYS removes conversations untouched for that many days) or been made with another state folder (KIMI_MCP_STATE_DIR). Leave out conversation_id to start a new one.`,
      );
    }
  }

  /** Appends one finished turn; the conversation's file appears with its first turn. */
  async append(id: string, turn: Turn): Promise<void> {
    checkId(id);
    await appendRecord(this.file(id), { v: VERSION, ...turn });
  }

  /** Conversations, most recently updated first, at most `limit`. */
  async list(limit = Infinity): Promise<{ id: string; updated: string }[]> {
    const entries = await this.files.entries();
    entries.sort((a, b) => b.mtimeMs - a.mtimeMs);
    return entries.slice(0, limit).map((e) => ({ id: e.id, updated: new Date(e.mtimeMs).toISOString() }));
  }

  /** Removes conversations not modified for more than `days` days; never throws (runs in the background). */
  removeOlderThan(days: number, now: number = Date.now()): Promise<number> {
    return this.files.removeOlderThan(days, now);
  }
}

const ROLE_TITLES: Record<StoredMessage['role'], string> = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool' };

/** A message's content as text: images and other non-text parts become short placeholders. */
function contentText(content: StoredMessage['content']): string {
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : `[${String(part.type ?? 'part')}]`)).join('\n\n');
}

/** Quoted, so headings or fences inside a message cannot break the transcript's structure. */
function quote(text: string): string {
  return text.split('\n').map((line) => (line ? `> ${line}` : '>')).join('\n');
}

/** A readable markdown transcript, for humans and agents reading kimi://conversations/{id}. */
export function transcript(id: string, turns: Turn[]): string {
  const out = [`# Kimi conversation ${id}`, '', `${turns.length} turn(s)${turns.length ? `, ${turns[0]!.at} to ${turns.at(-1)!.at}` : ''}.`];
  turns.forEach((turn, i) => {
    out.push('', `## Turn ${i + 1}: ${turn.at}, ${turn.model}@${turn.provider}`);
    for (const m of turn.messages) out.push('', `**${ROLE_TITLES[m.role] ?? m.role}**`, '', quote(contentText(m.content)));
    out.push('', `**Kimi**${turn.partial ? ' (partial: the stream broke, this is what arrived)' : ''}`, '', quote(turn.reply.content || '(no text)'));
  });
  return out.join('\n') + '\n';
}
