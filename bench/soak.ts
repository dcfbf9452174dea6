/**
 * `npm run soak` (not part of `npm test`; a few minutes): the built server under a long mixed
 * load with faults, over stdio and then over Streamable HTTP, against the simulator in its own
 * process (bench/soak-sim.ts). Counts crashes, key leaks, lost partial text, upstream requests
 * and sockets left open, memory and file descriptors; prints a report and writes
 * bench/RELIABILITY.md. A default run takes about a minute on 2 cores.
 *
 * Settings: SOAK_SEED reruns the same sequence of calls and faults; SOAK_CALLS, calls per phase
 * (default 2,000); SOAK_SERVER_NODE_OPTIONS is added to the servers' NODE_OPTIONS (a small
 * --max-old-space-size turns memory the server holds on to into a crash); SOAK_IDLE_MS, the
 * servers' idle timer (500); SOAK_SESSION_IDLE_MS, the HTTP server's session expiry (2000);
 * SOAK_TIMEOUT_MS, the hard limit on the whole run (6 min, more for long runs).
 *
 * This file wires the parts in bench/soak/: the plan of calls and faults (plan.ts), one call
 * (call.ts), the two phases (stdio.ts, http.ts, sharing phase.ts), the checks (check.ts), the
 * canary scan (canary.ts), the server processes and their memory (processes.ts,
 * measurements.ts), the simulator (sim-host.ts) and the report (report.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from './main.js';
import { checkTheScan } from './soak/canary.js';
import { phaseHttp } from './soak/http.js';
import { writeGcPreload } from './soak/measurements.js';
import type { PhaseResult } from './soak/phase.js';
import { killChildren } from './soak/processes.js';
import { report } from './soak/report.js';
import { CALLS, CLI, CONCURRENCY, OVERALL_MS, ROOT, say, seed } from './soak/settings.js';
import { SimHost } from './soak/sim-host.js';
import { phaseStdio } from './soak/stdio.js';

async function main(): Promise<void> {
  const begun = performance.now();
  const watchdog = setTimeout(() => {
    say(`the soak exceeded ${OVERALL_MS / 1000} s; stopping`);
    killChildren();
    process.exit(2);
  }, OVERALL_MS);
  watchdog.unref();
  say(`seed ${seed} (rerun with SOAK_SEED=${seed} npm run soak); ${CALLS} calls per phase, ${CONCURRENCY} at a time`);
  readFileSync(CLI); // built?
  checkTheScan();
  const sim = await SimHost.start();
  const dirs = [mkdtempSync(join(tmpdir(), 'kimi-soak-stdio-')), mkdtempSync(join(tmpdir(), 'kimi-soak-http-')), mkdtempSync(join(tmpdir(), 'kimi-soak-gc-'))];
  const gcPreload = writeGcPreload(dirs[2]!);
  const results: PhaseResult[] = [];
  try {
    say('phase 1: stdio…');
    results.push(await phaseStdio(sim, dirs[0]!, gcPreload));
    say('phase 2: Streamable HTTP…');
    results.push(await phaseHttp(sim, dirs[1]!, gcPreload));
  } finally {
    await sim.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  // The hostile-user findings are kept by hand beside the soak's own report and follow it.
  const text = `${report(results, performance.now() - begun)}\n${readFileSync(join(ROOT, 'bench/hostile-user.md'), 'utf8')}`;
  writeFileSync(join(ROOT, 'bench/RELIABILITY.md'), text);
  process.stdout.write(text);
}

runMain(main, killChildren);
