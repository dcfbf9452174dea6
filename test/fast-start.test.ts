/**
 * The start-up path (src/startup/fast-stdio.ts) answers a client's first requests from the
 * build's snapshot and hands everything else to the full server. Whatever path a process is on,
 * a client must not be able to tell: every answer here is compared with what the full server
 * alone (KIMI_MCP_FAST_START=0) gives, in both protocol eras.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStartupSnapshot } from '../src/catalog/snapshot.js';
import { runCli } from './helpers/run-cli.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { copySkill, tempDir } from './helpers/temp.js';
import { byId, envelope, exchange, RawSession, ROOT } from './raw-session.js';
import type { Message } from './raw-session.js';

const FULL = { KIMI_MCP_FAST_START: '0' };
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

const initialize = (protocolVersion = '2025-11-25', id: number | string = 1) => ({
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: { roots: {} }, clientInfo: { name: 'raw', version: '0' } },
});
const initialized = { method: 'notifications/initialized' };
const discover = (id: number | string = 1) => ({ id, method: 'server/discover', params: { _meta: envelope() } });

/** What opens a session of each era, and how a request of that era carries its params. */
const ERAS = {
  legacy: { opening: [initialize(), initialized], params: (p: Record<string, unknown> = {}) => p },
  modern: { opening: [discover()], params: (p: Record<string, unknown> = {}) => ({ ...p, _meta: envelope() }) },
} as const;
type Era = keyof typeof ERAS;
const eras = Object.keys(ERAS) as Era[];

const toolCall = (era: Era, id: number | string, name: string, args: Record<string, unknown>) => ({ id, method: 'tools/call', params: ERAS[era].params({ name, arguments: args }) });
const toolsList = (era: Era, id: number | string = 2) => ({ id, method: 'tools/list', params: ERAS[era].params() });

/** Both paths at once: the start-up path and the full server alone, with the same input. */
async function bothPaths(messages: Record<string, unknown>[], env: Record<string, string> = {}) {
  const [fast, full] = await Promise.all([exchange(messages, { env }), exchange(messages, { env: { ...env, ...FULL } })]);
  expect(fast.code, fast.stderr).toBe(0);
  expect(full.code, full.stderr).toBe(0);
  return { fast, full };
}

const structured = (m: Message | undefined) => (m?.result as { structuredContent: Record<string, unknown> }).structuredContent;

describe('the start-up path', () => {
  it('has a snapshot that fits the built skill (else these tests would exercise the full server only)', () => {
    expect(readStartupSnapshot({}, join(ROOT, 'dist'), version, ROOT)).toBeDefined();
    expect(readStartupSnapshot(FULL, join(ROOT, 'dist'), version, ROOT)).toBeUndefined();
  });

  it('answers legacy initialize, ping and tools/list exactly as the full server does', async () => {
    await Promise.all(
      ['2025-11-25', '2025-06-18', '2024-11-05', '1999-01-01'].map(async (v) => {
        const { fast, full } = await bothPaths([
          initialize(v),
          initialized,
          { id: 2, method: 'ping' },
          toolsList('legacy', 3),
          { id: 4, method: 'tools/list', params: { cursor: 'next', _meta: { progressToken: 'p' } } },
        ]);
        expect(fast.messages).toHaveLength(4);
        expect(byId(fast.messages), v).toEqual(byId(full.messages));
      }),
    );
  });

  it('answers modern server/discover and tools/list exactly as the full server does', async () => {
    const { fast, full } = await bothPaths([
      discover(),
      toolsList('modern', 2),
      { id: 3, method: 'tools/list', params: { cursor: 'next', _meta: { ...envelope(), progressToken: 7 } } },
      { id: 4, method: 'server/discover', params: { _meta: { ...envelope('another'), 'io.modelcontextprotocol/clientCapabilities': { roots: { listChanged: true } } } } },
    ]);
    expect(fast.messages).toHaveLength(4);
    expect(byId(fast.messages)).toEqual(byId(full.messages));
    expect(byId(fast.messages).get(1)!.result).toMatchObject({ supportedVersions: expect.arrayContaining(['2026-07-28']), resultType: 'complete' });
  });

  it.each(eras)('hands over to the full server, which answers the rest once each, never the opening twice (%s era)', async (era) => {
    const { fast, full } = await bothPaths([...ERAS[era].opening, toolsList(era, 2), toolCall(era, 3, 'estimate_cost', { input_tokens: 1_000_000, output_tokens: 1_000_000 })]);
    expect(fast.messages.map((m) => m.id).sort()).toEqual([1, 2, 3]);
    expect(byId(fast.messages)).toEqual(byId(full.messages));
    expect(structured(byId(fast.messages).get(3))).toMatchObject({ cost: { total: 2.48 } });
  });

  it.each(eras)('answers tool calls (all of them the full server\'s) as the full server alone does, and reports a bad setting once (%s era)', async (era) => {
    const calls: [string, Record<string, unknown>][] = [
      ['list_models', {}],
      ['list_models', { provider: 'openrouter' }],
      ['list_models', { provider: 'azure' }],
      ['estimate_cost', { input_tokens: 1_000_000, output_tokens: 1_000_000 }],
      ['estimate_cost', { text: 'Review this diff for race conditions.', output_tokens: 500, model: 'kimi-k3' }],
      ['estimate_cost', { model: 'kimi-k2.6', provider: 'moonshot-cn', input_tokens: 1_000_000, cached_tokens: 10 }],
      ['estimate_cost', { model: 'kimi-k3', provider: 'openrouter', input_tokens: 10 }],
      ['estimate_cost', {}],
      ['estimate_cost', { input_tokens: -1 }],
      ['estimate_cost', { ouput_tokens: 5, input_tokens: 1 }],
    ];
    const { fast, full } = await bothPaths([...ERAS[era].opening, ...calls.map(([name, args], i) => toolCall(era, 10 + i, name, args))], { KIMI_PROVIDER: 'nowhere' });
    expect(byId(fast.messages).size).toBe(calls.length + 1);
    expect(byId(fast.messages)).toEqual(byId(full.messages));
    for (const { stderr } of [fast, full]) expect(stderr.match(/configuration: KIMI_PROVIDER="nowhere"/g)).toHaveLength(1);
  });
});

/**
 * The drift this design removed: the start-up path once answered tool calls itself and let
 * through arguments the full server's schema refuses. Refused arguments must be refused alike
 * on every path, and nothing may reach the Kimi host.
 */
describe('tool calls with arguments the schema refuses', () => {
  const KEY = 'sk-refused-7c2e9a41b3d5';
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
  });
  afterAll(() => sim.close());
  const env = () => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL });

  const REFUSED: [string, Record<string, unknown>, RegExp][] = [
    ['kimi_chat', { prompt: 'refused: negative max_tokens', max_tokens: -5 }, /Invalid arguments for kimi_chat: max_tokens: Too small/],
    ['kimi_chat', { promt: 'refused: misspelt argument' }, /kimi_chat does not take "promt" \(did you mean prompt\?\); nothing was sent/],
    ['kimi_stream', { prompt: 'refused: unknown model', model: 'kimi-k9' }, /Invalid arguments for kimi_stream: model: /],
    ['kimi_chat', { messages: [] }, /Invalid arguments for kimi_chat: messages: must hold at least one message/],
    ['estimate_cost', { input_tokens: 1.5 }, /Invalid arguments for estimate_cost: input_tokens: /],
  ];

  it.each(eras)('refuses them alike as the first request on the start-up path, after a hand-over and on the full server alone, sending nothing (%s era)', async (era) => {
    const calls = REFUSED.map(([name, args], i) => toolCall(era, 100 + i, name, args));
    // Each as the very first request after the opening, sent once the opening is answered (as a client does).
    const first = await Promise.all(
      calls.map(async (call) => {
        const s = new RawSession({ env: env() });
        s.send(ERAS[era].opening[0]!);
        await s.answer(1);
        s.send(...ERAS[era].opening.slice(1), call);
        const answer = await s.answer(call.id);
        const { code } = await s.end();
        expect(code).toBe(0);
        expect(s.answersTo(call.id)).toHaveLength(1);
        return answer;
      }),
    );
    // All of them after a hand-over (resources/list is the full server's), and on the full server alone.
    const handOver = { id: 2, method: 'resources/list', params: ERAS[era].params() };
    const [after, full] = await Promise.all([
      exchange([...ERAS[era].opening, handOver, ...calls], { env: env() }),
      exchange([...ERAS[era].opening, ...calls], { env: { ...env(), ...FULL } }),
    ]);
    expect(after.code).toBe(0);
    expect(full.code).toBe(0);
    REFUSED.forEach(([, , says], i) => {
      const id = 100 + i;
      const answer = first[i]!;
      expect(answer.result, JSON.stringify(answer)).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringMatching(says) }] });
      expect(byId(after.messages).get(id), `after a hand-over, ${id}`).toEqual(answer);
      expect(byId(full.messages).get(id), `full server alone, ${id}`).toEqual(answer);
    });
    expect(sim.requests).toEqual([]);
  });
});

describe('an edited skill', () => {
  const dir = copySkill();
  const runapi = join(dir, 'skill/references/providers/runapi.md');
  const shipped = readFileSync(runapi, 'utf8');
  const k26 = readFileSync(join(dir, 'skill/references/models/kimi-k2.6.md'), 'utf8');
  writeFileSync(join(dir, 'skill/references/models/kimi-k2.9.md'), k26.replace('id: kimi-k2.6', 'id: kimi-k2.9').replace('default: true\n', '').replace('released: "2026-04-20"', 'released: "2026-11-01"'));
  writeFileSync(runapi, shipped.replace('input: 0.48', 'input: 0.50'));
  const env = { KIMI_MCP_SKILL_DIR: dir };

  it.each(eras)('is never answered from the build-time snapshot: the new model and price show at once, as on the full server (%s era)', async (era) => {
    const { fast, full } = await bothPaths([
      ...ERAS[era].opening,
      toolsList(era, 2),
      toolCall(era, 3, 'estimate_cost', { input_tokens: 1_000_000, output_tokens: 1_000_000 }),
      toolCall(era, 4, 'estimate_cost', { model: 'kimi-k2.9', input_tokens: 1000 }),
    ], env);
    expect(byId(fast.messages)).toEqual(byId(full.messages));
    expect(structured(byId(fast.messages).get(3))).toMatchObject({ cost: { input: 0.5 } });
    // The new model is known (no host serves it in this copy), not refused as unknown.
    expect(JSON.stringify(byId(fast.messages).get(4))).toMatch(/runapi does not serve kimi-k2\.9\./);
  });

  it('prices with the edited skill in `kimi-mcp cost` too, and with the shipped one otherwise', async () => {
    const args = ['cost', '--model', 'kimi-k2.6', '--input-tokens', '1000000', '--json'];
    const [edited, plain] = await Promise.all([runCli(args, env), runCli(args)]);
    expect(JSON.parse(edited.stdout)).toMatchObject({ cost: { input: 0.5 } });
    expect(JSON.parse(plain.stdout)).toMatchObject({ cost: { input: 0.48 } });
  });

  it('that is broken stops the server and `kimi-mcp cost` at once, naming file and field', async () => {
    const broken = copySkill();
    const file = join(broken, 'skill/references/providers/runapi.md');
    writeFileSync(file, shipped.replace('input: 0.48', 'input: cheap'));
    const brokenEnv = { KIMI_MCP_SKILL_DIR: broken };
    const where = /skill\/references\/providers\/runapi\.md.*models\.kimi-k2\.6\.price\.input/s;
    const [legacy, modern, cost] = await Promise.all([
      exchange([...ERAS.legacy.opening, toolsList('legacy')], { env: brokenEnv }),
      exchange([...ERAS.modern.opening, toolsList('modern')], { env: brokenEnv }),
      runCli(['cost', '--input-tokens', '10'], brokenEnv),
    ]);
    for (const r of [legacy, modern]) {
      expect(r.code).toBe(1);
      expect(r.messages).toEqual([]);
      expect(r.stderr).toMatch(where);
    }
    expect(cost.code).toBe(1);
    expect(cost.stderr).toMatch(where);
  });
});

describe('a package with nothing but the launcher and the snapshot', () => {
  it('answers the opening requests of both eras as the real one does: they need no SDK, zod or full server', async () => {
    const pkg = copySkill(tempDir('kimi-launcher-only-'));
    mkdirSync(join(pkg, 'dist'));
    for (const f of ['cli.js', 'package.json', 'startup-snapshot.json']) cpSync(join(ROOT, 'dist', f), join(pkg, 'dist', f));
    for (const era of eras) {
      const input = [...ERAS[era].opening, toolsList(era, 2), ...(era === 'legacy' ? [{ id: 3, method: 'ping' }] : [])];
      const [alone, real] = await Promise.all([exchange(input, { cli: join(pkg, 'dist/cli.js') }), exchange(input)]);
      expect(alone.code, alone.stderr).toBe(0);
      expect(alone.messages.length, era).toBe(input.filter((m) => 'id' in m).length);
      expect(byId(alone.messages), era).toEqual(byId(real.messages));
    }
  });
});

/**
 * A client may open in one era and then speak the other: the SDK's serveStdio lets a
 * server/discover probe fall back to a 2025 handshake, and pins a connection opened with
 * initialize to the 2025 era (refusing server/discover there). The start-up path must not answer
 * such a request differently from the full server.
 */
describe('a client that changes era after its opening', () => {
  const elsewhere = tempDir('kimi-elsewhere-');
  const run = async (messages: Record<string, unknown>[], env: Record<string, string> = {}) => {
    // Started outside the project, which the client names as its root.
    const s = new RawSession({ env, roots: [ROOT], cwd: elsewhere });
    for (const m of messages) {
      s.send(m);
      if ('id' in m) await s.answer(m.id as number);
    }
    const ended = await s.end();
    expect(ended.code).toBe(0);
    return { answers: byId(ended.messages), asked: ended.messages.filter((m) => 'method' in m).map((m) => m.method) };
  };
  const SWITCHES: Record<string, Record<string, unknown>[]> = {
    // Pinned to 2025 by initialize: the full server refuses server/discover (-32601) and answers tools/list the 2025 way.
    'initialize, then server/discover': [initialize(), initialized, discover(2), toolsList('modern', 3)],
    // The probe falls back to a 2025 handshake declaring roots, which estimate_cost's files then need.
    'server/discover, then initialize': [discover(), initialize('2025-11-25', 2), initialized, toolCall('legacy', 3, 'estimate_cost', { files: [join(ROOT, 'package.json')] })],
  };

  it.each(Object.keys(SWITCHES))('gets from the start-up path what the full server gives it (%s)', async (name) => {
    const [fast, full] = await Promise.all([run(SWITCHES[name]!), run(SWITCHES[name]!, FULL)]);
    expect(fast).toEqual(full);
  });
});
