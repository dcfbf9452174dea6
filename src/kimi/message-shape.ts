/**
 * The shape of `messages` items, checked before anything is read or sent: OpenAI's chat message
 * (role, content as a string or typed parts, name, tool_calls, tool_call_id) plus the two keys
 * Kimi's hosts add, reasoning_content (a thinking model wants it back beside its tool calls) and
 * partial (Moonshot's prefilled reply). A key outside the shape is refused by name instead of
 * going upstream unchecked: any value could ride on one, a 100,000-deep object included, which
 * then failed in serialization and was blamed on the host. Strict objects never look inside a
 * key they do not know, so no value is walked deeper than the shape itself, and the lists are
 * bounded, so a check costs little whatever arrives. zod loads only for calls that pass messages.
 */
import * as z from 'zod';
import { UsageError } from './errors.js';

/** Far past any real chat, and checked before a single item is walked. */
const MAX_MESSAGES = 10_000;
const MAX_PARTS = 1_000;
const MAX_TOOL_CALLS = 1_000;
/** Problems listed in one refusal; the rest are counted. */
const MAX_LISTED = 5;

/** A strict object whose refusal of an unknown key names the key and what `what` may hold instead. */
function shape<T extends z.core.$ZodLooseShape>(what: string, fields: T) {
  const known = Object.keys(fields).join(', ');
  return z.strictObject(fields, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `has ${issue.keys.length === 1 ? 'an unknown key' : 'unknown keys'} ${keys}; ${what} has ${known}`;
    },
  });
}

const contentPart = z.discriminatedUnion(
  'type',
  [
    shape('a text part', { type: z.literal('text'), text: z.string() }),
    shape('an image part', { type: z.literal('image_url'), image_url: shape('image_url', { url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }) }),
    shape('a video part', { type: z.literal('video_url'), video_url: shape('video_url', { url: z.string() }) }),
  ],
  { error: 'must be a part of type "text", "image_url" or "video_url"' },
);

const toolCall = shape('a tool call', {
  id: z.string(),
  type: z.literal('function'),
  function: shape('function', { name: z.string(), arguments: z.string() }),
});

const message = shape('a message', {
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart).max(MAX_PARTS, `holds more than ${MAX_PARTS} parts`)], {
    error: 'must be a string, or an array of content parts',
  }),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).max(MAX_TOOL_CALLS, `holds more than ${MAX_TOOL_CALLS} tool calls`).optional(),
  tool_call_id: z.string().optional(),
  reasoning_content: z.string().optional(),
  partial: z.boolean().optional(),
}).superRefine((m, context) => {
  const misplaced = (key: string, rule: string) => context.addIssue({ code: 'custom', path: [key], message: rule });
  if (m.role !== 'assistant') {
    if (m.tool_calls !== undefined) misplaced('tool_calls', 'only an assistant message has tool_calls');
    if (m.reasoning_content !== undefined) misplaced('reasoning_content', 'only an assistant message has reasoning_content');
    if (m.partial !== undefined) misplaced('partial', 'only an assistant message is partial');
  }
  if (m.role === 'tool' && m.tool_call_id === undefined) misplaced('tool_call_id', 'a tool message needs the tool_call_id it answers');
  if (m.role !== 'tool' && m.tool_call_id !== undefined) misplaced('tool_call_id', 'only a tool message has tool_call_id');
});

type Path = readonly PropertyKey[];

function pathText(path: Path): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
}

/**
 * Each problem as `where: what`. A union's problems come from the branch that got furthest into
 * the value (an array of parts with one bad part, not "expected string"), else its own message.
 */
function describe(issues: readonly z.core.$ZodIssue[], at: Path): string[] {
  return issues.flatMap((issue) => {
    const path = [...at, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length) {
      const depth = (branch: readonly z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
      const furthest = issue.errors.reduce((best, branch) => (depth(branch) > depth(best) ? branch : best));
      if (depth(furthest) > 0) return describe(furthest, path);
    }
    const where = `messages${pathText(path)}`;
    return issue.code === 'unrecognized_keys' ? [`${where} ${issue.message}`] : [`${where}: ${issue.message}`];
  });
}

/** Throws a UsageError listing what is wrong with `messages`, before anything is read or sent. */
export function checkMessageShapes(messages: readonly unknown[]): void {
  if (messages.length > MAX_MESSAGES) {
    throw new UsageError(`messages holds ${messages.length} items; a call takes at most ${MAX_MESSAGES}. Send the recent part of the chat, or continue a conversation_id.`);
  }
  const result = z.array(message).safeParse(messages);
  if (result.success) return;
  const problems = describe(result.error.issues, []);
  const more = problems.length > MAX_LISTED ? ` (and ${problems.length - MAX_LISTED} more)` : '';
  throw new UsageError(`${problems.slice(0, MAX_LISTED).join('; ')}${more}. Each item is an OpenAI chat message: role, content (a string, or parts such as {type: "text", text}), and name, tool_calls or tool_call_id where they apply.`);
}
