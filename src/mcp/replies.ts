/**
 * Replies too long for the client's result cap are shortened in the tool result and kept here,
 * readable in full as kimi://replies/{id}. Bounded, so a long session cannot grow without limit.
 */
import { randomUUID } from 'node:crypto';

export const REPLY_URI_PREFIX = 'kimi://replies/';
const MAX_STORED = 50;

export interface StoredReply {
  id: string;
  title: string;
  text: string;
}

export class ReplyStore {
  private readonly replies = new Map<string, StoredReply>();

  save(title: string, text: string): string {
    const id = randomUUID();
    this.replies.set(id, { id, title, text });
    if (this.replies.size > MAX_STORED) this.replies.delete(this.replies.keys().next().value as string);
    return `${REPLY_URI_PREFIX}${id}`;
  }

  /** A reply kept elsewhere (a background job's file) made readable here under its own id. */
  restore(reply: StoredReply): void {
    this.replies.delete(reply.id);
    this.replies.set(reply.id, reply);
    if (this.replies.size > MAX_STORED) this.replies.delete(this.replies.keys().next().value as string);
  }

  get(id: string): StoredReply | undefined {
    return this.replies.get(id);
  }

  list(): StoredReply[] {
    return [...this.replies.values()];
  }
}
