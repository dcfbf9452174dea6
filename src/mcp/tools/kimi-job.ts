/**
 * kimi_job: the background jobs a call with `background: true` started (src/jobs). status, result
 * (the tools/call result the call would have returned, waiting up to wait_seconds for it),
 * cancel, and list (this project's jobs, newest first). Jobs are read from their files, so a
 * finished or interrupted job is readable from any later server process.
 */
import * as z from 'zod';
import { formatMoney } from '../../kimi/cost.js';
import { UsageError } from '../../kimi/errors.js';
import { estimateTextTokens } from '../../kimi/tokens.js';
import { jobStore, projectKey } from '../../jobs/project.js';
import { processJobs } from '../../jobs/runner.js';
import type { JobRunner } from '../../jobs/runner.js';
import type { JobStore, JobView } from '../../jobs/store.js';
import type { ChatContext } from '../chat-reply.js';
import { defineTool } from '../tool.js';
import type { ToolCall } from '../tool.js';
import type { ToolReply, ToolResult } from '../tool-result.js';

export const MAX_WAIT_SECONDS = 50;
/** How often a job run by another process is looked at while waiting for it. */
const POLL_MS = 500;
/** How long cancel waits for the stopped work to record what it had. */
const CANCEL_SETTLE_MS = 5_000;
const LISTED = 20;

export type JobContext = ChatContext & { jobs?: JobRunner; era?: 'legacy' | 'modern' };

export const ENDED = new Set(['done', 'failed', 'cancelled', 'interrupted']);

/** The view as this process knows it: a live job's place in the queue is current, the file's is from when it was queued. */
function current(view: JobView, jobs: JobRunner): JobView {
  const live = jobs.get(view.id);
  if (!live) return view;
  return { ...view, state: live.state, ...(live.position !== undefined ? { position: live.position } : {}) };
}

function seconds(view: JobView): number {
  const from = Date.parse(view.started ?? view.created);
  const to = view.ended ? Date.parse(view.ended) : Date.now();
  return Math.max(0, Math.round((to - from) / 1000));
}

/** The result's cost once it ended; before that, what the steps so far cost. */
function costOf(view: JobView): number | null | undefined {
  if (view.result) return (view.result.structuredContent as { cost_usd?: number | null } | undefined)?.cost_usd;
  return view.cost_so_far;
}

/** One job's state in a line: `running 12 s, 3 steps, ~420 tokens so far`. */
export function describeJob(view: JobView): string {
  const parts: string[] = [view.state === 'queued' && view.position ? `queued (${view.position === 1 ? 'next' : `#${view.position}`})` : view.state];
  parts.push(`${seconds(view)} s`);
  if (view.steps.length) parts.push(`${view.steps.length} step(s)`);
  const produced = view.text.length + view.reasoning.length;
  if (produced) parts.push(`~${estimateTextTokens(view.text + view.reasoning)} tokens${ENDED.has(view.state) ? '' : ' so far'}`);
  const cost = costOf(view);
  if (typeof cost === 'number') parts.push(`${formatMoney(cost, 'USD')}${view.result ? '' : ' so far'}`);
  return parts.join(', ');
}

export function statusOf(view: JobView) {
  const cost = costOf(view);
  return {
    job_id: view.id,
    tool: view.tool,
    state: view.state,
    ...(view.position !== undefined ? { position: view.position } : {}),
    elapsed_s: seconds(view),
    steps: view.steps.length,
    chars: view.text.length + view.reasoning.length,
    ...(cost !== undefined ? { cost_usd: cost } : {}),
    ...(view.why ? { why: view.why } : {}),
  };
}

/** The partial work of a job without a result: steps, text and an agent's patch so far. */
export function partialLines(view: JobView): string[] {
  const lines: string[] = [];
  if (view.steps.length) lines.push('', 'Steps so far:', ...view.steps);
  if (view.text) lines.push('', 'Text so far:', view.text);
  else if (view.reasoning) lines.push('', 'Reasoning so far:', view.reasoning);
  if (view.patch) lines.push('', 'Patch so far (nothing was written; review it before git apply):', '```diff', view.patch.trimEnd(), '```');
  return lines;
}

function notice(view: JobView, era: 'legacy' | 'modern'): string {
  if (ENDED.has(view.state)) return '';
  const told = era === 'legacy' ? 'a log message announces its end' : 'no notification comes in this protocol era';
  return ` Call kimi_job with action "result" and wait_seconds (up to ${MAX_WAIT_SECONDS}) to wait for it; ${told}.`;
}

/** The stored result, as the call would have returned it (the reply store serves its long texts again). */
function storedReply(view: JobView, ctx: JobContext): ToolReply<Record<string, unknown>> {
  const result = view.result as unknown as ToolResult;
  for (const reply of view.replies) ctx.replies.restore(reply);
  const text = result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
  const links = result.content.flatMap((c) => (c.type === 'resource_link' ? [{ uri: c.uri, name: c.name, mimeType: c.mimeType }] : []));
  return { text, structured: result.structuredContent as Record<string, unknown>, links, ...(result.isError ? { isError: true } : {}) };
}

async function recent(store: JobStore, project: string): Promise<string> {
  const jobs = await store.list(project, 5);
  return jobs.length ? ` Recent jobs here: ${jobs.map((j) => `${j.id} (${j.tool}, ${j.state})`).join(', ')}.` : ' There are no jobs for this project.';
}

/** Resolves when the job has ended, after `ms`, or when the request is cancelled. */
async function waitForEnd(id: string, store: JobStore, jobs: JobRunner, ms: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !signal.aborted) {
    const view = await store.read(id);
    if (!view || ENDED.has(view.state)) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    // A job of this process is awaited; another process's job is looked at every POLL_MS.
    await Promise.race([
      jobs.ended(id) ?? new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, deadline - Date.now()))),
      new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now()))),
      new Promise((resolve) => signal.addEventListener('abort', (onAbort = () => resolve(undefined)), { once: true })),
    ]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** result hands back each tool's own structured content unchanged; module-level, so its JSON Schema is converted once. */
const anyResult = z.looseObject({});

export const kimiJobTool = (ctx: JobContext) => {
  const jobs = ctx.jobs ?? processJobs;
  const era = ctx.era ?? 'legacy';
  return defineTool({
    name: 'kimi_job',
    title: 'Background Kimi jobs',
    description: `Jobs started with background: true. action: status, result (wait_seconds ≤${MAX_WAIT_SECONDS} waits for the end), cancel, or list this project's jobs.`,
    input: z.object({
      action: z.enum(['status', 'result', 'cancel', 'list']),
      job_id: z.string().optional(),
      wait_seconds: z.number().min(0).max(MAX_WAIT_SECONDS).optional(),
    }),
    // result returns the job's own tool's structured content unchanged, so no one shape fits all.
    output: anyResult,
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handle(args, call: ToolCall) {
      const store = jobStore(ctx.env);
      const project = async () => projectKey((await call.roots()).folders);
      if (args.action === 'list') {
        const views = (await store.list(await project(), LISTED)).map((v) => current(v, jobs));
        const lines = views.map((v) => `${v.id}  ${v.tool}  ${describeJob(v)}  ${v.created.slice(0, 16).replace('T', ' ')}  ${v.label}`);
        return {
          text: views.length ? [`${views.length} job(s), newest first:`, ...lines].join('\n') : 'No background jobs for this project.',
          structured: { jobs: views.map((v) => ({ ...statusOf(v), label: v.label, created: v.created })) },
        };
      }
      if (!args.job_id) throw new UsageError(`job_id is needed for action "${args.action}".${await recent(store, await project())}`);
      const id = args.job_id;
      const read = async () => {
        const view = await store.read(id);
        if (!view) throw new UsageError(`No job ${id}: it may have expired (KIMI_MCP_KEEP_DAYS) or belong to another state folder or token.${await recent(store, await project())}`);
        return current(view, jobs);
      };
      let view = await read();

      if (args.action === 'cancel') {
        if (ENDED.has(view.state)) return { text: `Job ${id} had already ended: ${describeJob(view)}.`, structured: statusOf(view) };
        if (!jobs.cancel(id)) {
          throw new UsageError(`Job ${id} runs in another kimi-mcp process (pid ${view.owner.pid} on ${view.owner.hostname}), which alone can cancel it.`);
        }
        await waitForEnd(id, store, jobs, CANCEL_SETTLE_MS, new AbortController().signal);
        view = await read();
        return { text: [`Job ${id} (${view.tool}) cancelled: ${describeJob(view)}.`, ...partialLines(view)].join('\n'), structured: statusOf(view) };
      }

      if (args.action === 'result' && args.wait_seconds && !ENDED.has(view.state)) {
        await waitForEnd(id, store, jobs, args.wait_seconds * 1000, call.signal);
        view = await read();
      }
      if (args.action === 'result' && view.result) return storedReply(view, ctx);
      const head = `Job ${id} (${view.tool}${view.label ? `: ${view.label}` : ''}): ${describeJob(view)}.${view.why ? ` ${view.why[0]!.toUpperCase()}${view.why.slice(1)}.` : ''}`;
      const unfinished = !ENDED.has(view.state) && args.action === 'result' ? ' No result yet.' : '';
      return {
        text: [`${head}${unfinished}${notice(view, era)}`, ...partialLines(view)].join('\n'),
        structured: statusOf(view),
        // A job that ended without a result (interrupted, cancelled while queued) is not a success.
        ...(args.action === 'result' && ENDED.has(view.state) ? { isError: true } : {}),
      };
    },
  });
};
