/**
 * `kimi_agent`'s bounded loop: Kimi is given the task and read-only tools over the allowed roots
 * (src/agent/tools), each tool call runs against the workspace (edits stay in its in-memory
 * overlay), and the results go back until Kimi answers. Bounded by max_steps (then Kimi is asked
 * to conclude), max_cost_usd and the spending guard (checked by runStep before every step), a
 * call repeated without end, the context window, and cancellation; whichever ends it, the work so
 * far (steps, files read, the patch) is returned and kept in the conversation.
 *
 * Shared by the MCP tool and the CLI; the call path (src/kimi/run-step.ts) sends each step.
 */
import { findModel } from '../catalog/find.js';
import { ChatFailure } from '../kimi/chat.js';
import type { Cost } from '../kimi/cost.js';
import type { Usage } from '../kimi/chat.js';
import type { CallContext } from '../kimi/config.js';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import type { Confirm } from '../kimi/guard.js';
import { allowedFolders, readCallFiles } from '../kimi/messages.js';
import type { ChatMessage, RootsSource } from '../kimi/messages.js';
import { defaultAgentModel, requireToolSupport, runStep } from '../kimi/run-step.js';
import type { StepResult, ToolSpec } from '../kimi/run-step.js';
import type { FileRead } from './files-read.js';
import { AgentSession, restorePatch } from './loop-session.js';
import { Spend, assistantMessage, concludePrompt, fitWindow, systemPrompt, toolMessage } from './loop-messages.js';
import type { AgentMode } from './tool.js';
import { callTool, toolsFor } from './tools/index.js';
import { textLines } from './tools/read.js';
import { Workspace } from './workspace.js';

export const DEFAULT_MAX_STEPS = 25;
export const MAX_STEPS_LIMIT = 100;
/** Output room per step: tool calls and answers are short, and a bounded step keeps the guard's worst case (and max_cost_usd) useful. */
const STEP_MAX_TOKENS = 32_768;
/** The same call (name and arguments) this many times is refused to Kimi; once more ends the loop. */
const REPEAT_REFUSED_AT = 3;
/** Earlier sessions of a continued conversation get at most this share of the window. */
const HISTORY_SHARE = 0.5;

/** What the steps so far cost (null while a price is unknown): a background job shows it as it runs. */
export interface StepSpend {
  cost_usd: number | null;
}

/** The tools that change the overlay: after each, the patch so far is worth keeping. */
const PATCH_TOOLS = new Set(['edit', 'write']);

/** The patch so far; a failure here only costs the copy kept for a crash (the end reports it). */
async function reportPatch(workspace: Workspace, onPatch: (patch: string) => void): Promise<void> {
  try {
    onPatch((await workspace.outcome()).patch);
  } catch (e) {
    log('the patch so far could not be made:', e);
  }
}

export interface AgentRequest {
  task: string;
  mode?: AgentMode;
  files?: string[];
  model?: string;
  max_steps?: number;
  max_cost_usd?: number;
  conversation_id?: string;
}

export interface AgentOptions {
  signal: AbortSignal;
  /** The folders Kimi may read (the client's roots, or the shell's folder plus KIMI_MCP_ROOTS). */
  roots: RootsSource;
  confirm?: Confirm;
  /** One line per tool call as it happens: `step 4/25: read src/http/server.ts:80-140`. */
  onStep?: (line: string, spent: StepSpend) => void | Promise<void>;
  /** The model's text and reasoning so far in the current step (keep-alives). */
  onDelta?: (text: string, reasoning: string) => void;
  /** The whole patch so far, after each edit or write in propose mode (a background job keeps it). */
  onPatch?: (patch: string) => void;
}

/** Why the loop ended. */
export type StopReason = 'answered' | 'max_steps' | 'max_cost' | 'refused' | 'repeating' | 'context' | 'cancelled' | 'failed';

export interface AgentResult {
  answer: string;
  stopped: StopReason;
  files_read: FileRead[];
  steps: string[];
  patch?: string;
  changed_files?: string[];
  changed_on_disk?: string[];
  usage: Usage | null;
  cost: Cost | null;
  cost_usd: number | null;
  usage_estimated?: boolean;
  model: string;
  provider: string;
  conversation_id?: string;
  notes: string[];
}

function checkRequest(req: AgentRequest): { mode: AgentMode; maxSteps: number } {
  if (!req.task.trim()) throw new UsageError('task is empty; say what Kimi should find out, or (mode "propose") change.');
  const maxSteps = req.max_steps ?? DEFAULT_MAX_STEPS;
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > MAX_STEPS_LIMIT) throw new UsageError(`max_steps takes a whole number from 1 to ${MAX_STEPS_LIMIT}, not ${req.max_steps}.`);
  if (req.max_cost_usd !== undefined && !(req.max_cost_usd > 0)) throw new UsageError(`max_cost_usd takes an amount above 0 in USD, not ${req.max_cost_usd}.`);
  return { mode: req.mode ?? 'explore', maxSteps };
}

/** The model named (on the configured host), else the first the configured host accepts tools for. */
function chooseModel(ctx: CallContext, req: AgentRequest): { model: string; provider: string } {
  const chosen = req.model ? { model: req.model, provider: ctx.settings.provider.id } : defaultAgentModel(ctx);
  if (!chosen) throw new UsageError(`${ctx.settings.provider.title} accepts tool calls for none of its Kimi models, so kimi_agent cannot run there; set KIMI_PROVIDER to a host that does (list_models shows them).`);
  requireToolSupport(ctx, chosen.model, chosen.provider);
  return chosen;
}

/** `files`, read as kimi_chat reads them (same syntax and confinement), for the task's message; recorded as read. */
async function startingFiles(ctx: CallContext, specs: readonly string[] | undefined, workspace: Workspace, allowed: Awaited<ReturnType<typeof allowedFolders>>, window: number | undefined): Promise<string> {
  if (!specs?.length) return '';
  const fit = window === undefined ? undefined : { model: 'this model', contextWindow: window };
  const read = await readCallFiles(specs, allowed, ctx.settings.maxFileBytes, fit);
  for (const sent of read.files) {
    const file = await workspace.place(sent.path);
    const lines = textLines(await workspace.text(file, 'read')).length;
    if (lines) workspace.reads.record(file.shown, 1, lines);
  }
  return read.files.map((f) => f.block).join('\n\n');
}

/** `name` and its arguments, the same however the JSON was spaced. */
function callKey(name: string, argumentsJson: string): string {
  try {
    return `${name} ${JSON.stringify(JSON.parse(argumentsJson))}`;
  } catch {
    return `${name} ${argumentsJson.trim()}`;
  }
}

/**
 * The user confirms a session once: every step is a call the guard may ask about, and asking
 * again at each of 25 steps would be noise. The budget and max_cost_usd still bound every step.
 */
function acceptedOnce(confirm: Confirm): Confirm {
  let accepted = false;
  return async (question) => {
    if (accepted) return 'accept';
    const answer = await confirm(question);
    accepted = answer === 'accept';
    return answer;
  };
}

export async function runAgent(ctx: CallContext, req: AgentRequest, options: AgentOptions): Promise<AgentResult> {
  const { mode, maxSteps } = checkRequest(req);
  const { model, provider } = chooseModel(ctx, req);
  const session = await AgentSession.open(ctx.env, req.conversation_id);
  const entry = findModel(ctx.catalog, model);
  const window = entry && entry.context_window !== 'unknown' ? entry.context_window : undefined;
  const maxTokens = Math.min(STEP_MAX_TOKENS, entry && entry.max_output !== 'unknown' ? entry.max_output : STEP_MAX_TOKENS);
  const budget = window === undefined ? Infinity : window - maxTokens;

  const allowed = await allowedFolders(ctx.env, options.roots);
  const workspace = await Workspace.open(allowed, { maxFileBytes: ctx.settings.maxFileBytes });
  const notes: string[] = [...session.conversation.notes];
  const earlierPatch = session.earlierPatch;
  if (earlierPatch && mode === 'propose') notes.push(...(await restorePatch(workspace, earlierPatch)));
  const blocks = await startingFiles(ctx, req.files, workspace, allowed, window);
  const task: ChatMessage = { role: 'user', content: blocks ? `${blocks}\n\n${req.task}` : req.task };
  const earlier = session.history(budget * HISTORY_SHARE);
  if (earlier.dropped) notes.push(`${earlier.dropped} oldest session(s) of the conversation were left out to fit the context window.`);
  const messages: ChatMessage[] = [{ role: 'system', content: systemPrompt(mode) }, ...earlier.messages, task];
  const tools: ToolSpec[] = toolsFor(mode).map(({ name, description, parameters }) => ({ name, description, parameters }));

  const spend = new Spend();
  const steps: string[] = [];
  const repeats = new Map<string, number>();
  let answer = '';
  let stopped: StopReason | undefined;
  let stepsDone = 0;
  /** Set when the loop must end with one more step that asks Kimi to conclude (no tools). */
  let conclude: { why: string; reason: StopReason } | undefined;

  const confirm = options.confirm && acceptedOnce(options.confirm);
  const send = async (stepTools: ToolSpec[]): Promise<StepResult | undefined> => {
    const remaining = req.max_cost_usd === undefined ? undefined : req.max_cost_usd - spend.knownUsd;
    try {
      return await runStep(ctx, { model, provider, messages, tools: stepTools, max_tokens: maxTokens }, {
        signal: options.signal,
        ...(confirm ? { confirm } : {}),
        ...(options.onDelta ? { progress: ({ text, reasoning }: { text: string; reasoning: string }) => options.onDelta!(text, reasoning) } : {}),
        ...(remaining !== undefined ? { maxCostUsd: remaining } : {}),
      });
    } catch (e) {
      if (e instanceof ChatFailure) {
        // What the failed step generated is kept: its text is part of the answer, its cost counted.
        spend.add(e.partial);
        answer = e.partial.text;
        stopped = e.kind === 'cancelled' ? 'cancelled' : 'failed';
        notes.push(e.kind === 'cancelled' ? `Cancelled during step ${stepsDone + 1}; the work so far is returned.` : `Step ${stepsDone + 1} failed: ${e.message}`);
        return undefined;
      }
      // A refusal before the first step is the caller's to fix; after it, the work so far is the result.
      if (!(e instanceof UsageError) || stepsDone === 0) throw e;
      stopped = remaining !== undefined && /max_cost_usd/.test(e.message) ? 'max_cost' : 'refused';
      notes.push(`Stopped before step ${stepsDone + 1}: ${e.message}`);
      return undefined;
    }
  };

  while (stopped === undefined) {
    if (options.signal.aborted) {
      stopped = 'cancelled';
      notes.push(`Cancelled after ${stepsDone} step(s); the work so far is returned.`);
      break;
    }
    if (req.max_cost_usd !== undefined && spend.knownUsd >= req.max_cost_usd) {
      stopped = 'max_cost';
      notes.push(`Stopped after ${stepsDone} step(s): max_cost_usd (${req.max_cost_usd}) reached.`);
      break;
    }
    if (!conclude && stepsDone >= maxSteps) conclude = { why: `You have used all ${maxSteps} steps.`, reason: 'max_steps' };
    if (conclude) messages.push({ role: 'user', content: concludePrompt(mode, conclude.why) });
    const stepTools = conclude ? [] : tools;
    if (!fitWindow(messages, stepTools, budget)) {
      stopped = 'context';
      notes.push(`Stopped after ${stepsDone} step(s): the conversation no longer fits ${model}'s context window, even with earlier tool outputs shortened.`);
      break;
    }
    const step = await send(stepTools);
    if (!step) break;
    stepsDone++;
    spend.add(step);
    messages.push(assistantMessage(step));
    if (conclude || step.tool_calls.length === 0) {
      answer = step.text;
      stopped = conclude?.reason ?? 'answered';
      if (conclude) notes.push(`${conclude.why} Kimi was asked to conclude with what it had.`);
      break;
    }
    for (const call of step.tool_calls) {
      const key = callKey(call.name, call.arguments);
      const times = (repeats.get(key) ?? 0) + 1;
      repeats.set(key, times);
      let run: { output: string; step: string };
      if (times > REPEAT_REFUSED_AT) {
        conclude = { why: `You kept repeating the same ${call.name} call.`, reason: 'repeating' };
        run = { output: `Error: not run: this exact ${call.name} call was made ${times} times.`, step: `${call.name} → not run: repeated ${times} times` };
      } else if (times === REPEAT_REFUSED_AT) {
        run = { output: `Error: this exact ${call.name} call was already made ${times - 1} times and its result has not changed. Use the earlier result, try a different call, or give your answer.`, step: `${call.name} → refused: the same call ${times} times` };
      } else {
        try {
          run = await callTool(call.name, call.arguments, workspace, mode);
        } catch (e) {
          // A fault of ours, not Kimi's: the work so far is still returned.
          stopped = 'failed';
          notes.push(`kimi-mcp failed running ${call.name}: ${(e as Error).message}`);
          run = { output: 'Error: the tool failed inside kimi-mcp.', step: `${call.name} → failed inside kimi-mcp` };
        }
      }
      messages.push(toolMessage(call, run.output));
      steps.push(run.step);
      await options.onStep?.(`step ${stepsDone}/${maxSteps}: ${run.step}`, { cost_usd: spend.cost_usd });
      if (options.onPatch && PATCH_TOOLS.has(call.name)) await reportPatch(workspace, options.onPatch);
    }
  }

  const outcome = await workspace.outcome();
  const result: AgentResult = {
    answer,
    stopped: stopped!,
    files_read: outcome.files_read,
    steps,
    ...(mode === 'propose' ? { patch: outcome.patch, changed_files: outcome.changed_files } : {}),
    ...(outcome.changed_on_disk.length ? { changed_on_disk: outcome.changed_on_disk } : {}),
    usage: spend.usage,
    cost: spend.cost,
    cost_usd: spend.cost_usd,
    ...(spend.estimated ? { usage_estimated: true } : {}),
    model,
    provider,
    notes: [...notes, ...outcome.notes],
  };
  if (outcome.changed_on_disk.length) result.notes.push(`Changed on disk during the run: ${outcome.changed_on_disk.join(', ')}.`);
  const record = { mode, stopped: result.stopped, steps, files_read: outcome.files_read, ...(outcome.patch ? { patch: outcome.patch, changed_files: outcome.changed_files } : {}) };
  // Like a chat turn, a session is kept only when Kimi produced something (a refused first step leaves no trace).
  if (stepsDone > 0 || answer) await session.record(model, provider, task, answer, record, stopped === 'cancelled' || stopped === 'failed');
  if (session.conversation.stored) result.conversation_id = session.conversation.id;
  // Notes the store added while saving (a turn that could not be saved).
  for (const note of session.conversation.notes) if (!result.notes.includes(note)) result.notes.push(note);
  return result;
}
