/** Packaging: every manifest valid for its tool, one version everywhere, a bundle that runs alone. */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import matter from 'gray-matter';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { loadCatalog } from '../src/catalog/load.js';
import { ROOT } from './helpers/mcp.js';
import { tempDir } from './helpers/temp.js';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const json = (file: string) => JSON.parse(read(file)) as Record<string, any>;
const pkg = json('package.json');
const catalog = loadCatalog(ROOT);
const defaultKey = catalog.defaultProvider.key_env[0]!;

describe('one version number everywhere', () => {
  it('package.json, every manifest, the npx pins and SKILL.md agree', () => {
    const v = pkg.version as string;
    const skill = matter(read('SKILL.md')).data as { metadata: { version: string } };
    const pins = [...json('.mcp.json').mcpServers.kimi.args, ...json('gemini-extension.json').mcpServers.kimi.args].filter((a: string) => a.startsWith('kimi-mcp@'));
    expect({
      plugin: json('.claude-plugin/plugin.json').version,
      marketplace: json('.claude-plugin/marketplace.json').plugins[0].version,
      codex: json('.codex-plugin/plugin.json').version,
      gemini: json('gemini-extension.json').version,
      mcpb: json('manifest.json').version,
      registry: json('server.json').version,
      registryPackage: json('server.json').packages[0].version,
      skill: skill.metadata.version,
      pins,
    }).toEqual({ plugin: v, marketplace: v, codex: v, gemini: v, mcpb: v, registry: v, registryPackage: v, skill: v, pins: [`kimi-mcp@${v}`, `kimi-mcp@${v}`] });
  });
});

describe('Claude Code plugin', () => {
  it('starts its server from a pinned npx (a plugin is never npm-installed) and passes the key from userConfig', () => {
    const plugin = json('.claude-plugin/plugin.json');
    expect(plugin.name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    expect(plugin.userConfig.runapi_key).toMatchObject({ sensitive: true, required: false });
    const server = json('.mcp.json').mcpServers.kimi;
    expect(server.command).toBe('npx');
    expect(server.args).toEqual(['-y', `kimi-mcp@${pkg.version}`]);
    // The plugin key goes to the host's second key variable, so an unexpanded placeholder (OpenClaw
    // does not expand ${user_config.*}) never hides a RUNAPI_KEY inherited from the environment.
    const [first, second] = catalog.defaultProvider.key_env;
    expect(server.env).toEqual({ [second!]: '${user_config.runapi_key}' });
    expect(first).toBe(defaultKey);
  });

  it('lists itself in a one-plugin marketplace at the repository root', () => {
    const market = json('.claude-plugin/marketplace.json');
    expect(market.plugins).toEqual([expect.objectContaining({ name: json('.claude-plugin/plugin.json').name, source: './' })]);
    expect(market.description).toBeTruthy();
  });
});

describe('MCP Registry server.json (2025-12-11 rules)', () => {
  const registry = z.object({
    $schema: z.literal('https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json'),
    name: z.string().min(3).max(200).regex(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/),
    title: z.string().min(1).max(100).optional(),
    description: z.string().min(1).max(100),
    version: z.string().max(255).refine((v) => !/[\^~><=*x]|\.x\b/.test(v) && v !== 'latest', 'a specific version, not a range'),
    packages: z.array(
      z.object({
        registryType: z.literal('npm'),
        identifier: z.string(),
        version: z.string().min(1).refine((v) => v !== 'latest'),
        runtimeHint: z.string().optional(),
        transport: z.object({ type: z.literal('stdio') }),
        environmentVariables: z.array(z.object({ name: z.string(), description: z.string(), isRequired: z.boolean(), isSecret: z.boolean(), format: z.enum(['string', 'number', 'boolean', 'filepath']) })),
      }),
    ).min(1),
  }).strict();

  it('follows the schema\'s rules and names our npm package', () => {
    const server = registry.parse(json('server.json'));
    expect(server.name).toBe(pkg.mcpName);
    expect(server.packages[0]!.identifier).toBe(pkg.name);
  });

  it('marks the key secret, and only the key', () => {
    const vars = json('server.json').packages[0].environmentVariables as { name: string; isSecret: boolean }[];
    expect(vars.filter((v) => v.isSecret).map((v) => v.name)).toEqual([defaultKey]);
  });
});

describe('MCP Bundle manifest.json', () => {
  it('keeps the key as a sensitive user_config and lists the real tools', async () => {
    const manifest = json('manifest.json');
    expect(manifest.user_config.runapi_key).toMatchObject({ type: 'string', sensitive: true });
    expect(manifest.server.mcp_config.env).toEqual({ [defaultKey]: '${user_config.runapi_key}' });
    expect(manifest.server.entry_point).toBe(pkg.bin['kimi-mcp']);
    const client = new Client({ name: 'manifest-check', version: '0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'dist/cli.js')], env: getDefaultEnvironment(), stderr: 'ignore' }));
    const { tools } = await client.listTools();
    await client.close();
    expect(manifest.tools.map((t: { name: string }) => t.name)).toEqual(tools.map((t) => t.name));
  });
});

describe('OpenClaw reads SKILL.md as its docs say', () => {
  it('has block-style metadata.openclaw with primaryEnv and requires.env naming the key', () => {
    const file = matter(read('SKILL.md'), { language: 'yaml' }); // options also bypass gray-matter's cache, whose hits lack .matter
    const openclaw = (file.data as { metadata: { openclaw: { primaryEnv: string; requires: { env: string[] } } } }).metadata.openclaw;
    expect(openclaw.primaryEnv).toBe(defaultKey);
    expect(openclaw.requires.env).toContain(defaultKey);
    const metadataBlock = file.matter.slice(file.matter.indexOf('\nmetadata:'));
    expect(metadataBlock).not.toMatch(/:\s*[[{]/);
    expect((file.data as { description: string }).description).not.toContain('\n');
  });
});

describe('the published package', () => {
  it('contains the bundle, the skill and the manifests, and no sources or tests', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: { path: string }[] }];
    const files = packed.files.map((f) => f.path);
    for (const f of ['dist/cli.js', 'SKILL.md', 'skill/references/models/kimi-k2.6.md', '.claude-plugin/plugin.json', '.mcp.json', 'manifest.json', 'server.json', 'gemini-extension.json', '.codex-plugin/plugin.json', 'LICENSE']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]); // the bundle inlines everything
  });

  it('runs from its files alone, with no node_modules (as a plugin copy does)', async () => {
    const dir = tempDir('kimi-pkg-');
    for (const f of ['dist', 'SKILL.md', 'skill', 'package.json']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    const client = new Client({ name: 'standalone', version: '0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(dir, 'dist/cli.js')], env: getDefaultEnvironment(), cwd: dir, stderr: 'ignore' }));
    const r = await client.callTool({ name: 'estimate_cost', arguments: { input_tokens: 1000, output_tokens: 1000 } });
    await client.close();
    expect(r.isError).toBeFalsy();
  });
});
