/**
 * The fault matrix shared by test/faults-stdio.test.ts and test/faults-http.test.ts: each cell
 * is an upstream fault (scripted in the simulator) or a client cancel, run through both chat
 * tools. Every cell checks what the user sees, that text which arrived is kept exactly, and
 * that no upstream request is left open. The cells take a client of either protocol era (the
 * SDK 1.x client opening with initialize, or the v2 client on 2026-07-28), so each transport
 * runs the matrix in both.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import type { CanaryLog } from './canary.js';
import { call, textOf } from './mcp.js';
import type { AnyClient } from './mcp.js';
import type { Behaviour, ChatLog, Simulator } from './simulator.js';

export const TOOLS = ['kimi_chat', 'kimi_stream'] as const;
export type ToolName = (typeof TOOLS)[number];

/** The stall cells' idle timer: short, so a stall costs a second, yet long enough for a busy machine. */
export const IDLE_MS = 1000;
/** A small result cap, so that one cell's long reply is shortened into kimi://replies/*. */
export const RESULT_CAP = 1000;

/**
 * The environment of the matrix servers; `baseURL` is the simulator, or a closed port. The
 * cancel cells get the default idle timer (minutes), so only the cancel can close upstream.
 */
export function matrixEnv(key: string, baseURL: string, stateDir: string, idle = true): Record<string, string> {
  return {
    RUNAPI_KEY: key,
    RUNAPI_BASE_URL: baseURL,
    ...(idle ? { KIMI_IDLE_TIMEOUT_MS: String(IDLE_MS) } : {}),
    KIMI_MCP_STATE_DIR: stateDir,
    MAX_MCP_OUTPUT_TOKENS: String(RESULT_CAP),
  };
}

const REPLY = 'Alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima.';
const LONG_REPLY = Array.from({ length: 400 }, (_, i) => `Line ${i} of a long review.`).join('\n');

export interface Cell {
  name: string;
  /** What the simulator does with this cell's requests, in order (then it answers normally). */
  script: Behaviour[];
  /** `refused`: the server whose base URL is a closed port. */
  server?: 'refused';
  args?: Record<string, unknown>;
  isError: boolean;
  /** Key phrases the result's text must hold (what happened, what to do). */
  says: RegExp[];
  /** Upstream chat requests the cell makes (retries included). */
  requests: number;
  /** The reply is longer than the result cap: the result links the full text. */
  shortened?: boolean;
  /** The host said how long to wait (~0 s): each retry came at once, not after our backoff (≥ 400 ms). */
  waitsAsTold?: boolean;
}

const http = (status: number, errorType: string, errorMessage: string, extra: Behaviour = {}): Behaviour => ({ status, errorType, errorMessage, ...extra });
const times = (n: number, b: Behaviour): Behaviour[] => Array.from({ length: n }, () => b);
const reply: Behaviour = { content: REPLY, chunkSize: 6 };

export const UPSTREAM_CELLS: Cell[] = [
  {
    name: '401 key refused',
    script: [http(401, 'incorrect_api_key_error', 'Invalid Authentication')],
    isError: true,
    says: [/answered 401 incorrect_api_key_error: Invalid Authentication/, /Check that the key belongs to this host/, /No text arrived/],
    requests: 1,
  },
  {
    name: '403 forbidden',
    script: [http(403, 'permission_denied_error', 'The API key has no access to this model')],
    isError: true,
    says: [/answered 403 permission_denied_error: The API key has no access to this model/, /not allowed/, /another model or key/],
    requests: 1,
  },
  {
    name: '404 unknown model',
    script: [],
    args: { model: 'kimi-k2.5' },
    isError: true,
    says: [/answered 404 resource_not_found_error: Not found the model kimi-k2\.5/, /does not know this model ID; see list_models with live: true/],
    requests: 1,
  },
  {
    name: '429 with Retry-After',
    script: [http(429, 'rate_limit_reached_error', 'request reached organization max RPM: 3', { retryAfter: '0' }), reply],
    isError: false,
    says: [/^Alpha bravo/, /finish stop/],
    requests: 2,
    waitsAsTold: true,
  },
  {
    name: '429 "try again after N seconds"',
    script: [http(429, 'rate_limit_reached_error', 'request reached organization max concurrency: 1, please try again after 0.01 seconds'), reply],
    isError: false,
    says: [/^Alpha bravo/, /finish stop/],
    requests: 2,
    waitsAsTold: true,
  },
  {
    name: '429 quota exceeded',
    script: [http(429, 'exceeded_current_quota_error', 'Your account is suspended due to insufficient balance')],
    isError: true,
    says: [/answered 429 exceeded_current_quota_error: Your account is suspended due to insufficient balance/, /top up your account/],
    requests: 1,
  },
  {
    name: '500 server error',
    script: times(4, http(500, 'server_error', 'upstream exploded', { retryAfter: '0' })),
    isError: true,
    says: [/answered 500 server_error: upstream exploded/, /kept failing after retries; try again later/],
    requests: 4,
    waitsAsTold: true,
  },
  {
    name: '502 bad gateway (HTML)',
    script: times(4, { status: 502, retryAfter: '0', errorBody: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>' }),
    isError: true,
    says: [/answered 502 with a web page \("502 Bad Gateway"\) instead of an API response, so a proxy or gateway in front of it failed/, /kept failing after retries; try again later/],
    requests: 4,
    waitsAsTold: true,
  },
  {
    name: '503 overloaded',
    script: times(4, http(503, 'engine_overloaded_error', 'The engine is currently overloaded, please try again later', { retryAfter: '0' })),
    isError: true,
    says: [/answered 503 engine_overloaded_error: The engine is currently overloaded/, /kept failing after retries; try again later/],
    requests: 4,
    waitsAsTold: true,
  },
  {
    name: 'connection refused',
    script: [],
    server: 'refused',
    isError: true,
    says: [/Could not reach RunAPI \(http:\/\/127\.0\.0\.1:\d+\/v1\): Connection error \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)\. Check the base URL and your network\./],
    requests: 0,
  },
  {
    name: 'reset mid-body',
    script: [{ ...reply, resetAfterChunks: 3 }],
    isError: true,
    says: [/The stream broke after 18 characters: RunAPI \(.*\) closed the connection mid-reply \(other side closed\)\. Retry to get the rest/, /Partial reply \(18 characters\):\nAlpha bravo charli/],
    requests: 1,
  },
  {
    name: 'reset mid-body, long reply',
    script: [{ content: LONG_REPLY, chunkSize: 400, resetAfterChunks: 20 }],
    isError: true,
    says: [/The stream broke after 8000 characters/, /Retry to get the rest/, /Read kimi:\/\/replies\//],
    requests: 1,
    shortened: true,
  },
  {
    name: 'stall before the first byte',
    script: [{ stallBeforeHeaders: true }],
    isError: true,
    says: [/sent nothing for 1 s, so the stream was ended\. Retry, or raise KIMI_IDLE_TIMEOUT_MS/, /No text arrived/],
    requests: 1,
  },
  {
    name: 'stall mid-stream',
    script: [{ ...reply, stallAfterChunks: 3 }],
    isError: true,
    says: [/sent nothing for 1 s, so the stream was ended\. Retry, or raise KIMI_IDLE_TIMEOUT_MS/, /Partial reply \(18 characters\)/],
    requests: 1,
  },
  {
    name: 'garbage in the SSE body',
    script: [{ ...reply, garbageAfterChunks: 3 }],
    isError: true,
    says: [/The stream broke after 18 characters: RunAPI \(.*\) sent a stream event that is not valid JSON \(.*\)\. Retry to get the rest/],
    requests: 1,
  },
  {
    name: 'in-band error event',
    script: [{ ...reply, errorAfterChunks: 3 }],
    isError: true,
    says: [/The stream broke after 18 characters/, /overloaded/, /Retry to get the rest/],
    requests: 1,
  },
  {
    name: 'body ends before finish',
    script: [{ ...reply, endEarlyAfterChunks: 3 }],
    isError: true,
    says: [/ended before the reply was complete \(after 18 characters, no finish_reason\)\. Retry to get the rest/],
    requests: 1,
  },
  {
    name: 'finish without [DONE]',
    script: [{ ...reply, noDoneAfterFinish: true }],
    isError: false,
    says: [/^Alpha bravo/, /finish stop/, /\d+ in \(0 cached\) \+ \d+ out tokens/],
    requests: 1,
  },
  {
    name: 'usage missing',
    script: [{ ...reply, omitUsage: true }],
    isError: false,
    says: [/^Alpha bravo/, /finish stop/, /~\d+ in .*~\d+ out tokens/, /estimated: the host reported no usage/],
    requests: 1,
  },
];

type Out = {
  text: string;
  reasoning?: string;
  partial?: boolean;
  error?: string;
  full_text_uri?: string;
  usage: { completion_tokens: number } | null;
  usage_estimated?: boolean;
  cost_usd: number | null;
};

/** The last chat request of a cell that got a 200 (what the simulator sent), if any. */
function answered(sim: Simulator, marker: string): ChatLog | undefined {
  return sim.chatsFor(marker).filter((c) => c.status === 200).at(-1);
}

/** No upstream request of this cell is still open, within a second of the call settling. */
export async function expectUpstreamClosed(sim: Simulator, marker: string): Promise<void> {
  await vi.waitFor(() => expect(sim.inFlight(marker), `upstream requests of ${marker} still open`).toBe(0), { timeout: 1000, interval: 20 });
}

/** Runs one upstream cell through one tool and checks everything a cell promises. */
export async function runUpstreamCell(client: AnyClient, sim: Simulator | undefined, cell: Cell, tool: ToolName, marker: string, log: CanaryLog): Promise<void> {
  if (sim && cell.script.length) sim.scriptFor(marker, ...cell.script);
  const progress: string[] = [];
  const r = await call(client, tool, { prompt: `${marker}: what now?`, ...cell.args }, {
    onprogress: (p) => progress.push(p.message ?? ''),
    timeout: 30_000,
  });
  log.result(`${marker} result`, r);
  log.add(`${marker} progress`, progress.join('\n'));
  const text = textOf(r);
  const out = r.structuredContent as Out | undefined;

  // What the user sees.
  expect(Boolean(r.isError), text).toBe(cell.isError);
  for (const phrase of cell.says) expect(text).toMatch(phrase);

  // Text that arrived is kept, exactly as the simulator sent it.
  const sent = sim ? answered(sim, marker) : undefined;
  const content = sent?.content ?? '';
  const reasoning = sent?.reasoning ?? '';
  if (cell.shortened) {
    expect(out?.full_text_uri).toMatch(/^kimi:\/\/replies\//);
    expect(content.startsWith(out!.text)).toBe(true);
    const { contents } = await client.readResource({ uri: out!.full_text_uri! });
    expect((contents[0] as { text: string }).text.startsWith(`${content}\n\n---\nReasoning:\n\n${reasoning}`)).toBe(true);
  } else if (out) {
    expect(out.text).toBe(content);
    expect(out.reasoning ?? '').toBe(reasoning);
    if (content) expect(text).toContain(content);
  }
  // A failure says what went wrong; it is a partial reply only when something was generated first.
  if (cell.isError && out) {
    expect(out).toMatchObject({ error: expect.any(String) });
    expect(Boolean(out.partial), `partial, with ${content.length} characters of text and ${reasoning.length} of reasoning sent`).toBe(Boolean(content || reasoning));
  }
  // Progress of kimi_stream shows only text that was sent (besides status lines and reasoning).
  if (tool === 'kimi_stream') {
    for (const m of progress.filter((p) => !/^kimi-[\w.-]+: /.test(p) && !p.startsWith('thinking: '))) {
      expect(content).toContain(m.replace(/^…/, ''));
    }
  }

  // Every chat request the cell made has ended; none is left open upstream.
  if (sim) {
    const chats = sim.chatsFor(marker);
    expect(chats.length).toBe(cell.requests);
    if (cell.waitsAsTold) for (let i = 1; i < chats.length; i++) expect(chats[i]!.at - chats[i - 1]!.at).toBeLessThan(390);
    await expectUpstreamClosed(sim, marker);
  }
}

export type CancelPhase = 'before headers' | 'during reasoning' | 'during text';
export const CANCEL_PHASES: CancelPhase[] = ['before headers', 'during reasoning', 'during text'];

const slow = (s: string) => Array.from({ length: 80 }, (_, i) => `${s} ${i}.`).join(' ');

/** The turn a cancelled call left in its conversation (found by the marker in its prompt). */
export function storedTurn(stateDir: string, marker: string): { reply: { content: string; reasoning?: string }; partial?: boolean } | undefined {
  const folder = join(stateDir, 'conversations');
  let files: string[] = [];
  try {
    // Over HTTP, conversations live in a folder of their own (one store per token).
    files = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return undefined;
  }
  for (const f of files) {
    for (const line of readFileSync(join(folder, f), 'utf8').split('\n')) {
      if (line.includes(marker)) return JSON.parse(line) as { reply: { content: string; reasoning?: string }; partial?: boolean };
    }
  }
  return undefined;
}

/** Waits (up to `timeout` ms) for the turn a call left in its conversation once it was cut short. */
export function storedPartialTurn(stateDir: string, marker: string, timeout = 1000): Promise<NonNullable<ReturnType<typeof storedTurn>>> {
  return vi.waitFor(() => {
    const t = storedTurn(stateDir, marker);
    expect(t, `no partial turn stored for ${marker}`).toBeDefined();
    return t!;
  }, { timeout, interval: 20 });
}

/**
 * The client cancels (the SDK's AbortSignal) at a phase the simulator reports: the request
 * sent but no headers yet, reasoning arriving, or text arriving. The cancel goes out as the
 * era and transport send it: notifications/cancelled (2025 era, and stdio in any era), or the
 * request's own response stream closed (2026-07-28 over HTTP).
 */
export async function runCancelCell(client: AnyClient, sim: Simulator, stateDir: string, phase: CancelPhase, tool: ToolName, marker: string, log: CanaryLog): Promise<void> {
  const script: Behaviour =
    phase === 'before headers'
      ? { stallBeforeHeaders: true }
      : phase === 'during reasoning'
        ? { reasoning: slow('Thinking step'), content: REPLY, delayMs: 30 }
        : { reasoning: 'Short thought.', content: slow('Text part'), chunkSize: 6, delayMs: 30 };
  sim.scriptFor(marker, script);
  const ac = new AbortController();
  const progress: string[] = [];
  const pending = call(client, tool, { prompt: `${marker}: go` }, {
    signal: ac.signal,
    onprogress: (p) => progress.push(p.message ?? ''),
  });
  const reached = (c: ChatLog | undefined) =>
    c !== undefined &&
    (phase === 'before headers' ? c.prompt !== '' : phase === 'during reasoning' ? c.reasoning.length >= 24 && c.content === '' : c.content.length >= 24);
  await vi.waitFor(() => expect(reached(sim.chatsFor(marker)[0])).toBe(true), { timeout: 5000, interval: 5 });
  if (phase !== 'before headers') {
    // What the simulator wrote is not yet what the server read: on a loaded machine the cancel
    // could overtake the first chunk. kimi_stream shows when the server has it (its progress);
    // kimi_chat shows no text, so it gets a few more chunks' time (the reply streams for seconds).
    // (Its own status lines start with the model's name: `kimi-k2.6: thinking, 1 s`.)
    const shown = (m: string) => !/^kimi-[\w.-]+: /.test(m);
    if (tool === 'kimi_stream') await vi.waitFor(() => expect(progress.some(shown)).toBe(true), { timeout: 5000, interval: 5 });
    else await new Promise((r) => setTimeout(r, 250));
  }
  ac.abort('the user pressed stop');
  await expect(pending).rejects.toThrow(/the user pressed stop/);
  log.add(`${marker} progress`, progress.join('\n'));
  await expectUpstreamClosed(sim, marker);

  // What arrived before the cancel is kept in the conversation (and counted in the ledger).
  const sent = sim.chatsFor(marker)[0]!;
  if (phase === 'before headers') {
    expect(sim.chatsFor(marker)[0]!.status).toBeUndefined();
    return;
  }
  const turn = await storedPartialTurn(stateDir, marker, 5000);
  expect(turn.partial).toBe(true);
  if (phase === 'during reasoning') {
    expect(turn.reply.content).toBe('');
    expect(turn.reply.reasoning!.length).toBeGreaterThan(0);
    expect(sent.reasoning.startsWith(turn.reply.reasoning!)).toBe(true);
  } else {
    expect(turn.reply.content.length).toBeGreaterThan(0);
    expect(sent.content.startsWith(turn.reply.content)).toBe(true);
    expect(turn.reply.reasoning).toBe(sent.reasoning);
  }
}
