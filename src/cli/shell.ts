/**
 * `kimi-mcp cost` and `kimi-mcp chat` on the launcher's quick path (dist/shell.js): one CommonJS
 * file, so the two commands an agent without MCP runs most start without the ES module loader
 * and the full CLI's chunks. It takes a command only while the build-time catalog fits the skill
 * on disk and nothing in it needs more (`--file` needs the glob libraries); otherwise it declines
 * before doing anything, and the launcher runs the full CLI (dist/main.mjs), which gives the same
 * results from the same code (src/cli/chat.ts).
 */
import { storedCatalog } from '../catalog/current.js';
import { skillRootFor } from '../startup/snapshot.js';
import { chatOptions, costOptions, exitWith, parseCommandLine } from './args.js';
import type { CommandLine } from './args.js';
import { runChatCommand, runCostCommand } from './chat.js';
import { contextFor } from './context.js';

/** The command line, if this path takes it; anything unusual (even a mistake) is the full CLI's to answer. */
function plainCommand(argv: string[]): CommandLine | undefined {
  try {
    const line = parseCommandLine(argv);
    const { values, command, extra } = line;
    const plain = (command === 'cost' || command === 'chat') && !extra.length && !values.help && !values.version && !values.file?.length;
    return plain ? line : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the command and returns true, or returns false having done nothing. */
export function runShellCommand(argv: string[], distDir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const line = plainCommand(argv);
  const root = line && skillRootFor(env, distDir);
  const catalog = root && storedCatalog(env, distDir, root);
  if (!line || !catalog) return false;
  const cli = contextFor(catalog, env);
  exitWith(line.command === 'chat' ? runChatCommand(cli, line.target, chatOptions(line)) : runCostCommand(cli, costOptions(line)));
  return true;
}
