/**
 * Where and how each agent keeps its MCP servers and skills. One object per agent: the config
 * file per scope, where our entry sits, the entry in the agent's own dialect (with the key passed
 * by reference wherever the format can), and the skill folder where the agent loads skills.
 */
import { join } from 'node:path';
import type { Env } from '../kimi/config.js';

export const SERVER_NAME = 'kimi';
export const SKILL_NAME = 'kimi';
/** Long Kimi calls (thinking models) outlast the 60 s tool timeouts some agents default to. */
export const LONG_CALL_SECONDS = 600;

export type Scope = 'user' | 'project';

export interface Launch {
  command: string;
  args: string[];
}

export interface InstallContext {
  home: string;
  cwd: string;
  platform: NodeJS.Platform;
  env: Env;
  launch: Launch;
  /** The key variable of the chosen host (its first key_env in the catalog). */
  keyVar: string;
  /** Extra variables to set (KIMI_PROVIDER when a non-default host was chosen). */
  settings: Record<string, string>;
  /** Write the key itself (only on request, for agents that cannot reference variables). */
  keyValue?: string;
}

export interface Agent {
  id: string;
  title: string;
  scopes: Scope[];
  format: 'json' | 'toml';
  configPath(ctx: InstallContext, scope: Scope): string;
  /** Path of the servers map inside a JSON config. */
  container: string[];
  entry(ctx: InstallContext): Record<string, unknown>;
  /** An item in a top-level list beside the servers (VS Code's input prompt for the key); none removes ours. */
  extras?: (ctx: InstallContext) => { key: string; item?: Record<string, unknown>; match: (item: unknown) => boolean };
  skillDir?(ctx: InstallContext, scope: Scope): string;
  notes(ctx: InstallContext): string[];
}

function appData(ctx: InstallContext): string {
  return ctx.env.APPDATA ?? join(ctx.home, 'AppData', 'Roaming');
}

/** The key by reference in the agent's own syntax, unless the user asked for the value itself. */
function envBlock(ctx: InstallContext, reference: (name: string) => string): Record<string, string> {
  return { ...ctx.settings, [ctx.keyVar]: ctx.keyValue ?? reference(ctx.keyVar) };
}

/** Variables written as values: the chosen host, and the key only when the user asked for that. */
function literalEnv(ctx: InstallContext): { env?: Record<string, string> } {
  const env = { ...ctx.settings, ...(ctx.keyValue ? { [ctx.keyVar]: ctx.keyValue } : {}) };
  return Object.keys(env).length ? { env } : {};
}

const stdio = (ctx: InstallContext) => ({ command: ctx.launch.command, args: ctx.launch.args });

export const AGENTS: Agent[] = [
  {
    id: 'claude-code',
    title: 'Claude Code',
    scopes: ['user', 'project'],
    format: 'json',
    configPath: (ctx, scope) => (scope === 'user' ? join(ctx.home, '.claude.json') : join(ctx.cwd, '.mcp.json')),
    container: ['mcpServers'],
    // ${VAR:-} keeps Claude Code from flagging a variable that is only set for some sessions.
    entry: (ctx) => ({ type: 'stdio', ...stdio(ctx), env: envBlock(ctx, (n) => `\${${n}:-}`) }),
    skillDir: (ctx, scope) => join(scope === 'user' ? join(ctx.home, '.claude') : join(ctx.cwd, '.claude'), 'skills', SKILL_NAME),
    notes: (ctx) => [`Export ${ctx.keyVar} in the shell that starts claude; check with: claude mcp list`],
  },
  {
    id: 'claude-desktop',
    title: 'Claude Desktop',
    scopes: ['user'],
    format: 'json',
    configPath: (ctx) =>
      ctx.platform === 'darwin'
        ? join(ctx.home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json')
        : ctx.platform === 'win32'
          ? join(appData(ctx), 'Claude', 'claude_desktop_config.json')
          : join(ctx.home, '.config', 'Claude', 'claude_desktop_config.json'),
    container: ['mcpServers'],
    // Claude Desktop expands no variables: the key is written only when asked for (--write-key).
    entry: (ctx) => ({ ...stdio(ctx), ...literalEnv(ctx) }),
    notes: (ctx) =>
      ctx.keyValue
        ? ['Restart Claude Desktop to load the server.']
        : [
            `Claude Desktop cannot read ${ctx.keyVar} from your shell. Run again with --write-key to store it in the config file,`,
            'or install the kimi-mcp .mcpb bundle, which keeps the key in the system keychain. Then restart Claude Desktop.',
          ],
  },
  {
    id: 'cursor',
    title: 'Cursor',
    scopes: ['user', 'project'],
    format: 'json',
    configPath: (ctx, scope) => join(scope === 'user' ? ctx.home : ctx.cwd, '.cursor', 'mcp.json'),
    container: ['mcpServers'],
    entry: (ctx) => ({ ...stdio(ctx), env: envBlock(ctx, (n) => `\${env:${n}}`) }),
    notes: (ctx) => [`Cursor reads ${ctx.keyVar} from its environment; restart Cursor after exporting it.`],
  },
  {
    id: 'vscode',
    title: 'VS Code',
    scopes: ['user', 'project'],
    format: 'json',
    configPath: (ctx, scope) => {
      if (scope === 'project') return join(ctx.cwd, '.vscode', 'mcp.json');
      if (ctx.platform === 'darwin') return join(ctx.home, 'Library', 'Application Support', 'Code', 'User', 'mcp.json');
      if (ctx.platform === 'win32') return join(appData(ctx), 'Code', 'User', 'mcp.json');
      return join(ctx.home, '.config', 'Code', 'User', 'mcp.json');
    },
    container: ['servers'],
    entry: (ctx) => ({ type: 'stdio', ...stdio(ctx), env: envBlock(ctx, () => '${input:kimi-api-key}') }),
    extras: (ctx) => ({
      key: 'inputs',
      ...(ctx.keyValue ? {} : { item: { type: 'promptString', id: 'kimi-api-key', description: `${ctx.keyVar} for kimi-mcp`, password: true } }),
      match: (item) => (item as { id?: unknown } | null)?.id === 'kimi-api-key',
    }),
    notes: () => ['VS Code asks for the key the first time the server starts and stores it securely.'],
  },
  {
    id: 'codex',
    title: 'Codex',
    scopes: ['user', 'project'],
    format: 'toml',
    configPath: (ctx, scope) => (scope === 'user' ? join(ctx.env.CODEX_HOME ?? join(ctx.home, '.codex'), 'config.toml') : join(ctx.cwd, '.codex', 'config.toml')),
    container: ['mcp_servers', SERVER_NAME],
    // Codex passes only a short whitelist of variables to servers: forward the key by name.
    entry: (ctx) => ({
      ...stdio(ctx),
      ...literalEnv(ctx),
      ...(ctx.keyValue ? {} : { env_vars: [ctx.keyVar] }),
      startup_timeout_sec: 20,
      tool_timeout_sec: LONG_CALL_SECONDS,
    }),
    notes: (ctx) => [`Codex forwards ${ctx.keyVar} from your environment (env_vars); tool calls may run ${LONG_CALL_SECONDS} s.`],
  },
  {
    id: 'gemini-cli',
    title: 'Gemini CLI',
    scopes: ['user', 'project'],
    format: 'json',
    configPath: (ctx, scope) => join(scope === 'user' ? ctx.home : ctx.cwd, '.gemini', 'settings.json'),
    container: ['mcpServers'],
    entry: (ctx) => ({ ...stdio(ctx), env: envBlock(ctx, (n) => `$${n}`), timeout: LONG_CALL_SECONDS * 1000 }),
    notes: (ctx) => [`Gemini CLI expands $${ctx.keyVar} from its environment; check with: gemini mcp list`],
  },
  {
    id: 'windsurf',
    title: 'Windsurf',
    scopes: ['user'],
    format: 'json',
    configPath: (ctx) => join(ctx.home, '.codeium', 'windsurf', 'mcp_config.json'),
    container: ['mcpServers'],
    entry: (ctx) => ({ ...stdio(ctx), env: envBlock(ctx, (n) => `\${env:${n}}`) }),
    notes: () => ['Refresh the MCP servers in Windsurf (Cascade, MCP settings) to load it.'],
  },
  {
    id: 'openclaw',
    title: 'OpenClaw',
    scopes: ['user'],
    format: 'json',
    configPath: (ctx) => join(ctx.env.OPENCLAW_STATE_DIR ?? join(ctx.home, '.openclaw'), 'openclaw.json'),
    container: ['mcp', 'servers'],
    // OpenClaw passes the agent's environment (with skills.entries.kimi.apiKey applied) to stdio
    // servers; its default 60 s request timeout is far too short for a thinking model.
    entry: (ctx) => ({
      ...stdio(ctx),
      ...literalEnv(ctx),
      requestTimeoutMs: LONG_CALL_SECONDS * 1000,
      connectionTimeoutMs: 30_000,
    }),
    skillDir: (ctx) => join(ctx.env.OPENCLAW_STATE_DIR ?? join(ctx.home, '.openclaw'), 'skills', SKILL_NAME),
    notes: (ctx) => [`Give OpenClaw the key with skills.entries.kimi.apiKey or export ${ctx.keyVar}; check with: openclaw mcp probe ${SERVER_NAME}`],
  },
];

export function findAgent(id: string): Agent | undefined {
  return AGENTS.find((a) => a.id === id);
}
