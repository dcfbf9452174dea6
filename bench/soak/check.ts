// The checks after a phase: each call against its plan, against what the simulator sent, and
// against the turn the server stored.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallRecord } from './call.js';
import { faultById } from './plan.js';
import { TEXT_BEFORE_CUT } from './settings.js';
import type { ChatView, SimHost } from './sim-host.js';

interface StoredTurn {
  reply: { content: string; reasoning?: string };
  partial?: boolean;
}

function storedTurns(stateDir: string): Map<string, StoredTurn> {
  const turns = new Map<string, StoredTurn>();
  const folder = join(stateDir, 'conversations');
  let files: string[] = [];
  try {
    files = readdirSync(folder);
  } catch {
    return turns;
  }
  for (const f of files) {
    for (const line of readFileSync(join(folder, f), 'utf8').split('\n')) {
      const m = /\[soak-p\d-\d+\]/.exec(line);
      if (!m) continue;
      try {
        turns.set(m[0], JSON.parse(line) as StoredTurn);
      } catch {
        turns.set(m[0], { reply: { content: '<torn line>' }, partial: undefined });
      }
    }
  }
  return turns;
}

export interface Checked {
  /** Calls that did not go as planned, with why. */
  unexpected: string[];
  partialKept: { kept: number; of: number; storedExact: number };
  cutKept: { kept: number; of: number; notReached: number };
  okExact: { exact: number; of: number };
  requestsAsPlanned: { ok: number; of: number };
  /** Calls whose client disconnected (HTTP): how long after the cut their upstream request closed, how many ran to completion anyway, how their turns were stored. */
  drops: { closedMs: number[]; completed: number; partial: number; whole: number; missing: number };
}

export async function check(records: CallRecord[], sim: SimHost, stateDir: string): Promise<Checked> {
  const chats = await sim.req<Record<string, ChatView[]>>({ op: 'chats', matches: records.map((r) => r.plan.marker) });
  const turns = storedTurns(stateDir);
  const unexpected: string[] = [];
  const partialKept = { kept: 0, of: 0, storedExact: 0 };
  const cutKept = { kept: 0, of: 0, notReached: 0 };
  const okExact = { exact: 0, of: 0 };
  const requestsAsPlanned = { ok: 0, of: 0 };
  const drops: Checked['drops'] = { closedMs: [], completed: 0, partial: 0, whole: 0, missing: 0 };
  const note = (r: CallRecord, why: string) => unexpected.push(`${r.plan.marker} ${r.plan.tool} ${r.plan.fault}${r.plan.thinking ? ' (thinking)' : ''}: ${why}`);
  for (const r of records) {
    const sent = chats[r.plan.marker] ?? [];
    const answered = sent.filter((c) => c.status === 200).at(-1);
    const content = answered?.content ?? '';
    const reasoning = answered?.reasoning ?? '';
    if (r.outcome !== r.plan.expected) note(r, `expected ${r.plan.expected}, got ${r.outcome}${r.error ? ` (${r.error.replace(/\s+/g, ' ').slice(0, 200)})` : ''}`);
    if (r.plan.requests !== undefined) {
      requestsAsPlanned.of++;
      if (sent.length === r.plan.requests) requestsAsPlanned.ok++;
      else note(r, `${sent.length} upstream requests, planned ${r.plan.requests}`);
    }
    if (r.plan.fault === 'noUsage' && r.outcome === 'ok' && !r.usageEstimated) note(r, 'usage omitted by the host but not marked usage_estimated');
    if (r.plan.expected === 'ok') {
      okExact.of++;
      if (r.outcome === 'ok' && r.text === content && (r.reasoning ?? '') === reasoning) okExact.exact++;
      else if (r.outcome === 'ok') note(r, `reply differs from what the simulator sent (${r.text?.length ?? 0} vs ${content.length} characters)`);
    }
    if (faultById.get(r.plan.fault)?.afterText) {
      partialKept.of++;
      if (!content) note(r, 'the simulator sent no text before the fault');
      if (r.outcome === 'error with text' && r.text === content && (r.reasoning ?? '') === reasoning) partialKept.kept++;
      else note(r, `partial text lost or changed: result ${JSON.stringify((r.text ?? '').slice(-40))} (${r.text?.length ?? 0} chars), sent ${JSON.stringify(content.slice(-40))} (${content.length} chars)`);
      const turn = turns.get(r.plan.marker);
      if (turn?.partial && turn.reply.content === content) partialKept.storedExact++;
      else note(r, `stored turn ${turn ? `partial=${turn.partial} ${turn.reply.content.length} chars` : 'missing'}, sent ${content.length} chars`);
    }
    if (r.plan.fault === 'cancel' || r.plan.fault === 'dropSession' || r.plan.fault === 'dropFetch') {
      const first = sent[0];
      const turn = turns.get(r.plan.marker);
      if (!r.cutReached) {
        cutKept.notReached++;
        note(r, `the simulator had not sent ${TEXT_BEFORE_CUT} characters within 10 s`);
      }
      if (r.plan.fault === 'cancel') {
        cutKept.of++;
        if (turn?.partial && turn.reply.content.length > 0 && (first?.content ?? '').startsWith(turn.reply.content)) cutKept.kept++;
        else note(r, `cancelled turn ${turn ? `partial=${turn.partial}, ${turn.reply.content.length} chars` : 'not stored'}; the simulator sent ${first?.content.length ?? 0}`);
      } else {
        if (first?.endedAt && r.cutAt) drops.closedMs.push(first.endedAt - r.cutAt);
        if (first?.endedHow === 'completed') drops.completed++;
        if (!turn) drops.missing++;
        else if (turn.partial) drops.partial++;
        else drops.whole++;
        if (turn && !(first?.content ?? '').startsWith(turn.reply.content)) note(r, 'stored turn is not what the simulator sent');
      }
    }
  }
  return { unexpected, partialKept, cutKept, okExact, requestsAsPlanned, drops };
}
