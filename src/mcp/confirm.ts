/**
 * Spending confirmation as one input-required step: the first pass of a call above
 * KIMI_CONFIRM_ABOVE_USD returns the question instead of a result; the client asks the user and
 * calls again with the answer, and the guard reads it on that second pass. Modern clients do the
 * retry themselves; for legacy clients the SDK's shim asks with an elicitation form and re-enters
 * the handler, so both eras run this one code path. Offered only to clients that declare
 * elicitation; the spending guard refuses, saying how to proceed, for the others.
 */
import { CLIENT_CAPABILITIES_META_KEY, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import type { ClientCapabilities, InputRequiredResult, Server, ServerContext } from '@modelcontextprotocol/server';
import type { Confirm, SpendQuestion } from '../kimi/guard.js';

const ANSWER_KEY = 'confirm_spend';

/** Thrown by the guard's confirm on the first pass; the tool handler returns its result. */
export class ConfirmationNeeded extends Error {
  constructor(readonly result: InputRequiredResult) {
    super('the user has not answered the spending confirmation yet');
  }
}

function askFor(question: SpendQuestion): InputRequiredResult {
  return inputRequired({
    inputRequests: {
      [ANSWER_KEY]: inputRequired.elicit({
        mode: 'form',
        message: question.message,
        // Ticked by default: accepting the form is the yes, unticking it a no.
        requestedSchema: { type: 'object', properties: { send: { type: 'boolean', title: `Send to ${question.model} on ${question.provider}`, default: true } } },
      }),
    },
  });
}

/**
 * Whether this request's client can be asked with a form: elicitation declared in initialize
 * (legacy) or in the request's envelope (modern), with form mode (`{}` means form only; a client
 * that opens URLs only cannot show the question).
 */
function canAskWithForm(server: Server, ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as { [CLIENT_CAPABILITIES_META_KEY]?: ClientCapabilities } | undefined;
  const elicitation = (envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? server.getClientCapabilities())?.elicitation;
  if (!elicitation) return false;
  return 'form' in elicitation || !('url' in elicitation);
}

export function spendConfirmation(server: Server, ctx: ServerContext): Confirm | undefined {
  if (!canAskWithForm(server, ctx)) return undefined;
  return async (question) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, ANSWER_KEY);
    if (answer.kind !== 'elicit') throw new ConfirmationNeeded(askFor(question));
    if (answer.action !== 'accept') return answer.action;
    // Accepting is a yes unless the box was unticked; content left out or partial reads as the default.
    return answer.content?.send === false ? 'decline' : 'accept';
  };
}
