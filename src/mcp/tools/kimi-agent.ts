/**
 * kimi_agent: Kimi explores the project itself with read-only tools (src/agent/loop.ts) and
 * answers, or (mode "propose") prepares a change that comes back as a patch. Guidance lives in
 * SKILL.md ("Let Kimi look around"); the description stays short because every agent pays for it.
 */
import * as z from 'zod';
import { DEFAULT_MAX_STEPS, MAX_STEPS_LIMIT, runAgent } from '../../agent/loop.js';
import type { AgentResult } from '../../agent/loop.js';
import { describeRead } from '../../agent/files-read.js';
import { costWords } from '../../kimi/cost.js';
import { estimateTextTokens } from '../../kimi/tokens.js';
import { prefixWithin } from '../chat-reply.js';
import type { ChatContext } from '../chat-reply.js';
import { stepHooks } from '../step-hooks.js';
import { filesArg, modelArg, spentFields } from '../schemas.js';
import { defineTool } from '../tool.js';
import type { ToolReply } from '../tool-result.js';


export const agentOutput = z.object({
  answer: z.string(),
  stopped: z.enum(['answered', 'max_steps', 'max_cost', 'refused', 'repeating', 'context', 'cancelled', 'failed']),
  files_read: z.array(z.object({ path: z.string(), lines: z.array(z.object({ start: z.number(), end: z.number() })) })),
  steps: z.array(z.string()),
  patch: z.string().optional(),
  /** Set instead of the patch's text when it is too long for the client's result cap. */
  patch_uri: z.string().optional(),
  changed_files: z.array(z.string()).optional(),
  changed_on_disk: z.array(z.string()).optional(),
  ...spentFields,
  conversation_id: z.string().optional(),
  notes: z.array(z.string()),
});
type AgentOutput = z.output<typeof agentOutput>;

/** Shares of the client's cap: the answer and the patch each appear in the text and in structuredContent. */
const ANSWER_SHARE = 0.25;
const PATCH_SHARE = 0.2;

function footer(r: AgentResult): string {
  const parts = [`${r.model} on ${r.provider}`, `${r.steps.length} tool call(s)`, `stopped: ${r.stopped}`];
  const about = r.usage_estimated ? '~' : '';
  if (r.usage) parts.push(`${about}${r.usage.prompt_tokens} in (${r.usage.cached_tokens} cached) + ${about}${r.usage.completion_tokens} out tokens`);
  if (r.cost) parts.push(`${about}${costWords(r.cost)}`);
  if (r.conversation_id) parts.push(`conversation_id ${r.conversation_id}`);
  return `— ${parts.join(' · ')}`;
}

export function renderAgent(ctx: ChatContext, r: AgentResult): ToolReply<AgentOutput> {
  const cap = ctx.settings.maxResultTokens;
  const { patch, ...rest } = r;
  const structured: AgentOutput = { ...rest };
  const links: NonNullable<ToolReply<AgentOutput>['links']> = [];
  const answer = prefixWithin(r.answer, Math.floor(cap * ANSWER_SHARE));
  const lines = [answer || '(Kimi gave no answer.)'];
  if (answer.length < r.answer.length) {
    const uri = ctx.replies.save(`${r.model} agent answer`, r.answer);
    structured.answer = answer;
    links.push({ uri, name: 'full answer', mimeType: 'text/markdown' });
    lines.push('', `[Answer shortened to fit this client's ${cap}-token result limit. Read ${uri} for all of it.]`);
  }
  if (r.steps.length) lines.push('', 'Steps:', ...r.steps.map((s, i) => `${i + 1}. ${s}`));
  if (r.files_read.length) lines.push('', `Files read: ${r.files_read.map(describeRead).join('; ')}`);
  if (patch !== undefined) {
    if (!patch) lines.push('', 'No change proposed (empty patch).');
    else if (estimateTextTokens(patch) <= cap * PATCH_SHARE) {
      structured.patch = patch;
      lines.push('', `Patch (${r.changed_files!.join(', ')}); nothing was written: review it, then apply it with git apply:`, '```diff', patch.trimEnd(), '```');
    } else {
      const uri = ctx.replies.save(`${r.model} agent patch`, patch);
      structured.patch_uri = uri;
      links.push({ uri, name: 'patch', mimeType: 'text/x-diff' });
      lines.push('', `Patch for ${r.changed_files!.join(', ')}: too long for this client's ${cap}-token result limit. Read ${uri}; nothing was written.`);
    }
  }
  if (r.changed_on_disk?.length) lines.push('', `Changed on disk during the run: ${r.changed_on_disk.join(', ')}`);
  lines.push('', ...r.notes, footer(r));
  return { text: lines.join('\n'), structured, links, isError: r.stopped === 'failed' };
}

export const kimiAgentTool = (ctx: ChatContext) =>
  defineTool({
    name: 'kimi_agent',
    title: 'Let Kimi explore',
    description: 'Kimi explores the roots with read-only tools (list, read, grep) and answers the task. It never writes files or runs commands; mode "propose" returns its changes as a patch to review. Slower than kimi_chat.',
    input: z.object({
      task: z.string(),
      mode: z.enum(['explore', 'propose']).optional(),
      files: filesArg.optional(),
      model: modelArg(ctx.catalog).optional(),
      max_steps: z.number().int().min(1).max(MAX_STEPS_LIMIT).optional().describe(`default ${DEFAULT_MAX_STEPS}`),
      max_cost_usd: z.number().positive().optional(),
      conversation_id: z.string().optional(),
    }),
    output: agentOutput,
    annotations: { readOnlyHint: true, openWorldHint: true },
    background: true,
    async handle(args, call) {
      const { hooks, finish } = stepHooks(call, 'kimi_agent');
      try {
        const result = await runAgent(ctx, args, { signal: call.signal, roots: call.roots, ...(call.confirm ? { confirm: call.confirm } : {}), ...hooks });
        return renderAgent(ctx, result);
      } finally {
        await finish();
      }
    },
  });
