import { chatTool } from '../chat-reply.js';
import type { ChatContext } from '../chat-reply.js';
import { chatInput, chatOutput } from '../schemas.js';
import { defineTool } from '../tool.js';

export const kimiChatTool = (ctx: ChatContext) =>
  defineTool({
    name: 'kimi_chat',
    title: 'Ask Kimi',
    description: 'Ask a Kimi model; returns the answer, reasoning, token usage and cost. prompt or messages; images are paths or URLs.',
    input: chatInput(ctx.catalog),
    output: chatOutput,
    annotations: { readOnlyHint: true, openWorldHint: true },
    handle: (args, call) => chatTool(ctx, args, call, false),
  });
