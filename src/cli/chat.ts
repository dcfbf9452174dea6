/**
 * `kimi-mcp chat` and `kimi-mcp cost`: the same call path as the MCP tools, for agents that
 * have a shell but no MCP. The reply streams to stdout; status and cost go to stderr.
 */
import { createInterface } from 'node:readline/promises';
import { ChatFailure } from '../kimi/chat.js';
import { runChat } from '../kimi/run-chat.js';
import { pruneConversations } from '../kimi/conversation.js';
import { costWords, formatMoney, isPlanCost } from '../kimi/cost.js';
import { estimateCost } from '../kimi/estimate.js';
import type { ChatRequest } from '../kimi/request.js';
import { UsageError } from '../kimi/errors.js';
import { aboutTheCall, estimateText, fileLines, whatArrived } from '../kimi/summary.js';
import type { Confirm } from '../kimi/guard.js';
import type { CallContext, Env } from '../kimi/config.js';
import { defaultRoots } from '../kimi/files/roots.js';
import type { AllowedFolders, RootsSource } from '../kimi/messages.js';
import { scrub, ScrubbedStream } from '../log.js';
import type { CliContext } from './context.js';

export interface ChatOptions {
  model?: string;
  provider?: string;
  system?: string;
  maxTokens?: string;
  thinking?: boolean;
  image?: string[];
  file?: string[];
  continue?: string;
  /** Confirms a call above KIMI_CONFIRM_ABOVE_USD without asking. */
  yes?: boolean;
  json?: boolean;
}

const STATUS_EVERY_MS = 5_000;

/** The shell reads files where it runs: the current folder, plus KIMI_MCP_ROOTS (refusals say so). */
export function shellFolders(env: Env): RootsSource {
  const allowed: AllowedFolders = { folders: defaultRoots(env, process.cwd()), from: 'the current folder plus KIMI_MCP_ROOTS' };
  return async () => allowed;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a whole number, not "${value}".`);
  return n;
}

/** Asks on the terminal; without one (piped), there is nobody to ask and the guard refuses. */
export function terminalConfirm(yes: boolean | undefined): Confirm | undefined {
  if (yes) return async () => 'accept';
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(scrub(`[kimi] ${question.message}\n[kimi] Send it? [y/N] `));
      return /^y(es)?$/i.test(answer.trim()) ? 'accept' : 'decline';
    } finally {
      rl.close();
    }
  };
}

/** The prompt from the argument, or from stdin when it is "-" or missing and stdin is piped. */
async function promptFrom(arg: string | undefined): Promise<string> {
  if (arg !== undefined && arg !== '-') return arg;
  if (process.stdin.isTTY) throw new UsageError('Give a prompt: kimi-mcp chat "your question" (or pipe it in).');
  return readStdin();
}

/**
 * What a shell call (chat, agent) sets up: its call context, a signal Ctrl-C aborts (the work so
 * far is printed and kept in the conversation), when it started; `done` releases Ctrl-C.
 */
export function shellCall(cli: CliContext): { ctx: CallContext; signal: AbortSignal; started: number; done: () => void } {
  const ctx = { catalog: cli.catalog, settings: cli.settings, env: cli.env };
  pruneConversations(cli.env, cli.settings.keepDays);
  const abort = new AbortController();
  const onSigint = () => abort.abort('interrupted');
  process.once('SIGINT', onSigint);
  return { ctx, signal: abort.signal, started: Date.now(), done: () => void process.removeListener('SIGINT', onSigint) };
}

export async function runChatCommand(cli: CliContext, promptArg: string | undefined, options: ChatOptions): Promise<number> {
  const request: ChatRequest = {
    prompt: await promptFrom(promptArg),
    ...(options.system !== undefined ? { system: options.system } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
    ...(options.provider !== undefined ? { provider: options.provider } : {}),
    ...(options.maxTokens !== undefined ? { max_tokens: wholeNumber(options.maxTokens, '--max-tokens')! } : {}),
    ...(options.thinking !== undefined ? { thinking: options.thinking } : {}),
    ...(options.image?.length ? { images: options.image } : {}),
    ...(options.file?.length ? { files: options.file } : {}),
    ...(options.continue !== undefined ? { conversation_id: options.continue } : {}),
  };
  const { ctx, signal, started, done } = shellCall(cli);
  // The reply is printed as it streams; a key split across two chunks is still caught.
  const reply = new ScrubbedStream(cli.out);
  let lastActivity = Date.now();
  const status = setInterval(() => {
    if (Date.now() - lastActivity < STATUS_EVERY_MS) return;
    cli.err(`[kimi] ${reply.started ? 'still writing' : 'thinking'}, ${Math.round((Date.now() - started) / 1000)} s\n`);
  }, 1000);
  status.unref();
  try {
    const confirm = terminalConfirm(options.yes);
    const result = await runChat(ctx, request, {
      signal,
      roots: shellFolders(cli.env),
      ...(confirm ? { confirm } : {}),
      onEvent: (event) => {
        lastActivity = Date.now();
        if (event.kind === 'retry') cli.err(`[kimi] retrying in ${Math.ceil(event.delayMs / 1000)} s: ${event.reason}\n`);
        else if (!options.json) reply.update(event.text);
      },
    });
    if (options.json) cli.out(`${JSON.stringify(result, null, 2)}\n`);
    else {
      reply.end(result.text);
      if (!result.text.endsWith('\n')) cli.out('\n');
    }
    const cost = result.cost ? costWords(result.cost) : 'no usage reported';
    const tokens = result.usage ? `${result.usage.prompt_tokens} in + ${result.usage.completion_tokens} out tokens` : '';
    for (const line of aboutTheCall(result)) cli.err(`[kimi] ${line}\n`);
    const conversation = result.conversation_id ? `; continue with --continue ${result.conversation_id}` : '';
    cli.err(`[kimi] ${result.model} on ${result.provider}: ${tokens}, ${cost}, ${((Date.now() - started) / 1000).toFixed(1)} s${conversation}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ChatFailure)) throw e;
    if (options.json) cli.out(`${JSON.stringify({ ...e.partial, ...(e.isPartial ? { partial: true } : {}), error: e.message }, null, 2)}\n`);
    else if (e.partial.text) {
      reply.end(e.partial.text);
      cli.out('\n');
    }
    cli.err(`[kimi] ${e.message}\n`);
    // Reasoning without text is all the call produced (and it was billed): shown, not dropped.
    if (!e.partial.text && e.partial.reasoning) cli.err(`[kimi] ${whatArrived(e.partial)}\n${e.partial.reasoning}\n`);
    for (const line of aboutTheCall(e.partial)) cli.err(`[kimi] ${line}\n`);
    if (e.partial.conversation_id) cli.err(`[kimi] the partial reply is kept in conversation ${e.partial.conversation_id}\n`);
    return e.kind === 'cancelled' ? 130 : 1;
  } finally {
    clearInterval(status);
    done();
  }
}

export interface CostOptions {
  model?: string;
  provider?: string;
  inputTokens?: string;
  outputTokens?: string;
  cachedTokens?: string;
  text?: string;
  file?: string[];
  json?: boolean;
}

export async function runCostCommand(cli: CliContext, options: CostOptions): Promise<number> {
  let text = options.text;
  const inputTokens = wholeNumber(options.inputTokens, '--input-tokens');
  if (text === undefined && inputTokens === undefined && !options.file?.length && !process.stdin.isTTY) text = await readStdin();
  const estimate = await estimateCost(
    { catalog: cli.catalog, settings: cli.settings, env: cli.env },
    {
      ...(options.model !== undefined ? { model: options.model } : {}),
      ...(options.provider !== undefined ? { provider: options.provider } : {}),
      ...(inputTokens !== undefined ? { input_tokens: inputTokens } : {}),
      ...(text !== undefined ? { text } : {}),
      ...(options.file?.length ? { files: options.file } : {}),
      ...(options.outputTokens !== undefined ? { output_tokens: wholeNumber(options.outputTokens, '--output-tokens')! } : {}),
      ...(options.cachedTokens !== undefined ? { cached_tokens: wholeNumber(options.cachedTokens, '--cached-tokens')! } : {}),
    },
    { roots: shellFolders(cli.env) },
  );
  if (options.json) {
    cli.out(`${JSON.stringify(estimate, null, 2)}\n`);
    return 0;
  }
  const { cost } = estimate;
  if (isPlanCost(cost)) {
    cli.out(`${estimateText(estimate)}\n`);
    return 0;
  }
  const money = (v: number | null) => formatMoney(v, cost.currency);
  cli.out(
    [
      `${estimate.model} on ${estimate.provider} (${estimate.model_id})`,
      `input   ${estimate.input_tokens} tokens (${estimate.counted_by}), ${estimate.cached_tokens} cached  ${money(cost.input)} + ${money(cost.cached)}`,
      `output  ${estimate.output_tokens} tokens  ${money(cost.output)}`,
      `total   ${money(cost.total)}`,
      `prices: ${estimate.price.source}, as of ${estimate.price.as_of}`,
      ...fileLines(estimate.files, estimate.skipped_files),
      ...estimate.notes.map((n) => `note: ${n}`),
      '',
    ].join('\n'),
  );
  return 0;
}
