import { chatTool } from '../chat-reply.js';
import type { ChatContext } from '../chat-reply.js';
import { chatInput, chatOutput } from '../schemas.js';
import { defineTool } from '../tool.js';

export const kimiStreamTool = (ctx: ChatContext) =>
  defineTool({
    name: 'kimi_stream',
    title: 'Ask Kimi (streamed)',
    description: 'kimi_chat, streamed: the growing reply shows as progress. Best for long answers and thinking models.',
    input: chatInput(ctx.catalog),
    output: chatOutput,
    annotations: { readOnlyHint: true, openWorldHint: true },
    handle: (args, call) => chatTool(ctx, args, call, true),
  });
