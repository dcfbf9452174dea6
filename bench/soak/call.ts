// One call through an MCP client, with its planned fault played on the client's side (cancel,
// dropped session, aborted request) and its outcome recorded for the checks.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { scan } from './canary.js';
import type { Outcome, Phase, Plan } from './plan.js';
import { CALL_TIMEOUT_MS, TEXT_BEFORE_CUT, withTimeout } from './settings.js';
import type { SimHost } from './sim-host.js';

export interface CallRecord {
  plan: Plan;
  outcome: Outcome;
  text?: string;
  reasoning?: string;
  usageEstimated?: boolean;
  error?: string;
  ms: number;
  progress: number;
  /** When the client cancelled or disconnected, and whether the simulator had sent TEXT_BEFORE_CUT characters by then. */
  cutAt?: number;
  cutReached?: boolean;
  /** dropSession: the session the client abandoned. */
  sessionId?: string;
}

export interface Session {
  client: Client;
  /** HTTP: aborts the HTTP request carrying this call (the socket under it is destroyed). */
  dropFetch?(marker: string): boolean;
}

/** A session of the call's own (dropSession), which the call closes. */
export type OwnSession = Session & { close(): Promise<void>; sessionId?: string };

export async function runCall(session: Session, plan: Plan, sim: SimHost, phase: Phase, fresh?: () => Promise<OwnSession>): Promise<CallRecord> {
  const started = performance.now();
  const record: CallRecord = { plan, outcome: 'transport error', ms: 0, progress: 0 };
  try {
    return await callOnce(session, plan, sim, phase, record, fresh);
  } catch (e) {
    // Setting the call up failed (the server or the simulator is gone): a transport error.
    record.outcome = 'transport error';
    record.error = `soak: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    return record;
  } finally {
    record.ms = performance.now() - started;
  }
}

async function callOnce(session: Session, plan: Plan, sim: SimHost, phase: Phase, record: CallRecord, fresh?: () => Promise<OwnSession>): Promise<CallRecord> {
  await sim.req({ op: 'script', match: plan.marker, behaviours: plan.behaviours });
  const ac = new AbortController();
  let own: OwnSession | undefined;
  if (plan.fault === 'dropSession') {
    own = await fresh!();
    record.sessionId = own.sessionId;
  }
  const client = (own ?? session).client;
  const pending = client.callTool(
    { name: plan.tool, arguments: { prompt: `${plan.marker} Please look at item ${plan.i} and answer briefly.`, thinking: plan.thinking } },
    undefined,
    {
      signal: ac.signal,
      // A call whose HTTP request the client aborted gets no answer; it is settled when the session closes.
      timeout: plan.fault === 'dropFetch' ? 3_600_000 : CALL_TIMEOUT_MS,
      ...(plan.tool === 'kimi_stream' ? { onprogress: () => void record.progress++ } : {}),
    },
  ) as Promise<CallToolResult>;
  pending.catch(() => undefined);
  try {
    if (plan.fault === 'cancel' || plan.fault === 'dropSession' || plan.fault === 'dropFetch') {
      const settled = pending.then(
        () => ({ reached: false }),
        () => ({ reached: false }),
      );
      const w = await Promise.race([sim.req<{ reached: boolean }>({ op: 'wait', match: plan.marker, minContent: TEXT_BEFORE_CUT, timeoutMs: 10_000 }), settled]);
      record.cutReached = w.reached;
      record.cutAt = Date.now();
      if (plan.fault === 'cancel') ac.abort(new Error('soak: the user pressed stop'));
      else if (plan.fault === 'dropSession') await own!.close();
      else if (!session.dropFetch!(plan.marker)) record.error = 'soak: no HTTP request to abort';
      if (plan.fault === 'dropFetch') {
        record.outcome = 'transport error';
        record.error ??= 'disconnected (the HTTP request was aborted)';
        return record;
      }
    }
    const r = await withTimeout(pending, CALL_TIMEOUT_MS + 5_000, `${plan.marker} ${plan.tool}`);
    scan.line(`${phase} results`, JSON.stringify(r));
    const out = r.structuredContent as { text?: string; reasoning?: string; usage_estimated?: boolean } | undefined;
    record.text = out?.text;
    record.reasoning = out?.reasoning;
    record.usageEstimated = out?.usage_estimated;
    if (!r.isError) record.outcome = 'ok';
    else record.outcome = out?.text ? 'error with text' : 'error without text';
    if (r.isError) record.error = ((r.content as { type: string; text?: string }[])[0]?.text ?? '').slice(0, 300);
  } catch (e) {
    record.outcome = ac.signal.aborted ? 'cancelled' : 'transport error';
    record.error = String((e as Error)?.message ?? e).slice(0, 300);
    scan.line(`${phase} results`, record.error);
  }
  return record;
}
