/**
 * The one place that decides where kimi-mcp keeps state (conversations, the spending
 * ledger). Everything is passed in, so each platform's rule can be tested on any machine.
 */
import { homedir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { readVar } from '../env.js';
import type { Env } from '../env.js';

const NAME = 'kimi-mcp';

/**
 * KIMI_MCP_STATE_DIR if set; else on Windows %LOCALAPPDATA%\kimi-mcp (fallback
 * <home>\AppData\Local\kimi-mcp); else $XDG_STATE_HOME/kimi-mcp when it is absolute (the XDG
 * spec says relative values are to be ignored); else <home>/.local/state/kimi-mcp.
 * Variables are read with readVar, so a placeholder a client did not expand counts as unset.
 */
export function stateDir(env: Env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const override = readVar(env, 'KIMI_MCP_STATE_DIR').value;
  if (override) return override;
  if (platform === 'win32') {
    const local = readVar(env, 'LOCALAPPDATA').value;
    return local ? win32.join(local, NAME) : win32.join(home, 'AppData', 'Local', NAME);
  }
  const xdg = readVar(env, 'XDG_STATE_HOME').value;
  if (xdg && posix.isAbsolute(xdg)) return posix.join(xdg, NAME);
  return posix.join(home, '.local', 'state', NAME);
}

/**
 * `<state>/<name>`, or a folder of it named by KIMI_MCP_CONVERSATION_SCOPE, which the HTTP server
 * sets per token so its clients keep their conversations and jobs apart from each other's and
 * from the stdio user's. A scope of any other shape is never a path: it is ignored.
 */
export function scopedStateFolder(env: Env, name: string): string {
  const scope = readVar(env, 'KIMI_MCP_CONVERSATION_SCOPE').value;
  const folder = join(stateDir(env), name);
  return scope && /^[a-z0-9-]{1,64}$/.test(scope) ? join(folder, scope) : folder;
}
