/**
 * The messages of one call: the new turn (system, prompt or messages, file blocks, images) and
 * as much of an earlier conversation as fits the model's window in front of it.
 */
import type { Turn } from '../state/conversations.js';
import type { Env } from './config.js';
import { UsageError } from './errors.js';
import type { FileBlock, FileSet, FitWindow } from './files/index.js';
import { defaultRoots, SERVER_FOLDERS } from './files/roots.js';
import type { AllowedFolders } from './files/roots.js';
import { imageDataUrl } from './images.js';
import { estimateMessagesTokens } from './tokens.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Record<string, unknown>[];
  [extra: string]: unknown;
}

/** The folders a call may read paths from, asked for only when it does (an MCP client's roots). */
export type RootsSource = () => Promise<AllowedFolders>;
export type { AllowedFolders };

export async function allowedFolders(env: Env, source: RootsSource | undefined): Promise<AllowedFolders> {
  return source ? source() : { folders: defaultRoots(env, process.cwd()), from: SERVER_FOLDERS };
}

/**
 * Reads `files` (the glob and ignore libraries load only for calls that name files); with
 * `window`, a set whose sizes say it can never fit is refused before any file is read.
 */
export async function readCallFiles(specs: readonly string[] | undefined, allowed: AllowedFolders | undefined, maxFileBytes: number, window?: FitWindow): Promise<FileSet> {
  if (!specs?.length || !allowed) return { files: [], skipped: [] };
  const { readFiles } = await import('./files/index.js');
  return readFiles(specs, allowed.folders, { maxFileBytes, from: allowed.from, ...(window && { window }) });
}

/** Refuses `messages` items that are not chat messages, naming what is wrong (zod loads only when there are any). */
export async function checkMessages(messages: readonly unknown[] | undefined): Promise<void> {
  if (messages === undefined) return;
  const { checkMessageShapes } = await import('./message-shape.js');
  checkMessageShapes(messages);
}

export interface TurnInput {
  prompt?: string;
  messages?: ChatMessage[];
  system?: string;
  images?: string[];
}

function lastUserMessage(messages: ChatMessage[], what: string): ChatMessage {
  const target = [...messages].reverse().find((m) => m.role === 'user');
  if (!target) throw new UsageError(`${what} need a user message to attach to; add one to messages.`);
  return target;
}

/**
 * The messages this turn adds: file blocks go before the user's own words, images after them.
 * `env` says which image URLs may be fetched (images.ts).
 */
export async function newTurnMessages(req: TurnInput, files: readonly FileBlock[], roots: AllowedFolders | undefined, signal?: AbortSignal, env: Env = {}): Promise<ChatMessage[]> {
  if ((req.prompt === undefined) === (req.messages === undefined)) {
    throw new UsageError('Give either prompt (a string) or messages (OpenAI chat messages), not both and not neither.');
  }
  const messages: ChatMessage[] = req.messages ? req.messages.map((m) => ({ ...m })) : [{ role: 'user', content: req.prompt ?? '' }];
  if (req.system !== undefined) messages.unshift({ role: 'system', content: req.system });
  if (files.length) {
    const target = lastUserMessage(messages, 'files');
    const blocks = files.map((f) => f.block).join('\n\n');
    target.content = typeof target.content === 'string' ? `${blocks}\n\n${target.content}` : [{ type: 'text', text: blocks }, ...target.content];
  }
  if (req.images?.length) {
    const target = lastUserMessage(messages, 'images');
    const urls = await Promise.all(req.images.map((source) => imageDataUrl(source, signal, roots, env)));
    const text = typeof target.content === 'string' ? [{ type: 'text', text: target.content }] : target.content;
    target.content = [...text, ...urls.map((url) => ({ type: 'image_url', image_url: { url } }))];
  }
  return messages;
}

/**
 * A stored turn as it goes upstream again: what was sent, then the reply as received; its
 * reasoning too, byte for byte, under `reasoningField` when the model wants it back.
 */
function turnMessages(turn: Turn, reasoningField: string | undefined): ChatMessage[] {
  const reasoning = reasoningField && turn.reply.reasoning ? { [reasoningField]: turn.reply.reasoning } : {};
  return [...(turn.messages as ChatMessage[]), { role: 'assistant', content: turn.reply.content, ...reasoning }];
}

/**
 * The earlier turns that fit in `budget` tokens together with `current`, dropping the oldest
 * whole turns first. The conversation's first system message stays: it sets the ground rules.
 */
export function fitHistory(turns: readonly Turn[], current: readonly ChatMessage[], budget: number, reasoningField?: string): { messages: ChatMessage[]; dropped: number } {
  // Nothing to fit: spares estimating `current`, which an agent step's whole history is.
  if (turns.length === 0) return { messages: [], dropped: 0 };
  const first = turns[0]?.messages[0];
  const pinned: ChatMessage[] = first?.role === 'system' ? [first as ChatMessage] : [];
  const perTurn = turns.map((t, i) => (i === 0 && pinned.length ? turnMessages(t, reasoningField).slice(1) : turnMessages(t, reasoningField)));
  const fixed = estimateMessagesTokens([...pinned, ...current]);
  // Walk back from the newest turn, keeping turns while they fit.
  let used = fixed;
  let keepFrom = turns.length;
  while (keepFrom > 0) {
    const cost = estimateMessagesTokens(perTurn[keepFrom - 1]!) - estimateMessagesTokens([]);
    if (used + cost > budget) break;
    used += cost;
    keepFrom--;
  }
  return { messages: [...pinned, ...perTurn.slice(keepFrom).flat()], dropped: keepFrom };
}
