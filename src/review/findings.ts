/**
 * Findings from Kimi's reply. Where the model takes structured output, the reply is asked for
 * with REVIEW_SCHEMA; elsewhere the prompt asks for the same JSON and models write it loosely:
 * in a code fence, with prose around it, a trailing comma, a missing closing bracket, a field
 * missing or named differently, "major" for a severity. parseReview repairs what it cheaply can
 * (jsonc-parser reads what JSON.parse refuses), validates every finding with zod, and says what
 * it dropped, with the dropped item itself, so nothing Kimi wrote is lost. A reply with no
 * readable findings gives undefined: the caller returns the whole text instead.
 */
// The ESM build: the package's main entry is UMD, whose requires esbuild cannot bundle (as install/jsonc.ts).
import { getNodeValue, parseTree } from 'jsonc-parser/lib/esm/main.js';
import { finding, severityRank } from './types.js';
import type { Finding, Severity } from './types.js';

/** A finding's confidence when Kimi gave none: neither sure nor doubtful. */
export const DEFAULT_CONFIDENCE = 0.5;

/**
 * The reply's JSON Schema for the host's structured output (strict mode: every property
 * required, so an optional suggestion is a nullable one).
 */
export const REVIEW_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['findings', 'summary'],
  properties: {
    findings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['severity', 'file', 'line', 'title', 'detail', 'suggestion', 'confidence'],
        properties: {
          severity: { type: 'string', enum: ['critical', 'high', 'medium', 'low'] },
          file: { type: 'string' },
          line: { type: 'integer', minimum: 0 },
          title: { type: 'string' },
          detail: { type: 'string' },
          suggestion: { type: ['string', 'null'] },
          confidence: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
    },
    summary: { type: 'string' },
  },
};

export interface ParsedReview {
  /** Valid findings, most severe first (then most confident). */
  findings: Finding[];
  summary: string;
  notes: string[];
}

/** Words models use for a severity, mapped onto ours. */
const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical', blocker: 'critical', blocking: 'critical', severe: 'critical', fatal: 'critical',
  high: 'high', major: 'high', error: 'high', important: 'high', serious: 'high',
  medium: 'medium', moderate: 'medium', warning: 'medium', warn: 'medium', normal: 'medium',
  low: 'low', minor: 'low', info: 'low', informational: 'low', nit: 'low', nitpick: 'low', trivial: 'low', style: 'low', suggestion: 'low',
};

/** Words for a confidence, for models that write one instead of a number. */
const CONFIDENCE_WORDS: Record<string, number> = { high: 0.9, medium: 0.6, low: 0.3 };

type Loose = Record<string, unknown>;

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const first = (o: Loose, ...keys: string[]): unknown => keys.map((k) => o[k]).find((v) => v !== undefined && v !== null);

function severityOf(v: unknown): Severity | undefined {
  return typeof v === 'string' ? SEVERITY_WORDS[v.trim().toLowerCase()] : undefined;
}

/** A line number from 42, "42", "42-50" or "L42"; 0 (the file as a whole) when none is given. */
function lineOf(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  const match = typeof v === 'string' ? /^\s*L?(\d+)/i.exec(v) : null;
  return match ? Number(match[1]) : undefined;
}

/** 0..1 from a number (a percentage too) or a word; DEFAULT_CONFIDENCE when absent. */
function confidenceOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return DEFAULT_CONFIDENCE;
  const n = typeof v === 'string' ? (CONFIDENCE_WORDS[v.trim().toLowerCase()] ?? Number(v.replace('%', ''))) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return undefined;
  return n <= 1 ? n : n <= 100 ? n / 100 : undefined;
}

/** The first sentence of `detail`, for a finding that came without a title. */
function titleFrom(detail: string): string {
  const sentence = /^(.+?[.!?])(\s|$)/.exec(detail)?.[1] ?? detail;
  return sentence.length <= 100 ? sentence : `${sentence.slice(0, 99)}…`;
}

/** One finding as Kimi wrote it, repaired and validated; undefined when it cannot be. */
function repairFinding(raw: unknown): Finding | undefined {
  if (!isObject(raw)) return undefined;
  let file = text(first(raw, 'file', 'path', 'filename', 'location')) ?? '';
  let lineRaw = first(raw, 'line', 'line_number', 'lineNumber', 'start_line');
  // "src/x.ts:42" with no line of its own.
  const located = /^(.+?):(\d+)(?:-\d+)?$/.exec(file);
  if (located && lineRaw === undefined) [file, lineRaw] = [located[1]!, located[2]];
  const detail = text(first(raw, 'detail', 'details', 'description', 'explanation', 'body', 'message', 'reason'));
  const title = text(first(raw, 'title', 'summary', 'issue', 'name', 'headline')) ?? (detail ? titleFrom(detail) : undefined);
  const suggestion = text(first(raw, 'suggestion', 'fix', 'recommendation', 'suggested_fix'));
  const candidate = {
    severity: severityOf(first(raw, 'severity', 'level', 'priority')),
    file,
    line: lineOf(lineRaw),
    title,
    detail: detail ?? title,
    ...(suggestion ? { suggestion } : {}),
    confidence: confidenceOf(raw.confidence),
  };
  const checked = finding.safeParse(candidate);
  return checked.success ? checked.data : undefined;
}

/**
 * The findings list of a parsed value: {findings: [...]}, {issues: [...]}, or a bare array of
 * objects (not empty: a "[see below]" in the prose is no list of findings).
 */
function findingsList(value: unknown): { items: unknown[]; summary?: string } | undefined {
  if (Array.isArray(value)) return value.length && value.every(isObject) ? { items: value } : undefined;
  if (!isObject(value)) return undefined;
  const items = first(value, 'findings', 'issues', 'problems', 'comments');
  if (!Array.isArray(items)) return undefined;
  const summary = text(first(value, 'summary', 'overview', 'verdict'));
  return { items, ...(summary ? { summary } : {}) };
}

/**
 * The JSON value at the start of `text` and where it ends: strict JSON.parse first, then
 * jsonc-parser's tolerant tree (trailing commas, a reply cut off before its closing brackets,
 * prose after the value), whose root node says where the value ended.
 */
function readJson(text: string): { value: unknown; length: number } | undefined {
  try {
    return { value: JSON.parse(text), length: text.length };
  } catch {
    const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
    return root ? { value: getNodeValue(root), length: root.offset + root.length } : undefined;
  }
}

/** How many `{` / `[` starts are tried in a reply with no fence: prose may hold a stray brace. */
const MAX_STARTS = 20;

/** Where the JSON may be, most likely first: fenced blocks (closed or not), then from each `{` or `[` on. */
function candidates(reply: string): { text: string; start: number; fence?: number }[] {
  const found: { text: string; start: number; fence?: number }[] = [];
  for (const m of reply.matchAll(/```[a-zA-Z]*[^\S\n]*\n([\s\S]*?)(?:```|$)/g)) found.push({ text: m[1]!, start: m.index, fence: m[0].length });
  let starts = 0;
  for (let i = 0; i < reply.length && starts < MAX_STARTS; i++) {
    if (reply[i] !== '{' && reply[i] !== '[') continue;
    starts++;
    found.push({ text: reply.slice(i), start: i });
  }
  return found;
}

/** The prose around the JSON, as a summary when the JSON has none. */
function proseAround(reply: string, start: number, end: number): string {
  return `${reply.slice(0, start)}\n${reply.slice(end)}`.replace(/```[a-zA-Z]*/g, '').replace(/\s+/g, ' ').trim();
}

/**
 * Findings and summary from a reply (structured output or text), or undefined when no findings
 * list can be read from it. A list with no findings ("nothing to report") is a result, not a failure.
 */
export function parseReview(reply: string): ParsedReview | undefined {
  for (const candidate of candidates(reply)) {
    const json = readJson(candidate.text);
    const list = json && findingsList(json.value);
    if (!list) continue;
    const { start } = candidate;
    const end = start + (candidate.fence ?? json.length);
    const findings: Finding[] = [];
    const dropped: unknown[] = [];
    for (const item of list.items) {
      const repaired = repairFinding(item);
      if (repaired) findings.push(repaired);
      else dropped.push(item);
    }
    const notes = dropped.length
      ? [`${dropped.length} finding(s) Kimi wrote could not be read (no known severity, or neither title nor detail), shown here as written: ${dropped.map((d) => JSON.stringify(d)).join(' ')}`]
      : [];
    // A stable sort: Kimi's own order stands among findings of the same severity and confidence.
    findings.sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.confidence - a.confidence);
    return { findings, summary: list.summary ?? proseAround(reply, start, end), notes };
  }
  return undefined;
}
