/**
 * The checks the simulated host applies to a chat request before answering, as Moonshot applies
 * them (and RunAPI, for the models it takes basic text only for): each refusal is the status,
 * error type and message the real host sends.
 */

const TEXT_ONLY = new Set(['kimi-k3', 'kimi-k2.7-code']);
export const ALWAYS_THINKING = new Set(['kimi-k3.1-pro', 'kimi-k3', 'kimi-k2.7-code']);
const FIXED_SAMPLING = new Set(['kimi-k2.6', 'kimi-k2.5']);
/** Models that take a top-level reasoning_effort, and its values. */
const EFFORT_MODELS = new Set(['kimi-k3.1-pro', 'kimi-k3']);
const EFFORTS = ['low', 'high', 'max'];

export type Message = { role: string; content: unknown; tool_calls?: { id?: unknown }[]; tool_call_id?: unknown; reasoning_content?: unknown };

export function lastUserText(messages: Message[]): string {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  if (Array.isArray(user.content)) return user.content.map((p: { text?: string }) => p.text ?? '').join(' ');
  return '';
}

function imageParts(messages: Message[]): { url: string }[] {
  return messages.flatMap((m) =>
    Array.isArray(m.content) ? m.content.filter((p: { type?: string }) => p.type === 'image_url').map((p: { image_url: { url: string } }) => p.image_url) : [],
  );
}

const TOOL_NAME = /^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$/;
const MAX_TOOLS = 128;

/**
 * Moonshot's tool rules: at most 128 well-named function tools; with thinking on, tool_choice
 * only "auto" or "none"; every earlier tool call answered by a tool message with its id, and
 * every tool message answering a call.
 */
function validateTools(body: Record<string, unknown>, messages: Message[], thinking: boolean): string | undefined {
  const tools = body.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.length > MAX_TOOLS) return `Invalid request: tools must be a list of at most ${MAX_TOOLS} tools`;
    const names = tools.map((t: { function?: { name?: unknown } }) => t?.function?.name);
    const bad = names.find((n) => typeof n !== 'string' || !TOOL_NAME.test(n));
    if (bad !== undefined) return `Invalid request: invalid function name ${JSON.stringify(bad)}`;
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) return `function name ${String(twice)} is duplicated`;
  }
  const choice = body.tool_choice;
  if (thinking && choice !== undefined && choice !== 'auto' && choice !== 'none') {
    return `tool_choice '${typeof choice === 'string' ? choice : 'specified'}' is incompatible with thinking enabled`;
  }
  const called = new Set(messages.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : [])));
  const answered = new Set(messages.flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])));
  const stray = [...answered].find((id) => !called.has(id));
  if (stray !== undefined) return `tool_call_id not found: no earlier tool call has the id ${String(stray)}`;
  const open = [...called].find((id) => !answered.has(id));
  if (open !== undefined) return `tool_call_id not found: the tool call ${String(open)} has no tool message answering it`;
  return undefined;
}

/** Whether a request uses tools: declares them, picks one, or carries tool history. */
function usesTools(body: Record<string, unknown>, messages: Message[]): boolean {
  return body.tools !== undefined || body.tool_choice !== undefined || messages.some((m) => m.role === 'tool' || (m.tool_calls?.length ?? 0) > 0);
}

/**
 * Moonshot's request checks, in the order the host applies them: unknown model (404), then
 * empty messages, basic-text-only models on this host, thinking type, tools, fixed sampling,
 * both output caps, and images (400).
 */
export function validate(body: Record<string, unknown>, models: string[], basicTextOnly: readonly string[]): [number, string, string] | undefined {
  const model = String(body.model);
  if (!models.includes(model)) return [404, 'resource_not_found_error', `Not found the model ${model} or Permission denied`];
  const messages = body.messages as Message[] | undefined;
  if (!Array.isArray(messages) || messages.length === 0) return [400, 'invalid_request_error', 'Invalid request: messages must not be empty'];
  if (basicTextOnly.includes(model) && usesTools(body, messages)) {
    return [400, 'invalid_request_error', `Invalid request: ${model} accepts basic text only here; tools and tool history are not supported`];
  }
  const thinking = (body.thinking as { type?: string } | undefined)?.type;
  if (thinking !== undefined && !['enabled', 'disabled'].includes(thinking)) return [400, 'invalid_request_error', 'invalid thinking type'];
  if (ALWAYS_THINKING.has(model) && thinking === 'disabled') return [400, 'invalid_request_error', 'invalid thinking: only type=enabled is allowed for this model'];
  if (body.reasoning_effort !== undefined) {
    if (!EFFORT_MODELS.has(model)) return [400, 'invalid_request_error', 'Invalid request: reasoning_effort is not supported for this model'];
    if (!EFFORTS.includes(String(body.reasoning_effort))) return [400, 'invalid_request_error', `Invalid request: reasoning_effort must be one of ${EFFORTS.join(', ')}`];
  }
  const toolProblem = validateTools(body, messages, ALWAYS_THINKING.has(model) || thinking !== 'disabled');
  if (toolProblem) return [400, 'invalid_request_error', toolProblem];
  // With thinking on, an earlier assistant tool call must carry its reasoning back.
  if (thinking !== 'disabled') {
    const bare = messages.findIndex((m) => m.role === 'assistant' && m.tool_calls?.length && typeof m.reasoning_content !== 'string');
    if (bare !== -1) return [400, 'invalid_request_error', `thinking is enabled but reasoning_content is missing in assistant tool call message at index ${bare}`];
  }
  if (FIXED_SAMPLING.has(model) && body.temperature !== undefined) {
    const allowed = thinking === 'disabled' ? 0.6 : 1.0;
    if (body.temperature !== allowed) return [400, 'invalid_request_error', `invalid temperature: only ${allowed} is allowed for this model`];
  }
  if (TEXT_ONLY.has(model) && body.max_tokens !== undefined && body.max_completion_tokens !== undefined) {
    return [400, 'invalid_request_error', 'Invalid request: send max_tokens or max_completion_tokens, not both'];
  }
  const images = imageParts(messages);
  if (images.length && TEXT_ONLY.has(model)) return [400, 'invalid_request_error', 'Invalid request: this model does not accept images'];
  if (images.some((i) => !String(i.url).startsWith('data:') && !String(i.url).startsWith('ms://'))) return [400, 'invalid_request_error', 'unsupported image url'];
  return undefined;
}
