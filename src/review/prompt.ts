/**
 * What Kimi is told for a review: the instructions (a plain or an adversarial review, the
 * caller's focus, whether it may open files), the JSON the reply must be, and the diff.
 */
import type { FileDiff } from './diff.js';
import type { ReviewRequest } from './types.js';

const PLAIN = [
  'You are reviewing a code change: a unified diff with surrounding lines, below.',
  'Find the real problems it introduces or leaves exposed: bugs, security holes, data loss, races, broken error handling, wrong edge cases, misuse of an API, risky logic without tests.',
  'Report each problem once, at the file and line (in the new version) where it is. Do not report style preferences, and do not restate what the change does.',
];

const ADVERSARIAL = [
  'You are the adversarial reviewer of a code change: a unified diff with surrounding lines, below. Argue against it.',
  'Assume it is wrong until the code shows otherwise: what breaks, which inputs, states, failures and concurrent uses were not considered, which callers or assumptions it violates, what it makes harder later, and whether the approach itself is the wrong one.',
  'Be concrete: every finding names a file and line (in the new version) and the scenario that goes wrong. No style remarks.',
];

const SEVERITY = 'Severity: critical = data loss, a security hole, or a crash on a common path; high = wrong behaviour users will meet; medium = an edge case or failure handled wrongly; low = minor or maintainability.';

const WITH_TOOLS = 'When the diff alone does not show whether something is a problem, open what it touches (callers, definitions, tests) with your tools; paths are those of the diff. Then answer.';

const FORMAT = [
  'Answer with one JSON object and nothing else:',
  '{"findings": [{"severity": "critical"|"high"|"medium"|"low", "file": "path as in the diff", "line": line number in the new file (0 for the file as a whole), "title": "short", "detail": "what goes wrong and why", "suggestion": "how to fix it" or null, "confidence": 0 to 1}], "summary": "one paragraph: the change and your verdict"}',
  'Most severe first. An empty findings list is the right answer when nothing is wrong.',
];

export function reviewInstructions(req: Pick<ReviewRequest, 'adversarial' | 'focus'>, withTools: boolean): string {
  const lines = [...(req.adversarial ? ADVERSARIAL : PLAIN), SEVERITY];
  if (req.focus?.trim()) lines.push(`Weigh this most: ${req.focus.trim()}.`);
  if (withTools) lines.push(WITH_TOOLS);
  lines.push(...FORMAT);
  return lines.join('\n');
}

/** A fence longer than any run of backticks in `text`, so the diff cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/** The change as Kimi reads it: what was compared, then the diff in one fenced block. */
export function diffMessage(target: string, diffs: readonly FileDiff[]): string {
  const text = diffs.map((d) => d.diff.endsWith('\n') ? d.diff : `${d.diff}\n`).join('');
  const fence = fenceFor(text);
  return `The change: ${target}, ${diffs.length} file(s).\n\n${fence}diff\n${text}${fence}`;
}
