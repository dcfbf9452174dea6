/**
 * The files install writes: private from the first byte, a backup as private as its original,
 * written whole, and `--print` showing exactly what the write then puts in the file.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser/lib/esm/main.js';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { AGENTS, findAgent } from '../src/install/agents.js';
import type { Agent, InstallContext } from '../src/install/agents.js';
import { applyPlan, describePlan, planInstall } from '../src/install/install.js';
import { ROOT } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { tempDir } from './helpers/temp.js';
import { underUmask } from './helpers/umask.js';

const KEY = 'sk-install-files-canary-7f3a';
const mode = (path: string) => statSync(path).mode & 0o777;
const read = (path: string) => readFileSync(path, 'utf8');

function context(overrides: Partial<InstallContext> = {}): InstallContext {
  return {
    home: tempDir('kimi-home-'), cwd: tempDir('kimi-proj-'), platform: 'linux', env: {},
    launch: { command: '/usr/bin/node', args: ['/opt/kimi-mcp/dist/cli.js'] },
    keyVar: 'RUNAPI_KEY', settings: {}, ...overrides,
  };
}

/** An agent's config file placed in a fresh home with this text and mode. */
function existing(agentId: string, text: string, fileMode: number, overrides: Partial<InstallContext> = {}) {
  const ctx = context(overrides);
  const agent = findAgent(agentId)!;
  const path = agent.configPath(ctx, agent.scopes[0]!);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, fileMode);
  return { ctx, agent, path };
}

function withUmask<T>(mask: number, run: () => T): T {
  const previous = process.umask(mask);
  try {
    return run();
  } finally {
    process.umask(previous);
  }
}

describe('a backup is as private as the file it copies, under any umask', () => {
  it.each([
    ['600', '000'],
    ['600', '077'],
    ['640', '000'],
    ['640', '077'],
  ])('a %s config backed up under umask %s keeps its mode, and so does the config', (octal, umask) => {
    const configMode = parseInt(octal, 8);
    const mask = parseInt(umask, 8);
    const { ctx, agent, path } = existing('cursor', '{ "mcpServers": { "github": { "command": "gh" } } }\n', configMode);
    withUmask(mask, () => applyPlan(planInstall(agent, ctx, 'user', ROOT), 'STAMP'));
    expect(mode(`${path}.bak-STAMP`).toString(8)).toBe(octal);
    expect(mode(path).toString(8)).toBe(octal);
    // Written whole: nothing of the temporary files is left beside them.
    expect(readdirSync(dirname(path)).sort()).toEqual([basename(path), `${basename(path)}.bak-STAMP`]);
  });
});

describe('a config we create or give the key is owner-only', () => {
  underUmask(0o000);

  it('every agent\'s new config file is created 0600, even under umask 000', () => {
    for (const agent of AGENTS) {
      const ctx = context();
      const plan = planInstall(agent, ctx, agent.scopes[0]!, ROOT);
      expect(applyPlan(plan, 'S')).toContain(`wrote ${plan.configPath} (mode -rw-------, 0600)`);
      expect(mode(plan.configPath).toString(8), agent.id).toBe('600');
    }
  });

  it('`install claude-desktop --write-key` creates the file holding the key 0600, and prints no key', async () => {
    const home = tempDir('kimi-cli-');
    const run = await runCli(['install', 'claude-desktop', '--write-key', '--platform', 'linux'], { HOME: home, RUNAPI_KEY: KEY });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const path = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    expect(read(path)).toContain(KEY);
    expect(mode(path).toString(8)).toBe('600');
    expect(run.stdout).not.toContain(KEY);
  });

  it('an existing 0644 config that will hold the key becomes 0600; its backup, without the key, stays 0644', () => {
    const { ctx, agent, path } = existing('claude-desktop', '{\n  "mcpServers": {}\n}\n', 0o644, { keyValue: KEY });
    const plan = planInstall(agent, ctx, 'user', ROOT);
    expect(describePlan(plan, false)).toContain('would merge in (other entries stay as they are; mode -rw-------, 0600, as it will hold the key):');
    applyPlan(plan, 'STAMP');
    expect(read(path)).toContain(KEY);
    expect(mode(path).toString(8)).toBe('600');
    expect(mode(`${path}.bak-STAMP`).toString(8)).toBe('644');
  });
});

describe('the user\'s config is edited, never clobbered', () => {
  it('a config the agent saved after the plan read it is left as the agent saved it', () => {
    const { ctx, agent, path } = existing('cursor', '{ "mcpServers": {} }\n', 0o600);
    const plan = planInstall(agent, ctx, 'user', ROOT);
    writeFileSync(path, '{ "mcpServers": { "new": { "command": "n" } } }\n');
    expect(() => applyPlan(plan, 'STAMP')).toThrow(`${path} changed while kimi-mcp was editing it, so it was left as it is now; run the command again.`);
    expect(read(path)).toBe('{ "mcpServers": { "new": { "command": "n" } } }\n');
    expect(readdirSync(dirname(path))).toEqual([basename(path)]);
  });

  it('a config that is a symbolic link (a dotfiles folder) stays a link, and the file it points to is edited', () => {
    const ctx = context();
    const dotfiles = tempDir('kimi-dotfiles-');
    const real = join(dotfiles, 'mcp.json');
    writeFileSync(real, '{ "mcpServers": {} }\n');
    chmodSync(real, 0o640);
    const path = findAgent('cursor')!.configPath(ctx, 'user');
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(real, path);
    applyPlan(planInstall(findAgent('cursor')!, ctx, 'user', ROOT), 'STAMP');
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path)).toBe(real);
    expect(JSON.parse(read(real)).mcpServers.kimi.command).toBe('/usr/bin/node');
    expect(mode(real).toString(8)).toBe('640');
    expect(readdirSync(dotfiles)).toEqual(['mcp.json']);
  });
});

/** The lines --print shows under its intro, without their indentation: the file text it announces. */
function printedFile(printed: string): string {
  const lines = printed.split('\n').filter((line) => line.startsWith('    '));
  return `${lines.map((line) => line.slice(4)).join('\n')}\n`;
}

const parse = (agent: Agent, text: string): unknown =>
  agent.format === 'toml' ? parseToml(text.replace(/^\uFEFF/, '')) : parseJsonc(text.replace(/^\uFEFF/, ''), [], { allowTrailingComma: true });

/** Everything in `part` is in `whole`: objects key by key, array items anywhere in the array. */
function contains(whole: unknown, part: unknown): boolean {
  if (Array.isArray(part)) return Array.isArray(whole) && part.every((item) => whole.some((w) => contains(w, item)));
  if (part && typeof part === 'object') {
    return !!whole && typeof whole === 'object' && Object.entries(part).every(([k, v]) => contains((whole as Record<string, unknown>)[k], v));
  }
  return whole === part;
}

const FIXTURES = join(ROOT, 'test', 'fixtures', 'install');

describe('install --print shows exactly what the write then produces', () => {
  it.each(AGENTS.map((a) => a.id))('%s, a new config: the printed file is the written file, byte for byte', (id) => {
    const ctx = context();
    const agent = findAgent(id)!;
    const printed = describePlan(planInstall(agent, ctx, agent.scopes[0]!, ROOT), false);
    const plan = planInstall(agent, ctx, agent.scopes[0]!, ROOT);
    applyPlan(plan, 'S');
    expect(printedFile(printed)).toBe(read(plan.configPath));
  });

  it.each(AGENTS.map((a) => a.id))('%s, the user\'s real config: what is printed to merge in is what the write adds', (id) => {
    const agent = findAgent(id)!;
    const fixture = readdirSync(FIXTURES).sort().find((f) => f.startsWith(`${id}.`))!;
    const { ctx, path } = existing(id, read(join(FIXTURES, fixture)), 0o600);
    const printed = describePlan(planInstall(agent, ctx, agent.scopes[0]!, ROOT), false);
    expect(printed).toContain('would merge in (other entries stay as they are):');
    applyPlan(planInstall(agent, ctx, agent.scopes[0]!, ROOT), 'S');
    const shown = parse(agent, printedFile(printed));
    // A TOML container names our table itself; a JSON one is the map our entry sits in.
    const where = agent.format === 'toml' ? agent.container : [...agent.container, 'kimi'];
    const ours = where.reduce<any>((node, key) => node?.[key], shown);
    expect(ours, 'the printed text holds our entry where the agent reads it').toEqual(agent.entry(ctx));
    expect(contains(parse(agent, read(path)), shown)).toBe(true);
  });

  it('the CLI: `install openclaw --print` nests mcp.servers as the write does; --write-key previews the key redacted', async () => {
    const home = tempDir('kimi-cli-');
    const printed = await runCli(['install', 'openclaw', '--print', '--write-key'], { HOME: home, RUNAPI_KEY: KEY });
    expect(printed.code).toBe(0);
    expect(printed.stdout).not.toContain(KEY);
    expect(printed.stdout).not.toContain('"mcp.servers"');
    const written = await runCli(['install', 'openclaw', '--write-key'], { HOME: home, RUNAPI_KEY: KEY });
    expect(written.code).toBe(0);
    const file = read(join(home, '.openclaw', 'openclaw.json'));
    expect(printedFile(printed.stdout)).toBe(file.split(KEY).join('[redacted]'));
  });
});
