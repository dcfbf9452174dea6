/** Every tool the server offers, in the order clients list them. */
import type { KimiTool, ToolContext } from '../tool.js';
import { estimateCostTool } from './estimate-cost.js';
import { listModelsTool } from './list-models.js';

export function createTools(ctx: ToolContext): KimiTool[] {
  return [listModelsTool(ctx), estimateCostTool(ctx)];
}
