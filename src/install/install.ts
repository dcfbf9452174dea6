/**
 * Install and uninstall as plans first, then applied: `--print` shows a plan, a normal run
 * writes it. Other servers in a config are never touched; a file we change is backed up first.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVER_NAME, SKILL_NAME } from './agents.js';
import type { Agent, InstallContext, Scope } from './agents.js';
import { UsageError } from '../kimi/errors.js';

export interface Plan {
  agent: Agent;
  scope: Scope;
  configPath: string;
  before: string | null;
  /** The new file content, or null to delete the file (an uninstall that leaves it empty). */
  after: string | null;
  /** What our entry looks like, for --print. */
  snippet: string;
  skill?: { dir: string; action: 'copy' | 'remove'; from?: string };
  notes: string[];
}

type Json = Record<string, unknown>;

function readText(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

function parseJson(text: string | null, path: string): Json {
  if (text === null || text.trim() === '') return {};
  try {
    const value = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Json;
  } catch {
    // fall through to the error below
  }
  throw new UsageError(`${path} is not plain JSON (comments or trailing commas?), so it was left alone. Run with --print and add the entry by hand.`);
}

function child(obj: Json, key: string): Json {
  const value = obj[key];
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Json;
  const created: Json = {};
  obj[key] = created;
  return created;
}

/** Deletes obj[path...][name], then any container the deletion left empty. */
function deleteIn(obj: Json, path: string[], name: string): void {
  const [head, ...rest] = path;
  if (head === undefined) {
    delete obj[name];
    return;
  }
  const next = obj[head];
  if (!next || typeof next !== 'object') return;
  deleteIn(next as Json, rest, name);
  if (Object.keys(next as Json).length === 0) delete obj[head];
}

const tomlValue = (v: unknown): string => (Array.isArray(v) ? `[${v.map(tomlValue).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Our table as TOML: scalars and arrays first, then sub-tables such as `.env`. */
export function renderToml(table: string, entry: Json): string {
  const lines = [`[${table}]`];
  const subTables: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      subTables.push('', `[${table}.${key}]`, ...Object.entries(value as Json).map(([k, v]) => `${JSON.stringify(k)} = ${tomlValue(v)}`));
    } else lines.push(`${key} = ${tomlValue(value)}`);
  }
  return [...lines, ...subTables].join('\n');
}

/** Removes `[table]` and its `[table.*]` sub-tables, leaving every other line as it was. */
export function removeTomlTable(text: string, table: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    const header = /^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$/.exec(line);
    if (header) skipping = header[1] === table || header[1]!.startsWith(`${table}.`);
    if (!skipping) out.push(line);
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

function isOurSkill(dir: string): boolean {
  const text = readText(join(dir, 'SKILL.md'));
  return text !== null && new RegExp(`^name:\\s*${SKILL_NAME}\\s*$`, 'm').test(text);
}

/** What both plans start from: the agent's file for this scope, as it is now. */
function target(agent: Agent, ctx: InstallContext, scope: Scope) {
  if (!agent.scopes.includes(scope)) throw new UsageError(`${agent.title} has no ${scope} scope; use --scope ${agent.scopes.join(' or ')}.`);
  const configPath = agent.configPath(ctx, scope);
  return { agent, scope, configPath, before: readText(configPath), skillDir: agent.skillDir?.(ctx, scope) };
}

export function planInstall(agent: Agent, ctx: InstallContext, scope: Scope, skillRoot: string): Plan {
  const { skillDir, ...file } = target(agent, ctx, scope);
  const { configPath, before } = file;
  const entry = agent.entry(ctx);
  let after: string;
  let snippet: string;
  if (agent.format === 'toml') {
    const table = agent.container.join('.');
    snippet = renderToml(table, entry);
    const kept = removeTomlTable(before ?? '', table).trimEnd();
    after = `${kept ? `${kept}\n\n` : ''}${snippet}\n`;
  } else {
    const config = parseJson(before, configPath);
    let servers = config;
    for (const key of agent.container) servers = child(servers, key);
    servers[SERVER_NAME] = entry;
    const extras = agent.extras?.(ctx);
    if (extras) {
      const list = Array.isArray(config[extras.key]) ? (config[extras.key] as Json[]).filter((i) => !extras.match(i)) : [];
      if (list.length + extras.items.length > 0) config[extras.key] = [...list, ...extras.items];
    }
    snippet = JSON.stringify({ [agent.container.join('.')]: { [SERVER_NAME]: entry }, ...(extras?.items.length ? { [extras.key]: extras.items } : {}) }, null, 2);
    after = `${JSON.stringify(config, null, 2)}\n`;
  }
  return {
    ...file,
    after,
    snippet,
    ...(skillDir ? { skill: { dir: skillDir, action: 'copy' as const, from: skillRoot } } : {}),
    notes: agent.notes(ctx),
  };
}

export function planUninstall(agent: Agent, ctx: InstallContext, scope: Scope): Plan {
  const { skillDir, ...file } = target(agent, ctx, scope);
  const { configPath, before } = file;
  let after: string | null = before;
  if (before !== null) {
    if (agent.format === 'toml') {
      const kept = removeTomlTable(before, agent.container.join('.')).trim();
      after = kept ? `${kept}\n` : null;
    } else {
      const config = parseJson(before, configPath);
      deleteIn(config, agent.container, SERVER_NAME);
      const extras = agent.extras?.(ctx);
      if (extras && Array.isArray(config[extras.key])) {
        const left = (config[extras.key] as Json[]).filter((i) => !extras.match(i));
        if (left.length) config[extras.key] = left;
        else delete config[extras.key];
      }
      after = Object.keys(config).length ? `${JSON.stringify(config, null, 2)}\n` : null;
    }
  }
  return {
    ...file,
    after,
    snippet: '',
    ...(skillDir && isOurSkill(skillDir) ? { skill: { dir: skillDir, action: 'remove' as const } } : {}),
    notes: [],
  };
}

/** Writes a plan; returns one line per thing done. */
export function applyPlan(plan: Plan, stamp = new Date().toISOString().replace(/[:.]/g, '-')): string[] {
  const done: string[] = [];
  if (plan.after !== plan.before) {
    if (plan.before !== null) {
      const backup = `${plan.configPath}.bak-${stamp}`;
      writeFileSync(backup, plan.before);
      done.push(`backed up ${plan.configPath} to ${backup}`);
    }
    if (plan.after === null) {
      rmSync(plan.configPath, { force: true });
      done.push(`removed ${plan.configPath} (nothing else was in it)`);
    } else {
      mkdirSync(dirname(plan.configPath), { recursive: true });
      writeFileSync(plan.configPath, plan.after);
      done.push(`wrote ${plan.configPath}`);
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
  return done;
}

export function describePlan(plan: Plan, uninstall: boolean): string {
  const lines = [`${plan.agent.title} (${plan.scope} scope): ${plan.configPath}`];
  if (uninstall) lines.push(plan.before === plan.after ? '  no kimi entry to remove' : `  would remove the "${SERVER_NAME}" entry`);
  else lines.push(plan.before === null ? '  would create it with:' : '  would merge in (other entries stay as they are):', plan.snippet.replace(/^/gm, '    '));
  if (plan.skill) lines.push(`  would ${plan.skill.action === 'copy' ? 'install' : 'remove'} the skill at ${plan.skill.dir}`);
  return lines.join('\n');
}
