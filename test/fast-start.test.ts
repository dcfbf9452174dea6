/** The fast start path must answer exactly as the full server does, and step aside when it can't. */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runProcess } from './helpers/process.js';
import { ROOT } from './helpers/mcp.js';
import { CLI } from './helpers/run-cli.js';
import { copySkill, tempDir } from './helpers/temp.js';
import { CACHE_SUFFIX, compileBundle } from '../src/startup/bundles.js';

const line = (m: unknown) => `${JSON.stringify(m)}\n`;
const initialize = (protocolVersion = '2025-11-25') =>
  line({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion, capabilities: { roots: {} }, clientInfo: { name: 'raw', version: '0' } } });
const initialized = line({ jsonrpc: '2.0', method: 'notifications/initialized' });
const toolsList = line({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
const call = line({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'estimate_cost', arguments: { input_tokens: 1_000_000, output_tokens: 1_000_000 } } });

async function session(input: string, env: Record<string, string> = {}) {
  const r = await runProcess(process.execPath, [CLI], { env: { PATH: process.env.PATH, ...env }, input });
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id?: number; result?: Record<string, unknown> });
}


describe('fast start', () => {
  it('answers initialize and tools/list exactly as the full server does', async () => {
    for (const version of ['2025-11-25', '2025-06-18', '1999-01-01']) {
      const input = initialize(version) + initialized + toolsList;
      expect(await session(input)).toEqual(await session(input, { KIMI_MCP_FAST_START: '0' }));
    }
  });

  it('hands over to the full server, which answers the rest once each (no second initialize answer)', async () => {
    const answers = await session(initialize() + initialized + toolsList + call);
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3]);
    expect((answers[2]!.result as { structuredContent: { cost: { total: number } } }).structuredContent.cost.total).toBe(2.48);
  });

  it('answers offline tool calls itself, exactly as the full server does, and hands the rest over', async () => {
    const calls: [string, unknown][] = [
      ['list_models', {}],
      ['list_models', { provider: 'openrouter' }],
      ['list_models', { provider: 'azure' }],
      ['estimate_cost', { input_tokens: 1_000_000, output_tokens: 1_000_000 }],
      ['estimate_cost', { text: 'Review this diff for race conditions.', output_tokens: 500, model: 'kimi-k3' }],
      ['estimate_cost', { model: 'kimi-k2.6', provider: 'moonshot-cn', input_tokens: 1_000_000, cached_tokens: 10 }],
      ['estimate_cost', { model: 'kimi-k3', provider: 'openrouter', input_tokens: 10 }],
      ['estimate_cost', {}],
      // Handed over: a bad value, an unknown argument, a live check.
      ['estimate_cost', { input_tokens: -1 }],
      ['estimate_cost', { ouput_tokens: 5, input_tokens: 1 }],
      ['list_models', { live: true }],
    ];
    const input = initialize() + initialized + calls.map(([name, args], i) => line({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name, arguments: args } })).join('');
    // Offline answers need nothing but the launcher, the offline bundle and the snapshots: a copy
    // of the package without the full server still gives them, and reports the bad setting once.
    const pkg = copySkill();
    mkdirSync(join(pkg, 'dist'));
    for (const f of ['cli.js', 'package.json', 'offline.js', 'startup-snapshot.json', 'catalog-snapshot.json']) cpSync(join(ROOT, 'dist', f), join(pkg, 'dist', f));
    const offlineInput = initialize() + initialized + calls.slice(0, 8).map(([name, args], i) => line({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name, arguments: args } })).join('');
    const offlineOnly = await runProcess(process.execPath, [join(pkg, 'dist/cli.js')], { env: { PATH: process.env.PATH, KIMI_PROVIDER: 'nowhere' }, input: offlineInput });
    expect(offlineOnly.stderr.match(/configuration: KIMI_PROVIDER="nowhere"/g)).toHaveLength(1);
    const fast = await session(input, { KIMI_PROVIDER: 'nowhere' });
    const full = await session(input, { KIMI_PROVIDER: 'nowhere', KIMI_MCP_FAST_START: '0' });
    // Offline answers, then a hand-over: the setting is still reported once.
    const mixed = await runProcess(process.execPath, [CLI], { env: { PATH: process.env.PATH, KIMI_PROVIDER: 'nowhere' }, input });
    expect(mixed.stderr.match(/configuration: KIMI_PROVIDER="nowhere"/g)).toHaveLength(1);
    const byId = (answers: { id?: number }[]) => answers.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    expect(byId(fast)).toEqual(byId(full));
    expect(fast).toHaveLength(calls.length + 1);
    const offlineAnswers = offlineOnly.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number });
    expect(byId(offlineAnswers)).toEqual(byId(full).slice(0, 9));
  });

  it('scrubs a key in every bundle once any of them registered it (each holds its own copy of log.ts)', async () => {
    // A fresh module registry for each: an instance of its own, as each bundle has.
    const copy = async () => (vi.resetModules(), await import('../src/log.js'));
    const [launcher, chat] = [await copy(), await copy()];
    expect(launcher).not.toBe(chat);
    chat.registerSecret('sk-registered-by-chat-bundle');
    expect(launcher.scrub('failed: 401 for sk-registered-by-chat-bundle')).toBe('failed: 401 for [redacted]');
  });

  it("loads the start-up bundles with the build's V8 code caches, and ignores a cache that does not fit", async () => {
    for (const name of ['offline.js', 'chat.js', 'shell.js', 'openai.js']) {
      const file = join(ROOT, 'dist', name);
      const script = compileBundle(file, readFileSync(`${file}${CACHE_SUFFIX}`));
      expect(script.cachedDataRejected, name).toBe(false);
      // Another bundle's cache (as from another build or Node) is refused by V8, never run.
      expect(compileBundle(file, readFileSync(join(ROOT, 'dist', name === 'chat.js' ? 'shell.js.cache' : 'chat.js.cache'))).cachedDataRejected, name).toBe(true);
    }
    // A package whose caches are all wrong answers exactly as the real one.
    const pkg = copySkill();
    mkdirSync(join(pkg, 'dist'));
    for (const f of ['cli.js', 'package.json', 'offline.js', 'startup-snapshot.json', 'catalog-snapshot.json']) cpSync(join(ROOT, 'dist', f), join(pkg, 'dist', f));
    writeFileSync(join(pkg, 'dist/offline.js.cache'), readFileSync(join(ROOT, 'dist/chat.js.cache')));
    const input = initialize() + initialized + call;
    const wrongCache = await runProcess(process.execPath, [join(pkg, 'dist/cli.js')], { env: { PATH: process.env.PATH }, input });
    expect(wrongCache.stdout).toBe((await runProcess(process.execPath, [CLI], { env: { PATH: process.env.PATH }, input })).stdout);
  });

  it('answers an edited skill from the skill itself (tools/list made now, the rest handed over), exactly as the full server does', async () => {
    const dir = copySkill();
    const k26 = readFileSync(join(dir, 'skill/references/models/kimi-k2.6.md'), 'utf8');
    writeFileSync(join(dir, 'skill/references/models/kimi-k2.9.md'), k26.replace('id: kimi-k2.6', 'id: kimi-k2.9').replace('default: true\n', '').replace('released: "2026-04-20"', 'released: "2026-11-01"'));
    const runapi = join(dir, 'skill/references/providers/runapi.md');
    writeFileSync(runapi, readFileSync(runapi, 'utf8').replace('input: 0.48', 'input: 0.50'));
    const input = initialize() + initialized + toolsList + call;
    const edited = await session(input, { KIMI_MCP_SKILL_DIR: dir });
    expect(edited).toEqual(await session(input, { KIMI_MCP_SKILL_DIR: dir, KIMI_MCP_FAST_START: '0' }));
    const chat = (edited[1]!.result!.tools as { name: string; inputSchema: { properties: { model: { enum: string[] } } } }[]).find((t) => t.name === 'kimi_chat')!;
    expect(chat.inputSchema.properties.model.enum).toContain('kimi-k2.9');
    // The edited price, never the build's.
    expect((edited[2]!.result as { structuredContent: { cost: { input: number } } }).structuredContent.cost.input).toBe(0.5);
    // initialize and tools/list need no full server: a package without one answers them.
    const pkg = tempDir('kimi-edited-pkg-');
    mkdirSync(join(pkg, 'dist'));
    for (const f of ['cli.js', 'package.json', 'edited.js', 'startup-snapshot.json']) cpSync(join(ROOT, 'dist', f), join(pkg, 'dist', f));
    const alone = await runProcess(process.execPath, [join(pkg, 'dist/cli.js')], { env: { PATH: process.env.PATH, KIMI_MCP_SKILL_DIR: dir }, input: initialize() + initialized + toolsList });
    expect(alone.code).toBe(0);
    expect(alone.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(edited.slice(0, 2));

    // A broken edit stops the server at once, naming file and field.
    writeFileSync(runapi, readFileSync(runapi, 'utf8').replace('input: 0.50', 'input: cheap'));
    const broken = await runProcess(process.execPath, [CLI], { env: { PATH: process.env.PATH, KIMI_MCP_SKILL_DIR: dir }, input });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/skill\/references\/providers\/runapi\.md.*models\.kimi-k2\.6\.price\.input/s);
  });

  it('never serves the build-time catalog once a skill file changed: an edited price shows at once, a broken edit fails loudly', async () => {
    const dir = copySkill();
    const runapi = join(dir, 'skill/references/providers/runapi.md');
    const text = readFileSync(runapi, 'utf8');
    writeFileSync(runapi, text.replace('input: 0.48', 'input: 0.50'));
    const args = [CLI, 'cost', '--model', 'kimi-k2.6', '--input-tokens', '1000000', '--json'];
    const env = { PATH: process.env.PATH, KIMI_MCP_SKILL_DIR: dir };
    const shell = await runProcess(process.execPath, args, { env });
    expect(JSON.parse(shell.stdout)).toMatchObject({ cost: { input: 0.5 } });
    const [, server] = await session(initialize() + initialized + line({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'estimate_cost', arguments: { input_tokens: 1_000_000 } } }), { KIMI_MCP_SKILL_DIR: dir });
    expect((server!.result as { structuredContent: { cost: { input: number } } }).structuredContent.cost.input).toBe(0.5);
    // The shipped skill, unchanged, is answered from the snapshot with the shipped price.
    expect(JSON.parse((await runProcess(process.execPath, args.slice(0, -1).concat('--json'), { env: { PATH: process.env.PATH } })).stdout)).toMatchObject({ cost: { input: 0.48 } });

    writeFileSync(runapi, text.replace('input: 0.48', 'input: cheap'));
    const broken = await runProcess(process.execPath, args, { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/skill\/references\/providers\/runapi\.md.*models\.kimi-k2\.6\.price\.input/s);
  });
});
