/** Runs the built CLI as a user would, with a clean environment of our choosing. */
import { join } from 'node:path';
import { ROOT } from './mcp.js';
import { runProcess } from './process.js';
import type { ProcessRun } from './process.js';

export const CLI = join(ROOT, 'dist/cli.js');

export function runCli(args: string[], env: Record<string, string | undefined> = {}, options: { cwd?: string; input?: string } = {}): Promise<ProcessRun> {
  return runProcess(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KIMI_MCP_STATE_DIR: process.env.KIMI_MCP_STATE_DIR, ...env },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}
