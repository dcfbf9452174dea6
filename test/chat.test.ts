import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BOTH_ERAS, call, closedAfterEach, connect, textOf } from './helpers/mcp.js';
import type { AnyClient, Connection, Era } from './helpers/mcp.js';
import { simulatorForFile } from './helpers/simulator.js';
import type { StreamEvent } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-7f3a9c2e5b1d4f60';
const sim = simulatorForFile({ apiKey: KEY, leakKeyInErrors: true, models: ['kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5', 'moonshotai/kimi-k2.6'] });

const open = closedAfterEach();
/** A connection in `era` to a server whose RunAPI is the simulator. */
async function connectIn(era: Era, extraEnv: Record<string, string> = {}): Promise<Connection> {
  const c = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, ...extraEnv }, {}, era);
  open.push(c);
  return c;
}

/**
 * Starts kimi_stream and aborts it from the first progress message that contains `marker`: a
 * legacy client sends notifications/cancelled, a modern one closes the request's SSE stream.
 * Resolves once the call has been refused as cancelled and the simulator has seen the upstream
 * connection closed; returns that close and how long after the cancel it came.
 */
async function cancelOnFirstText(client: AnyClient, marker: string): Promise<{ closed: StreamEvent; afterMs: number }> {
  const ac = new AbortController();
  let cancelledAt = 0;
  const pending = call(client, 'kimi_stream', { prompt: 'long' }, {
    signal: ac.signal,
    onprogress: (p) => {
      if (!cancelledAt && p.message?.includes(marker)) {
        cancelledAt = Date.now();
        ac.abort('user pressed stop');
      }
    },
  });
  // Both SDKs reject an aborted call as a request timeout (-32001 in 1.x, REQUEST_TIMEOUT in v2), with the reason.
  await expect(pending).rejects.toMatchObject({ code: expect.toSatisfy((code) => code === -32001 || code === 'REQUEST_TIMEOUT'), message: expect.stringContaining('user pressed stop') });
  const closedSince = () => sim.streams.find((e) => e.kind === 'closed-by-client' && e.at >= cancelledAt);
  await vi.waitFor(() => expect(closedSince()).toBeDefined());
  const closed = closedSince()!;
  return { closed, afterMs: closed.at - cancelledAt };
}

type Out = {
  text: string; reasoning?: string; model: string; provider: string; host: string; model_id: string; finish_reason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number; reasoning_tokens: number } | null;
  cost_usd: number | null; cost: { currency: string; total: number | null } | null; request_id: string | null;
  partial?: boolean; full_text_uri?: string; usage_estimated?: boolean; tool_calls?: { id: string; name: string; arguments: string }[];
};
const out = (r: CallToolResult) => r.structuredContent as Out;
const chatRequests = () => sim.requests.filter((r) => r.path === '/v1/chat/completions');

describe.each(BOTH_ERAS)('kimi_chat (%s)', (era) => {
  const kimi = (extraEnv?: Record<string, string>) => connectIn(era, extraEnv);

  it('without a key, says which variable to set and sends nothing', async () => {
    const c = await connect({}, {}, era);
    open.push(c);
    const before = sim.requests.length;
    const r = await call(c.client, 'kimi_chat', { prompt: 'hi' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No API key for RunAPI: set RUNAPI_KEY in the MCP server's environment\. Get a key at https:\/\/runapi\.ai/);
    expect(sim.requests.length).toBe(before);
  });

  it('refuses an unknown argument (file for files) with no upstream request', async () => {
    const { client } = await kimi();
    const before = chatRequests().length;
    for (const tool of ['kimi_chat', 'kimi_stream']) {
      const r = await call(client, tool, { prompt: 'Review this.', file: 'src/a.ts' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(new RegExp(`^${tool} does not take "file" \\(did you mean files\\?\\); nothing was sent\\. It accepts: prompt, messages, `));
    }
    expect(chatRequests().length).toBe(before);
  });

  it('answers with text, reasoning, usage, cost from real usage and the request id', async () => {
    const { client } = await kimi();
    sim.script({ content: 'Use a mutex around the counter.', reasoning: 'Two goroutines write the same int.', cachedTokens: 10 });
    const r = await call(client, 'kimi_chat', { prompt: 'Is this counter safe?' });
    expect(r.isError).toBeFalsy();
    const s = out(r);
    expect(s).toMatchObject({
      text: 'Use a mutex around the counter.', reasoning: 'Two goroutines write the same int.',
      model: 'kimi-k2.6', provider: 'runapi', model_id: 'kimi-k2.6', finish_reason: 'stop', host: new URL(sim.baseURL).host,
    });
    expect(s.request_id).toMatch(/^req-sim-\d+$/);
    const u = s.usage!;
    expect(u.cached_tokens).toBe(10);
    expect(u.reasoning_tokens).toBeGreaterThan(0);
    const expected = ((u.prompt_tokens - 10) * 0.48 + 10 * 0.08 + u.completion_tokens * 2) / 1e6;
    expect(s.cost_usd).toBeCloseTo(expected, 12);
    expect(textOf(r)).toContain('Use a mutex around the counter.');
    const body = chatRequests().at(-1)!.body!;
    expect(body).toMatchObject({ model: 'kimi-k2.6', stream: true, stream_options: { include_usage: true } });
    expect(body).not.toHaveProperty('temperature');
  });

  it.each(['top', 'details'] as const)('reads cached tokens from Moonshot\'s %s layout', async (layout) => {
    const { client } = await kimi();
    sim.script({ cachedTokens: 42, cachedLayout: layout });
    expect(out(await call(client, 'kimi_chat', { prompt: 'x' })).usage?.cached_tokens).toBe(42);
  });

  it('switches thinking off with the host\'s own knob', async () => {
    const { client } = await kimi({ NVIDIA_API_KEY: KEY, NVIDIA_BASE_URL: sim.baseURL });
    const off = await call(client, 'kimi_chat', { prompt: 'quick', thinking: false });
    expect(chatRequests().at(-1)!.body!.thinking).toEqual({ type: 'disabled' });
    expect(out(off).reasoning).toBeUndefined();
    await call(client, 'kimi_chat', { prompt: 'quick', thinking: false, provider: 'nvidia' });
    const nim = chatRequests().at(-1)!.body!;
    expect(nim).toMatchObject({ model: 'moonshotai/kimi-k2.6', chat_template_kwargs: { thinking: false } });
    expect(nim).not.toHaveProperty('thinking');
  });

  it('sends max_tokens in exactly the field the model takes', async () => {
    const { client } = await kimi();
    await call(client, 'kimi_chat', { prompt: 'x', model: 'kimi-k3', max_tokens: 100 });
    const k3 = chatRequests().at(-1)!.body!;
    expect(k3.max_tokens).toBe(100);
    expect(k3).not.toHaveProperty('max_completion_tokens');
    await call(client, 'kimi_chat', { prompt: 'x', model: 'kimi-k2.6', max_tokens: 100 });
    const k26 = chatRequests().at(-1)!.body!;
    expect(k26.max_completion_tokens).toBe(100);
    expect(k26).not.toHaveProperty('max_tokens');
  });

  it.each([
    ["{ prompt: 'x', temperature: 0.2 }", { prompt: 'x', temperature: 0.2 }, /kimi-k2\.6 accepts only temperature 1 with thinking on; omit temperature/],
    ["{ prompt: 'x', temperature: 1, thinking: false }", { prompt: 'x', temperature: 1, thinking: false }, /accepts only temperature 0\.6 with thinking off/],
    ["{ prompt: 'x', model: 'kimi-k2.7-code', thinking: false }", { prompt: 'x', model: 'kimi-k2.7-code', thinking: false }, /kimi-k2\.7-code always thinks; omit thinking.*kimi-k2\.6, kimi-k2\.5/],
    ["{ prompt: 'x', model: 'kimi-k3', images: ['https://example.com/a.png'] }", { prompt: 'x', model: 'kimi-k3', images: ['https://example.com/a.png'] }, /kimi-k3 reads text only; drop the images, or use .*kimi-k2\.6/],
    ["{ model: 'kimi-k3', messages: [{ role: 'user', content: [{ t…}", { model: 'kimi-k3', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] }] }, /kimi-k3 reads text only/],
    ["{ prompt: 'x', model: 'kimi-k2.7-code', max_tokens: 40000 }", { prompt: 'x', model: 'kimi-k2.7-code', max_tokens: 40000 }, /kimi-k2\.7-code writes at most 32768 tokens; lower max_tokens/],
    ["{ prompt: 'x', model: 'kimi-k3', response_format: 'json_object' }", { prompt: 'x', model: 'kimi-k3', response_format: 'json_object' }, /kimi-k3 does not support response_format; .*use kimi-k2\.6, kimi-k2\.5/],
    ["{ prompt: 'x', model: 'kimi-k3', provider: 'openrouter' }", { prompt: 'x', model: 'kimi-k3', provider: 'openrouter' }, /openrouter does not serve kimi-k3/],
    ["{ prompt: 'x', thinking: false, provider: 'together' }", { prompt: 'x', thinking: false, provider: 'together' }, /has no switch for thinking; omit thinking, or use a host that has one \(runapi, /],
    ["{ prompt: 'x', messages: [{ role: 'user', content: 'y' }] }", { prompt: 'x', messages: [{ role: 'user', content: 'y' }] }, /Give either prompt .* or messages/],
    ["{}", {}, /Give either prompt/],
    ["{ messages: [] }", { messages: [] }, /messages: must hold at least one message/],
    ["{ prompt: 'lorem ipsum '.repeat(200_000) }", { prompt: 'lorem ipsum '.repeat(200_000) }, /more than kimi-k2\.6's 262144-token window/],
    ["{ prompt: 'word '.repeat(200), max_tokens: 262100 }", { prompt: 'word '.repeat(200), max_tokens: 262100 }, /plus max_tokens 262100 exceeds kimi-k2\.6's 262144-token window; lower max_tokens to about/],
    ["{ prompt: 'x', images: ['missing/shot.png'] }", { prompt: 'x', images: ['missing/shot.png'] }, /Cannot read image .*missing\/shot\.png: ENOENT/],
    ["{ prompt: 'x', images: ['/no/such/file.png'] }", { prompt: 'x', images: ['/no/such/file.png'] }, /\/no\/such\/file\.png is outside the folders this call may read \(/],
    ["{ prompt: 'x', images: ['notes.txt'] }", { prompt: 'x', images: ['notes.txt'] }, /unsupported file type; use \.png/],
  ])('refuses %s before sending anything', async (_label, args, message) => {
    const { client } = await kimi({ TOGETHER_API_KEY: KEY, OPENROUTER_API_KEY: KEY });
    const before = chatRequests().length;
    const r = await call(client, 'kimi_chat', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
    expect(chatRequests().length).toBe(before);
  });

  it('sends images as base64 data URLs, from files and from URLs', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const folder = tempDir('kimi-img-');
    const file = join(folder, 'shot.png');
    writeFileSync(file, png);
    const images = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(png);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    try {
      // The picture's folder is allowed as the user would allow it: KIMI_MCP_ROOTS; the local
      // image server likewise (plain http to a loopback address is refused unless allowed).
      const { client } = await kimi({ KIMI_MCP_ROOTS: folder, KIMI_MCP_IMAGE_HOSTS: '127.0.0.1', KIMI_MCP_ALLOW_PRIVATE_URLS: '1' });
      const url = `http://127.0.0.1:${(images.address() as AddressInfo).port}/diagram.jpg`;
      const r = await call(client, 'kimi_chat', { prompt: 'What is this?', images: [file, url] });
      expect(r.isError).toBeFalsy();
      const [message] = chatRequests().at(-1)!.body!.messages as { content: { type: string; text?: string; image_url?: { url: string } }[] }[];
      expect(message!.content).toEqual([
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${png.toString('base64')}` } },
      ]);
    } finally {
      images.close();
    }
  });

  it('asks for JSON with response_format', async () => {
    const { client } = await kimi();
    await call(client, 'kimi_chat', { prompt: 'Reply in JSON', response_format: { name: 'verdict', schema: { type: 'object' } } });
    expect(chatRequests().at(-1)!.body!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'verdict', schema: { type: 'object' }, strict: true } });
  });

  it('collects tool-call deltas into whole calls', async () => {
    const { client } = await kimi();
    sim.script({ content: '', toolCalls: [{ name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' }] });
    const s = out(await call(client, 'kimi_chat', { prompt: 'weather?' }));
    expect(s.finish_reason).toBe('tool_calls');
    expect(s.tool_calls).toEqual([{ id: 'get_weather_0', name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' }]);
  });
});

// Retrying upstream is the same code in either era, and these wait out real backoffs (~9 s):
// legacy only. The quick faults below run in both eras.
describe('faults: retries (legacy)', () => {
  const kimi = (extraEnv?: Record<string, string>) => connectIn('legacy', extraEnv);

  it('retries a 429 after its Retry-After, then answers', async () => {
    const { client } = await kimi();
    const before = chatRequests().length;
    sim.script({ status: 429, errorType: 'rate_limit_reached_error', errorMessage: 'request reached organization max RPM: 3', retryAfter: '1' });
    const started = Date.now();
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBeFalsy();
    expect(chatRequests().length - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries a 429 without Retry-After with backoff, reading Moonshot\'s "try again after" hint', async () => {
    const { client } = await kimi();
    const before = chatRequests().length;
    sim.script(
      { status: 429, errorType: 'engine_overloaded_error', errorMessage: 'The engine is currently overloaded, please try again later' },
      { status: 429, errorType: 'rate_limit_reached_error', errorMessage: 'request reached organization max concurrency: 1, please try again after 1 seconds' },
    );
    const started = Date.now();
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBeFalsy();
    expect(chatRequests().length - before).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1350); // ~0.4-0.5 s backoff + the 1 s hint
  });

  it('retries 5xx a bounded number of times, then reports status, type, request id and what to do', async () => {
    const { client } = await kimi();
    const before = chatRequests().length;
    const failure = { status: 500, errorType: 'server_error', errorMessage: 'upstream exploded' };
    sim.script(failure, failure, failure, failure);
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(chatRequests().length - before).toBe(4);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/answered 500 server_error: upstream exploded \(request id req-sim-\d+\)\. The host kept failing/);
  }, 30_000);

  it('retries a host it cannot reach, then says so with the URL it tried', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const { client } = await kimi({ RUNAPI_BASE_URL: `http://127.0.0.1:${port}/v1` });
    const started = Date.now();
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(new RegExp(`Could not reach RunAPI \\(http://127\\.0\\.0\\.1:${port}/v1\\): .*Check the base URL and your network`));
    expect(Date.now() - started).toBeGreaterThan(2500); // three backoffs: about 0.5 + 1 + 2 s
  }, 30_000);
});

describe.each(BOTH_ERAS)('faults (%s)', (era) => {
  const kimi = (extraEnv?: Record<string, string>) => connectIn(era, extraEnv);

  it('does not retry an exhausted balance, and says to top up', async () => {
    const { client } = await kimi();
    const before = chatRequests().length;
    sim.script({ status: 429, errorType: 'exceeded_current_quota_error', errorMessage: 'Your account is suspended due to insufficient balance' });
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(chatRequests().length - before).toBe(1);
    expect(textOf(r)).toMatch(/answered 429 exceeded_current_quota_error: Your account is suspended due to insufficient balance \(request id req-sim-\d+\)\. .*top up/);
  });

  it('never shows the key, even when the host echoes it', async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (writes.push(String(chunk)), true));
    try {
      const { client } = await kimi({ RUNAPI_KEY: `${KEY}-revoked` });
      const r = await call(client, 'kimi_chat', { prompt: 'x' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/401 incorrect_api_key_error/);
      expect(JSON.stringify(r)).not.toContain(KEY);
      expect(JSON.stringify(r)).toContain('[redacted]');
    } finally {
      spy.mockRestore();
    }
    expect(writes.join('')).not.toContain(KEY);
  });

  it('returns the partial text when the connection drops mid-stream', async () => {
    const { client } = await kimi();
    sim.script({ content: 'abcdefgh'.repeat(20), chunkSize: 8, dropAfterChunks: 5 });
    const r = await call(client, 'kimi_stream', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(out(r)).toMatchObject({ partial: true, text: 'abcdefgh'.repeat(5), finish_reason: null });
    expect(textOf(r)).toMatch(/The stream broke after 40 characters[\s\S]*Partial reply \(40 characters\):\nabcdefgh/);
    // The generated tokens were billed even though the usage chunk never came: say what they cost.
    expect(out(r)).toMatchObject({ usage_estimated: true, usage: { completion_tokens: expect.any(Number) } });
    expect(out(r).usage!.completion_tokens).toBeGreaterThan(0);
    expect(out(r).cost_usd).toBeGreaterThan(0);
    expect(textOf(r)).toMatch(/~\$0\.\d+ \(estimated: the stream broke before the host reported usage\)/);
  });

  it('returns the partial text when the host sends an error event mid-stream', async () => {
    const { client } = await kimi();
    sim.script({ content: 'partial answer, then trouble', chunkSize: 4, errorAfterChunks: 3 });
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(out(r).text).toBe('partial answ');
    expect(textOf(r)).toMatch(/overloaded/);
  });

  it('treats a stream that ends without finishing as broken, keeping its text', async () => {
    const { client } = await kimi();
    sim.script({ content: 'never finished', chunkSize: 5, endEarlyAfterChunks: 2 });
    const r = await call(client, 'kimi_chat', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(out(r).text).toBe('never fini');
    expect(textOf(r)).toMatch(/ended before the reply was complete/);
  });

  it('ends a stalled stream with the idle timer and keeps what arrived', async () => {
    const { client } = await kimi({ KIMI_IDLE_TIMEOUT_MS: '400' });
    sim.script({ content: 'stalls after this', chunkSize: 6, stallAfterChunks: 2 });
    const r = await call(client, 'kimi_stream', { prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(out(r).text).toBe('stalls after');
    expect(textOf(r)).toMatch(/sent nothing for 0\.4 s, so the stream was ended\. Retry, or raise KIMI_IDLE_TIMEOUT_MS/);
    const id = out(r).request_id;
    await vi.waitFor(() => expect(sim.streams.find((e) => e.requestId === id && e.kind === 'closed-by-client')).toBeDefined());
  });
});

describe.each(BOTH_ERAS)('kimi_stream (%s)', (era) => {
  const kimi = (extraEnv?: Record<string, string>) => connectIn(era, extraEnv);

  it('shows the growing text as throttled progress and returns the whole reply', async () => {
    const { client, sent } = await kimi();
    const content = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    sim.script({ content, chunkSize: 6, delayMs: 5, reasoning: 'Think first.' });
    const updates: { progress: number; message?: string }[] = [];
    const r = await call(client, 'kimi_stream', { prompt: 'count' }, { onprogress: (p) => updates.push(p) });
    expect(out(r).text).toBe(content);
    const messages = updates.map((u) => u.message ?? '');
    expect(messages[0]).toMatch(/waiting for the first token/);
    const textUpdates = messages.filter((m) => m.includes('word'));
    expect(textUpdates.length).toBeGreaterThanOrEqual(3);
    // about ten a second, not one per chunk (the stream has over a hundred chunks)
    expect(updates.length).toBeLessThan(40);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(200);
    // Each is the newest text at its moment, so each ends further into the reply than the last.
    const ends = textUpdates.map((m) => content.indexOf(m.replace(/^…/, '')) + m.replace(/^…/, '').length);
    expect(ends.every((end) => end > 0)).toBe(true);
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
    const numbers = updates.map((u) => u.progress);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    // nothing after the result
    const resultIndex = sent.findIndex((m) => 'result' in m && (m.result as { structuredContent?: unknown }).structuredContent);
    expect(sent.slice(resultIndex + 1).filter((m) => 'method' in m && m.method === 'notifications/progress')).toEqual([]);
  });

  it('sends no notifications when the client did not ask for progress', async () => {
    const { client, sent } = await kimi();
    sim.script({ content: 'quiet reply', chunkSize: 2, delayMs: 2 });
    const r = await call(client, 'kimi_stream', { prompt: 'x' });
    expect(out(r).text).toBe('quiet reply');
    expect(sent.filter((m) => 'method' in m && m.method === 'notifications/progress')).toEqual([]);
  });

  it('stops the upstream request within a second of a cancel', async () => {
    const { client } = await kimi();
    sim.script({ content: 'slow '.repeat(400), chunkSize: 5, delayMs: 20 });
    const { closed, afterMs } = await cancelOnFirstText(client, 'slow');
    expect(afterMs).toBeLessThan(1000);
    expect(sim.streams.filter((e) => e.requestId === closed.requestId && e.kind === 'completed')).toEqual([]);
  });

  it('shortens a reply beyond MAX_MCP_OUTPUT_TOKENS and links the full text as a resource', async () => {
    const { client } = await kimi({ MAX_MCP_OUTPUT_TOKENS: '1000' });
    const content = Array.from({ length: 3000 }, (_, i) => `line ${i} of a very long review.`).join('\n');
    sim.script({ content, chunkSize: 500 });
    const r = await call(client, 'kimi_stream', { prompt: 'long' });
    expect(r.isError).toBeFalsy();
    const s = out(r);
    expect(s.text.length).toBeLessThan(content.length);
    expect(content.startsWith(s.text)).toBe(true);
    expect(s.full_text_uri).toMatch(/^kimi:\/\/replies\//);
    expect(textOf(r)).toMatch(/Shortened to fit this client's 1000-token result limit/);
    expect(r.content.some((c) => c.type === 'resource_link' && c.uri === s.full_text_uri)).toBe(true);
    const { contents } = await client.readResource({ uri: s.full_text_uri! });
    expect((contents[0] as { text: string }).text.startsWith(content)).toBe(true);
  });
});
