/**
 * The messages of a `kimi_agent` run as the loop keeps them: the system prompt, the assistant
 * turns exactly as received (tool calls and reasoning included), the tool results, and the
 * history shortened to fit the model's window (the oldest tool outputs first; never the system
 * prompt or the task). Also the usage and cost summed over the steps.
 */
import type { ToolCallOut, Usage } from '../kimi/chat.js';
import { isPlanCost } from '../kimi/cost.js';
import type { Cost, TokenCost } from '../kimi/cost.js';
import type { ChatMessage } from '../kimi/messages.js';
import { toolTokens } from '../kimi/request.js';
import type { StepResult, ToolSpec } from '../kimi/run-step.js';
import { estimateMessagesTokens, estimateTextTokens } from '../kimi/tokens.js';
import type { AgentMode } from './tool.js';

const COMMON = [
  'You are Kimi, working inside a software project through the tools given to you.',
  'The tools only read: list folders, read files (numbered lines), grep. Nothing you do touches the disk, runs a command or reaches the network, so do not ask for that.',
  'Paths are relative to the project. Look before you conclude: read the code you talk about, cite files and line numbers.',
  'Work in few steps: grep or list to find things, then read the parts that matter. When you know enough, answer without calling a tool.',
];

const BY_MODE: Record<AgentMode, string[]> = {
  explore: ['Your job: answer the task (a question, a bug to find, a feature to map). Your final message is the answer.'],
  propose: [
    'Your job: prepare the change the task asks for with edit (exact text replacement) and write (new file or whole content).',
    'Edits stay in memory: later reads show them, and at the end they become one patch that the user reviews and applies. Read a file before editing it and copy old_text exactly.',
    'When the change is complete, answer with a short summary of what you changed and why, without calling a tool.',
  ],
};

export function systemPrompt(mode: AgentMode): string {
  return [...COMMON, ...BY_MODE[mode]].join('\n');
}

/** Sent as the user's message after the last allowed step, with no tools: Kimi must answer now. */
export function concludePrompt(mode: AgentMode, why: string): string {
  const what = mode === 'propose' ? 'Summarise the change you prepared (it becomes the patch) and what is left to do' : 'Answer the task with what you found so far, and say what you could not check';
  return `${why} No more tool calls are possible. ${what}.`;
}

/**
 * The assistant turn as received: its text, its tool calls and its reasoning, which thinking
 * models need back. A turn with tool calls keeps the field even when empty: with thinking on,
 * Moonshot refuses an earlier tool call that lacks it.
 */
export function assistantMessage(step: Pick<StepResult, 'text' | 'reasoning' | 'tool_calls'>): ChatMessage {
  return {
    role: 'assistant',
    content: step.text,
    ...(step.tool_calls.length ? { tool_calls: step.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}),
    ...(step.reasoning || step.tool_calls.length ? { reasoning_content: step.reasoning } : {}),
  };
}

export function toolMessage(call: ToolCallOut, output: string): ChatMessage {
  return { role: 'tool', tool_call_id: call.id, name: call.name, content: output };
}

/** What a request costs in tokens, counted as the call path counts it: the messages, their tool calls and the tool definitions. */
export function requestTokens(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): number {
  return estimateMessagesTokens(messages) + toolTokens(messages, tools);
}

const SHORTENED = '[output shortened to keep the conversation within the context window; call the tool again if you need it]';

/**
 * Shortens the oldest tool outputs until the request fits `budget` tokens. Only tool outputs are
 * shortened: the system prompt, the task and Kimi's own turns stay. False when it cannot fit.
 */
export function fitWindow(messages: ChatMessage[], tools: readonly ToolSpec[], budget: number): boolean {
  if (!Number.isFinite(budget)) return true;
  let used = requestTokens(messages, tools);
  for (const m of messages) {
    if (used <= budget) break;
    if (m.role !== 'tool' || m.content === SHORTENED) continue;
    const saved = estimateTextTokens(String(m.content)) - estimateTextTokens(SHORTENED);
    m.content = SHORTENED;
    used -= saved;
  }
  return used <= budget;
}

/** Usage and cost summed over every step, like one call's: a part unknown in any step is unknown in the sum. */
export class Spend {
  usage: Usage | null = null;
  cost: Cost | null = null;
  cost_usd: number | null = null;
  estimated = false;
  private steps = 0;

  add(step: Pick<StepResult, 'usage' | 'cost' | 'cost_usd' | 'usage_estimated'>): void {
    const first = this.steps++ === 0;
    if (step.usage_estimated) this.estimated = true;
    if (step.usage) {
      const u = this.usage;
      this.usage = u
        ? { prompt_tokens: u.prompt_tokens + step.usage.prompt_tokens, completion_tokens: u.completion_tokens + step.usage.completion_tokens, cached_tokens: u.cached_tokens + step.usage.cached_tokens, reasoning_tokens: u.reasoning_tokens + step.usage.reasoning_tokens }
        : { ...step.usage };
    }
    this.cost = first ? step.cost : addCost(this.cost, step.cost);
    this.cost_usd = first ? step.cost_usd : this.cost_usd === null || step.cost_usd === null ? null : round(this.cost_usd + step.cost_usd);
  }

  /** Dollars spent so far, counting an unknown step as nothing (the guard and the ledger know better). */
  get knownUsd(): number {
    return this.cost_usd ?? 0;
  }
}

function round(n: number): number {
  return Number(n.toPrecision(12));
}

const plus = (a: number | null | undefined, b: number | null | undefined): number | null => (a === null || b === null || a === undefined || b === undefined ? null : round(a + b));

/** Two steps' costs together; steps billed differently (a plan and money, two currencies) have no one sum. */
function addCost(a: Cost | null, b: Cost | null): Cost | null {
  if (!a || !b) return null;
  if (isPlanCost(a) || isPlanCost(b)) return isPlanCost(a) && isPlanCost(b) && a.covered_by_plan === b.covered_by_plan ? a : null;
  if (a.currency !== b.currency) return null;
  const sum: TokenCost = { currency: a.currency, input: plus(a.input, b.input), cached: plus(a.cached, b.cached), output: plus(a.output, b.output), total: plus(a.total, b.total) };
  if (a.saved_by_cache !== undefined || b.saved_by_cache !== undefined) sum.saved_by_cache = plus(a.saved_by_cache ?? 0, b.saved_by_cache ?? 0);
  return sum;
}
