// The report: bench/RELIABILITY.md, goals first, then the calls, faults, memory, upstream
// sockets, disconnects, the canary's sources and the servers' stderr.
import { cpus, totalmem } from 'node:os';
import { scan } from './canary.js';
import type { PhaseResult } from './phase.js';
import { FAULTS, OUTCOMES } from './plan.js';
import type { FaultKind, Outcome, Tool } from './plan.js';
import { CALLS, CONCURRENCY, FAULT_RATE, HALF, HTTP_SESSIONS, IDLE_MS, REST_MS, seed, SESSION_IDLE_MS, SETTLE_MS } from './settings.js';
import type { SimStats } from './sim-host.js';

const n = (x: number) => x.toLocaleString('en-US');
const mb = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(1)} MB`);
const tick = (ok: boolean) => (ok ? '✔' : '✘');
const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((n / d) * 100).toFixed(1)}%`);
function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  return s[Math.floor(pos)]! + (s[Math.ceil(pos)]! - s[Math.floor(pos)]!) * (pos - Math.floor(pos));
}

/** Growth from half the calls to all of them (both at rest) within the larger of 5 MB and 5% (RSS), or 2 MB and 5% (heap after GC). */
function noGrowth(r: { atHalf: number | null; atEnd: number | null }, floorMb = 5): boolean | null {
  if (r.atHalf === null || r.atEnd === null) return null;
  return r.atEnd - r.atHalf <= Math.max(floorMb, r.atHalf * 0.05);
}

export function report(results: PhaseResult[], totalMs: number): string {
  const [p1, p2] = results as [PhaseResult, PhaseResult];
  const both = (f: (r: PhaseResult) => string) => results.map(f);
  const crashes = (r: PhaseResult) => (r.diedEarly || (r.exit.code !== 0 && r.exit.code !== null) || r.exit.signal ? 1 : 0) + (r.traces.length ? 1 : 0);
  const leaksTotal = scan.leaks.length;
  const upstreamOpen = (s: SimStats) => s.inFlight;
  const sockets = (s: SimStats) => `${s.openSockets} (getConnections ${s.getConnections ?? 'n/a'})`;
  const unexpectedTotal = results.reduce((s, r) => s + r.unexpected.length, 0);
  const calls = (r: PhaseResult, tool?: Tool) => r.records.filter((c) => !tool || c.plan.tool === tool).length;
  const faults = (r: PhaseResult) => r.records.filter((c) => c.plan.fault !== 'none').length;
  const fdOk = (r: PhaseResult) => r.fds.before !== null && r.fds.after !== null && r.fds.after <= r.fds.before;

  const lines: string[] = [
    '# Reliability soak',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}. Seed **${seed}**; whole run ${(totalMs / 1000).toFixed(0)} s.`,
    `Rerun: \`npm run soak\` (new seed), or \`SOAK_SEED=${seed} npm run soak\` for the same calls and faults (their timing differs from run to run). \`SOAK_CALLS=8000\` runs longer; \`SOAK_SERVER_NODE_OPTIONS=--max-old-space-size=48\` caps the servers' heap, so that memory they hold on to ends in a crash.`,
    '',
    `${CALLS.toLocaleString('en-US')} calls per phase, ${CONCURRENCY} at a time, half \`kimi_chat\` and half \`kimi_stream\` (stream calls ask for progress), half with thinking; ${FAULT_RATE * 100}% of them get a fault drawn from the seeded PRNG. The built server (\`node dist/cli.js\`) runs against our simulator in a process of its own (bench/soak-sim.ts), which holds the key canary and echoes it in every error body and in an \`x-debug-auth\` header, so a leak has something to leak. Phase 1: one stdio server, one connection (the SDK's StdioClientTransport). Phase 2: \`node dist/cli.js serve --http --port 0\`, ${HTTP_SESSIONS} long-lived client sessions (Streamable HTTP, the SDK's transport) plus one short session per "closes its session" fault, KIMI_MCP_SESSION_IDLE_MS=${SESSION_IDLE_MS} (so that sessions clients abandon are closed within the run). KIMI_IDLE_TIMEOUT_MS=${IDLE_MS}; every request goes to 127.0.0.1.`,
    '',
    '## Goals',
    '',
    '| Measure | Stdio | HTTP | Goal |',
    '|---|---|---|---|',
    `| Crashes (non-zero exit, exit before the end, or a trace on stderr) | ${both((r) => String(crashes(r))).join(' | ')} | 0 ${tick(results.every((r) => crashes(r) === 0))} |`,
    `| Leaked key lines (of ${[...scan.counts.values()].reduce((s, c) => s + c.lines, 0).toLocaleString('en-US')} scanned, all sources below) | ${both((r) => String([...scan.counts.entries()].filter(([k]) => k.startsWith(r.phase)).reduce((s, [, c]) => s + c.leaks, 0))).join(' | ')} | 0 ${tick(leaksTotal === 0)} |`,
    `| Partial text kept: the result's text (and reasoning) = exactly what the simulator sent before a fault that came after text | ${both((r) => `${r.partialKept.kept}/${r.partialKept.of} (${pct(r.partialKept.kept, r.partialKept.of)})`).join(' | ')} | 100% ${tick(results.every((r) => r.partialKept.kept === r.partialKept.of))} |`,
    `| … and stored as a partial turn with exactly that text | ${both((r) => `${r.partialKept.storedExact}/${r.partialKept.of}`).join(' | ')} | 100% ${tick(results.every((r) => r.partialKept.storedExact === r.partialKept.of))} |`,
    `| Cancelled mid-stream: partial turn stored, non-empty, a prefix of what was sent | ${both((r) => `${r.cutKept.kept}/${r.cutKept.of}`).join(' | ')} | 100% ${tick(results.every((r) => r.cutKept.kept === r.cutKept.of))} |`,
    `| Healthy replies (no fault, or one the server recovers from): result = what was sent | ${both((r) => `${r.okExact.exact}/${r.okExact.of}`).join(' | ')} | 100% ${tick(results.every((r) => r.okExact.exact === r.okExact.of))} |`,
    `| Upstream requests still open after a ${SETTLE_MS / 1000} s settle (simulator's in-flight count) | ${both((r) => String(upstreamOpen(r.upstream.settled))).join(' | ')} | 0 ${tick(results.every((r) => upstreamOpen(r.upstream.settled) === 0))} |`,
    `| Upstream sockets still open after the settle, server still running | ${both((r) => sockets(r.upstream.settled)).join(' | ')} | 0 ${tick(results.every((r) => r.upstream.settled.openSockets === 0))} |`,
    `| RSS at rest, ${n(HALF)} → ${n(CALLS)} calls | ${both((r) => `${mb(r.rss.atHalf)} → ${mb(r.rss.atEnd)} ${tick(noGrowth(r.rss) === true)}`).join(' | ')} | no growth beyond noise (≤ max(5 MB, 5%)) ${tick(results.every((r) => noGrowth(r.rss) === true))} |`,
    `| Heap and external memory (Buffers) in use after a forced full GC, at rest, ${n(HALF)} → ${n(CALLS)} calls (what the server holds on to) | ${both((r) => `${mb(r.heap.atHalf)} → ${mb(r.heap.atEnd)} ${tick(noGrowth(r.heap, 2) === true)}`).join(' | ')} | no growth beyond noise (≤ max(2 MB, 5%)) ${tick(results.every((r) => noGrowth(r.heap, 2) === true))} |`,
    `| Open file descriptors, before → after (settled) | ${both((r) => `${r.fds.before ?? 'n/a'} → ${r.fds.after ?? 'n/a'} ${tick(fdOk(r))}`).join(' | ')} | no growth ${tick(results.every(fdOk))} |`,
    `| Sessions a client abandoned (no DELETE) still held after the settle | n/a | ${p2.disconnects!.sessionsStillHeld}/${p2.disconnects!.sessionsAbandoned}${p2.disconnects!.sessionsUnprobed ? ` (${p2.disconnects!.sessionsUnprobed} not asked: server gone)` : ''} | 0 ${tick(p2.disconnects!.sessionsStillHeld === 0 && p2.disconnects!.sessionsUnprobed === 0)} |`,
    `| Calls whose outcome or upstream request count differs from the plan | ${both((r) => String(r.unexpected.length)).join(' | ')} | 0 ${tick(unexpectedTotal === 0)} |`,
    '',
    '## Calls',
    '',
    '| Phase | kimi_chat | kimi_stream | Total | With a fault | Progress notifications (stream calls) | Wall time | Calls/s | Latency p50 / p99 (healthy calls) | Server exit |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const healthy = r.records.filter((c) => c.plan.fault === 'none').map((c) => c.ms);
      return `| ${r.phase} | ${calls(r, 'kimi_chat')} | ${calls(r, 'kimi_stream')} | ${calls(r)} | ${faults(r)} | ${n(r.records.reduce((sum, c) => sum + c.progress, 0))} | ${(r.wallMs / 1000).toFixed(1)} s | ${(calls(r) / (r.wallMs / 1000)).toFixed(0)} | ${quantile(healthy, 0.5).toFixed(0)} / ${quantile(healthy, 0.99).toFixed(0)} ms | ${r.diedEarly ? `**died during the run**: code ${r.diedEarly.code}${r.diedEarly.signal ? ` signal ${r.diedEarly.signal}` : ''}` : `code ${r.exit.code}${r.exit.signal ? ` signal ${r.exit.signal}` : ''}, ${r.exitMs.toFixed(0)} ms after ${r.phase === 'stdio' ? 'stdin closed' : 'SIGTERM'}`} |`;
    }),
    '',
    '## Faults injected and outcomes',
    '',
    '"Expected" is what the server should do: recover (ok), fail with the text that arrived, fail without text, or be cancelled; "transport error" for a client that drops its connection. Cells: stdio / HTTP.',
    '',
    `| Fault | Calls | Expected | ${OUTCOMES.join(' | ')} |`,
    `|---|---|---|${OUTCOMES.map(() => '---').join('|')}|`,
    ...[{ id: 'none', label: 'none (healthy)' } as FaultKind, ...FAULTS].map((f) => {
      const of = (r: PhaseResult) => r.records.filter((c) => c.plan.fault === f.id);
      const expected = OUTCOMES.filter((o) => results.some((r) => of(r).some((c) => c.plan.expected === o))).join(' or ') || '—';
      const cell = (o: Outcome) => results.map((r) => of(r).filter((c) => c.outcome === o).length).join(' / ');
      return `| ${f.label} | ${results.map((r) => of(r).length).join(' / ')} | ${expected} | ${OUTCOMES.map(cell).join(' | ')} |`;
    }),
    `| **all** | ${results.map((r) => r.records.length).join(' / ')} | | ${OUTCOMES.map((o) => results.map((r) => r.records.filter((c) => c.outcome === o).length).join(' / ')).join(' | ')} |`,
    '',
    `Retries as planned (the number of upstream requests each call made): ${both((r) => `${r.phase} ${r.requestsAsPlanned.ok}/${r.requestsAsPlanned.of}`).join(', ')}. Upstream error responses sent, each carrying the canary: ${p2.upstream.afterExit.errorResponses.toLocaleString('en-US')} over both phases; requests that carried the canary as their key: ${p2.upstream.afterExit.authorizedWithKey.toLocaleString('en-US')}.`,
    '',
    '## Memory and file descriptors (the server process)',
    '',
    `| Phase | Measure | At start | After ${n(HALF)} calls, at rest | After ${n(CALLS)}, at rest | After the settle | Peak (VmHWM) |`,
    '|---|---|---|---|---|---|---|',
    ...results.flatMap((r) => [
      `| ${r.phase} | RSS | ${mb(r.rss.start)} | ${mb(r.rss.atHalf)} | ${mb(r.rss.atEnd)} | ${mb(r.rss.settled)} | ${mb(r.rss.peak)} |`,
      `| ${r.phase} | heap after GC | ${mb(r.heap.start)} | ${mb(r.heap.atHalf)} | ${mb(r.heap.atEnd)} | ${mb(r.heap.settled)} | |`,
      `| ${r.phase} | open fds | ${r.fds.before ?? 'n/a'} | | | ${r.fds.after ?? 'n/a'} | |`,
    ]),
    '',
    `"At rest": the calls run in two halves; ${REST_MS / 1000} s after each half's last call (nothing in flight, sessions clients abandoned expired), memory is read. "After the settle": ${SETTLE_MS / 1000} s after the last call; for HTTP, with the long-lived sessions closed (DELETE). RSS every 500 calls is read under load.`,
    '',
    'Heap after GC: each server loads a small preload (written by the soak, passed with NODE_OPTIONS=--require) that on SIGUSR2 runs two full garbage collections and prints `heapUsed` and `external` (Buffers, ArrayBuffers) from `process.memoryUsage()` on stderr; their sum is what the server holds on to. RSS alone cannot tell that from memory V8 or the allocator has not handed back.',
    '',
    `RSS every 500 calls: ${results.map((r) => `${r.phase} ${r.rss.every500.map((v) => (v === null ? 'n/a' : v.toFixed(0))).join(', ')} MB`).join('; ')}.`,
    '',
    ...results.map((r) => {
      const g = noGrowth(r.rss);
      const d = r.rss.atEnd !== null && r.rss.atHalf !== null ? r.rss.atEnd - r.rss.atHalf : null;
      const h = noGrowth(r.heap, 2);
      const dh = r.heap.atEnd !== null && r.heap.atHalf !== null ? r.heap.atEnd - r.heap.atHalf : null;
      const signedMb = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)} MB`;
      return `- ${r.phase}: RSS ${g === null ? 'not measured' : g ? `shows no growth beyond noise from ${n(HALF)} to ${n(CALLS)} calls (${signedMb(d!)})` : `**grew** ${signedMb(d!)} from ${n(HALF)} to ${n(CALLS)} calls`}; the heap after GC ${h === null ? 'was not measured' : h ? `shows no growth beyond noise (${signedMb(dh!)})` : `**grew** ${signedMb(dh!)}, so the server holds on to memory`}. Start → ${n(HALF)} includes loading the openai chunk and warming up. fds "before" is after the client connected and before the first call${r.phase === 'http' ? ', before any session' : ''}; "after" is after the settle${r.phase === 'http' ? ', with the long-lived sessions closed (DELETE)' : ''}.`;
    }),
    '',
    '## Upstream requests and sockets after the run',
    '',
    '| Phase | Requests open 1 s after the last call | Requests open after the settle | Sockets open after the settle | Sockets open after the server exited | Sockets accepted in all |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.phase} | ${r.upstream.after1s.inFlight} | ${r.upstream.settled.inFlight} | ${sockets(r.upstream.settled)} | ${sockets(r.upstream.afterExit)} | ${r.upstream.settled.acceptedSockets} (cumulative) |`),
  ];
  if (results.some((r) => r.upstream.settled.inFlightPrompts.length)) {
    lines.push('', `Still open after the settle: ${results.flatMap((r) => r.upstream.settled.inFlightPrompts.map((p) => `${r.phase}: ${p}`)).slice(0, 20).join('; ')}.`);
  }
  const d = p2.disconnects!;
  const drops = p2.drops;
  lines.push(
    '',
    '## Clients that disconnect abruptly (HTTP)',
    '',
    `- Sessions closed mid-call without DELETE: ${d.sessionsAbandoned}; still held by the server after the ${SETTLE_MS / 1000} s settle, with KIMI_MCP_SESSION_IDLE_MS=${SESSION_IDLE_MS} (a \`ping\` with their session id answered rather than 404): **${d.sessionsStillHeld}**${d.sessionsUnprobed ? ` (${d.sessionsUnprobed} could not be asked: the server was gone)` : ''}.`,
    `- Upstream request of a disconnected call: closed ${drops.closedMs.length ? `${quantile(drops.closedMs, 0.5).toFixed(0)} ms (median), ${Math.max(...drops.closedMs).toFixed(0)} ms (max) after the disconnect` : 'n/a'}; ran to completion anyway: ${drops.completed} of ${drops.closedMs.length}.`,
    `- Their turns: stored partial ${drops.partial}, stored whole ${drops.whole}, not stored ${drops.missing}.`,
    '',
    '## Where the canary was looked for',
    '',
    '| Source | Lines | Leaked |',
    '|---|---|---|',
    ...[...scan.counts.entries()].map(([k, c]) => `| ${k} | ${c.lines.toLocaleString('en-US')} | ${c.leaks} |`),
    '',
    `A tool result counts as one line. State files: ${p1.stateFiles} (stdio) and ${p2.stateFiles} (HTTP) in the run's KIMI_MCP_STATE_DIR (a fresh temporary folder per phase). Stderr lines: ${p1.stderrLines} (stdio), ${p2.stderrLines} (HTTP).`,
  );
  lines.push('', '## What the servers wrote on stderr', '', 'Distinct lines, numbers and ids folded to #, with how often each came.', '');
  for (const r of results) lines.push(`${r.phase}:`, '', '```', ...r.stderrDistinct.slice(0, 20).map(([l, n]) => `${String(n).padStart(5)} × ${l}`), '```', '');
  if (scan.leaks.length) lines.push('', '### Leaks (the key shown as <CANARY>)', '', ...scan.leaks.slice(0, 20).map((l) => `- ${l.category}: \`${l.excerpt.replace(/`/g, "'").replace(/\n/g, ' ')}\``));
  const traces = results.flatMap((r) => r.traces.map((t) => `${r.phase}: ${t}`));
  if (traces.length) lines.push('', '### Traces on stderr', '', ...traces.slice(0, 20).map((t) => `- \`${t.replace(/`/g, "'")}\``));
  if (unexpectedTotal) {
    lines.push('', '## Calls that did not go as planned', '');
    for (const r of results) {
      if (!r.unexpected.length) continue;
      lines.push(`${r.phase} (${r.unexpected.length}${r.unexpected.length > 25 ? ', first 25' : ''}):`, '', ...r.unexpected.slice(0, 25).map((u) => `- ${u.replace(/\|/g, '\\|')}`), '');
    }
  }
  lines.push('');
  return lines.join('\n');
}
