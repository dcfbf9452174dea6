/**
 * Install and uninstall as plans first, then applied: `--print` shows a plan, a normal run
 * writes it. Only our entry in a config changes (src/install/edit.ts); a file we change is
 * backed up first, with its own mode; every file is written whole (src/install/write-file.ts).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../kimi/errors.js';
import { SERVER_NAME, SKILL_NAME } from './agents.js';
import type { Agent, InstallContext, Scope } from './agents.js';
import { applyCommands, describeCommands, planCommands } from './commands.js';
import type { CommandsPlan } from './commands.js';
import { editConfig } from './edit.js';
import { createFile, modeOf, PRIVATE_MODE, replaceFile } from '../state/write-file.js';

export interface Plan {
  agent: Agent;
  scope: Scope;
  configPath: string;
  before: string | null;
  /** The file's permission bits now (null when there is no file yet); its backup gets the same. */
  modeBefore: number | null;
  /**
   * Its permission bits once written: a new file is owner-only, an edited one keeps its own,
   * narrowed to owner-only when it will hold the key itself (--write-key).
   */
  mode: number;
  /** The new file content, or null to delete the file (an uninstall that leaves it empty). */
  after: string | null;
  /** Why the file cannot be edited safely: applying the plan fails with it, --print shows it beside the entry. */
  refusal?: string;
  /**
   * Our entry as a file of its own, for --print: what the same editor writes into an empty file
   * (a new config is exactly this; an existing one gets this merged in).
   */
  snippet: string;
  skill?: { dir: string; action: 'copy' | 'remove'; from?: string };
  /** The /kimi:* slash command files to write or remove (src/install/commands.ts). */
  commands?: CommandsPlan;
  notes: string[];
}

function readText(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

function isOurSkill(dir: string): boolean {
  const text = readText(join(dir, 'SKILL.md'));
  return text !== null && new RegExp(`^name:\\s*${SKILL_NAME}\\s*$`, 'm').test(text);
}

/**
 * The file's new text, or, for a file that cannot be edited safely, the reason: kept in the plan
 * so that --print can still show the entry to add by hand.
 */
function edit(agent: Agent, ctx: InstallContext, file: { configPath: string; before: string | null }, entry: Record<string, unknown> | undefined) {
  try {
    return { after: editConfig(agent, ctx, file.configPath, file.before, entry) };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { after: file.before, refusal: e.message };
  }
}

/** What both plans start from: the agent's file for this scope, as it is now. */
function target(agent: Agent, ctx: InstallContext, scope: Scope) {
  if (!agent.scopes.includes(scope)) throw new UsageError(`${agent.title} has no ${scope} scope; use --scope ${agent.scopes.join(' or ')}.`);
  const configPath = agent.configPath(ctx, scope);
  const before = readText(configPath);
  const modeBefore = before === null ? null : modeOf(statSync(configPath));
  return { agent, scope, configPath, before, modeBefore, mode: modeBefore ?? PRIVATE_MODE, skillDir: agent.skillDir?.(ctx, scope) };
}

/** Group and others lose every permission; the owner keeps what it had. */
const ownerOnly = (mode: number): number => mode & 0o700;

export function planInstall(agent: Agent, ctx: InstallContext, scope: Scope, skillRoot: string): Plan {
  const { skillDir, ...file } = target(agent, ctx, scope);
  const entry = agent.entry(ctx);
  const commands = planCommands(agent, ctx, scope, 'install');
  return {
    ...file,
    ...(ctx.keyValue ? { mode: ownerOnly(file.mode) } : {}),
    ...edit(agent, ctx, file, entry),
    snippet: editConfig(agent, ctx, file.configPath, null, entry)!,
    ...(skillDir ? { skill: { dir: skillDir, action: 'copy' as const, from: skillRoot } } : {}),
    commands: commands.plan,
    // An agent that reads the server's MCP prompts needs no command files: the notes say so.
    notes: [...agent.notes(ctx), ...(commands.note ? [commands.note] : [])],
  };
}

export function planUninstall(agent: Agent, ctx: InstallContext, scope: Scope): Plan {
  const { skillDir, ...file } = target(agent, ctx, scope);
  return {
    ...file,
    ...edit(agent, ctx, file, undefined),
    snippet: '',
    ...(skillDir && isOurSkill(skillDir) ? { skill: { dir: skillDir, action: 'remove' as const } } : {}),
    commands: planCommands(agent, ctx, scope, 'uninstall').plan,
    notes: [],
  };
}

/** Writes a plan; returns one line per thing done. */
export function applyPlan(plan: Plan, stamp = new Date().toISOString().replace(/[:.]/g, '-')): string[] {
  if (plan.refusal) throw new UsageError(plan.refusal);
  const done: string[] = [];
  if (plan.after !== plan.before) {
    // The agent itself may have saved the file since the plan read it: that change must not be lost.
    if (readText(plan.configPath) !== plan.before) {
      throw new UsageError(`${plan.configPath} changed while kimi-mcp was editing it, so it was left as it is now; run the command again.`);
    }
    if (plan.before !== null) {
      const backup = `${plan.configPath}.bak-${stamp}`;
      createFile(backup, plan.before, plan.modeBefore!);
      done.push(`backed up ${plan.configPath} to ${backup}`);
    }
    if (plan.after === null) {
      rmSync(plan.configPath, { force: true });
      done.push(`removed ${plan.configPath} (nothing else was in it)`);
    } else {
      mkdirSync(dirname(plan.configPath), { recursive: true });
      replaceFile(plan.configPath, plan.after, plan.mode);
      done.push(`wrote ${plan.configPath}${plan.mode !== plan.modeBefore ? ` (${modeWords(plan.mode)})` : ''}`);
    }
  }
  const skill = plan.skill;
  if (skill?.action === 'remove') {
    rmSync(skill.dir, { recursive: true, force: true });
    done.push(`removed the skill at ${skill.dir}`);
  } else if (skill?.action === 'copy' && skill.from) {
    if (existsSync(skill.dir)) {
      if (isOurSkill(skill.dir)) rmSync(skill.dir, { recursive: true, force: true });
      else {
        renameSync(skill.dir, `${skill.dir}.bak-${stamp}`);
        done.push(`moved another skill named ${SKILL_NAME} to ${skill.dir}.bak-${stamp}`);
      }
    }
    mkdirSync(skill.dir, { recursive: true });
    cpSync(join(skill.from, 'SKILL.md'), join(skill.dir, 'SKILL.md'));
    cpSync(join(skill.from, 'skill'), join(skill.dir, 'skill'), { recursive: true });
    done.push(`installed the skill at ${skill.dir}`);
  }
  done.push(...applyCommands(plan.commands));
  return done;
}

/** A mode as ls shows it, and in octal: "mode -rw-------, 0600". */
function modeWords(mode: number): string {
  const bits = [...'rwxrwxrwx'].map((letter, i) => (mode & (0o400 >> i) ? letter : '-')).join('');
  return `mode -${bits}, ${mode.toString(8).padStart(4, '0')}`;
}

export function describePlan(plan: Plan, uninstall: boolean): string {
  const lines = [`${plan.agent.title} (${plan.scope} scope): ${plan.configPath}`];
  if (plan.refusal) lines.push(`  ${plan.refusal}`);
  if (uninstall) {
    if (!plan.refusal) lines.push(plan.before === plan.after ? '  no kimi entry to remove' : `  would remove the "${SERVER_NAME}" entry`);
  } else {
    const intro = plan.refusal
      ? '  the entry to add by hand:'
      : plan.before === null
        ? `  would create it (${modeWords(plan.mode)}) with:`
        : `  would merge in (other entries stay as they are${plan.mode !== plan.modeBefore ? `; ${modeWords(plan.mode)}, as it will hold the key` : ''}):`;
    lines.push(intro, plan.snippet.replace(/\n$/, '').replace(/^/gm, '    '));
  }
  if (plan.skill) lines.push(`  would ${plan.skill.action === 'copy' ? 'install' : 'remove'} the skill at ${plan.skill.dir}`);
  lines.push(...describeCommands(plan.commands));
  return lines.join('\n');
}
