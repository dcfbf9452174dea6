/**
 * A tool's reply (or failure) as the tools/call result the client gets: secrets scrubbed from the
 * text and the structured content, long replies linked.
 */
import { log, scrub } from '../log.js';

export interface ToolReply<Out> {
  text: string;
  structured: Out;
  /** A failure that still has content worth returning (a partial reply). */
  isError?: boolean;
  /** Resources the agent may read for more (a long reply in full). */
  links?: { uri: string; name: string; mimeType: string }[];
}

export interface ToolResult {
  [key: string]: unknown;
  content: ({ type: 'text'; text: string } | { type: 'resource_link'; uri: string; name: string; mimeType: string })[];
  structuredContent?: Record<string, unknown>;
  isError?: true;
}

export function errorResult(message: string): ToolResult {
  return { isError: true, content: [{ type: 'text', text: scrub(message) }] };
}

export function replyResult(reply: ToolReply<unknown>): ToolResult {
  const links = (reply.links ?? []).map((l) => ({ type: 'resource_link' as const, ...l }));
  return {
    content: [{ type: 'text', text: scrub(reply.text) }, ...links],
    // A stored failure handed back by kimi_job has none.
    ...(reply.structured === undefined ? {} : { structuredContent: JSON.parse(scrub(JSON.stringify(reply.structured))) as Record<string, unknown> }),
    ...(reply.isError ? { isError: true as const } : {}),
  };
}

/** A handler's throw: refusals and host failures are the agent's to read; anything else is also logged. */
export function failureResult(tool: string, e: unknown): ToolResult {
  const expected = e instanceof Error && (e.name === 'UsageError' || e.name === 'UpstreamError');
  if (!expected) log(`${tool} failed:`, e);
  return errorResult(e instanceof Error ? e.message : String(e));
}
