/**
 * Fuzzing the arguments of all four tools, through the SDK client (in memory) against the Kimi
 * host simulator. Arguments are generated from the JSON Schema tools/list serves (a small walker)
 * and then spoilt: wrong types, extra keys, huge numbers, NaN-like strings, empty arrays, 1 MB
 * strings, unicode edge cases, deep nesting. Properties: every call ends in a result or in an
 * isError result that says what to change; nothing reaches the host unless the arguments were
 * valid; no exception escapes; the server still answers afterwards. Files and images are confined to
 * a temporary root: the root a legacy client declares, or (2026-07-28 has no roots) the server's
 * working directory. Both eras get the same seeds, so the same calls. Seeds are fixed and in the
 * test names; FUZZ_SEED replays another.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/client';
import { loadCatalog } from '../src/catalog/load.js';
import { resolveSettings } from '../src/kimi/config.js';
import { ReplyStore } from '../src/mcp/replies.js';
import { toolDefinition, unknownArguments } from '../src/mcp/tool.js';
import type { KimiTool } from '../src/mcp/tool.js';
import { createTools } from '../src/mcp/tools/index.js';
import { BOTH_ERAS, call, connect, onRoots, protocolError, ROOT, textOf } from './helpers/mcp.js';
import type { Connection, Era } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_101);
const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1);
const KEY = 'sk-fuzz-tools-3e9a7c1d5b';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Args = Record<string, Json>;
interface Schema {
  type?: string | string[];
  enum?: Json[];
  const?: Json;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  exclusiveMinimum?: number;
}

let sim: Simulator;
let root: string;
const catalog = loadCatalog(ROOT);
/** The server's own tools: their validators are the oracle for "valid", their definitions what tools/list serves. */
const tools = new Map<string, KimiTool>(createTools({ catalog, settings: resolveSettings(catalog, {}), env: {}, replies: new ReplyStore() }).map((t) => [t.name, t]));
const served: Tool[] = [...tools.values()].map(toolDefinition);

/** What the server logs: a tool that failed unexpectedly (not a usage or upstream error) logs its stack. */
let logged = '';
const write = process.stderr.write.bind(process.stderr);
beforeAll(async () => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged += String(chunk);
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  sim = await startSimulator({ apiKey: KEY });
  root = tempDir('kimi-fuzz-root-');
  mkdirSync(join(root, 'notes'));
  writeFileSync(join(root, 'a.txt'), 'alpha\nbeta\n');
  writeFileSync(join(root, 'notes/b.md'), '# b\n');
  // A 1×1 PNG.
  writeFileSync(join(root, 'pixel.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
});
afterAll(async () => {
  process.stderr.write = write;
  await sim.close();
});

/** A client in `era` whose files are confined to the fuzz root. */
async function connectIn(era: Era): Promise<Connection> {
  const env = { RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: tempDir('kimi-fuzz-state-') };
  if (era !== 'legacy') return connect(env, {}, era);
  const conn = await connect(env, { roots: {} }, era);
  onRoots(conn.client, () => ({ roots: [{ uri: pathToFileURL(root).href, name: 'fuzz root' }] }));
  return conn;
}

// ---- arguments from the served JSON Schema ---------------------------------------------------

const EDGE_STRINGS = ['', 'NaN', 'Infinity', '-Infinity', '1e309', '-0', 'null', 'undefined', '\u0000', '\ud800', '\udfff x \ud83d', '\u202eevil\u202c', '\u200f\u0627\u200e', '😀👍🏽‍', '\ufeff', 'a\r\nb', '%s%n', '../..', '${x}', ' '];
const edgeString = fc.oneof(fc.constantFrom(...EDGE_STRINGS), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }));
const str = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: edgeString });
/** Paths and globs: inside the root, missing, outside it, odd. Nothing reaches the disk outside the root. */
const pathLike = fc.oneof(
  fc.constantFrom('a.txt', 'notes/*.md', '*.txt', '**/*', 'a.txt:1-1', 'a.txt:5-9', 'missing.txt', '../outside.txt', '/etc/hostname', '~/.ssh/id_rsa', '', '.', 'notes', '!a.txt'),
  fc.string({ maxLength: 12 }),
);
const imageLike = fc.oneof(
  fc.constantFrom('pixel.png', 'missing.png', 'a.txt', '../x.png', '/etc/hosts.png', 'file:///etc/passwd', 'data:image/png;base64,iVBORw0KGgo=', 'http://127.0.0.1:1/x.png'),
  fc.string({ maxLength: 12 }).filter((s) => !/^https?:/i.test(s)),
);

/** Per field, what a real call would plausibly send; chat calls that go out ask for little. */
const FIELDS: Record<string, fc.Arbitrary<Json>> = {
  files: fc.array(pathLike, { maxLength: 3 }),
  images: fc.array(imageLike, { maxLength: 2 }),
  max_tokens: fc.integer({ min: 1, max: 64 }),
  provider: fc.oneof(fc.constantFrom('runapi', 'moonshot', 'nope', ''), str),
  conversation_id: fc.oneof(fc.constantFrom('conv-missing', '../../etc/passwd', ''), str),
};

function arbitraryOf(schema: Schema, name = ''): fc.Arbitrary<Json> {
  if (FIELDS[name]) return FIELDS[name];
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => arbitraryOf(s)));
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => arbitraryOf({ ...schema, type })));
  switch (schema.type) {
    case 'string':
      return str;
    case 'integer':
      return fc.integer({ min: schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000), max: 1_000_000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      // messages: "at least one" is a refinement the JSON Schema does not show.
      return fc.array(schema.items ? arbitraryOf(schema.items) : (fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>), { minLength: name === 'messages' ? 1 : 0, maxLength: 3 });
    case 'object':
      if (!schema.properties) return fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxKeys: 3 });
      return fc.record(Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, arbitraryOf(s, k)])), { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Json>;
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

const nested = (depth: number, leaf: Json = 1): Json => {
  let v: Json = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
  return v;
};
/** Large values travel as markers, expanded just before the call, so a counterexample stays readable. */
const LARGE: Record<string, () => Json> = {
  '<1 MB>': () => 'x'.repeat(1024 * 1024),
  '<1000 emoji and a lone surrogate>': () => `${'\ud83d\ude00'.repeat(1000)}\ud800`,
  '<nested 64>': () => nested(64),
  '<nested 1000>': () => nested(1000),
  '<[nested 500]>': () => [nested(500)],
  '<{schema: nested 800}>': () => ({ schema: nested(800) }),
};
const expand = (v: Json): Json =>
  typeof v === 'string' && Object.hasOwn(LARGE, v) ? LARGE[v]!() : Array.isArray(v) ? v.map(expand) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)])) : v;
/** Values no schema asks for. */
const wild: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, -0.000001, 2 ** 53 + 1, -(2 ** 53) - 1, 1e308, -1e308, 5e-324, [], {}, [[]], [null], { '': '' }),
  fc.constantFrom<Json>('NaN', 'Infinity', '-Infinity', '1e309', '0x10', '1_000', ' 12 ', 'true', '[]', '{}'),
  edgeString,
  fc.constantFrom<Json>(...Object.keys(LARGE)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);
const extraKey = fc.oneof(fc.constantFrom('promt', 'file', 'max_token', 'Model', '__proto__', 'constructor', 'toString', '', ' prompt', 'prompt\u0000'), fc.string({ maxLength: 10 }));

/** A schema-valid argument object, then (maybe) spoilt in one or two places. */
function argumentsFor(name: string): fc.Arbitrary<{ args: Json; spoilt: string[] }> {
  const schema = served.find((t) => t.name === name)!.inputSchema as Schema;
  const keys = Object.keys(schema.properties ?? {});
  let valid = arbitraryOf(schema) as fc.Arbitrary<Args>;
  if (name === 'estimate_cost') valid = fc.tuple(valid, fc.nat(9)).map(([args, dice]) => (dice < 6 ? { ...args, provider: 'runapi', files: ['a.txt'] } : args));
  if (name === 'kimi_chat' || name === 'kimi_stream') {
    // Mostly a call that can go out: prompt or messages (not both), no conversation to continue.
    valid = fc.tuple(valid, fc.boolean(), fc.nat(9)).map(([args, usePrompt, dice]) => {
      const out = { ...args };
      if (dice < 7) {
        if (usePrompt) {
          delete out.messages;
          out.prompt ??= 'hello';
        } else {
          delete out.prompt;
          out.messages ??= [{ role: 'user', content: 'hello' }];
        }
        // What the model rules or the disk would refuse before sending, left to the other cases.
        for (const k of ['conversation_id', 'temperature', 'provider', 'images', 'files']) delete out[k];
      }
      return out;
    });
  }
  const spoil = fc.oneof(
    fc.tuple(fc.constantFrom(...keys), wild).map(([k, v]) => ({ k, v })),
    fc.tuple(extraKey, wild).map(([k, v]) => ({ k, v })),
    fc.constantFrom(...keys).map((k) => ({ k, v: [] as Json })),
  );
  return fc.oneof(
    { weight: 3, arbitrary: valid.map((args) => ({ args: args as Json, spoilt: [] as string[] })) },
    {
      weight: 4,
      arbitrary: fc.tuple(valid, fc.array(spoil, { minLength: 1, maxLength: 2 })).map(([args, spoils]) => {
        const out: Args = { ...args };
        for (const { k, v } of spoils) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        return { args: out as Json, spoilt: spoils.map((s) => s.k) };
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom<Json>([], 'prompt', 5, null, [{ prompt: 'hi' }]).map((args) => ({ args, spoilt: ['arguments'] })) },
  );
}

// ---- the properties ------------------------------------------------------------------------

/** What the server's own validation accepts (as the SDK's JSON wire would deliver it). */
function isValid(name: string, args: Json): boolean {
  const tool = tools.get(name)!;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return false;
  return !unknownArguments(tool, args) && tool.input.safeParse(args).success;
}

/** Text that tells the caller what to change: it names an argument, or says what to give. */
function saysWhatToChange(text: string, name: string): boolean {
  const fields = Object.keys(tools.get(name)!.input.shape);
  return (
    fields.some((f) => text.includes(f)) ||
    /\b(give|pass|use|set|add|remove|send|choose|one of|must|expected|accepts|shorten|lower|split|check|start|list|try|fewer|smaller|instead|write|omit|e\.g\.)/i.test(text)
  );
}

const outcomes: string[] = [];
afterAll(() => {
  if (!process.env.FUZZ_DEBUG) return;
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  console.log([...counts].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${n} ${o}`).join('\n'));
});

async function callOnce(conn: Connection, name: string, sent: Json): Promise<void> {
  // What the wire would carry: JSON, so no undefined, NaN or -0 survives.
  const args = JSON.parse(JSON.stringify(expand(sent))) as Json;
  const before = sim.requests.length;
  logged = '';
  let result: Awaited<ReturnType<typeof call>> | undefined;
  try {
    result = await call(conn.client, name, args as Args);
  } catch (e) {
    // Only arguments that are no object at all are a protocol error (-32602), naming them.
    const error = protocolError(e);
    expect(error, String(e)).toBeDefined();
    expect(error!.code).toBe(-32602);
    expect(error!.message).toMatch(/arguments/);
    // Only arguments that are no object, or hold "__proto__" (which parsing would turn into a prototype).
    expect(typeof args === 'object' && args !== null && !Array.isArray(args) && !Object.hasOwn(args, '__proto__')).toBe(false);
    expect(sim.requests.length).toBe(before);
    return;
  }
  const reached = sim.requests.length > before;
  const text = textOf(result);
  if (process.env.FUZZ_DEBUG) outcomes.push(`${name} ${reached ? 'REACHED' : ''} ${result.isError ? 'ERR' : 'OK'} ${text.slice(0, 100).replace(/\d+/g, 'N')}`);
  const shown = `${name}(${JSON.stringify(args).slice(0, 300)}) → ${result.isError ? 'error' : 'ok'}: ${text.slice(0, 400)}`;
  if (!isValid(name, args)) {
    expect(reached, `reached the host: ${shown}`).toBe(false);
    expect(result.isError, shown).toBe(true);
    expect(text, shown).toMatch(/^Invalid arguments for \w+: |does not take/);
  }
  expect(logged, `an unexpected failure was logged: ${shown}`).not.toMatch(/ failed:|unhandled|TypeError|RangeError|ReferenceError/);
  if (result.isError) {
    expect(saysWhatToChange(text, name), `says what to change: ${shown}`).toBe(true);
    if (reached) expect(text, `a validation error after the host was asked: ${shown}`).not.toMatch(/^Invalid arguments|does not take/);
  }
}

// Both eras, with the same seeds. The modern variant (a fresh server per request, over the
// in-process HTTP handler) runs the same properties with half as many runs, to keep the file quick.
describe.each(BOTH_ERAS)('tool arguments, fuzzed from the served schemas (%s)', (era) => {
  const n = (count: number) => runs(era === 'legacy' ? count : Math.ceil(count / 2));
  let conn: Connection;
  const cwd = process.cwd();
  beforeAll(async () => {
    // 2026-07-28 has no roots: the server's working directory (plus KIMI_MCP_ROOTS) is what files may come from.
    if (era !== 'legacy') process.chdir(root);
    conn = await connectIn(era);
    // The arguments below are generated from exactly what tools/list serves.
    expect((await conn.client.listTools()).tools).toEqual(served);
  });
  afterAll(async () => {
    process.chdir(cwd);
    await conn.close();
  });

  test.prop([argumentsFor('estimate_cost')], { seed: SEED, numRuns: n(250) })(`estimate_cost (seed ${SEED})`, ({ args }) => callOnce(conn, 'estimate_cost', args));
  test.prop([argumentsFor('list_models')], { seed: SEED + 1, numRuns: n(150) })(`list_models (seed ${SEED + 1})`, ({ args }) => callOnce(conn, 'list_models', args));
  test.prop([argumentsFor('kimi_chat')], { seed: SEED + 2, numRuns: n(120) })(`kimi_chat (seed ${SEED + 2})`, ({ args }) => callOnce(conn, 'kimi_chat', args));
  test.prop([argumentsFor('kimi_stream')], { seed: SEED + 3, numRuns: n(120) })(`kimi_stream (seed ${SEED + 3})`, ({ args }) => callOnce(conn, 'kimi_stream', args));

  test('the server still answers afterwards, and the fuzz did reach the host with valid calls', async () => {
    // 2026-07-28 has no ping: a request any server answers instead.
    if (conn.client instanceof LegacyClient) await expect(conn.client.ping()).resolves.toBeDefined();
    else await expect(conn.client.listTools()).resolves.toMatchObject({ tools: served });
    expect(sim.requests.filter((r) => r.path.endsWith('/chat/completions')).length).toBeGreaterThan(0);
  });
});
