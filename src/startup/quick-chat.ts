/**
 * kimi_chat and kimi_stream answered on the start-up path, without the SDK or zod (dist/chat.js),
 * when nothing in the call needs the full server: every argument is one src/startup/sure-args.ts
 * is sure of (so no files, images, messages or response_format, which need the client's roots or
 * zod's wording), and no spending confirmation could have to be asked of the client. The call
 * runs through the same call path (runChat) and is worded by the same code (chat-reply.ts,
 * tool-result.ts) as in the full server, so the client cannot tell the two apart.
 *
 * Such a call can outlive the start-up path: when a later request hands the input over, the full
 * server treats these calls as its own at shutdown, through StartupChats.
 */
import { reportConfiguration } from '../kimi/config.js';
import { pruneConversations } from '../kimi/conversation.js';
import { settledWithin } from '../kimi/run-chat.js';
import { scrub } from '../log.js';
import { chatTool } from '../mcp/chat-reply.js';
import type { ChatContext } from '../mcp/chat-reply.js';
import { ReplyStore } from '../mcp/replies.js';
import { failureResult, replyResult } from '../mcp/tool-result.js';
import type { ToolCall } from '../mcp/tool.js';
import { snapshotContext } from './context.js';
import type { Id, JsonObject } from './jsonrpc.js';
import type { StartupSnapshot } from './snapshot.js';
import { sureArguments } from './sure-args.js';

export interface QuickChatSetup {
  snapshot: StartupSnapshot;
  distDir: string;
  skillRoot: string;
  env: NodeJS.ProcessEnv;
  /** The client can be asked to confirm a call (elicitation), which only the full server does. */
  canConfirm: boolean;
  /** Writes one message to the client; resolves once it is written. */
  send: (message: JsonObject) => Promise<void>;
}

/** The calls still running on the start-up path, as the full server sees them after a hand-over. */
export interface StartupChats {
  /** Long replies kept by these calls (kimi://replies/{id}), readable from the full server too. */
  readonly replies: ReplyStore;
  /** Routes a client's cancel to the call; false when no call here has that id. */
  cancel(id: Id): boolean;
  /** Resolves once no call runs here, or after `ms`. */
  idle(ms: number): Promise<void>;
  /** Aborts every call: each stores its partial turn and cost, and sends nothing more. */
  abort(): void;
}

/** The start-up path takes no call that reads paths, so it is never asked for roots. */
const noRoots = () => Promise.reject(new Error('the start-up path reads no paths'));

export class QuickChats implements StartupChats {
  readonly replies = new ReplyStore();
  private readonly running = new Map<Id, { controller: AbortController; done: Promise<void> }>();
  /** Loaded on the first call; null when the stored catalog does not fit (the full server then takes every call). */
  private ctx: ChatContext | null | undefined;

  constructor(private readonly setup: QuickChatSetup) {}

  private context(): ChatContext | null {
    if (this.ctx !== undefined) return this.ctx;
    const { snapshot, distDir, skillRoot, env } = this.setup;
    const ctx = snapshotContext(snapshot, distDir, skillRoot, env);
    this.ctx = ctx ? { ...ctx, replies: this.replies } : null;
    return this.ctx;
  }

  /**
   * Starts answering the call and returns true; or returns false, having read, written and sent
   * nothing, when the full server must take it.
   */
  start(id: Id, name: unknown, args: unknown, progressToken: Id | undefined): boolean {
    if (name !== 'kimi_chat' && name !== 'kimi_stream') return false;
    const given = sureArguments(this.setup.snapshot, name, args);
    const ctx = given && !this.running.has(id) ? this.context() : null;
    if (!given || !ctx) return false;
    if (this.setup.canConfirm && ctx.settings.spending.confirmAboveUsd !== undefined) return false;
    reportConfiguration(ctx.settings);

    const controller = new AbortController();
    const call: ToolCall = { signal: controller.signal, roots: noRoots };
    if (progressToken !== undefined) {
      let progress = 0;
      call.progress = (message) => this.setup.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken, progress: ++progress, message: scrub(message) } });
    }
    const done = chatTool(ctx, given, call, name === 'kimi_stream')
      .then(replyResult, (e: unknown) => failureResult(name, e))
      // A cancelled request gets no answer (as the SDK does it); its partial turn is stored all the same.
      .then((result) => (controller.signal.aborted ? undefined : this.setup.send({ jsonrpc: '2.0', id, result })))
      .finally(() => this.running.delete(id));
    this.running.set(id, { controller, done });
    // After the call is on its way: expired conversations go in the background, as the full server does at start.
    pruneConversations(ctx.env, ctx.settings.keepDays);
    return true;
  }

  get size(): number {
    return this.running.size;
  }

  cancel(id: Id): boolean {
    const call = this.running.get(id);
    call?.controller.abort();
    return call !== undefined;
  }

  idle(ms: number): Promise<void> {
    return settledWithin(() => [...this.running.values()].map((c) => c.done), ms);
  }

  abort(): void {
    for (const call of this.running.values()) call.controller.abort();
  }
}
