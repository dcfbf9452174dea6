/**
 * Results in words, for the agent (tool result text) or the shell: what a call did besides
 * answering (files sent and skipped, turns left out, hosts tried, the budget, notes), an
 * estimate, the model list. Free of zod and the SDK: the start-up path renders with it too.
 */
import type { ModelView } from './catalog-view.js';
import type { ChatResult } from './chat.js';
import { formatMoney } from './cost.js';
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

export function estimateText(e: Estimate): string {
  const money = (v: number | null) => formatMoney(v, e.cost.currency);
  return [
    `${e.model} on ${e.provider}: ${e.input_tokens} input (${e.cached_tokens} cached, ${e.counted_by}) + ${e.output_tokens} output tokens`,
    `cost ${money(e.cost.total)} = input ${money(e.cost.input)} + cached ${money(e.cost.cached)} + output ${money(e.cost.output)}`,
    `price source: ${e.price.source}, as of ${e.price.as_of}`,
    ...fileLines(e.files, e.skipped_files),
    ...e.notes,
  ].join('\n');
}

function priceLine(h: ModelView['hosts'][number]): string {
  const p = h.price;
  const parts = [p.input, p.cached_input, p.output].map((v) => (v === 'unknown' ? '?' : formatMoney(v, p.currency)));
  const listed = h.listed === undefined ? '' : h.listed ? ' [live: listed]' : ' [live: NOT listed]';
  return `${h.provider} ${parts.join('/')}${listed}`;
}

export function modelListText(list: ModelList): string {
  const lines = list.models.map((m) => {
    const thinking = m.thinking.switchable ? `thinking ${m.thinking.default} (switchable)` : 'always thinks';
    return `${m.id}: ${m.context_window} ctx, ${m.max_output} max out, ${m.modalities.join('+')}, ${thinking}; ${m.hosts.map(priceLine).join('; ')}`;
  });
  if (list.live) lines.push(list.live.error ? `live check of ${list.live.provider} failed: ${list.live.error}` : `live ${list.live.provider} Kimi IDs: ${list.live.kimi_ids.join(', ') || 'none'}`);
  return `Prices per 1M tokens, input/cached/output.\n${lines.join('\n')}`;
}
