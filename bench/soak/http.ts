// Phase 2: `node dist/cli.js serve --http --port 0` with HTTP_SESSIONS long-lived Streamable HTTP
// sessions, plus a short session of its own for each call that abandons its session.
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { runCall } from './call.js';
import type { OwnSession } from './call.js';
import { scan } from './canary.js';
import { readAtStart } from './measurements.js';
import { finishPhase, readResources, readSettled, restAfterRun, runInHalves } from './phase.js';
import type { PhaseResult } from './phase.js';
import { planPhase } from './plan.js';
import type { Plan } from './plan.js';
import { children, serverEnv, watch } from './processes.js';
import type { ServerWatch } from './processes.js';
import { CLI, HTTP_SESSIONS, SESSION_IDLE_MS, SETTLE_MS, sleep, withTimeout } from './settings.js';
import type { SimHost } from './sim-host.js';

/** fetch for the client transports: records every response (headers, raw body) and can abort one call's request. */
function tappedFetch(drops: Map<string, AbortController>): typeof fetch {
  return async (input, init) => {
    let signal = init?.signal ?? undefined;
    if (typeof init?.body === 'string' && init.body.includes('"tools/call"')) {
      const m = /\[soak-p2-\d+\]/.exec(init.body);
      if (m) {
        const ac = new AbortController();
        drops.set(m[0], ac);
        signal = signal ? AbortSignal.any([signal, ac.signal]) : ac.signal;
      }
    }
    const res = await fetch(input, { ...init, ...(signal ? { signal } : {}) });
    scan.line('http response headers', JSON.stringify([res.status, ...res.headers]));
    if (!res.body) return res;
    const [mine, theirs] = res.body.tee();
    const body = scan.stream('http response bodies (raw SSE/JSON)');
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of theirs as unknown as AsyncIterable<Uint8Array>) body.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // the request was aborted; what arrived is scanned
      } finally {
        body.end();
      }
    })();
    return new Response(mine, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

async function httpSession(url: string, name: string): Promise<OwnSession & { terminate(): Promise<void> }> {
  const drops = new Map<string, AbortController>();
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: tappedFetch(drops) });
  const client = new Client({ name, version: '1' });
  await client.connect(transport);
  return {
    client,
    sessionId: transport.sessionId,
    dropFetch: (marker) => {
      const ac = drops.get(marker);
      ac?.abort(new Error('soak: socket dropped'));
      return Boolean(ac);
    },
    close: () => client.close(),
    terminate: async () => {
      await transport.terminateSession();
      await client.close();
    },
  };
}

/** The URL `serve --http` prints on stderr once it listens. */
function printedUrl(w: ServerWatch): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      const seen = () => {
        const m = w.stderrLines.map((l) => /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(l)).find(Boolean);
        if (m) resolve(m[1]!);
        else setTimeout(seen, 20);
      };
      seen();
    }),
    15_000,
    'serve --http printing its URL',
  );
}

/** Sessions the clients abandoned without DELETE: does the server still hold them? */
async function probeAbandoned(url: string, abandoned: string[]): Promise<NonNullable<PhaseResult['disconnects']>> {
  let stillHeld = 0;
  let probeFailed = 0;
  for (const id of abandoned) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      scan.line('http response bodies (raw SSE/JSON)', await res.text());
      if (res.status !== 404) stillHeld++;
    } catch {
      probeFailed++; // the server is gone
    }
  }
  return { sessionsAbandoned: abandoned.length, sessionsStillHeld: stillHeld, sessionsUnprobed: probeFailed };
}

export async function phaseHttp(sim: SimHost, stateDir: string, gcPreload: string): Promise<PhaseResult> {
  const child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0'], {
    env: { ...serverEnv(sim.baseURL, stateDir, gcPreload), KIMI_MCP_SESSION_IDLE_MS: String(SESSION_IDLE_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const w = watch(child, 'http', child.stderr!);
  const url = await printedUrl(w);
  const readings = await readAtStart(w);
  const sessions = await Promise.all(Array.from({ length: HTTP_SESSIONS }, (_, k) => httpSession(url, `soak-http-${k}`)));
  await sessions[0]!.client.listTools();
  const abandoned: string[] = [];
  const work = async (plan: Plan, worker: number) => {
    const r = await runCall(sessions[worker % HTTP_SESSIONS]!, plan, sim, 'http', async () => {
      const s = await httpSession(url, `soak-http-drop-${plan.i}`);
      await s.client.listTools();
      return s;
    });
    if (r.sessionId) abandoned.push(r.sessionId);
    return r;
  };
  const run = await runInHalves(planPhase('http'), work, w, readings);
  const after1s = await restAfterRun(w, sim, readings);
  await readResources(sessions[0]!.client, 'http');
  for (const s of sessions) await s.terminate().catch(() => s.close());
  await sleep(SETTLE_MS);
  const settled = await readSettled(w, sim, readings);
  const disconnects = await probeAbandoned(url, abandoned);
  const result = await finishPhase({ phase: 'http', w, sim, stateDir, run, readings, after1s, settled }, () => child.kill('SIGTERM'));
  return { ...result, disconnects };
}
