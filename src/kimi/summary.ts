/**
 * Results in words, for the agent (tool result text) or the shell: what a call did besides
 * answering (files sent and skipped, turns left out, hosts tried, the budget, notes), an
 * estimate, the model list. Free of zod and the SDK: the start-up path renders with it too.
 */
import type { ModelView } from './catalog-view.js';
import type { ChatEvent, ChatResult } from './chat.js';
import { costWords, formatMoney, isPlanCost, isPlanPrice } from './cost.js';
import type { Estimate } from './estimate.js';
import type { SentFile, SkippedFile } from './files/index.js';
import type { ModelList } from './list-models.js';

const NAMED = 10;

/** The first few items, then how many more: a 500-file glob must not flood the agent's context. */
function someOf<T>(items: readonly T[], show: (item: T) => string): string {
  const more = items.length > NAMED ? `, and ${items.length - NAMED} more` : '';
  return `${items.slice(0, NAMED).map(show).join(', ')}${more}`;
}

export function fileLines(files: readonly SentFile[] | undefined, skipped: readonly SkippedFile[] | undefined): string[] {
  const lines: string[] = [];
  if (files?.length) {
    const total = files.reduce((sum, f) => sum + f.tokens, 0);
    lines.push(`Files (${files.length}, ~${total} tokens): ${someOf(files, (f) => `${f.path} ~${f.tokens}`)}`);
  }
  if (skipped?.length) lines.push(`Files skipped: ${someOf(skipped, (f) => `${f.path} (${f.reason})`)}`);
  return lines;
}

export function aboutTheCall(r: ChatResult): string[] {
  const lines = fileLines(r.files, r.skipped_files);
  if (r.dropped_turns) lines.push(`${r.dropped_turns} oldest turn(s) of the conversation were left out to fit the context window.`);
  if (r.attempts?.some((a) => a.error)) lines.push(`Hosts tried: ${r.attempts.map((a) => `${a.provider} (${a.error ?? 'answered'})`).join('; ')}`);
  if (r.budget) lines.push(`Budget: ${formatMoney(r.budget.spent_usd, 'USD')} of ${formatMoney(r.budget.limit_usd, 'USD')} spent ${r.budget.period === 'day' ? 'today' : 'this month'}.`);
  return [...lines, ...(r.notes ?? [])];
}

/**
 * What a failed call left, in words: the partial reply, or the reasoning when no text came
 * (billed like text, so the cost is said), or nothing at all: then it is a plain failure.
 */
export function whatArrived(r: ChatResult): string {
  if (r.text) return `Partial reply (${r.text.length} characters):`;
  if (!r.reasoning) return 'No text arrived before the failure.';
  const about = r.usage_estimated ? '~' : '';
  const money = !r.cost ? '' : isPlanCost(r.cost) ? `, ${costWords(r.cost)}` : r.cost.total !== null ? `, ${about}${costWords(r.cost)}` : '';
  const billed = r.usage ? ` (${about}${r.usage.completion_tokens} output tokens${money})` : '';
  return `No text arrived, but ${r.reasoning.length} characters of reasoning did, and were billed${billed}. The reasoning:`;
}

export function estimateText(e: Estimate): string {
  const { cost } = e;
  const money = (v: number | null) => formatMoney(v, isPlanCost(cost) ? 'USD' : cost.currency);
  return [
    `${e.model} on ${e.provider}: ${e.input_tokens} input (${e.cached_tokens} cached, ${e.counted_by}) + ${e.output_tokens} output tokens`,
    isPlanCost(cost)
      ? `cost: ${costWords(cost)}`
      : `cost ${money(cost.total)} = input ${money(cost.input)} + cached ${money(cost.cached)} + output ${money(cost.output)}${cost.saved_by_cache ? ` (the cache saves ${money(cost.saved_by_cache)})` : ''}`,
    `price source: ${e.price.source}, as of ${e.price.as_of}`,
    ...fileLines(e.files, e.skipped_files),
    ...e.notes,
  ].join('\n');
}

function priceLine(h: ModelView['hosts'][number]): string {
  const p = h.price;
  const price = isPlanPrice(p) ? `no money: ${p.plan}` : [p.input, p.cached_input, p.output].map((v) => (v === 'unknown' ? '?' : formatMoney(v, p.currency))).join('/');
  const deprecated = h.deprecated ? ' (deprecated by this host)' : '';
  const listed = h.listed === undefined ? '' : h.listed ? ' [live: listed]' : ' [live: NOT listed]';
  return `${h.provider} ${price}${deprecated}${listed}`;
}

export function modelListText(list: ModelList): string {
  const lines = list.models.map((m) => {
    const thinking = m.thinking.default === 'unknown' ? 'thinking unknown' : m.thinking.switchable ? `thinking ${m.thinking.default} (switchable)` : 'always thinks';
    const effort = m.thinking.effort ? `, reasoning_effort ${m.thinking.effort.join('/')}` : '';
    return `${m.id}: ${m.context_window} ctx, ${m.max_output} max out, ${m.modalities.join('+')}, ${thinking}${effort}; ${m.hosts.map(priceLine).join('; ')}`;
  });
  if (list.live) lines.push(list.live.error ? `live check of ${list.live.provider} failed: ${list.live.error}` : `live ${list.live.provider} Kimi IDs: ${list.live.kimi_ids.join(', ') || 'none'}`);
  return `Prices per 1M tokens, input/cached/output.\n${lines.join('\n')}`;
}

/** A retry the call path is waiting for, as progress and step lines say it. */
export function retryWords(event: Extract<ChatEvent, { kind: 'retry' }>): string {
  return `retrying in ${Math.ceil(event.delayMs / 1000)} s (attempt ${event.attempt}): ${event.reason}`;
}
