/**
 * One declarative object per tool (schemas + handler); the server registers the list generically
 * (register-tools.ts).
 */
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { CallContext } from '../kimi/config.js';
import { jsonSchemaOf } from './json-schema.js';
import type { Confirm } from '../kimi/guard.js';
import type { RootsSource } from '../kimi/messages.js';
import type { ToolReply } from './tool-result.js';
import type { WorkEvent } from '../jobs/recorder.js';

export type ToolContext = CallContext;

export interface ToolCall {
  signal: AbortSignal;
  /** The folders files may be read from (the client's roots, asked for on first use). */
  roots: RootsSource;
  /** Asks the user to confirm an expensive call; absent when the client has no elicitation. */
  confirm?: Confirm;
  /** Sends a progress message; present only when the client asked for progress. */
  progress?: (message: string) => Promise<void>;
  /** Keeps what arrived so far (text, a step, spending) in a background job's file; present only in jobs. */
  record?: (event: WorkEvent) => void;
}

export interface KimiTool<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: In;
  output: Out;
  annotations: ToolAnnotations;
  /** The tool takes `background: true`: it then runs as a job (src/jobs) and answers at once with its job_id. */
  background?: true;
  handle(args: z.output<In>, call: ToolCall): Promise<ToolReply<z.output<Out>>>;
}

/** What a call with `background: true` returns at once. */
export const jobStarted = z.object({
  job_id: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  position: z.number().int().optional(),
});

/** Keeps the input and output types of one tool tied together while the list stays uniform. */
export function defineTool<In extends z.ZodObject, Out extends z.ZodObject>(tool: KimiTool<In, Out>): KimiTool {
  if (!tool.background) return tool as unknown as KimiTool;
  // Listed, parsed and checked for unknown arguments like every other argument.
  return { ...tool, input: tool.input.extend({ background: z.boolean().optional() }) } as unknown as KimiTool;
}

/** One union per output schema, so its JSON Schema is converted once (json-schema.ts). */
const resultOrJob = new WeakMap<z.ZodType, z.ZodType>();

/** The tool's output: for a tool that takes `background`, its result or a job_id. */
export function outputOf(tool: KimiTool): z.ZodType {
  if (!tool.background) return tool.output;
  let union = resultOrJob.get(tool.output);
  if (!union) resultOrJob.set(tool.output, (union = z.union([tool.output, jobStarted])));
  return union;
}

/** The output's JSON Schema; a union keeps `type: object` at the root, which 2025-era clients require. */
export function outputJsonSchema(tool: KimiTool): Record<string, unknown> {
  const schema = jsonSchemaOf(outputOf(tool), 'output');
  return tool.background ? { type: 'object', ...schema } : schema;
}

/** The tools/list entry of a tool: what every agent pays for in context on every turn. */
export function toolDefinition(tool: KimiTool): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.input, 'input') as Tool['inputSchema'],
    outputSchema: outputJsonSchema(tool) as Tool['outputSchema'],
    annotations: tool.annotations,
  };
}

/** A union's "Invalid input" says nothing; what each accepted form wanted does. */
function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_union' || !issue.errors.length) return issue.message;
  const forms = issue.errors.map((branch) => branch.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message.replace(/^Invalid input: /, '')}`).join(', '));
  return `matches none of its forms (${forms.join(' | ')})`;
}

/** "field: problem" for each zod issue, so the agent can fix its call in one go. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'arguments'}: ${issueText(i)}`).join('; ');
}

/** Edit distance, for "did you mean": a misspelt argument is usually one or two keystrokes off. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Arguments the tool does not take, refused rather than dropped: an agent that writes
 * `ouput_tokens` or `file` must not get an answer that silently ignored it. Checked here, not
 * with additionalProperties in every schema, so tools/list stays as small as it is.
 */
export function unknownArguments(tool: KimiTool, args: Record<string, unknown>): string | undefined {
  const accepted = Object.keys(tool.input.shape);
  const unknown = Object.keys(args).filter((k) => !accepted.includes(k));
  if (!unknown.length) return undefined;
  const named = unknown.map((k) => {
    const [near] = accepted
      .map((a) => ({ a, d: distance(k.toLowerCase(), a) }))
      .filter(({ d }) => d <= 2)
      .sort((x, y) => x.d - y.d)
      .map(({ a }) => a);
    return near ? `${JSON.stringify(k.slice(0, 60))} (did you mean ${near}?)` : JSON.stringify(k.slice(0, 60));
  });
  return `${tool.name} does not take ${named.join(', ')}; nothing was sent. It accepts: ${accepted.join(', ')}.`;
}
