// Phase 1: one stdio server, one connection (the SDK's StdioClientTransport).
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { runCall } from './call.js';
import { readAtStart } from './measurements.js';
import { finishPhase, readResources, readSettled, restAfterRun, runInHalves } from './phase.js';
import type { PhaseResult } from './phase.js';
import { planPhase } from './plan.js';
import { children, serverEnv, watch } from './processes.js';
import type { ServerWatch } from './processes.js';
import { CLI, REST_MS, SETTLE_MS, sleep } from './settings.js';
import type { SimHost } from './sim-host.js';

/** StdioClientTransport that hands over the child as soon as it is spawned, before initialize. */
class TappedStdio extends StdioClientTransport {
  onSpawn: ((child: ChildProcess) => void) | undefined;
  override async start(): Promise<void> {
    await super.start();
    // The SDK keeps the child private; its raw stdout and its pid are what the soak watches.
    this.onSpawn?.((this as unknown as { _process: ChildProcess })._process);
  }
}

export async function phaseStdio(sim: SimHost, stateDir: string, gcPreload: string): Promise<PhaseResult> {
  const transport = new TappedStdio({ command: process.execPath, args: [CLI], env: serverEnv(sim.baseURL, stateDir, gcPreload), stderr: 'pipe' });
  const stderr = transport.stderr as unknown as NodeJS.ReadableStream;
  const client = new Client({ name: 'soak-stdio', version: '1' });
  const spawned = new Promise<ServerWatch>((resolve) => {
    transport.onSpawn = (child) => {
      children.add(child);
      resolve(watch(child, 'stdio', stderr));
    };
  });
  await client.connect(transport);
  const w = await spawned;
  await client.listTools();
  const readings = await readAtStart(w);
  const run = await runInHalves(planPhase('stdio'), (plan) => runCall({ client }, plan, sim, 'stdio'), w, readings);
  const after1s = await restAfterRun(w, sim, readings);
  await sleep(SETTLE_MS - REST_MS);
  const settled = await readSettled(w, sim, readings);
  await readResources(client, 'stdio');
  return finishPhase({ phase: 'stdio', w, sim, stateDir, run, readings, after1s, settled }, () => client.close());
}
