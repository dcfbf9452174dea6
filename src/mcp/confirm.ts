/**
 * Spending confirmation through MCP elicitation: a one-field form with the model, host and
 * worst-case cost in its message. Offered only to clients that declare elicitation; the
 * spending guard refuses, saying how to proceed, for the others.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Confirm } from '../kimi/guard.js';
import { UsageError } from '../kimi/errors.js';

/** Long enough for a person to read and decide, short enough that a call does not hang forever. */
const ANSWER_TIMEOUT_MS = 10 * 60_000;

export function elicitationConfirm(server: Server, signal: AbortSignal): Confirm | undefined {
  if (!server.getClientCapabilities()?.elicitation) return undefined;
  return async (question) => {
    let answer;
    try {
      answer = await server.elicitInput(
        {
          mode: 'form',
          message: question.message,
          requestedSchema: {
            type: 'object',
            properties: { send: { type: 'boolean', title: `Send to ${question.model} on ${question.provider}`, default: false } },
            required: ['send'],
          },
        },
        { signal, timeout: ANSWER_TIMEOUT_MS },
      );
    } catch (e) {
      throw new UsageError(`Not sent: the confirmation could not be asked (${(e as Error).message}). Nothing was spent.`);
    }
    if (answer.action !== 'accept') return answer.action;
    return answer.content?.send === true ? 'accept' : 'decline';
  };
}
