/**
 * `kimi-mcp jobs` and `kimi-mcp job <id>`: background jobs from the shell. "This project" is the
 * current folder plus KIMI_MCP_ROOTS, the folders a stdio server started here reads, so both
 * list the same jobs. Exit codes of `job`: 0 done, 1 failed, cancelled or interrupted, 3 still
 * running (queued included); a bad or unknown id is a usage error (2).
 */
import { defaultRoots } from '../kimi/files/roots.js';
import { UsageError } from '../kimi/errors.js';
import { jobStore, projectKey } from '../jobs/project.js';
import type { JobView } from '../jobs/store.js';
import { describeJob, ENDED, partialLines, statusOf } from '../mcp/tools/kimi-job.js';
import type { CliContext } from './context.js';

export const STILL_RUNNING = 3;

function exitCode(view: JobView): number {
  if (!ENDED.has(view.state)) return STILL_RUNNING;
  return view.state === 'done' ? 0 : 1;
}

export async function runJobsCommand(cli: CliContext, options: { json?: boolean }): Promise<number> {
  const views = await jobStore(cli.env).list(projectKey(defaultRoots(cli.env, process.cwd())), 50);
  if (options.json) {
    cli.out(`${JSON.stringify(views.map((v) => ({ ...statusOf(v), label: v.label, created: v.created })), null, 2)}\n`);
    return 0;
  }
  if (!views.length) {
    cli.out('No background jobs for this folder. Agents start them with background: true on kimi_chat, kimi_agent or kimi_review.\n');
    return 0;
  }
  cli.out(`${views.map((v) => `${v.id}  ${v.tool}  ${describeJob(v)}  ${v.created.slice(0, 16).replace('T', ' ')}  ${v.label}`).join('\n')}\n`);
  return 0;
}

export async function runJobCommand(cli: CliContext, id: string | undefined, options: { json?: boolean }): Promise<number> {
  if (!id) throw new UsageError('Name the job: kimi-mcp job <job_id> (kimi-mcp jobs lists them).');
  const view = await jobStore(cli.env).read(id);
  if (!view) throw new UsageError(`No job ${id} in ${jobStore(cli.env).folder}; kimi-mcp jobs lists this folder's jobs (KIMI_MCP_STATE_DIR must match the server's).`);
  const result = view.result as { content?: { type: string; text?: string }[]; structuredContent?: unknown; isError?: boolean } | undefined;
  if (options.json) {
    cli.out(`${JSON.stringify({ ...statusOf(view), label: view.label, ...(result ? { result } : { text: view.text, steps: view.steps, ...(view.patch ? { patch: view.patch } : {}) }) }, null, 2)}\n`);
    return exitCode(view);
  }
  if (result) {
    const text = (result.content ?? []).flatMap((c) => (c.type === 'text' && c.text ? [c.text] : [])).join('\n');
    // The shell cannot read kimi://replies/{id}: the long texts the result links to follow it.
    const full = view.replies.map((r) => `\n--- kimi://replies/${r.id} (${r.title}) ---\n${r.text}`);
    cli.out(`${[text, ...full].join('\n')}\n`);
    if (view.state !== 'done') cli.err(`job ${id}: ${describeJob(view)}${view.why ? `: ${view.why}` : ''}\n`);
    return exitCode(view);
  }
  cli.out(`${[`Job ${id} (${view.tool}): ${describeJob(view)}.${view.why ? ` ${view.why}.` : ''}`, ...partialLines(view)].join('\n')}\n`);
  return exitCode(view);
}
