import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENTS, findAgent } from '../src/install/agents.js';
import type { InstallContext } from '../src/install/agents.js';
import { applyPlan, planInstall, planUninstall, removeTomlTable } from '../src/install/install.js';
import { launchCommand } from '../src/cli/install.js';
import { version } from '../src/version.js';
import { ROOT } from './helpers/mcp.js';
import { tempDir } from './helpers/temp.js';


function context(overrides: Partial<InstallContext> = {}): InstallContext {
  const home = tempDir('kimi-home-');
  const cwd = tempDir('kimi-proj-');
  return {
    home, cwd, platform: 'linux', env: {},
    launch: { command: '/usr/bin/node', args: ['/opt/kimi-mcp/dist/cli.js'] },
    keyVar: 'RUNAPI_KEY', settings: {}, ...overrides,
  };
}

function install(agentId: string, ctx: InstallContext, scope = findAgent(agentId)!.scopes[0]!) {
  return applyPlan(planInstall(findAgent(agentId)!, ctx, scope, ROOT), 'STAMP');
}

const read = (path: string) => readFileSync(path, 'utf8');
const json = (path: string) => JSON.parse(read(path)) as Record<string, any>;

describe('install writes each agent\'s own format, with the key by reference', () => {
  it('claude-code: ~/.claude.json entry and the skill in ~/.claude/skills/kimi', () => {
    const ctx = context();
    install('claude-code', ctx);
    expect(json(join(ctx.home, '.claude.json')).mcpServers.kimi).toEqual({
      type: 'stdio', command: '/usr/bin/node', args: ['/opt/kimi-mcp/dist/cli.js'], env: { RUNAPI_KEY: '${RUNAPI_KEY:-}' },
    });
    const skill = join(ctx.home, '.claude', 'skills', 'kimi');
    expect(read(join(skill, 'SKILL.md'))).toBe(read(join(ROOT, 'SKILL.md')));
    expect(readdirSync(join(skill, 'skill', 'references', 'models')).sort()).toEqual(['kimi-k2.5.md', 'kimi-k2.6.md', 'kimi-k2.7-code.md', 'kimi-k3.md']);
  });

  it('claude-code project scope: .mcp.json and .claude/skills in the project', () => {
    const ctx = context();
    install('claude-code', ctx, 'project');
    expect(json(join(ctx.cwd, '.mcp.json')).mcpServers.kimi.command).toBe('/usr/bin/node');
    expect(existsSync(join(ctx.cwd, '.claude', 'skills', 'kimi', 'SKILL.md'))).toBe(true);
  });

  it.each([
    ['cursor', '.cursor/mcp.json', ['mcpServers'], '${env:RUNAPI_KEY}'],
    ['windsurf', '.codeium/windsurf/mcp_config.json', ['mcpServers'], '${env:RUNAPI_KEY}'],
    ['gemini-cli', '.gemini/settings.json', ['mcpServers'], '$RUNAPI_KEY'],
    ['vscode', '.config/Code/User/mcp.json', ['servers'], '${input:kimi-api-key}'],
  ])('%s: %s with the key as %s', (agent, file, container, reference) => {
    const ctx = context();
    install(agent, ctx);
    let servers = json(join(ctx.home, file));
    for (const key of container) servers = servers[key];
    expect(servers.kimi.env.RUNAPI_KEY).toBe(reference);
    expect(JSON.stringify(servers.kimi)).toContain('/opt/kimi-mcp/dist/cli.js');
  });

  it('vscode: asks for the key with a password prompt', () => {
    const ctx = context();
    install('vscode', ctx);
    expect(json(join(ctx.home, '.config/Code/User/mcp.json')).inputs).toEqual([
      { type: 'promptString', id: 'kimi-api-key', description: 'RUNAPI_KEY for kimi-mcp', password: true },
    ]);
  });

  it('gemini-cli: a ten-minute timeout for long calls', () => {
    const ctx = context();
    install('gemini-cli', ctx);
    expect(json(join(ctx.home, '.gemini/settings.json')).mcpServers.kimi.timeout).toBe(600_000);
  });

  it('codex: TOML that forwards the key by name and allows long calls', () => {
    const ctx = context();
    install('codex', ctx);
    expect(read(join(ctx.home, '.codex', 'config.toml'))).toBe(
      [
        '[mcp_servers.kimi]',
        'command = "/usr/bin/node"',
        'args = ["/opt/kimi-mcp/dist/cli.js"]',
        'env_vars = ["RUNAPI_KEY"]',
        'startup_timeout_sec = 20',
        'tool_timeout_sec = 600',
        '',
      ].join('\n'),
    );
  });

  it('openclaw: mcp.servers with a long request timeout, and the skill in its state dir', () => {
    const ctx = context();
    install('openclaw', ctx);
    const entry = json(join(ctx.home, '.openclaw', 'openclaw.json')).mcp.servers.kimi;
    expect(entry).toMatchObject({ command: '/usr/bin/node', requestTimeoutMs: 600_000 });
    expect(entry.env).toBeUndefined();
    expect(existsSync(join(ctx.home, '.openclaw', 'skills', 'kimi', 'SKILL.md'))).toBe(true);
  });

  it('claude-desktop: no key in clear unless asked, and then only the key', () => {
    const ctx = context();
    const plan = planInstall(findAgent('claude-desktop')!, ctx, 'user', ROOT);
    expect(plan.configPath).toBe(join(ctx.home, '.config', 'Claude', 'claude_desktop_config.json'));
    applyPlan(plan, 'S');
    expect(json(plan.configPath).mcpServers.kimi.env).toBeUndefined();
    expect(plan.notes.join(' ')).toMatch(/--write-key/);
    const withKey = context({ keyValue: 'sk-real-key-123' });
    install('claude-desktop', withKey);
    expect(json(join(withKey.home, '.config/Claude/claude_desktop_config.json')).mcpServers.kimi.env).toEqual({ RUNAPI_KEY: 'sk-real-key-123' });
  });

  it('never writes a key value for any agent unless asked', () => {
    for (const agent of AGENTS) {
      const ctx = context({ env: { RUNAPI_KEY: 'sk-should-not-appear' } });
      const plan = planInstall(agent, ctx, agent.scopes[0]!, ROOT);
      expect(plan.after, agent.id).not.toContain('sk-should-not-appear');
    }
  });

  it('a non-default host adds KIMI_PROVIDER and that host\'s key', () => {
    const ctx = context({ keyVar: 'MOONSHOT_API_KEY', settings: { KIMI_PROVIDER: 'moonshot' } });
    install('cursor', ctx);
    expect(json(join(ctx.home, '.cursor/mcp.json')).mcpServers.kimi.env).toEqual({ KIMI_PROVIDER: 'moonshot', MOONSHOT_API_KEY: '${env:MOONSHOT_API_KEY}' });
  });
});

describe('install merges, backs up, and uninstall reverses it', () => {
  it('keeps other servers and settings, backs up the old file, and uninstall restores the content', () => {
    const ctx = context();
    const path = join(ctx.home, '.cursor', 'mcp.json');
    mkdirSync(join(ctx.home, '.cursor'));
    const original = { mcpServers: { github: { command: 'gh-mcp', env: { TOKEN: '${env:GH}' } } }, theme: 'dark' };
    writeFileSync(path, JSON.stringify(original, null, 2));
    const done = install('cursor', ctx);
    expect(done).toContain(`backed up ${path} to ${path}.bak-STAMP`);
    expect(json(`${path}.bak-STAMP`)).toEqual(original);
    expect(json(path).mcpServers.github).toEqual(original.mcpServers.github);
    expect(json(path).theme).toBe('dark');
    applyPlan(planUninstall(findAgent('cursor')!, ctx, 'user'), 'STAMP2');
    expect(json(path)).toEqual(original);
  });

  it('installing twice leaves one entry', () => {
    const ctx = context();
    install('vscode', ctx);
    install('vscode', ctx);
    const config = json(join(ctx.home, '.config/Code/User/mcp.json'));
    expect(Object.keys(config.servers)).toEqual(['kimi']);
    expect(config.inputs).toHaveLength(1);
  });

  it('codex: replaces only our tables in an existing config.toml, and uninstall leaves the rest', () => {
    const ctx = context();
    const path = join(ctx.home, '.codex', 'config.toml');
    mkdirSync(join(ctx.home, '.codex'));
    const original = 'model = "o4"\n\n[mcp_servers.github]\ncommand = "gh"\n\n[mcp_servers.kimi]\ncommand = "old"\n\n[mcp_servers.kimi.env]\nX = "1"\n\n[profiles.fast]\nmodel = "mini"\n';
    writeFileSync(path, original);
    install('codex', ctx);
    const after = read(path);
    expect(after).toContain('[mcp_servers.github]\ncommand = "gh"');
    expect(after).toContain('[profiles.fast]\nmodel = "mini"');
    expect(after).not.toContain('command = "old"');
    expect(after.match(/\[mcp_servers\.kimi\]/g)).toHaveLength(1);
    applyPlan(planUninstall(findAgent('codex')!, ctx, 'user'), 'S2');
    expect(read(path)).toBe(removeTomlTable(original, 'mcp_servers.kimi'));
    expect(read(path)).not.toContain('kimi');
  });

  it('uninstall of a file it created removes the file, and removes the skill it installed', () => {
    const ctx = context();
    install('claude-code', ctx, 'project');
    applyPlan(planUninstall(findAgent('claude-code')!, ctx, 'project'), 'S');
    expect(existsSync(join(ctx.cwd, '.mcp.json'))).toBe(false);
    expect(existsSync(join(ctx.cwd, '.claude', 'skills', 'kimi'))).toBe(false);
  });

  it('moves aside a different skill that was already called kimi instead of overwriting it', () => {
    const ctx = context();
    const dir = join(ctx.home, '.claude', 'skills', 'kimi');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'SKILL.md'), '---\nname: kimi-other\ndescription: someone else\n---\n');
    const done = install('claude-code', ctx);
    expect(done.join('\n')).toMatch(/moved another skill named kimi/);
    expect(read(join(`${dir}.bak-STAMP`, 'SKILL.md'))).toContain('someone else');
  });

  it('refuses to rewrite a config that is not plain JSON, saying how to proceed', () => {
    const ctx = context();
    mkdirSync(join(ctx.home, '.gemini'));
    writeFileSync(join(ctx.home, '.gemini', 'settings.json'), '{ // my settings\n "theme": "x", }');
    expect(() => install('gemini-cli', ctx)).toThrow(/is not plain JSON .* Run with --print and add the entry by hand/);
  });

  it('refuses a scope the agent does not have', () => {
    expect(() => planInstall(findAgent('windsurf')!, context(), 'project', ROOT)).toThrow(/Windsurf has no project scope; use --scope user/);
  });
});

describe('the launch command', () => {
  it('runs an installed copy with this Node directly (fast start)', () => {
    expect(launchCommand('/usr/lib/node_modules/kimi-mcp/dist/cli.js', 'linux', undefined, '/usr/bin/node')).toEqual({
      command: '/usr/bin/node', args: ['/usr/lib/node_modules/kimi-mcp/dist/cli.js'],
    });
  });

  it('pins npx for a copy in the npx cache, which may vanish', () => {
    expect(launchCommand('/root/.npm/_npx/ab12/node_modules/kimi-mcp/dist/cli.js', 'linux', undefined, '/usr/bin/node')).toEqual({
      command: 'npx', args: ['-y', `kimi-mcp@${version}`],
    });
  });

  it('wraps npx in cmd /c on Windows', () => {
    expect(launchCommand('C:\\Users\\me\\AppData\\Local\\npm-cache\\_npx\\1\\cli.js', 'win32', undefined, 'C:\\node.exe')).toEqual({
      command: 'cmd', args: ['/c', 'npx', '-y', `kimi-mcp@${version}`],
    });
  });

  it('refuses an unknown launch mode', () => {
    expect(() => launchCommand('/x', 'linux', 'docker', '/n')).toThrow(/--launch takes node or npx/);
  });
});
