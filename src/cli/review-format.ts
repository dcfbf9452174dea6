/**
 * How `kimi-mcp review` shows a review: text for people (one line per finding, most severe
 * first), GitHub workflow commands for CI annotations, and which findings fail the gate.
 */
import { randomBytes } from 'node:crypto';
import { costWords } from '../kimi/cost.js';
import { UsageError } from '../kimi/errors.js';
import { SEVERITIES, severityRank } from '../review/types.js';
import type { Finding, Severity } from '../review/types.js';
import type { ReviewResult } from '../review/run-review.js';

/** `--fail-on`: a severity, or none (the default: findings are shown, the exit code stays 0). */
export type FailOn = Severity | 'none';

export function parseFailOn(value: string | undefined): FailOn {
  if (value === undefined) return 'none';
  if (value === 'none' || (SEVERITIES as readonly string[]).includes(value)) return value as FailOn;
  throw new UsageError(`--fail-on takes ${SEVERITIES.join(', ')} or none, not "${value}".`);
}

/** The findings at or above `failOn` (none for 'none'): any of them fails the gate. */
export function failing(findings: readonly Finding[], failOn: FailOn): Finding[] {
  if (failOn === 'none') return [];
  return findings.filter((f) => severityRank(f.severity) <= severityRank(failOn));
}

/** Most severe first; equal severities keep the model's order. */
export function bySeverity(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const place = (f: Finding) => (f.line > 0 ? `${f.file}:${f.line}` : f.file);

/** `high     src/retry.ts:42  Retry never backs off: detail → fix: suggestion (confidence 0.8)` */
export function findingLine(f: Finding): string {
  const fix = f.suggestion ? ` → fix: ${oneLine(f.suggestion)}` : '';
  return `${f.severity.padEnd(8)} ${place(f)}  ${oneLine(f.title)}: ${oneLine(f.detail)}${fix} (confidence ${f.confidence})`;
}

function counts(findings: readonly Finding[]): string {
  if (!findings.length) return 'no findings';
  const by = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} (${by.map(([s, n]) => `${n} ${s}`).join(', ')})`;
}

/** The closing line: what reviewed what, and what it cost. */
export function aboutTheReview(result: ReviewResult): string {
  const tokens = result.usage ? `, ${result.usage.prompt_tokens} in + ${result.usage.completion_tokens} out tokens${result.usage_estimated ? ' (estimated)' : ''}` : '';
  const cost = result.cost ? costWords(result.cost) : 'no usage reported';
  return `${result.model} on ${result.provider} reviewed ${result.target} (${result.files.length} file${result.files.length === 1 ? '' : 's'}): ${counts(result.findings)}${tokens}, ${cost}`;
}

/** Text for people: findings most severe first, one line each, then the summary and cost. */
export function reviewText(result: ReviewResult): string {
  const lines = bySeverity(result.findings).map(findingLine);
  if (result.unparsed_text !== undefined) lines.push("Kimi's reply could not be read as findings; here it is as written:", result.unparsed_text.trimEnd());
  if (result.summary) lines.push('', oneLine(result.summary));
  lines.push('', aboutTheReview(result));
  return `${lines.join('\n')}\n`;
}

// GitHub's workflow-command escaping (actions/toolkit, command.ts): the message escapes %, CR and
// LF; a property also escapes the ':' and ',' that would end it.
const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

const ANNOTATION: Record<Severity, 'error' | 'warning' | 'notice'> = { critical: 'error', high: 'error', medium: 'warning', low: 'notice' };

/** One annotation: `::error file=src/a.ts,line=3,title=Kimi (high): Title::detail`. */
export function annotation(f: Finding): string {
  const properties = [`file=${escapeProperty(f.file)}`, ...(f.line > 0 ? [`line=${f.line}`] : []), `title=${escapeProperty(`Kimi (${f.severity}): ${f.title}`)}`];
  const message = `${f.detail}${f.suggestion ? `\n\nSuggestion: ${f.suggestion}` : ''}\n\n(confidence ${f.confidence})`;
  return `::${ANNOTATION[f.severity]} ${properties.join(',')}::${escapeData(message)}`;
}

/**
 * Free text from the model (summary, a reply that was not findings) inside `::stop-commands::`,
 * so a line of it that starts with `::` is printed, never run as a workflow command.
 */
export function untrustedBlock(text: string): string {
  const token = randomBytes(16).toString('hex');
  return `::stop-commands::${token}\n${text.trimEnd()}\n::${token}::\n`;
}

export function reviewGithub(result: ReviewResult): string {
  const annotations = bySeverity(result.findings).map(annotation).join('\n');
  const free = [result.unparsed_text !== undefined ? `Kimi's reply could not be read as findings; here it is as written:\n${result.unparsed_text}` : '', result.summary]
    .filter(Boolean)
    .join('\n\n');
  return `${annotations ? `${annotations}\n` : ''}${free ? untrustedBlock(free) : ''}${aboutTheReview(result)}\n`;
}
