/**
 * kimi_review: Kimi reviews a git change in the client's root (src/review/run-review.ts) and
 * returns typed findings. The text lists them most severe first, one line each with file:line,
 * so the calling agent can act on them without reading prose. Guidance lives in SKILL.md.
 */
import * as z from 'zod';
import { costWords } from '../../kimi/cost.js';
import { estimateTextTokens } from '../../kimi/tokens.js';
import { runReview } from '../../review/run-review.js';
import type { ReviewResult } from '../../review/run-review.js';
import { finding, SEVERITIES } from '../../review/types.js';
import type { Finding } from '../../review/types.js';
import { prefixWithin } from '../chat-reply.js';
import type { ChatContext } from '../chat-reply.js';
import { stepHooks } from '../step-hooks.js';
import { filesArg, modelArg, spentFields } from '../schemas.js';
import { defineTool } from '../tool.js';
import type { ToolReply } from '../tool-result.js';


export const reviewOutput = z.object({
  findings: z.array(finding),
  summary: z.string(),
  unparsed_text: z.string().optional(),
  target: z.string(),
  files: z.array(z.string()),
  ...spentFields,
  notes: z.array(z.string()),
  error: z.string().optional(),
});
type ReviewOutput = z.output<typeof reviewOutput>;

/** Shares of the client's cap: findings and an unparsed reply each appear in the text and in structuredContent. */
const FINDINGS_SHARE = 0.3;
const UNPARSED_SHARE = 0.25;

/** `high src/x.ts:42 title`, then the detail and suggestion indented. */
export function findingLines(f: Finding): string[] {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '(no file)';
  const lines = [`${f.severity} ${where} ${f.title}`];
  if (f.detail && f.detail !== f.title) lines.push(`  ${f.detail.replace(/\s*\n\s*/g, ' ')}`);
  if (f.suggestion) lines.push(`  fix: ${f.suggestion.replace(/\s*\n\s*/g, ' ')}`);
  return lines;
}

/** "3 findings (1 high, 2 low)". */
function tally(findings: readonly Finding[]): string {
  if (!findings.length) return 'No findings';
  const per = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  return `${findings.length} finding(s) (${per.map(([s, n]) => `${n} ${s}`).join(', ')})`;
}

function footer(r: ReviewResult): string {
  const parts = [`${r.model} on ${r.provider}`];
  if (r.steps.length) parts.push(`${r.steps.length} tool call(s)`);
  const about = r.usage_estimated ? '~' : '';
  if (r.usage) parts.push(`${about}${r.usage.prompt_tokens} in (${r.usage.cached_tokens} cached) + ${about}${r.usage.completion_tokens} out tokens`);
  if (r.cost) parts.push(`${about}${costWords(r.cost)}`);
  return `— ${parts.join(' · ')}`;
}

export function renderReview(ctx: ChatContext, r: ReviewResult): ToolReply<ReviewOutput> {
  const cap = ctx.settings.maxResultTokens;
  const { steps, ...rest } = r;
  const structured: ReviewOutput = { ...rest, notes: [...r.notes] };
  const links: NonNullable<ToolReply<ReviewOutput>['links']> = [];
  const lines: string[] = [];
  if (r.error) lines.push(r.error, '');
  lines.push(`${tally(r.findings)} in the ${r.target} (${r.files.length} file(s)):`);

  // Findings most severe first, as many as fit; all of them behind a link when not.
  const shown: Finding[] = [];
  let used = 0;
  for (const f of r.findings) {
    const block = findingLines(f);
    used += estimateTextTokens(block.join('\n')) + estimateTextTokens(JSON.stringify(f));
    if (used > cap * FINDINGS_SHARE) break;
    shown.push(f);
    lines.push(...block);
  }
  if (shown.length < r.findings.length) {
    const uri = ctx.replies.save(`${r.model} review findings`, r.findings.flatMap(findingLines).join('\n'));
    structured.findings = shown;
    links.push({ uri, name: 'all findings', mimeType: 'text/plain' });
    const note = `${shown.length} of ${r.findings.length} findings shown to fit this client's ${cap}-token result limit (the least severe left out). Read ${uri} for all of them.`;
    structured.notes.push(note);
    lines.push(`[${note}]`);
  }
  if (r.summary) lines.push('', r.summary);
  if (r.unparsed_text !== undefined) {
    const text = prefixWithin(r.unparsed_text, Math.floor(cap * UNPARSED_SHARE));
    lines.push('', "Kimi's reply (no findings list could be read from it):", '', text);
    if (text.length < r.unparsed_text.length) {
      const uri = ctx.replies.save(`${r.model} review reply`, r.unparsed_text);
      structured.unparsed_text = text;
      links.push({ uri, name: 'full reply', mimeType: 'text/markdown' });
      lines.push('', `[Shortened to fit this client's ${cap}-token result limit. Read ${uri} for all of it.]`);
    }
  }
  if (steps.length) lines.push('', 'Steps:', ...steps.map((s, i) => `${i + 1}. ${s}`));
  lines.push('', ...r.notes, footer(r));
  return { text: lines.join('\n'), structured, links, isError: r.error !== undefined };
}

export const kimiReviewTool = (ctx: ChatContext) =>
  defineTool({
    name: 'kimi_review',
    title: 'Kimi reviews a git change',
    description: 'Kimi reviews a git change in the root: uncommitted (default), staged, this branch or one commit. Returns findings (severity, file:line, detail) most severe first. adversarial argues against the change.',
    input: z.object({
      target: z.string().optional().describe('working|staged|branch|commit:<ref>'),
      base: z.string().optional(),
      focus: z.string().optional(),
      files: filesArg.optional(),
      model: modelArg(ctx.catalog).optional(),
      adversarial: z.boolean().optional(),
    }),
    output: reviewOutput,
    annotations: { readOnlyHint: true, openWorldHint: true },
    background: true,
    async handle(args, call) {
      const { hooks: { onStep, onDelta }, finish } = stepHooks(call, 'kimi_review');
      try {
        const result = await runReview(ctx, args, {
          signal: call.signal,
          roots: call.roots,
          ...(call.confirm ? { confirm: call.confirm } : {}),
          ...(onStep ? { onStep } : {}),
          ...(onDelta ? { onDelta } : {}),
        });
        return renderReview(ctx, result);
      } finally {
        await finish();
      }
    },
  });
