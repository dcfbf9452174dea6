/**
 * The `/kimi:*` slash commands, installed where each agent reads command files; agents that show
 * a server's MCP prompts as commands get nothing written (the server offers them). A file is ours
 * when it carries GENERATED_MARK: a file of the same name without it is the user's and is left
 * alone, and uninstall removes exactly the files that carry it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../commands/definitions.js';
import { claudeCodeFiles, codexFiles, GENERATED_MARK, geminiFiles, isGenerated } from '../commands/render.js';
import type { GeneratedFile } from '../commands/render.js';
import type { Agent, InstallContext, Scope } from './agents.js';
import { PRIVATE_MODE, replaceFile } from '../state/write-file.js';

interface CommandFolder {
  dir: string;
  files: GeneratedFile[];
  /** Which files in `dir` could be ours (the folder may be shared with the user's own commands). */
  ours: RegExp;
  /** How the user types a command: `/kimi:review`. */
  invoke: (name: string) => string;
  /** The folder is ours alone (…/commands/kimi): removed once empty. */
  ownFolder: boolean;
}

export interface CommandsPlan {
  action: 'install' | 'uninstall';
  dir: string;
  /** Files to write (new, or ours with other text). */
  write: GeneratedFile[];
  /** Our files to remove (uninstall; or a command an earlier version had). */
  remove: string[];
  /** Files of our names that are not ours: left as they are. */
  foreign: string[];
  invoked: string[];
  ownFolder: boolean;
}

/** The files to write or remove, or (install only) why the agent needs none. */
export interface CommandsStep {
  plan?: CommandsPlan;
  note?: string;
}

const kimiFolder = (base: string, files: GeneratedFile[], ext: string): CommandFolder => ({
  dir: join(base, 'kimi'),
  files,
  ours: new RegExp(`\\.${ext}$`),
  invoke: (name) => `/kimi:${name}`,
  ownFolder: true,
});

const PROMPT_NAMES = COMMANDS.map((c) => c.name).join(', ');
const readsPrompts = (agent: Agent) => ({ note: `${agent.title} offers the server's MCP prompts (${PROMPT_NAMES}) as commands where it shows prompts: no command files to write.` });

/** Where each agent reads command files, per scope; a note for those that need none. */
function folderFor(agent: Agent, ctx: InstallContext, scope: Scope): CommandFolder | { note: string } {
  const base = scope === 'user' ? ctx.home : ctx.cwd;
  switch (agent.id) {
    case 'claude-code':
      // A subfolder namespaces the commands: .claude/commands/kimi/review.md is /kimi:review, as the plugin's.
      return kimiFolder(join(base, '.claude', 'commands'), claudeCodeFiles(), 'md');
    case 'gemini-cli':
      return kimiFolder(join(base, '.gemini', 'commands'), geminiFiles(), 'toml');
    case 'codex':
      // Codex reads custom prompts from $CODEX_HOME/prompts only, with no subfolders: /prompts:kimi-review.
      if (scope === 'project') return { note: 'Codex reads custom prompts only from $CODEX_HOME/prompts: `kimi-mcp install codex` (user scope) adds /prompts:kimi-review and the rest.' };
      return {
        dir: join(ctx.env.CODEX_HOME ?? join(ctx.home, '.codex'), 'prompts'),
        files: codexFiles(),
        ours: /^kimi-.*\.md$/,
        invoke: (name) => `/prompts:kimi-${name}`,
        ownFolder: false,
      };
    default:
      return readsPrompts(agent);
  }
}

/** A file's text; null when there is none; '' (never ours) for a folder or anything else of that name. */
function readText(path: string): string | null {
  if (!existsSync(path)) return null;
  return statSync(path).isFile() ? readFileSync(path, 'utf8') : '';
}

/** Our files already in the folder (by name pattern and mark). */
function installedFiles(folder: CommandFolder): string[] {
  if (!existsSync(folder.dir)) return [];
  return readdirSync(folder.dir).filter((name) => folder.ours.test(name) && isGenerated(readText(join(folder.dir, name)) ?? ''));
}

export function planCommands(agent: Agent, ctx: InstallContext, scope: Scope, action: 'install' | 'uninstall'): CommandsStep {
  const folder = folderFor(agent, ctx, scope);
  if ('note' in folder) return action === 'install' ? folder : {};
  const wanted = action === 'install' ? folder.files : [];
  const write: GeneratedFile[] = [];
  const foreign: string[] = [];
  for (const file of wanted) {
    const path = join(folder.dir, file.path);
    const now = readText(path);
    if (now === null || (isGenerated(now) && now !== file.text)) write.push({ ...file, path });
    else if (!isGenerated(now)) foreign.push(path);
  }
  const keep = new Set(wanted.map((f) => f.path));
  const remove = installedFiles(folder).filter((name) => !keep.has(name)).map((name) => join(folder.dir, name));
  const invoked = folder.files.filter((f) => !foreign.includes(join(folder.dir, f.path))).map((f) => folder.invoke(f.command));
  return { plan: { action, dir: folder.dir, write, remove, foreign, invoked, ownFolder: folder.ownFolder } };
}

export function applyCommands(plan: CommandsPlan | undefined): string[] {
  if (!plan) return [];
  const done: string[] = [];
  // Checked again just before: a file the user put there since the plan read the folder stays theirs.
  const stillOurs = (path: string) => isGenerated(readText(path) ?? GENERATED_MARK);
  const foreign = [...plan.foreign, ...plan.write.map((f) => f.path).filter((p) => !stillOurs(p))];
  if (plan.write.length) mkdirSync(plan.dir, { recursive: true });
  for (const file of plan.write) if (!foreign.includes(file.path)) replaceFile(file.path, file.text, PRIVATE_MODE);
  for (const path of plan.remove) if (stillOurs(path)) rmSync(path, { force: true });
  if (plan.ownFolder && existsSync(plan.dir) && readdirSync(plan.dir).length === 0) rmdirSync(plan.dir);
  if (plan.action === 'install' && (plan.write.length || plan.remove.length)) done.push(`installed the slash commands ${plan.invoked.join(', ')} in ${plan.dir}`);
  if (plan.action === 'uninstall' && plan.remove.length) done.push(`removed the slash commands in ${plan.dir}`);
  for (const path of foreign) done.push(`left ${path} alone: it is not one kimi-mcp wrote, so that command stays yours`);
  return done;
}

export function describeCommands(plan: CommandsPlan | undefined): string[] {
  if (!plan) return [];
  const lines: string[] = [];
  if (plan.action === 'install') lines.push(`  would install the slash commands ${plan.invoked.join(', ')} in ${plan.dir}`);
  else if (plan.remove.length) lines.push(`  would remove the slash commands in ${plan.dir}`);
  for (const path of plan.foreign) lines.push(`  would leave ${path} alone (not written by kimi-mcp)`);
  return lines;
}
