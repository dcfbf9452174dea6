/**
 * The `/kimi:*` slash commands: the plugin's files are what the definitions render (they cannot
 * drift), each client's format reads back, and `kimi-mcp install` puts them where each agent
 * reads them, leaves a user's own file of the same name alone, and uninstall takes away exactly
 * what it wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import matter from 'gray-matter';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/definitions.js';
import { claudeCommand, GENERATED_MARK, pluginFiles } from '../src/commands/render.js';
import { AGENTS, findAgent } from '../src/install/agents.js';
import type { InstallContext, Scope } from '../src/install/agents.js';
import { applyPlan, describePlan, planInstall, planUninstall } from '../src/install/install.js';
import { clientBin } from './clients/paths.js';
import { ROOT } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { hashTree, tempDir } from './helpers/temp.js';

const NAMES = ['review', 'adversarial-review', 'ask', 'rescue', 'status', 'result', 'cancel'];
const read = (path: string) => readFileSync(path, 'utf8');
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

function context(overrides: Partial<InstallContext> = {}): InstallContext {
  return {
    home: tempDir('kimi-cmd-home-'), cwd: tempDir('kimi-cmd-proj-'), platform: 'linux', env: {},
    launch: { command: '/usr/bin/node', args: ['/opt/kimi-mcp/dist/cli.js'] },
    keyVar: 'RUNAPI_KEY', settings: {}, ...overrides,
  };
}

const install = (agentId: string, ctx: InstallContext, scope: Scope = 'user') => applyPlan(planInstall(findAgent(agentId)!, ctx, scope, ROOT), 'STAMP');
const uninstall = (agentId: string, ctx: InstallContext, scope: Scope = 'user') => applyPlan(planUninstall(findAgent(agentId)!, ctx, scope), 'STAMP2');

describe('the command definitions', () => {
  it('are the seven commands, each body telling the agent which tool to call', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(NAMES);
    for (const c of COMMANDS) {
      for (const tool of c.tools) expect(c.body, c.name).toContain(tool);
      expect(c.body, c.name).toContain('{{args}}');
    }
    expect(COMMANDS.find((c) => c.name === 'adversarial-review')!.body).toContain('adversarial: true');
    expect(COMMANDS.find((c) => c.name === 'rescue')!.body).toMatch(/background: true[\s\S]*mode "propose"[\s\S]*kimi_job with action "result"[\s\S]*wait_seconds/);
  });

  it('hold nothing a client would expand: no $ (Codex, Claude Code), !{ or @{ (Gemini CLI)', () => {
    for (const c of COMMANDS) expect(c.body, c.name).not.toMatch(/\$|!\{|@\{/);
  });

  it('stay short, as they are context the agent reads on every use', () => {
    for (const c of COMMANDS) expect(c.body.length, c.name).toBeLessThan(600);
  });
});

describe('the plugin\'s generated files', () => {
  it('are checked in exactly as the definitions render them (run node scripts/sync-commands.mjs after an edit)', () => {
    for (const file of pluginFiles()) expect(read(join(ROOT, file.path)), file.path).toBe(file.text);
    const generated = readdirSync(join(ROOT, 'commands'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(md|toml)$/.test(f) && read(join(ROOT, 'commands', f)).includes(GENERATED_MARK));
    expect(generated.sort()).toEqual(pluginFiles().map((f) => f.path.replace(/^commands\//, '')).sort());
  });

  it('Claude Code: commands/<name>.md with description, argument-hint and the plugin\'s tools, $ARGUMENTS in the body', () => {
    for (const name of NAMES) {
      const { data, content } = matter(read(join(ROOT, 'commands', `${name}.md`)));
      expect(Object.keys(data), name).toEqual(['description', 'argument-hint', 'allowed-tools']);
      expect(data['allowed-tools'], name).toMatch(/^mcp__plugin_kimi_kimi__kimi_(review|chat|agent|job)(, mcp__plugin_kimi_kimi__kimi_job)?$/);
      expect(content, name).toContain('$ARGUMENTS');
      expect(content, name).not.toContain('{{args}}');
    }
  });

  it('Gemini CLI: commands/kimi/<name>.toml parse, with only description and a prompt holding {{args}}', () => {
    for (const name of NAMES) {
      const toml = parseToml(read(join(ROOT, 'commands', 'kimi', `${name}.toml`))) as Record<string, unknown>;
      expect(Object.keys(toml).sort(), name).toEqual(['description', 'prompt']);
      expect(toml.description, name).toBe(COMMANDS.find((c) => c.name === name)!.description);
      expect(toml.prompt, name).toContain('{{args}}');
      expect(toml.prompt, name).toContain('kimi_');
    }
  });

  it('are published: package.json "files" lists commands', () => {
    const { files } = JSON.parse(read(join(ROOT, 'package.json'))) as { files: string[] };
    expect(files).toContain('commands');
  });
});

describe('kimi-mcp install puts the commands where each agent reads them', () => {
  it('claude-code: ~/.claude/commands/kimi/<name>.md (/kimi:<name>), private, naming the installed server\'s tools', () => {
    const ctx = context();
    const done = install('claude-code', ctx);
    const dir = join(ctx.home, '.claude', 'commands', 'kimi');
    expect(readdirSync(dir).sort()).toEqual(NAMES.map((n) => `${n}.md`).sort());
    expect(done.join('\n')).toContain(`installed the slash commands /kimi:review, /kimi:adversarial-review, /kimi:ask, /kimi:rescue, /kimi:status, /kimi:result, /kimi:cancel in ${dir}`);
    expect(mode(join(dir, 'review.md'))).toBe('600');
    expect(matter(read(join(dir, 'rescue.md'))).data['allowed-tools']).toBe('mcp__kimi__kimi_agent, mcp__kimi__kimi_job');
  });

  it('claude-code project scope: the project\'s .claude/commands/kimi', () => {
    const ctx = context();
    install('claude-code', ctx, 'project');
    expect(readdirSync(join(ctx.cwd, '.claude', 'commands', 'kimi'))).toHaveLength(7);
    expect(existsSync(join(ctx.home, '.claude', 'commands'))).toBe(false);
  });

  it('gemini-cli: ~/.gemini/commands/kimi/<name>.toml, the same files the extension ships', () => {
    const ctx = context();
    install('gemini-cli', ctx);
    const dir = join(ctx.home, '.gemini', 'commands', 'kimi');
    for (const name of NAMES) expect(read(join(dir, `${name}.toml`))).toBe(read(join(ROOT, 'commands', 'kimi', `${name}.toml`)));
  });

  it('codex: $CODEX_HOME/prompts/kimi-<name>.md (/prompts:kimi-<name>); the project scope writes none and says why', () => {
    const codexHome = tempDir('kimi-codex-home-');
    const ctx = context({ env: { CODEX_HOME: codexHome } });
    const done = install('codex', ctx);
    const prompts = join(codexHome, 'prompts');
    expect(readdirSync(prompts).sort()).toEqual(NAMES.map((n) => `kimi-${n}.md`).sort());
    expect(done.join('\n')).toContain('/prompts:kimi-review');
    const { data, content } = matter(read(join(prompts, 'kimi-ask.md')));
    expect(data).toEqual({ description: COMMANDS.find((c) => c.name === 'ask')!.description, 'argument-hint': '<question>' });
    expect(content).toContain('Ask Kimi: "$ARGUMENTS"');

    const project = context();
    const plan = planInstall(findAgent('codex')!, project, 'project', ROOT);
    applyPlan(plan, 'S');
    expect(plan.notes.join('\n')).toMatch(/Codex reads custom prompts only from \$CODEX_HOME\/prompts/);
    expect(existsSync(join(project.cwd, '.codex', 'prompts'))).toBe(false);
    expect(existsSync(join(project.home, '.codex'))).toBe(false);
  });

  it.each(['cursor', 'vscode', 'windsurf', 'claude-desktop', 'openclaw'])('%s reads the server\'s MCP prompts: no command files, and the notes say so', (id) => {
    const ctx = context();
    const plan = planInstall(findAgent(id)!, ctx, 'user', ROOT);
    expect(plan.commands).toBeUndefined();
    expect(plan.notes.join('\n')).toMatch(/offers the server's MCP prompts \(review, adversarial-review, ask, rescue, status, result, cancel\)/);
    applyPlan(plan, 'S');
    expect(Object.keys(hashTree(ctx.home)).filter((f) => /commands|prompts/.test(f))).toEqual([]);
  });

  it('every agent is covered: command files or a note', () => {
    for (const agent of AGENTS) {
      const plan = planInstall(agent, context(), agent.scopes[0]!, ROOT);
      expect(Boolean(plan.commands) || plan.notes.some((n) => /MCP prompts|custom prompts/.test(n)), agent.id).toBe(true);
    }
  });

  it('--print shows where the commands would go', () => {
    const ctx = context();
    const text = describePlan(planInstall(findAgent('gemini-cli')!, ctx, 'user', ROOT), false);
    expect(text).toContain(`would install the slash commands /kimi:review`);
    expect(text).toContain(join(ctx.home, '.gemini', 'commands', 'kimi'));
    expect(existsSync(join(ctx.home, '.gemini'))).toBe(false);
  });
});

describe('install leaves the user\'s own commands alone, and uninstall removes exactly what it wrote', () => {
  it('a user\'s own file (or folder) of the same name is kept, said so, and survives uninstall', () => {
    const ctx = context();
    const dir = join(ctx.home, '.claude', 'commands', 'kimi');
    mkdirSync(join(dir, 'ask.md'), { recursive: true });
    writeFileSync(join(dir, 'review.md'), 'My own review command.\n');
    const done = install('claude-code', ctx);
    expect(done.join('\n')).toContain(`left ${join(dir, 'review.md')} alone: it is not one kimi-mcp wrote, so that command stays yours`);
    expect(done.join('\n')).toContain(`left ${join(dir, 'ask.md')} alone`);
    expect(done.join('\n')).not.toMatch(/\/kimi:review,/);
    expect(read(join(dir, 'review.md'))).toBe('My own review command.\n');
    expect(readdirSync(dir)).toHaveLength(7);

    uninstall('claude-code', ctx);
    expect(readdirSync(dir).sort()).toEqual(['ask.md', 'review.md']);
    expect(read(join(dir, 'review.md'))).toBe('My own review command.\n');
  });

  it('codex: the user\'s other prompts stay; uninstall removes only ours', () => {
    const codexHome = tempDir('kimi-codex-home-');
    const ctx = context({ env: { CODEX_HOME: codexHome } });
    const prompts = join(codexHome, 'prompts');
    mkdirSync(prompts, { recursive: true });
    writeFileSync(join(prompts, 'draftpr.md'), 'Open a draft PR.\n');
    writeFileSync(join(prompts, 'kimi-notes.md'), 'Mine, though it starts with kimi-.\n');
    install('codex', ctx);
    expect(readdirSync(prompts)).toHaveLength(9);
    uninstall('codex', ctx);
    expect(readdirSync(prompts).sort()).toEqual(['draftpr.md', 'kimi-notes.md']);
  });

  it('uninstall takes away every command file and the kimi folder it made, leaving the user\'s commands', () => {
    const ctx = context();
    const commands = join(ctx.home, '.gemini', 'commands');
    mkdirSync(commands, { recursive: true });
    writeFileSync(join(commands, 'deploy.toml'), 'prompt = "ship it"\n');
    const before = hashTree(commands);
    install('gemini-cli', ctx);
    const done = uninstall('gemini-cli', ctx);
    expect(done.join('\n')).toContain(`removed the slash commands in ${join(commands, 'kimi')}`);
    expect(hashTree(commands)).toEqual(before);
    expect(existsSync(join(commands, 'kimi'))).toBe(false);
  });

  it('installing again rewrites an older copy of ours, drops a command that is gone, and leaves the rest as they are', () => {
    const ctx = context();
    install('claude-code', ctx);
    const dir = join(ctx.home, '.claude', 'commands', 'kimi');
    writeFileSync(join(dir, 'ask.md'), `---\n${GENERATED_MARK}\ndescription: "an older text"\n---\n`);
    writeFileSync(join(dir, 'retired.md'), `---\n${GENERATED_MARK}\n---\nA command an earlier version had.\n`);
    install('claude-code', ctx);
    expect(read(join(dir, 'ask.md'))).toBe(claudeCommand(COMMANDS.find((c) => c.name === 'ask')!, 'mcp__kimi__'));
    expect(existsSync(join(dir, 'retired.md'))).toBe(false);
    const again = install('claude-code', ctx);
    expect(again.join('\n')).not.toMatch(/slash commands/);
  });
});

describe('the clients see the commands by the names we promise', () => {
  it('Claude Code lists the installed files as /kimi:<name> (its session opening, before any model call)', async () => {
    const ctx = context();
    install('claude-code', ctx);
    const opening = await claudeSessionOpening(ctx.home, ctx.cwd);
    expect((opening.slash_commands as string[]).filter((c) => c.startsWith('kimi:')).sort()).toEqual(NAMES.map((n) => `kimi:${n}`).sort());
  });

  it('`kimi-mcp install` from the shell says where the commands went, and that Cursor needs none', async () => {
    const home = tempDir('kimi-cmd-cli-');
    const gemini = await runCli(['install', 'gemini-cli'], { HOME: home });
    expect(gemini.code, gemini.stderr).toBe(0);
    expect(gemini.stdout).toContain(`installed the slash commands /kimi:review, /kimi:adversarial-review, /kimi:ask, /kimi:rescue, /kimi:status, /kimi:result, /kimi:cancel in ${join(home, '.gemini', 'commands', 'kimi')}`);
    const cursor = await runCli(['install', 'cursor'], { HOME: home });
    expect(cursor.code, cursor.stderr).toBe(0);
    expect(cursor.stdout).toMatch(/Cursor offers the server's MCP prompts .* no command files to write/);
    const removed = await runCli(['uninstall', 'gemini-cli'], { HOME: home });
    expect(removed.stdout).toContain('removed the slash commands');
    expect(existsSync(join(home, '.gemini', 'commands'))).toBe(true);
    expect(existsSync(join(home, '.gemini', 'commands', 'kimi'))).toBe(false);
  });
});

/**
 * Claude Code's first stream-json line (its session's commands, tools, plugins), printed before
 * it calls a model; the model host is a closed local port and the process is stopped once the line is read.
 */
function claudeSessionOpening(home: string, cwd: string): Promise<Record<string, unknown>> {
  const child = spawn(clientBin('claude'), ['-p', 'hi', '--output-format', 'stream-json', '--verbose', '--max-turns', '1'], {
    cwd,
    env: { PATH: process.env.PATH, HOME: home, ANTHROPIC_API_KEY: 'sk-ant-test-not-a-key', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const end = out.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(JSON.parse(out.slice(0, end)) as Record<string, unknown>);
    });
    child.on('close', () => reject(new Error(`Claude Code printed no session line:\n${out}${err}`)));
  });
}
