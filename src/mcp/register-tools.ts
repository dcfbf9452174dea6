/**
 * Registers the tools with the SDK server. Handlers return text plus structured content, or
 * throw: every throw becomes an `isError` result whose text has been scrubbed of secrets, so no
 * failure can crash the server.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { scrub } from '../log.js';
import type { RootsSource } from '../kimi/messages.js';
import { elicitationConfirm } from './confirm.js';
import { describeIssues, toolDefinition, unknownArguments } from './tool.js';
import type { KimiTool, ToolCall } from './tool.js';
import { errorResult, failureResult, replyResult } from './tool-result.js';

/** Accepts any arguments at the SDK level; each tool validates with its own schema and words. */
const passThrough = z.looseObject({});

export function registerTools(server: McpServer, tools: readonly KimiTool[], roots: RootsSource): void {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: passThrough, outputSchema: tool.output, annotations: tool.annotations },
      async (args: unknown, extra): Promise<CallToolResult> => {
        const unknown = args && typeof args === 'object' ? unknownArguments(tool, args as Record<string, unknown>) : undefined;
        if (unknown) return errorResult(unknown);
        const parsed = tool.input.safeParse(args ?? {});
        if (!parsed.success) {
          return errorResult(`Invalid arguments for ${tool.name}: ${describeIssues(parsed.error)}. See kimi://schemas/${tool.name}.`);
        }
        const token = extra._meta?.progressToken;
        let progress = 0;
        const confirm = elicitationConfirm(server.server, extra.signal);
        const call: ToolCall = { signal: extra.signal, roots, ...(confirm ? { confirm } : {}) };
        if (token !== undefined) {
          call.progress = (message) =>
            extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message: scrub(message) } });
        }
        try {
          return replyResult(await tool.handle(parsed.data, call));
        } catch (e) {
          return failureResult(tool.name, e);
        }
      },
    );
  }
  // The SDK would list the pass-through schema; list each tool's real, compact schema instead.
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.map(toolDefinition) }));
}
