/**
 * Checks a message against the MCP schema of its method before the SDK dispatches it. The SDK
 * answers some wrong params (tools/list with a numeric cursor, say) with -32603 Internal error
 * and others with a zod dump; here each is -32602 Invalid params naming the fields. A
 * notification with wrong params is dropped with a log line (notifications are never answered).
 * Installed on whatever transport a server connects to, in both eras.
 */
import { ClientNotificationSchema, ClientRequestSchema, JSONRPCNotificationSchema, JSONRPCRequestSchema, JSONRPCResponseSchema } from '@modelcontextprotocol/core';
import { ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import { log } from '../log.js';

type Schema = z.ZodType<unknown>;
const byMethod = (options: readonly { shape: { method: { value: unknown } } }[]) =>
  new Map(options.map((s) => [s.shape.method.value as string, s as unknown as Schema]));
const requests = byMethod(ClientRequestSchema.options);
const notifications = byMethod(ClientNotificationSchema.options);

const clip = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}…` : s);

function describe(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : 'message'}: ${clip(i.message)}`);
  return issues.join('; ') + (error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '');
}

/** What is wrong with a message's params by MCP's schema, or undefined if nothing (or the method is not MCP's). */
/**
 * The requests both eras have. The schemas above are the 2025 era's: on a 2026-07-28 connection a
 * method that era removed (initialize, ping, logging/setLevel, resources/subscribe…) is left to
 * the SDK, which answers it Method not found, as the spec says, whatever its params.
 */
const SHARED_METHODS = new Set(['tools/list', 'tools/call', 'resources/list', 'resources/read', 'resources/templates/list', 'prompts/list', 'prompts/get', 'completion/complete']);

export function paramsProblem(message: JSONRPCMessage, era: 'legacy' | 'modern' = 'legacy'): string | undefined {
  if (era === 'modern' && 'method' in message && !SHARED_METHODS.has(message.method)) return undefined;
  const kind = !('method' in message) ? JSONRPCResponseSchema : 'id' in message ? JSONRPCRequestSchema : JSONRPCNotificationSchema;
  const whole = kind.safeParse(message);
  if (!whole.success) return describe(whole.error);
  if (!('method' in message)) return undefined;
  const schema = ('id' in message ? requests : notifications).get(message.method);
  const checked = schema?.safeParse({ method: message.method, params: message.params });
  if (checked && !checked.success) return describe(checked.error);
  // Parsing copies arguments into fresh objects, where "__proto__" would set the prototype (and
  // smuggle inherited values past the unknown-argument check) instead of being refused.
  const args = (message.params as { arguments?: unknown } | undefined)?.arguments;
  if (message.method === 'tools/call' && typeof args === 'object' && args !== null && Object.hasOwn(args, '__proto__')) {
    return 'params.arguments: "__proto__" is no argument of any tool; remove it';
  }
  return undefined;
}

/** Installs the check on a transport before a server connects to it (the SDK sets onmessage, then starts the transport). */
export function guardInbound(transport: Transport, era: 'legacy' | 'modern'): void {
  const start = transport.start.bind(transport);
  transport.start = () => {
    const dispatch = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const problem = paramsProblem(message, era);
      if (problem === undefined) return dispatch?.(message, extra);
      if ('method' in message && 'id' in message) {
        const error = { jsonrpc: '2.0' as const, id: message.id, error: { code: ProtocolErrorCode.InvalidParams, message: `Invalid params for ${clip(message.method, 60)}: ${problem}` } };
        void transport.send(error, { relatedRequestId: message.id }).catch((e: unknown) => log('could not send an error:', e));
      } else log(`ignored a ${'method' in message ? `${clip(message.method, 60)} notification` : 'response'}: ${problem}`);
    };
    return start();
  };
}
