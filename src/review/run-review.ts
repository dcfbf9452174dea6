/**
 * A review from start to end: the change from git (diff.ts), sized to the model's window, then
 * Kimi. With a model the host takes tools for, a kimi_agent explore session seeded with the diff
 * (Kimi opens the callers it needs); otherwise one chat call, with the host's structured output
 * where the model takes it. The spending guard, budget, confirmation and fallback hosts apply as
 * to any call (runAgent and runChat go through them). Findings come back validated, most severe
 * first; a reply they cannot be read from comes back whole as text; a failed call keeps what arrived.
 *
 * Shared by the MCP tool, the shell's review gate and background jobs (through onStep/onDelta).
 */
import { createHash } from 'node:crypto';
import { runAgent } from '../agent/loop.js';
import type { AgentResult, StepSpend } from '../agent/loop.js';
import { findModel } from '../catalog/find.js';
import type { ModelEntry } from '../catalog/load.js';
import { UsageError } from '../errors.js';
import { ChatFailure } from '../kimi/chat.js';
import type { ChatResult, Usage } from '../kimi/chat.js';
import type { CallContext } from '../kimi/config.js';
import type { Cost } from '../kimi/cost.js';
import type { Confirm } from '../kimi/guard.js';
import { allowedFolders } from '../kimi/messages.js';
import type { RootsSource } from '../kimi/messages.js';
import { runChat } from '../kimi/run-chat.js';
import { retryWords } from '../kimi/summary.js';
import { estimateTextTokens } from '../kimi/tokens.js';
import { acceptsTools } from '../kimi/tool-support.js';
import { loadChange, WIDEST_CONTEXT } from './diff.js';
import type { Change, FileDiff } from './diff.js';
import { parseReview, REVIEW_SCHEMA } from './findings.js';
import { diffMessage, reviewInstructions } from './prompt.js';
import type { Finding, ReviewRequest } from './types.js';

export interface ReviewOptions {
  signal: AbortSignal;
  roots: RootsSource;
  confirm?: Confirm;
  /** One line per thing done: each agent tool call, a retry. */
  onStep?: (line: string, spent?: StepSpend) => void | Promise<void>;
  /** The model's text and reasoning so far (keep-alives). */
  onDelta?: (text: string, reasoning: string) => void;
}

export interface ReviewResult {
  findings: Finding[];
  summary: string;
  /** Kimi's whole reply when no findings could be read from it (never lost). */
  unparsed_text?: string;
  /** What was compared, in words: "working tree against HEAD", "branch against main (merge base 1a2b3c4)". */
  target: string;
  /** The files in the diff sent, relative to the folder under review. */
  files: string[];
  model: string;
  provider: string;
  usage: Usage | null;
  cost: Cost | null;
  cost_usd: number | null;
  usage_estimated?: boolean;
  /** The agent's tool calls, one line each (none for a single chat call). */
  steps: string[];
  notes: string[];
  /** Set when the call failed or was cancelled: findings and text are what arrived before. */
  error?: string;
}

/** Context lines around each hunk, widest first: fewer when the diff does not fit the window otherwise. */
const CONTEXT_LINES = [WIDEST_CONTEXT, 3, 0] as const;
/** Kimi's reply room: findings are short, but a thinking model reasons first. */
const REVIEW_MAX_TOKENS = 32_768;
/** Tool calls an agent review may make: enough to open the callers of a large change. */
const REVIEW_MAX_STEPS = 15;
/** On the agent path the diff may take this share of the window; the rest is for what Kimi opens. */
const AGENT_DIFF_SHARE = 0.5;
/** The estimator can read ~10% high; as request.ts, refuse only when a generous reading does not fit. */
const ESTIMATE_SLACK = 0.9;

/** The model named, else the configured one; on the configured host (its fallbacks follow). */
function reviewModel(ctx: CallContext, req: ReviewRequest): ModelEntry {
  if (req.model === undefined) return ctx.settings.model;
  const model = findModel(ctx.catalog, req.model);
  if (!model) throw new UsageError(`Unknown model "${req.model}". Use one of: ${ctx.catalog.models.map((m) => m.id).join(', ')}.`);
  return model;
}

interface Sized {
  diffs: FileDiff[];
  tokens: number;
  context: number;
}

/** The widest context whose diff fits `room` tokens (unbounded: the widest); the narrowest diff when none does. */
async function sizeDiff(diff: (context: number) => Promise<FileDiff[]>, room: number): Promise<{ fits: boolean; sized: Sized }> {
  let sized: Sized | undefined;
  for (const context of CONTEXT_LINES) {
    const diffs = await diff(context);
    sized = { diffs, context, tokens: diffs.reduce((n, d) => n + estimateTextTokens(d.diff), 0) };
    if (Math.floor(sized.tokens * ESTIMATE_SLACK) <= room) return { fits: true, sized };
  }
  return { fits: false, sized: sized! };
}

function tooLarge(model: ModelEntry, window: number, sized: Sized): UsageError {
  const largest = sized.diffs
    .map((d) => ({ path: d.path, tokens: estimateTextTokens(d.diff) }))
    .sort((a, b) => b.tokens - a.tokens)
    .slice(0, 5)
    .map((d) => `${d.path} ~${d.tokens}`)
    .join(', ');
  return new UsageError(
    `The diff is about ${sized.tokens} tokens even with ${sized.context} lines of context, too large to review in ${model.id}'s ${window}-token window. Nothing was sent. Largest files: ${largest} tokens. Limit the review with files (paths or folders), or pick a narrower target ("staged", "commit:<ref>").`,
  );
}

/** The change `req` asks for in the repository of the first allowed root (diff.ts); nothing is sent. */
export async function reviewedChange(ctx: CallContext, req: ReviewRequest, roots: RootsSource, signal?: AbortSignal): Promise<Change> {
  return loadChange(req, await allowedFolders(ctx.env, roots), ctx.settings.maxFileBytes, signal);
}

/** Reviews `req`; a caller that already read the change (to fingerprint it) passes it on. */
export async function runReview(ctx: CallContext, req: ReviewRequest, options: ReviewOptions, change?: Change): Promise<ReviewResult> {
  const model = reviewModel(ctx, req);
  const provider = ctx.settings.provider;
  change ??= await reviewedChange(ctx, req, options.roots, options.signal);
  const notes = [...change.notes];

  const window = model.context_window === 'unknown' ? undefined : model.context_window;
  const maxTokens = Math.min(REVIEW_MAX_TOKENS, model.max_output === 'unknown' ? REVIEW_MAX_TOKENS : model.max_output);
  let withTools = acceptsTools(provider, model);
  // Room for the diff: the window less the reply, the instructions and the message's own words.
  const room = window === undefined ? Infinity : window - maxTokens - estimateTextTokens(reviewInstructions(req, withTools)) - 200;
  let { fits, sized } = await sizeDiff(change.diff, withTools ? room * AGENT_DIFF_SHARE : room);
  if (!fits && withTools) {
    // Too large to leave Kimi room to look around: reviewed from the diff alone, in one call.
    ({ fits, sized } = await sizeDiff(change.diff, room));
    if (fits) {
      withTools = false;
      notes.push(`The diff leaves too little of ${model.id}'s window for opening other files, so Kimi reviewed it from the diff alone.`);
    }
  }
  if (!fits) throw tooLarge(model, window!, sized);
  if (sized.context < CONTEXT_LINES[0]) notes.push(`The diff was sent with ${sized.context} lines of context around each change (not ${CONTEXT_LINES[0]}) to fit ${model.id}'s window.`);

  const base = { target: change.target, files: sized.diffs.map((d) => d.path), notes };
  const message = diffMessage(change.target, sized.diffs);
  if (withTools) return agentReview(ctx, model, `${reviewInstructions(req, true)}\n\n${message}`, options, base);
  return chatReview(ctx, model, { system: reviewInstructions(req, false), prompt: message, maxTokens }, options, base);
}

/**
 * What a review of `req` would look at, as a fingerprint (what is compared, the diff and how
 * Kimi is asked), with no call made: a gate can skip a change it already passed.
 */
export async function reviewFingerprint(ctx: CallContext, req: ReviewRequest, change: Change): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ req, model: reviewModel(ctx, req).id, target: change.target }));
  for (const d of await change.diff(WIDEST_CONTEXT)) hash.update(`\0${d.path}\0${d.diff}`);
  return hash.digest('hex');
}

type Base = Pick<ReviewResult, 'target' | 'files' | 'notes'>;

/** Findings from Kimi's reply, or the reply itself when none can be read from it. */
function readReply(reply: string, notes: string[]): Pick<ReviewResult, 'findings' | 'summary' | 'unparsed_text'> {
  const parsed = parseReview(reply);
  if (parsed) {
    notes.push(...parsed.notes);
    return { findings: parsed.findings, summary: parsed.summary };
  }
  if (reply.trim()) notes.push("Kimi's reply held no findings list that could be read; it is returned as text (unparsed_text).");
  return { findings: [], summary: '', ...(reply.trim() ? { unparsed_text: reply } : {}) };
}

type Spent = Pick<ReviewResult, 'model' | 'provider' | 'usage' | 'cost' | 'cost_usd' | 'usage_estimated'>;

/** Who answered and what it cost, from an agent run or a chat call alike. */
function spentOf(r: Spent): Spent {
  return { model: r.model, provider: r.provider, usage: r.usage, cost: r.cost, cost_usd: r.cost_usd, ...(r.usage_estimated ? { usage_estimated: true } : {}) };
}

async function agentReview(ctx: CallContext, model: ModelEntry, task: string, options: ReviewOptions, base: Base): Promise<ReviewResult> {
  const r: AgentResult = await runAgent(ctx, { task, mode: 'explore', model: model.id, max_steps: REVIEW_MAX_STEPS }, {
    signal: options.signal,
    roots: options.roots,
    ...(options.confirm ? { confirm: options.confirm } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(options.onDelta ? { onDelta: options.onDelta } : {}),
  });
  const notes = [...base.notes, ...r.notes];
  const failed = r.stopped === 'failed' || r.stopped === 'cancelled';
  return {
    ...readReply(r.answer, notes),
    ...base,
    notes,
    ...spentOf(r),
    steps: r.steps,
    ...(failed ? { error: r.stopped === 'cancelled' ? 'The review was cancelled; what Kimi wrote before is returned.' : (r.notes.find((n) => /^(Step \d+ failed|kimi-mcp failed)/.test(n)) ?? 'The review failed; what Kimi wrote before is returned.') } : {}),
  };
}

async function chatReview(ctx: CallContext, model: ModelEntry, call: { system: string; prompt: string; maxTokens: number }, options: ReviewOptions, base: Base): Promise<ReviewResult> {
  let result: ChatResult;
  let error: string | undefined;
  try {
    result = await runChat(ctx, {
      system: call.system,
      prompt: call.prompt,
      model: model.id,
      max_tokens: call.maxTokens,
      ...(model.structured_output ? { response_format: { name: 'review', schema: REVIEW_SCHEMA } } : {}),
    }, {
      signal: options.signal,
      roots: options.roots,
      ...(options.confirm ? { confirm: options.confirm } : {}),
      onEvent: async (event) => {
        if (event.kind === 'delta') options.onDelta?.(event.text, event.reasoning);
        else await options.onStep?.(retryWords(event));
      },
    });
  } catch (e) {
    if (!(e instanceof ChatFailure)) throw e;
    // What arrived before the failure is kept: its findings if they can be read, else its text.
    result = e.partial;
    error = e.message;
  }
  const notes = [...base.notes, ...(result.notes ?? [])];
  return {
    ...readReply(result.text, notes),
    ...base,
    notes,
    ...spentOf(result),
    steps: [],
    ...(error ? { error } : {}),
  };
}
