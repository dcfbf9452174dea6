/** Every tool the server offers, in the order clients list them. */
import type { ChatContext } from '../chat-reply.js';
import type { KimiTool } from '../tool.js';
import { estimateCostTool } from './estimate-cost.js';
import { kimiAgentTool } from './kimi-agent.js';
import { kimiChatTool } from './kimi-chat.js';
import { kimiJobTool } from './kimi-job.js';
import { kimiReviewTool } from './kimi-review.js';
import { kimiStreamTool } from './kimi-stream.js';
import { listModelsTool } from './list-models.js';

export function createTools(ctx: ChatContext): KimiTool[] {
  return [kimiChatTool(ctx), kimiStreamTool(ctx), listModelsTool(ctx), estimateCostTool(ctx), kimiAgentTool(ctx), kimiReviewTool(ctx), kimiJobTool(ctx)];
}
