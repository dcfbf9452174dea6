/**
 * KIMI_BUDGET_USD under a hostile user (issue 17, defects 1 and 7): parallel calls over one
 * connection and from several server processes, a crashed server's call in flight, and limits
 * written wrong. Every call goes to the simulator; a refused one must send nothing.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Ledger, periodStart, RESERVATION_TTL_MS } from '../src/state/ledger.js';
import { call, connect, ROOT, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { runCli } from './helpers/run-cli.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';
import { runTogether } from './helpers/together.js';

const KEY = 'sk-sim-budget-5e7a9c1b3d2f';
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_717);
const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1);

const sim = simulatorForFile({ apiKey: KEY });

const open: Connection[] = [];
const spawned: Client[] = [];
afterEach(async () => {
  await Promise.all([...open.splice(0).map((c) => c.close()), ...spawned.splice(0).map((c) => c.close())]);
});

const upstream = (stateDir: string) => ({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: stateDir });
/** $2.00 per 1M output tokens on RunAPI: 9,900 of them plus a short prompt is a worst case of ~$0.0198. */
const WORST_002 = 9_900;

async function spawnServer(env: Record<string, string>): Promise<{ client: Client; transport: StdioClientTransport }> {
  const client = new Client({ name: 'budget-spender', version: '0.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'dist/cli.js')], env: { ...getDefaultEnvironment(), ...env }, stderr: 'ignore' });
  await client.connect(transport);
  spawned.push(client);
  return { client, transport };
}
/** The full server loaded (the start-up path hands over on the first tool call), so calls race at once. */
const warm = (client: Client) => client.callTool({ name: 'list_models', arguments: {} });

const chatsFor = (match: string) => sim.chatsFor(match).length;
const refusedBudget = (r: CallToolResult) => r.isError === true && /budget \(KIMI_BUDGET_USD\)/.test(textOf(r));
const spentInLedger = async (stateDir: string) => new Ledger(join(stateDir, 'ledger.jsonl')).spentSince(new Date(0));

describe('calls in flight reserve their worst case', () => {
  it('10 parallel calls over one connection, $0.02 worst case each, $0.05 budget: 2 sent, 8 refused naming what is reserved', async () => {
    const stateDir = tempDir('kimi-budget-');
    const c = await connect({ ...upstream(stateDir), KIMI_BUDGET_USD: '0.05' });
    open.push(c);
    // The admitted calls stay in flight until every admission has been decided.
    sim.scriptFor('parallel-one', ...Array.from({ length: 10 }, () => ({ firstChunkDelayMs: 500 })));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(c.client, 'kimi_chat', { prompt: `parallel-one ${i}`, max_tokens: WORST_002 })));

    const sent = results.filter((r) => !r.isError);
    const refused = results.filter(refusedBudget);
    expect(sent).toHaveLength(2);
    expect(refused).toHaveLength(8);
    expect(chatsFor('parallel-one')).toBe(2);
    for (const r of refused) expect(textOf(r)).toMatch(/Not sent: \$0\.00\d* of today's \$0\.05 budget \(KIMI_BUDGET_USD\) is spent and \$0\.\d+ is reserved by \d+ calls? in flight \(their worst case, until they end\), \$0\.0[01]\d* is left, and this call could cost up to \$0\.019\d*/);
    expect(await spentInLedger(stateDir)).toBeLessThanOrEqual(0.05);
    // Reservation lines are not costs, and not unreadable either: the usage report sees 2 calls, nothing torn.
    const { entries, torn } = await new Ledger(join(stateDir, 'ledger.jsonl')).entries();
    expect(entries).toHaveLength(2);
    expect(torn).toBe(0);
    // Both settled: the budget is free again for what the calls did not use.
    expect((await call(c.client, 'kimi_chat', { prompt: 'parallel-one after', max_tokens: WORST_002 })).isError).toBeFalsy();
  });

  it('3 server processes × 4 parallel calls, $0.02 worst case each, $0.05 budget: 2 sent in all, 10 refused', async () => {
    const stateDir = tempDir('kimi-budget-procs-');
    const env = { ...upstream(stateDir), KIMI_BUDGET_USD: '0.05' };
    const servers = await Promise.all([1, 2, 3].map(() => spawnServer(env)));
    await Promise.all(servers.map((s) => warm(s.client)));
    sim.scriptFor('parallel-procs', ...Array.from({ length: 12 }, () => ({ firstChunkDelayMs: 1_500 })));
    const results = (await Promise.all(
      servers.flatMap((s, p) => Array.from({ length: 4 }, (_, i) => s.client.callTool({ name: 'kimi_chat', arguments: { prompt: `parallel-procs ${p}.${i}`, max_tokens: WORST_002 } }))),
    )) as CallToolResult[];
    expect(results.filter((r) => !r.isError)).toHaveLength(2);
    expect(results.filter(refusedBudget)).toHaveLength(10);
    expect(chatsFor('parallel-procs')).toBe(2);
    expect(await spentInLedger(stateDir)).toBeLessThanOrEqual(0.05);
  });

  it("a server killed mid-call holds the budget while it runs; once it is gone, its reservation no longer counts", async () => {
    const stateDir = tempDir('kimi-budget-crash-');
    const env = { ...upstream(stateDir), KIMI_BUDGET_USD: '0.05' };
    const a = await spawnServer(env);
    const b = await spawnServer(env);
    await Promise.all([warm(a.client), warm(b.client)]);
    sim.scriptFor('crashing', { stallBeforeHeaders: true });
    // $0.04 worst case: in flight on server A until A is killed.
    void a.client.callTool({ name: 'kimi_chat', arguments: { prompt: 'crashing', max_tokens: 2 * WORST_002 } }).catch(() => undefined);
    await expect.poll(() => sim.inFlight('crashing'), { timeout: 10_000 }).toBe(1);

    const whileRunning = (await b.client.callTool({ name: 'kimi_chat', arguments: { prompt: 'after-crash 1', max_tokens: 2 * WORST_002 } })) as CallToolResult;
    expect(refusedBudget(whileRunning), textOf(whileRunning)).toBe(true);
    expect(textOf(whileRunning)).toMatch(/\$0\.0[34]\d* is reserved by 1 call in flight/);

    const closed = new Promise<void>((done) => (a.client.onclose = done));
    process.kill(a.transport.pid!, 'SIGKILL');
    await closed;
    const afterCrash = (await b.client.callTool({ name: 'kimi_chat', arguments: { prompt: 'after-crash 2', max_tokens: 2 * WORST_002 } })) as CallToolResult;
    expect(afterCrash.isError, textOf(afterCrash)).toBeFalsy();
    expect(chatsFor('after-crash')).toBe(1);
  });

  it('a ledger that cannot be written refuses calls under a budget, saying what to do, sending nothing', async () => {
    const notAFolder = join(tempDir('kimi-budget-nodir-'), 'state');
    writeFileSync(notAFolder, 'a file where the state folder should be');
    const c = await connect({ ...upstream(notAFolder), KIMI_BUDGET_USD: '5' });
    open.push(c);
    const before = sim.requests.length;
    const r = await call(c.client, 'kimi_chat', { prompt: 'Cheap call.', max_tokens: 10 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Not sent: the spending ledger .*ledger\.jsonl could not be used \(E[A-Z]+\), so KIMI_BUDGET_USD cannot be kept\. Make its folder writable, set KIMI_MCP_STATE_DIR to a folder that is, or unset KIMI_BUDGET_USD/);
    expect(sim.requests.length).toBe(before);
  });
});

describe('admission is race-free', () => {
  const since = periodStart('day');
  const millis = (n: number) => n / 1000;
  let n = 0;
  const freshLedger = () => new Ledger(join(tempDir('kimi-budget-prop-'), `ledger-${n++}.jsonl`));

  test.prop(
    [
      fc.record({
        budget: fc.integer({ min: 1, max: 200 }).map(millis),
        spent: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 150 }).map(millis)),
        worst: fc.array(fc.integer({ min: 1, max: 120 }).map(millis), { minLength: 1, maxLength: 12 }),
      }),
    ],
    { seed: SEED, numRuns: runs(100) },
  )(`N concurrent admissions never admit more than the budget (seed ${SEED})`, async ({ budget, spent, worst }) => {
    const ledger = freshLedger();
    if (spent > 0) await ledger.record({ at: new Date().toISOString(), provider: 'runapi', host: 'sim', model: 'kimi-k2.6', model_id: 'k', prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0, cost_usd: spent });
    const admissions = await Promise.all(worst.map((usd) => ledger.reserve(usd, { limit: budget, since })));
    const admitted = worst.filter((_, i) => admissions[i]!.admitted);
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    if (admitted.length) expect(spent + total(admitted)).toBeLessThanOrEqual(budget + 1e-9);
    // Never too strict when there is no contest: all fit, all go; with nothing spent, the first that fits goes.
    if (spent + total(worst) <= budget + 1e-9) expect(admitted).toHaveLength(worst.length);
    if (spent === 0 && worst.some((w) => w <= budget)) expect(admitted.length).toBeGreaterThan(0);
    // What is left standing is exactly the admitted reservations.
    const standing = await ledger.standing(since);
    expect(standing.in_flight).toBe(admitted.length);
    expect(standing.reserved_usd).toBeCloseTo(total(admitted), 9);
  });

  it('4 processes × 5 admissions of $0.013 at the same instant under $0.10: exactly 7 admitted', async () => {
    const file = join(tempDir('kimi-budget-together-'), 'ledger.jsonl');
    const exits = await runTogether('src/state/ledger.ts', `
      const [file] = args;
      const ledger = new module.Ledger(file);
      await Promise.all(Array.from({ length: 5 }, () => ledger.reserve(0.013, { limit: 0.1, since: new Date(0) })));
      // Stay alive, as a server does while its calls run: a process that has exited holds nothing.
      const { readFileSync } = await import('node:fs');
      while (readFileSync(file, 'utf8').split('"reservation"').length <= 20) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));`, [file], ['A', 'B', 'C', 'D']);
    expect(exits).toEqual([0, 0, 0, 0]);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reservation?: string; released?: string });
    const released = new Set(lines.map((l) => l.released).filter(Boolean));
    const reservations = lines.filter((l) => l.reservation);
    expect(reservations).toHaveLength(20);
    expect(reservations.filter((r) => !released.has(r.reservation!))).toHaveLength(7);
  }, 60_000);

  it('reservations expire: a dead process on this machine at once, an unreachable one after RESERVATION_TTL_MS', async () => {
    const file = join(tempDir('kimi-budget-expiry-'), 'ledger.jsonl');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((done) => dead.on('exit', done));
    const line = (pid: number, host: string, ageMs: number, usd: number) =>
      `${JSON.stringify({ v: 1, at: new Date(Date.now() - ageMs).toISOString(), reservation: `r-${pid}-${host}-${ageMs}`, reserved_usd: usd, owner: { pid, hostname: host, process: 'earlier-run' } })}\n`;
    appendFileSync(file, line(dead.pid!, hostname(), 1_000, 0.5));
    appendFileSync(file, line(process.pid, hostname(), 1_000, 0.25)); // this pid, but an earlier run of it
    appendFileSync(file, line(4242, 'another-machine', RESERVATION_TTL_MS + 60_000, 0.125));
    appendFileSync(file, line(4242, 'another-machine', 60_000, 0.0625));
    appendFileSync(file, line(process.ppid, hostname(), 1_000, 0.03125)); // a live process here
    expect(await new Ledger(file).standing(new Date(0))).toEqual({ spent_usd: 0, reserved_usd: 0.09375, in_flight: 2 });
  });
});

describe('a spending limit written wrong refuses every call', () => {
  it.each([
    ['KIMI_BUDGET_USD', '5,00', /KIMI_BUDGET_USD="5,00" is not an amount in US dollars .* so every Kimi call is refused until it is fixed: write it like KIMI_BUDGET_USD=5\.00, or remove KIMI_BUDGET_USD/],
    ['KIMI_MAX_COST_PER_CALL_USD', 'ten', /KIMI_MAX_COST_PER_CALL_USD="ten" is not an amount in US dollars .*: write it like KIMI_MAX_COST_PER_CALL_USD=0\.50/],
    ['KIMI_MAX_COST_PER_CALL_USD', '-1', /KIMI_MAX_COST_PER_CALL_USD="-1" is negative \(a limit is 0 or more\), so every Kimi call is refused until it is fixed: write it like KIMI_MAX_COST_PER_CALL_USD=0\.50/],
    ['KIMI_CONFIRM_ABOVE_USD', '-0.25', /KIMI_CONFIRM_ABOVE_USD="-0\.25" is negative/],
    ['KIMI_BUDGET_USD', '${KIMI_BUDGET_USD}', /KIMI_BUDGET_USD holds "\$\{KIMI_BUDGET_USD\}", a placeholder your MCP client did not substitute, so every Kimi call is refused/],
    ['KIMI_BUDGET_USD', '0x10', /KIMI_BUDGET_USD="0x10" is not an amount in US dollars/],
  ])('%s=%s: refused before sending, naming the variable, the value and what to write', async (name, value, message) => {
    const c = await connect({ ...upstream(tempDir('kimi-budget-bad-')), [name]: value });
    open.push(c);
    const before = sim.requests.length;
    const r = await call(c.client, 'kimi_chat', { prompt: 'Cheap call.', max_tokens: 10 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Not sent: /);
    expect(textOf(r)).toMatch(message);
    expect(sim.requests.length).toBe(before);
  });

  it('KIMI_BUDGET_PERIOD that is neither day nor month refuses while a budget is set (a month read as a day allows 30×)', async () => {
    const c = await connect({ ...upstream(tempDir('kimi-budget-bad-')), KIMI_BUDGET_USD: '5', KIMI_BUDGET_PERIOD: 'monthly' });
    open.push(c);
    const before = sim.requests.length;
    const r = await call(c.client, 'kimi_chat', { prompt: 'Cheap call.', max_tokens: 10 });
    expect(textOf(r)).toMatch(/Not sent: KIMI_BUDGET_PERIOD="monthly" is neither day nor month, so every Kimi call is refused until it is fixed: write KIMI_BUDGET_PERIOD=day or KIMI_BUDGET_PERIOD=month/);
    expect(sim.requests.length).toBe(before);
  });

  it('doctor fails the spending guard check with each unreadable limit and what to write', async () => {
    const r = await runCli(['doctor'], { ...upstream(tempDir('kimi-budget-doctor-')), KIMI_BUDGET_USD: '5,00', KIMI_MAX_COST_PER_CALL_USD: 'ten' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✘ spending guard REFUSES EVERY CALL: per call UNREADABLE, budget UNREADABLE, confirm above off/);
    expect(r.stdout).toMatch(/→ KIMI_MAX_COST_PER_CALL_USD="ten" is not an amount .* KIMI_MAX_COST_PER_CALL_USD=0\.50/);
    expect(r.stdout).toMatch(/→ KIMI_BUDGET_USD="5,00" is not an amount .* KIMI_BUDGET_USD=5\.00/);
    // Said once, with the guard, not again as a general configuration problem.
    expect(r.stdout.match(/KIMI_BUDGET_USD="5,00"/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/1 problem found/);
  });
});
