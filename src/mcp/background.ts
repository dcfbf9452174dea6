/**
 * `background: true` on a tool that takes it: the arguments were checked in the foreground, then
 * the same handler runs as a job (src/jobs) with the job's signal and a ToolCall whose `record`
 * feeds the job's file, and the call answers at once with the job_id. The job's result is the
 * tools/call result the call would have returned, long replies it links to kept with it.
 *
 * Spending confirmation: the foreground request is the only place the user can be asked. When
 * the client can ask and KIMI_CONFIRM_ABOVE_USD is set, the request stays open until the job's
 * first admission is decided: the guard asks (the question is returned as this request's
 * input-required step and the job withdrawn; the call made again with the answer starts a new
 * job that reads it), or the work shows it was admitted (its first text or step), or it ended.
 * A job the guard asks about only after the request returned is refused, saying why, never run
 * without asking.
 */
import type { InputRequiredResult, McpServer } from '@modelcontextprotocol/server';
import type { Settings } from '../kimi/config.js';
import type { Env } from '../env.js';
import { formatMoney } from '../kimi/cost.js';
import { UsageError } from '../kimi/errors.js';
import type { Confirm } from '../kimi/guard.js';
import { jobStore, maxJobs, projectKey } from '../jobs/project.js';
import type { JobRunner } from '../jobs/runner.js';
import type { JobStore, KeptReply } from '../jobs/store.js';
import { log, scrub } from '../log.js';
import { ConfirmationNeeded } from './confirm.js';
import { REPLY_URI_PREFIX } from './replies.js';
import type { ReplyStore } from './replies.js';
import type { KimiTool, ToolCall } from './tool.js';
import { failureResult, replyResult } from './tool-result.js';
import type { ToolResult } from './tool-result.js';

export interface BackgroundContext {
  jobs: JobRunner;
  env: Env;
  settings: Settings;
  era: 'legacy' | 'modern';
  replies: ReplyStore;
  server: McpServer;
}

/** How long the foreground waits for a job's first admission when the user may have to be asked. */
export const ADMISSION_WAIT_MS = 10_000;
const LABEL_CHARS = 80;

/** A short line about the request, for lists: its task, prompt or target. */
export function labelOf(args: Record<string, unknown>): string {
  const lastMessage = Array.isArray(args.messages) ? (args.messages.at(-1) as { content?: unknown } | undefined)?.content : undefined;
  const text = [args.task, args.prompt, args.target, lastMessage].find((v): v is string => typeof v === 'string' && v.trim() !== '') ?? '';
  const flat = scrub(text.replace(/\s+/g, ' ').trim());
  return flat.length > LABEL_CHARS ? `${flat.slice(0, LABEL_CHARS - 1)}…` : flat;
}

/** The long replies the result links to (kimi://replies/{id}), so a later process can serve them. */
function linkedReplies(result: ToolResult, replies: ReplyStore): KeptReply[] {
  const ids = result.content.flatMap((c) => (c.type === 'resource_link' && c.uri.startsWith(REPLY_URI_PREFIX) ? [c.uri.slice(REPLY_URI_PREFIX.length)] : []));
  return ids.flatMap((id) => {
    const reply = replies.get(id);
    return reply ? [{ id, title: reply.title, text: scrub(reply.text) }] : [];
  });
}

export function pollHint(jobId: string, era: 'legacy' | 'modern'): string {
  const call = `kimi_job {"action":"result","job_id":"${jobId}","wait_seconds":50}`;
  const told = era === 'legacy' ? 'A log message announces its end.' : 'This protocol era has no notifications: poll.';
  return `Get the result with ${call}: it returns as soon as the job ends, within 50 s. ${told}`;
}

function ordinal(n: number): string {
  return n === 1 ? 'next' : `${n}${n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'} in line`;
}

export async function runInBackground(tool: KimiTool, args: Record<string, unknown>, call: ToolCall, bg: BackgroundContext): Promise<ToolResult | InputRequiredResult> {
  // The project key is the folders the job may read (the same ones the call itself gets).
  const project = projectKey((await call.roots()).folders);
  const max = maxJobs(bg.env).value;
  const store = jobStore(bg.env);
  let deciding = call.confirm !== undefined && bg.settings.spending.confirmAboveUsd !== undefined;
  let decide!: (question?: InputRequiredResult) => void;
  const decided = new Promise<InputRequiredResult | undefined>((resolve) => (decide = resolve));

  const confirm: Confirm | undefined =
    call.confirm &&
    (async (question) => {
      try {
        const answer = await call.confirm!(question);
        decide(undefined);
        return answer;
      } catch (e) {
        if (!(e instanceof ConfirmationNeeded)) throw e;
        if (deciding) {
          decide(e.result);
          throw new UsageError('Not sent: the user is asked to confirm first.');
        }
        throw new UsageError(
          `Not sent: this call could cost up to ${formatMoney(question.worstCaseUsd, 'USD')}, above KIMI_CONFIRM_ABOVE_USD, and as a background job that waited its turn it could not ask the user. Run it again when fewer jobs run (KIMI_MAX_JOBS=${max}), or without background.`,
        );
      }
    });

  const submitted = await bg.jobs.submit({
    store,
    tool: tool.name,
    label: labelOf(args),
    project,
    max,
    run: async (work) => {
      const jobCall: ToolCall = {
        signal: work.signal,
        roots: call.roots,
        ...(confirm ? { confirm } : {}),
        // Text or a step means the call was admitted and sent.
        record: (event) => (decide(undefined), work.record(event)),
      };
      let result: ToolResult;
      try {
        result = replyResult(await tool.handle(args, jobCall));
      } catch (e) {
        result = failureResult(tool.name, e);
      }
      return { result, failed: result.isError === true, replies: linkedReplies(result, bg.replies) };
    },
    onEnd: ({ id, state }) => {
      if (bg.era !== 'legacy') return;
      const data = `kimi-mcp job ${id} (${tool.name}) ended: ${state}. kimi_job {"action":"result","job_id":"${id}"} returns it.`;
      bg.server.sendLoggingMessage({ level: 'notice', logger: 'kimi-mcp', data }).catch((e: unknown) => log(`job ${id}: the client could not be told it ended:`, e));
    },
  });

  if (deciding && submitted.state === 'running') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const question = await Promise.race([
      decided,
      bg.jobs.ended(submitted.id)?.then(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ADMISSION_WAIT_MS))),
      new Promise<undefined>((resolve) => call.signal.addEventListener('abort', () => resolve(undefined), { once: true })),
    ]);
    clearTimeout(timer);
    deciding = false;
    if (question) {
      bg.jobs.withdraw(submitted.id, store);
      return question;
    }
  }
  deciding = false;
  return startedResult(tool.name, submitted, max, bg, store);
}

async function startedResult(toolName: string, submitted: { id: string; state: 'queued' | 'running'; position?: number }, max: number, bg: BackgroundContext, store: JobStore): Promise<ToolResult> {
  // A job that already ended while the foreground waited says so.
  const state = bg.jobs.get(submitted.id)?.state ?? (await store.read(submitted.id))?.state ?? submitted.state;
  const shown = state === 'interrupted' ? 'cancelled' : state;
  const where =
    state === 'queued' && submitted.position !== undefined
      ? `queued, ${ordinal(submitted.position)}: KIMI_MAX_JOBS=${max} jobs run at once`
      : state === 'running' ? 'running' : `already ${state}`;
  const text = `${toolName} is a background job: job_id ${submitted.id} (${where}). ${pollHint(submitted.id, bg.era)}`;
  return {
    content: [{ type: 'text', text }],
    structuredContent: { job_id: submitted.id, state: shown, ...(state === 'queued' && submitted.position !== undefined ? { position: submitted.position } : {}) },
  };
}
