/**
 * Registers the tools with the SDK server. Handlers return text plus structured content, or
 * throw: every throw becomes an `isError` result whose text has been scrubbed of secrets, so no
 * failure can crash the server. A call that needs the user's confirmation returns an
 * input-required result instead (confirm.ts).
 */
import type { CallToolResult, InputRequiredResult, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { scrub } from '../log.js';
import type { RootsSource } from '../kimi/messages.js';
import { ConfirmationNeeded, spendConfirmation } from './confirm.js';
import { runInBackground } from './background.js';
import type { BackgroundContext } from './background.js';
import { describeIssues, outputJsonSchema, outputOf, toolDefinition, unknownArguments } from './tool.js';
import type { KimiTool, ToolCall } from './tool.js';
import { errorResult, failureResult, replyResult } from './tool-result.js';

/** Accepts any arguments at the SDK level; each tool validates with its own schema and words. */
const passThrough = z.looseObject({});

export function registerTools(server: McpServer, tools: readonly KimiTool[], roots: RootsSource, background: Omit<BackgroundContext, 'server'>): void {
  for (const tool of tools) {
    const registered = server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: passThrough, outputSchema: outputOf(tool), annotations: tool.annotations },
      async (args: unknown, ctx): Promise<CallToolResult | InputRequiredResult> => {
        const unknown = args && typeof args === 'object' ? unknownArguments(tool, args as Record<string, unknown>) : undefined;
        if (unknown) return errorResult(unknown);
        const parsed = tool.input.safeParse(args ?? {});
        if (!parsed.success) {
          return errorResult(`Invalid arguments for ${tool.name}: ${describeIssues(parsed.error)}. See kimi://schemas/${tool.name}.`);
        }
        const token = ctx.mcpReq._meta?.progressToken;
        let progress = 0;
        const confirm = spendConfirmation(server.server, ctx);
        const call: ToolCall = { signal: ctx.mcpReq.signal, roots, ...(confirm ? { confirm } : {}) };
        if (token !== undefined) {
          call.progress = (message) => ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message: scrub(message) } });
        }
        try {
          const { background: inBackground, ...callArgs } = parsed.data as { background?: boolean };
          if (tool.background && inBackground) return await runInBackground(tool, callArgs, call, { ...background, server });
          return replyResult(await tool.handle(callArgs, call));
        } catch (e) {
          if (e instanceof ConfirmationNeeded) return e.result;
          return failureResult(tool.name, e);
        }
      },
    );
    // The schema the wire codec projects results against: the one tools/list shows (type object at the root).
    registered.outputSchemaJson = outputJsonSchema(tool) as typeof registered.outputSchemaJson;
  }
  // The SDK would list the pass-through schema; list each tool's real, compact schema instead.
  server.server.setRequestHandler('tools/list', () => ({ tools: tools.map(toolDefinition) }));
}
