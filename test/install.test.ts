import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findNodeAtLocation, getNodeValue, parse as parseJsonc, parseTree } from 'jsonc-parser/lib/esm/main.js';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { AGENTS, findAgent } from '../src/install/agents.js';
import type { Agent, InstallContext, Scope } from '../src/install/agents.js';
import { applyPlan, planInstall, planUninstall } from '../src/install/install.js';
import { checkToml, readToml, renderToml } from '../src/install/toml.js';
import { launchCommand } from '../src/cli/install.js';
import { version } from '../src/version.js';
import { ROOT } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
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
    // Every model reference the skill ships, as it is in the package.
    expect(readdirSync(join(skill, 'skill', 'references', 'models')).sort()).toEqual(readdirSync(join(ROOT, 'skill', 'references', 'models')).sort());
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
    // Ours is rewritten where it was, its stale sub-table goes, and every other line stays.
    expect(read(path)).toBe(original.replace(
      '[mcp_servers.kimi]\ncommand = "old"\n\n[mcp_servers.kimi.env]\nX = "1"\n',
      `${renderToml(['mcp_servers', 'kimi'], findAgent('codex')!.entry(ctx))}\n`,
    ));
    applyPlan(planUninstall(findAgent('codex')!, ctx, 'user'), 'S2');
    expect(read(path)).toBe('model = "o4"\n\n[mcp_servers.github]\ncommand = "gh"\n\n[profiles.fast]\nmodel = "mini"\n');
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

  it('refuses a scope the agent does not have', () => {
    expect(() => planInstall(findAgent('windsurf')!, context(), 'project', ROOT)).toThrow(/Windsurf has no project scope; use --scope user/);
  });
});

const FIXTURES = join(ROOT, 'test', 'fixtures', 'install');
const BOM = '\uFEFF';
const stripBom = (text: string) => text.replace(/^\uFEFF/, '');

interface Fixture {
  file: string;
  agent: string;
  scope: Scope;
  /** Strict JSON that must stay strict. */
  strict?: boolean;
  platform?: NodeJS.Platform;
  /** How our entry starts in the file (LF line endings): the file's own indentation. */
  looks: string;
}

/** Real-looking configs, one per agent (two for Claude Code): see test/fixtures/install. */
const fixtures: Fixture[] = [
  { file: 'claude-code.claude.json', agent: 'claude-code', scope: 'user', strict: true, looks: '\n    "kimi": {\n      "type": "stdio",\n' },
  { file: 'claude-code.mcp.json', agent: 'claude-code', scope: 'project', strict: true, looks: '\n    "kimi": {\n      "type": "stdio",\n' },
  { file: 'claude-desktop.json', agent: 'claude-desktop', scope: 'user', strict: true, platform: 'win32', looks: '\n    "kimi": {\n      "command": ' },
  { file: 'cursor.json', agent: 'cursor', scope: 'user', looks: '/* staging only */\n    "kimi": {\n      "command": ' },
  { file: 'vscode.json', agent: 'vscode', scope: 'user', looks: '\n\t\t"kimi": {\n\t\t\t"type": "stdio",\n' },
  { file: 'codex.toml', agent: 'codex', scope: 'user', looks: '\n\n[mcp_servers.kimi]\ncommand = ' },
  { file: 'gemini-cli.json', agent: 'gemini-cli', scope: 'user', looks: '\n  "mcpServers": {\n    "kimi": {\n      "command": ' },
  { file: 'windsurf.json', agent: 'windsurf', scope: 'user', strict: true, looks: '\n        "kimi": {\n            "command": ' },
  { file: 'openclaw.json', agent: 'openclaw', scope: 'user', looks: '\n  "mcp": {\n    "servers": {\n      "kimi": {\n        "command": ' },
];

const asIs = (text: string) => text;
const windows = (text: string) => BOM + stripBom(text).replace(/\r?\n/g, '\r\n');
const noFinalBreak = (text: string) => text.replace(/\r?\n$/, '');

/** The fixture (reworked) as the agent's config file in a fresh home. */
function placed(f: Fixture, rework = asIs) {
  const ctx = context(f.platform ? { platform: f.platform } : {});
  const agent = findAgent(f.agent)!;
  const path = agent.configPath(ctx, f.scope);
  mkdirSync(dirname(path), { recursive: true });
  const original = Buffer.from(rework(read(join(FIXTURES, f.file))));
  writeFileSync(path, original);
  return { ctx, agent, path, original, text: original.toString('utf8') };
}

/** Our entry, read back with each format's own parser. */
function readBack(agent: Agent, text: string): unknown {
  if (agent.format === 'toml') return (parseToml(stripBom(text)) as any).mcp_servers?.kimi;
  const config = parseJsonc(stripBom(text), [], { allowTrailingComma: true });
  return [...agent.container, 'kimi'].reduce((node, key) => node?.[key], config);
}

/**
 * The JSON text with what install added taken out by hand: the lines of each node that was not
 * in the original (our entry or the container made for it, VS Code's input), then any comma
 * added after the member that used to be last.
 */
function withoutOurLines(agent: Agent, text: string, original: string): string {
  const was = parseTree(original)!;
  const root = parseTree(text)!;
  const path = [...agent.container, 'kimi'];
  const depth = path.findIndex((_, i) => !findNodeAtLocation(was, path.slice(0, i + 1)));
  const added = [findNodeAtLocation(root, path.slice(0, depth + 1))!.parent!];
  if (agent.id === 'vscode') added.push(findNodeAtLocation(root, ['inputs'])!.children!.find((n) => getNodeValue(n).id === 'kimi-api-key')!);
  for (const node of added.sort((a, b) => b.offset - a.offset)) {
    let start = text.lastIndexOf('\n', node.offset);
    if (text[start - 1] === '\r') start--;
    const end = node.offset + node.length + (text[node.offset + node.length] === ',' ? 1 : 0);
    text = text.slice(0, start) + text.slice(end);
  }
  for (;;) {
    let i = 0;
    while (i < text.length && text[i] === original[i]) i++;
    if (text[i] !== ',') return text;
    text = text.slice(0, i) + text.slice(i + 1);
  }
}

describe('install edits each agent\'s real config in place, and uninstall gives back its exact bytes', () => {
  const cases = fixtures.flatMap((f) => [
    { ...f, variant: 'as it is', rework: asIs },
    { ...f, variant: 'with a BOM and CRLF', rework: windows },
    { ...f, variant: 'without a final line break', rework: noFinalBreak },
  ]);

  it.each(cases)('$file $variant', (f) => {
    const { ctx, agent, path, original, text } = placed(f, f.rework);
    expect(applyPlan(planInstall(agent, ctx, f.scope, ROOT), 'STAMP')).toContain(`backed up ${path} to ${path}.bak-STAMP`);
    expect(readFileSync(`${path}.bak-STAMP`).equals(original)).toBe(true);
    const after = read(path);

    expect(readBack(agent, after)).toEqual(agent.entry(ctx));
    expect(after.replace(/\r\n/g, '\n')).toContain(f.looks);
    expect(after.startsWith(BOM)).toBe(text.startsWith(BOM));
    if (text.includes('\r\n')) expect(after.replace(/\r\n/g, '')).not.toContain('\n');
    if (agent.format === 'toml') {
      // Appended after a blank line: everything before it is the file as it was.
      const header = after.indexOf('[mcp_servers.kimi]');
      expect(after.startsWith(text)).toBe(true);
      expect(after.slice(text.length, header)).toMatch(/^(\r?\n)+$/);
    } else {
      expect(withoutOurLines(agent, stripBom(after), stripBom(text))).toBe(stripBom(text));
    }
    if (f.strict) expect(() => JSON.parse(stripBom(after))).not.toThrow();

    applyPlan(planUninstall(agent, ctx, f.scope), 'STAMP2');
    expect(read(path)).toBe(text);
    expect(readFileSync(path).equals(original)).toBe(true);
  });

  it.each(fixtures)('$file: installing again changes nothing', (f) => {
    const { ctx, agent, path } = placed(f);
    applyPlan(planInstall(agent, ctx, f.scope, ROOT), 'S1');
    const once = read(path);
    expect(planInstall(agent, ctx, f.scope, ROOT).after).toBe(once);
  });

  it('an entry from an earlier install is rewritten where it is; the members around it keep their bytes', () => {
    const ctx = context();
    const path = join(ctx.home, '.cursor', 'mcp.json');
    mkdirSync(dirname(path));
    const around = (entry: string) => `{\n  "mcpServers": {\n    "a": { "command": "a" }, // first\n    "kimi": ${entry},\n    "z": { "command": "z" }\n  }\n}\n`;
    writeFileSync(path, around('{ "command": "old" }'));
    install('cursor', ctx);
    const entry = findAgent('cursor')!.entry(ctx);
    expect(read(path)).toBe(around(JSON.stringify(entry, null, 2).replace(/\n/g, '\n    ')));
    applyPlan(planUninstall(findAgent('cursor')!, ctx, 'user'), 'S2');
    expect(read(path)).toBe('{\n  "mcpServers": {\n    "a": { "command": "a" }, // first\n    "z": { "command": "z" }\n  }\n}\n');
  });

  it('a config written on one line gets our entry on that line too', () => {
    const ctx = context();
    const path = join(ctx.home, '.codeium', 'windsurf', 'mcp_config.json');
    mkdirSync(dirname(path), { recursive: true });
    const original = '{"mcpServers":{"a":{"command":"a"}},"theme":"dark"}';
    writeFileSync(path, original);
    install('windsurf', ctx);
    const entry = findAgent('windsurf')!.entry(ctx);
    expect(read(path)).toBe(`{"mcpServers":{"a":{"command":"a"}, "kimi": ${JSON.stringify(entry)}},"theme":"dark"}`);
    applyPlan(planUninstall(findAgent('windsurf')!, ctx, 'user'), 'S2');
    expect(read(path)).toBe(original);
  });

  it('an empty servers object is filled, and uninstall takes the then empty object away too', () => {
    const ctx = context();
    const path = join(ctx.home, '.cursor', 'mcp.json');
    mkdirSync(dirname(path));
    writeFileSync(path, '{\n  "theme": "dark",\n  "mcpServers": {}\n}\n');
    install('cursor', ctx);
    expect(read(path)).toMatch(/^\{\n {2}"theme": "dark",\n {2}"mcpServers": \{\n {4}"kimi": \{\n[^]*\n {4}\}\n {2}\}\n\}\n$/);
    applyPlan(planUninstall(findAgent('cursor')!, ctx, 'user'), 'S2');
    expect(read(path)).toBe('{\n  "theme": "dark"\n}\n');
  });

  it('refuses a servers entry that is not an object, naming it', () => {
    const ctx = context();
    const path = join(ctx.home, '.cursor', 'mcp.json');
    mkdirSync(dirname(path));
    writeFileSync(path, '{ "mcpServers": [] }');
    expect(() => install('cursor', ctx)).toThrow(`${path}: "mcpServers" should be an object, not an array, so it was left untouched.`);
  });
});

describe('a config that cannot be edited safely is left untouched, saying where and what to do', () => {
  const untouched = (path: string, text: string) => {
    expect(read(path)).toBe(text);
    expect(readdirSync(dirname(path))).toEqual([basename(path)]);
  };

  it('JSON with comments but a missing comma: the line and column', () => {
    const ctx = context();
    const path = join(ctx.home, '.gemini', 'settings.json');
    mkdirSync(dirname(path));
    const broken = '{\n  // Gemini CLI settings\n  "theme": "GitHub"\n  "vimMode": true,\n}\n';
    writeFileSync(path, broken);
    const message = `${path} line 4, column 3: comma expected, so the file was left untouched. Fix it and run again, or edit the "kimi" entry by hand (install --print shows it).`;
    expect(() => install('gemini-cli', ctx)).toThrow(message);
    expect(() => applyPlan(planUninstall(findAgent('gemini-cli')!, ctx, 'user'))).toThrow(message);
    untouched(path, broken);
  });

  it('OpenClaw\'s JSON5 with unquoted keys is beyond JSON with comments: refused, not rewritten', () => {
    const ctx = context();
    const path = join(ctx.home, '.openclaw', 'openclaw.json');
    mkdirSync(dirname(path));
    const json5 = '{\n  agents: { defaults: { workspace: "~/.openclaw/workspace" } },\n}\n';
    writeFileSync(path, json5);
    expect(() => install('openclaw', ctx)).toThrow(/openclaw\.json line 2, column 3: .*left untouched/);
    untouched(path, json5);
  });

  it('TOML that does not parse: the parser\'s line', () => {
    const ctx = context();
    const path = join(ctx.home, '.codex', 'config.toml');
    mkdirSync(dirname(path));
    const broken = 'model = "gpt-5-codex"\n\n[mcp_servers.github\ncommand = "npx"\n';
    writeFileSync(path, broken);
    expect(() => install('codex', ctx)).toThrow(new RegExp(`^${path.replace(/[.]/g, '\\.')} is not valid TOML \\(line 3, column \\d+: .+\\), so it was left untouched\\. Fix it and run again, or edit the "kimi" entry by hand`));
    untouched(path, broken);
  });

  it('codex: our server already written as an inline table is not duplicated', () => {
    const ctx = context();
    const path = join(ctx.home, '.codex', 'config.toml');
    mkdirSync(dirname(path));
    const inline = '[mcp_servers]\nkimi = { command = "kimi-mcp" }\n';
    writeFileSync(path, inline);
    expect(() => install('codex', ctx)).toThrow(/Adding \[mcp_servers\.kimi\] to .*config\.toml would not give valid TOML \(line \d+: .*\); kimi is probably also written another way there \(an inline table or dotted keys\), so the file was left untouched/);
    expect(() => applyPlan(planUninstall(findAgent('codex')!, ctx, 'user'))).toThrow(/Removing \[mcp_servers\.kimi\] from .* would leave it in place/);
    untouched(path, inline);
  });

  it('codex: a TOML edit that would lose or change the user\'s tables is caught before writing', () => {
    const table = ['mcp_servers', 'kimi'];
    const entry = { command: 'node' };
    const before = readToml('model = "o4"\n\n[profiles.fast]\nmodel = "mini"\n', 'config.toml');
    const ours = '\n[mcp_servers.kimi]\ncommand = "node"\n';
    expect(() => checkToml('config.toml', before, `model = "o4"\n${ours}`, table, entry)).toThrow(/would lose \[profiles\], \[profiles\.fast\]/);
    expect(() => checkToml('config.toml', before, `model = "o4"\n\n[profiles.fast]\nmodel = "max"\n${ours}`, table, entry)).toThrow(/would change settings outside it/);
    expect(() => checkToml('config.toml', before, `model = "o4"\n\n[profiles.fast]\nmodel = "mini"\n${ours}`, table, { command: 'other' })).toThrow(/would not read back as written/);
    expect(() => checkToml('config.toml', before, `model = "o4"\n\n[profiles.fast]\nmodel = "mini"\n${ours}`, table, entry)).not.toThrow();
  });

  it('the CLI: VS Code\'s mcp.json with comments installs; a broken one exits 2 and stays as it was', async () => {
    const home = tempDir('kimi-cli-');
    const path = join(home, '.config', 'Code', 'User', 'mcp.json');
    mkdirSync(dirname(path), { recursive: true });
    const jsonc = '{\n\t// my servers\n\t"servers": {},\n}\n';
    writeFileSync(path, jsonc);
    const ok = await runCli(['install', 'vscode'], { HOME: home });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(read(path)).toMatch(/^\{\n\t\/\/ my servers\n\t"servers": \{\n\t\t"kimi": \{\n/);

    const broken = '{\n\t"servers": {\n\t\t"x": { "command": "x" }\n\t\t"y": {}\n\t}\n}\n';
    writeFileSync(path, broken);
    const refused = await runCli(['install', 'vscode'], { HOME: home });
    const message = `${path} line 4, column 3: comma expected, so the file was left untouched. Fix it and run again, or edit the "kimi" entry by hand (install --print shows it).`;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`${message}\n`);
    expect(read(path)).toBe(broken);

    // --print still shows the entry to add by hand.
    const printed = await runCli(['install', 'vscode', '--print'], { HOME: home });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`  ${message}\n  the entry to add by hand:\n    {\n      "servers": {\n        "kimi": {`);
    expect(read(path)).toBe(broken);
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
