/** End to end: the built bundle, spawned as an agent would spawn it, over real stdio. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readStartupSnapshot } from '../src/catalog/snapshot.js';
import { version } from '../src/version.js';
import { ROOT, serverEnv } from './helpers/mcp.js';
import { cancelOnFirstText } from './helpers/cancel.js';
import { startSimulator } from './helpers/simulator.js';
import { copySkill } from './helpers/temp.js';
import { byId, envelope, RawSession } from './raw-session.js';

const CLI = join(ROOT, 'dist/cli.js');

describe('dist/cli.js over stdio', () => {
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';

  beforeAll(async () => {
    transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env: getDefaultEnvironment(), stderr: 'pipe' });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'e2e', version: '0.0.0' });
    await client.connect(transport);
  });
  afterAll(() => client.close());

  it('introduces itself with the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(client.getServerVersion()).toMatchObject({ name: 'kimi-mcp', version: pkg.version });
  });

  it('lists tools and resources and answers a call', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['list_models', 'estimate_cost']));
    const { resources } = await client.listResources();
    expect(resources.length).toBeGreaterThanOrEqual(20);
    const r = await client.callTool({ name: 'estimate_cost', arguments: { input_tokens: 1_000_000, output_tokens: 1_000_000 } });
    expect(r.structuredContent).toMatchObject({ cost: { total: 2.48 } });
  });

  it('starts from a small launcher that loads no SDK, zod or openai code, and loads openai only when a call needs it', () => {
    const dist = join(ROOT, 'dist');
    const files = [...readdirSync(dist).filter((f) => f.endsWith('.mjs')), ...readdirSync(join(dist, 'chunks')).map((f) => `chunks/${f}`)].map((f) => join(dist, f));
    // The launcher that agents spawn holds no SDK, zod or YAML code (the envelope's key names,
    // io.modelcontextprotocol/..., are spec constants, not the SDK)...
    const launcher = readFileSync(CLI, 'utf8');
    expect(launcher.length).toBeLessThan(20_000);
    expect(launcher).not.toMatch(/X-Stainless|@modelcontextprotocol|McpServer|ZodError|js-yaml|gray-matter/);
    // ...requires nothing but Node's own modules...
    const required = [...launcher.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((r) => !r.startsWith('node:'))).toEqual([]);
    // ...and reaches the rest only through import() of the full CLI or the full server.
    expect(launcher.match(/\bimport\(/g)).toHaveLength(1);
    expect([...launcher.matchAll(/"([\w./-]+\.m?js)"/g)].map((m) => m[1]).sort()).toEqual(['main.mjs', 'server.mjs']);
    // The openai SDK's own request headers live in exactly one chunk...
    const withSdk = files.filter((f) => readFileSync(f, 'utf8').includes('X-Stainless'));
    expect(withSdk.map((f) => basename(f))).toEqual([expect.stringMatching(/^openai-[\w-]+\.mjs$/)]);
    const chunk = basename(withSdk[0]!);
    // ...which every other module reaches only through a dynamic import().
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      if (!text.includes(chunk)) continue;
      expect(text.replace(/import\("\.\/(chunks\/)?openai-[\w-]+\.mjs"\)/g, '')).not.toContain(chunk);
    }
  });
});

describe('the 2026-07-28 era through dist/cli.js, end to end', () => {
  it('discovers from the snapshot, lists the tools the full server lists, and answers a call once', async () => {
    const snapshot = readStartupSnapshot({}, join(ROOT, 'dist'), version, ROOT)!;
    const fast = new RawSession({ env: { HOME: process.env.HOME } });
    const full = new RawSession({ env: { HOME: process.env.HOME, KIMI_MCP_FAST_START: '0' } });
    const meta = envelope('e2e-modern');
    const requests = [
      { id: 1, method: 'server/discover', params: { _meta: meta } },
      { id: 2, method: 'tools/list', params: { _meta: meta } },
      { id: 3, method: 'tools/call', params: { _meta: meta, name: 'list_models', arguments: {} } },
      { id: 4, method: 'tools/call', params: { _meta: { ...meta, progressToken: 'p4' }, name: 'estimate_cost', arguments: { input_tokens: 1_000_000, output_tokens: 1_000_000 } } },
    ];
    // One request at a time, each sent once the previous is answered, as a client does.
    for (const r of requests) {
      for (const s of [fast, full]) s.send(r);
      await Promise.all([fast.answer(r.id), full.answer(r.id)]);
    }
    const [a, b] = await Promise.all([fast.end(), full.end()]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    // Exactly one answer per request (byId throws on a second one), nothing else on stdout.
    const answers = byId(a.messages);
    expect([...answers.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(a.messages.filter((m) => 'method' in m && m.method !== 'notifications/progress')).toEqual([]);
    const discovered = answers.get(1)!;
    expect(discovered.result).toMatchObject({ supportedVersions: expect.arrayContaining(['2026-07-28']), resultType: 'complete' });
    expect(discovered.result).toEqual(snapshot.modern.answers['server/discover']);
    expect(answers.get(2)!.result).toEqual(snapshot.modern.answers['tools/list']);
    // What the full server alone answers, request for request.
    expect(answers).toEqual(byId(b.messages));
    expect((answers.get(2)!.result!.tools as { name: string }[]).map((t) => t.name)).toEqual(['kimi_chat', 'kimi_stream', 'list_models', 'estimate_cost', 'kimi_agent', 'kimi_review', 'kimi_job']);
    expect(answers.get(3)!.result).toMatchObject({ resultType: 'complete', structuredContent: { models: expect.arrayContaining([expect.objectContaining({ id: 'kimi-k2.6' })]) } });
    expect(answers.get(4)!.result).toMatchObject({ resultType: 'complete', structuredContent: { cost: { total: 2.48 } } });
  });
});

/** Runs the CLI with raw stdio so we see exactly what it writes where. */
function runRaw(env: NodeJS.ProcessEnv, input: string, endStdin = true): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.write(input);
    if (endStdin) child.stdin.end();
  });
}

describe('stdio hygiene', () => {

  it('writes only JSON-RPC to stdout, answers a garbage line with a parse error and exits when stdin ends', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const { code, stdout, stderr } = await runRaw({ OPENAI_LOG: 'debug' }, `${JSON.stringify(init)}\nthis is not json\n${JSON.stringify(list)}\n`);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number | null; error?: { code: number } });
    expect(lines.map((m) => m.id)).toEqual([1, null, 2]);
    expect(lines[1]!.error?.code).toBe(-32700);
    expect(stderr).toMatch(/stdin/);
  });

  it('refuses to start on a broken skill file, naming the file and field on stderr', async () => {
    const dir = copySkill();
    const file = join(dir, 'skill/references/models/kimi-k2.6.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('max_output: 262144', 'max_output: lots'));
    const { code, stdout, stderr } = await runRaw({ KIMI_MCP_SKILL_DIR: dir }, '');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/skill\/references\/models\/kimi-k2\.6\.md: max_output: .*expected number/);
  });

  it('reports a bad KIMI_PROVIDER on stderr but still serves the offline tools (handed over by the start-up path)', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
    const callCost = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'estimate_cost', arguments: { input_tokens: 10 } } };
    const { stdout, stderr } = await runRaw({ KIMI_PROVIDER: 'azure' }, `${JSON.stringify(init)}\n${JSON.stringify(callCost)}\n`);
    expect(stderr).toMatch(/KIMI_PROVIDER="azure" is not a known host; set it to one of: runapi/);
    const reply = JSON.parse(stdout.trim().split('\n')[1]!) as { result: { structuredContent: { provider: string } } };
    expect(reply.result.structuredContent.provider).toBe('runapi');
  });
});

describe('kimi_stream through the built server, the real openai SDK and the simulator', () => {
  const KEY = 'sk-e2e-5d8c1b7a9e3f';
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  let client: Client;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
    client = new Client({ name: 'e2e-stream', version: '0.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI],
        env: { ...getDefaultEnvironment(), ...serverEnv({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }) } as Record<string, string>,
        stderr: 'pipe',
      }),
    );
  });
  afterAll(async () => {
    await client.close();
    await sim.close();
  });

  it('streams progress with growing text and returns the full reply with cost', async () => {
    const content = 'Kimi says: '.concat(Array.from({ length: 60 }, (_, i) => `step ${i}`).join(', '));
    sim.script({ content, chunkSize: 5, delayMs: 4 });
    const messages: string[] = [];
    const r = await client.callTool({ name: 'kimi_stream', arguments: { prompt: 'plan it' } }, undefined, {
      onprogress: (p) => messages.push(p.message ?? ''),
    });
    expect((r.structuredContent as { text: string }).text).toBe(content);
    expect((r.structuredContent as { cost_usd: number }).cost_usd).toBeGreaterThan(0);
    const withText = messages.filter((m) => m.includes('step'));
    expect(withText.length).toBeGreaterThanOrEqual(2);
    for (const m of withText) expect(content).toContain(m.replace(/^…/, ''));
  });

  it('closes the upstream connection within a second of a cancel', async () => {
    sim.script({ content: 'tick '.repeat(500), chunkSize: 5, delayMs: 20 });
    const { afterMs } = await cancelOnFirstText(client, sim, 'tick');
    expect(afterMs).toBeLessThan(1000);
  });
});
