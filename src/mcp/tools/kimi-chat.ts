import { chatTool } from '../chat-reply.js';
import type { ChatContext } from '../chat-reply.js';
import { chatInput, chatOutput } from '../schemas.js';
import { defineTool } from '../tool.js';

export const kimiChatTool = (ctx: ChatContext) =>
  defineTool({
    name: 'kimi_chat',
    title: 'Ask Kimi',
    description: 'Ask a Kimi model; returns the answer, reasoning, usage, cost and conversation_id (pass back to continue). prompt or messages; files: paths/globs the server reads; images: paths or URLs.',
    input: chatInput(ctx.catalog),
    output: chatOutput,
    annotations: { readOnlyHint: true, openWorldHint: true },
    background: true,
    handle: (args, call) => chatTool(ctx, args, call, false),
  });
