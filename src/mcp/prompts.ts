/**
 * The `/kimi:*` commands as MCP prompts (prompts/list, prompts/get), for clients that show a
 * server's prompts as slash commands (VS Code, Cursor, Gemini CLI, Windsurf). The same definitions
 * and text as the command files (src/commands/), so a prompt and its command say the same thing.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { COMMANDS } from '../commands/definitions.js';
import type { CommandDefinition } from '../commands/definitions.js';
import { promptText } from '../commands/render.js';

/** Each argument a string; a required one says what to pass when missing; unknown names are refused, not dropped. */
function argsSchema(command: CommandDefinition) {
  const shape = Object.fromEntries(
    command.arguments.map((a) => {
      const value = z.string({ error: `${a.name} is required: ${a.description}` }).describe(a.description);
      return [a.name, a.required ? value : value.optional()];
    }),
  );
  return z.strictObject(shape, { error: (issue) => (issue.code === 'unrecognized_keys' ? `${command.name} takes only ${command.arguments.map((a) => a.name).join(', ')}` : undefined) });
}

export function registerPrompts(server: McpServer): void {
  for (const command of COMMANDS) {
    server.registerPrompt(command.name, { title: `/kimi:${command.name}`, description: command.description, argsSchema: argsSchema(command) }, (args: Record<string, string | undefined>) => ({
      description: command.description,
      messages: [{ role: 'user', content: { type: 'text', text: promptText(command, args) } }],
    }));
  }
}
