/**
 * Our Kimi host simulator: a real HTTP server on 127.0.0.1 with real SSE that answers as
 * Moonshot's API does: Bearer auth, model rules (fixed sampling, thinking switch, text-only
 * models, one output cap field, reasoning_effort only on K3-family models, an earlier tool call's
 * reasoning_content required while thinking), `reasoning_content` deltas, usage inside the finishing choice and
 * in the include_usage chunk with either cached layout, tool-call deltas, Moonshot error bodies,
 * 429s with and without Retry-After, and scripted faults: mid-stream drops, in-band errors,
 * streams that end early, and stalls. Tests drive it through the real openai SDK; nothing leaves
 * the machine.
 *
 * Faults a chat request can be scripted with (Behaviour, one per request, in order):
 * - any HTTP error: `status` (401, 403, 404, 429, 500, 502, 503…) with `errorType`,
 *   `errorMessage`, `retryAfter` (the Retry-After header), or a raw non-JSON `errorBody` (a
 *   gateway's HTML page). Moonshot's own 429 hint goes in the message: "please try again after
 *   0.01 seconds". Quota: `{ status: 429, errorType: 'exceeded_current_quota_error' }`.
 *   An unknown model is a real 404: ask for a model not in `models`.
 * - `stallBeforeHeaders`: the request is read, then nothing is ever sent (not even headers).
 * - after N content chunks: `resetAfterChunks` (alias `dropAfterChunks`: the socket is
 *   destroyed), `stallAfterChunks` (nothing more, connection open), `errorAfterChunks` (an
 *   in-band error event), `endEarlyAfterChunks` (the body ends, no finish_reason),
 *   `garbageAfterChunks` (non-JSON `data:` lines and raw bytes, then the connection is held
 *   open, so only a client that gives up on bad data ends the request).
 * - `resetAfterArgumentChunks`: the socket is reset in the middle of the tool calls.
 * - `noDoneAfterFinish`: finish chunk and usage, then the body ends without `data: [DONE]`.
 * - `omitUsage`: no usage anywhere (neither in the finishing choice nor in a usage chunk).
 * Options: `leakKeyInErrors` puts the caller's key in 401 bodies (`true`) or in every error body
 * (`'all'`: 401s, scripted errors, 404s, in-band error events); `echoKeyInHeader` copies the
 * caller's Authorization into an `x-debug-auth` header of every error response.
 *
 * Tool calls: `toolCalls` makes the reply ask for them (finish_reason "tool_calls"), streamed as
 * OpenAI deltas after any content: the first fragment of each call carries its index, id
 * (`${name}_${index}`) and name, the arguments follow in pieces, so a client must reassemble them
 * by index. Requests are checked as Moonshot checks them: tool names, tool_choice with thinking
 * on, every earlier tool call answered by a tool message, each tool message answering one. A
 * host that takes basic text only for some models (RunAPI for kimi-k3 and kimi-k2.7-code) is
 * `basicTextOnly`: tools or tool history sent for those models are refused with a 400.
 *
 * Bookkeeping for tests: `requests` holds every request's body; `chats` records what each chat
 * request was sent (its body) and answered so far (reasoning and content, exactly as written), `inFlight(match?)` counts chat requests whose response has
 * neither ended nor been closed (idle keep-alive sockets do not count), and `scriptFor(match)`
 * scripts only requests whose last user message contains `match`, so cells can run at once.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALWAYS_THINKING, lastUserText, validate } from './request-rules.js';
import type { Message } from './request-rules.js';

/** What the next chat request should do; unset fields behave like a healthy host. */
export interface Behaviour {
  /** Answer with this HTTP error instead of a reply. */
  status?: number;
  errorType?: string;
  errorMessage?: string;
  retryAfter?: string;
  /** A raw error body instead of Moonshot's JSON (a gateway's HTML page), sent as text/html. */
  errorBody?: string;
  /** Read the request, then never answer: no headers, no body, the connection held open. */
  stallBeforeHeaders?: boolean;
  /** The reply text and reasoning (defaults derive from the prompt). */
  content?: string;
  reasoning?: string;
  /** Characters per content delta, and a pause between chunks. */
  chunkSize?: number;
  delayMs?: number;
  /** Silence after the headers, before the first chunk (a model thinking without streaming it). */
  firstChunkDelayMs?: number;
  /** Ask for these tool calls; ids are `${name}_${index}`. */
  toolCalls?: { name: string; arguments: string }[];
  /** Characters per tool-call arguments delta (default 10). */
  argumentsChunkSize?: number;
  /** The socket is reset after this many tool-call arguments deltas (counted over all calls). */
  resetAfterArgumentChunks?: number;
  cachedTokens?: number;
  /** Where cached tokens are reported: Moonshot's top-level field, the OpenAI layout, or both. */
  cachedLayout?: 'top' | 'details' | 'both';
  /** Faults after this many content chunks. */
  dropAfterChunks?: number;
  /** The same as dropAfterChunks: the socket is reset mid-body. */
  resetAfterChunks?: number;
  stallAfterChunks?: number;
  errorAfterChunks?: number;
  endEarlyAfterChunks?: number;
  /** Non-JSON `data:` lines and raw bytes, then the connection is held open. */
  garbageAfterChunks?: number;
  /** Finish and usage are sent, then the body ends without `data: [DONE]`. */
  noDoneAfterFinish?: boolean;
  /** No usage anywhere in the stream (or in a non-streamed reply). */
  omitUsage?: boolean;
}

export interface SimulatorOptions {
  apiKey: string;
  models?: string[];
  /** Token count the estimate endpoint answers. */
  tokenCount?: number;
  /** Echo the caller's key in 401 messages, as a careless host might; 'all': in every error body. */
  leakKeyInErrors?: boolean | 'all';
  /** Copy the caller's Authorization header into `x-debug-auth` on every error response. */
  echoKeyInHeader?: boolean;
  /** What every chat request does when nothing was scripted for it. */
  defaultBehaviour?: Behaviour;
  /**
   * Models this host takes basic text only for, as RunAPI does for kimi-k3 and kimi-k2.7-code:
   * a request with `tools`, `tool_choice` or tool history (tool calls, tool messages) is a 400.
   */
  basicTextOnly?: string[];
}

export interface RequestLog {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
}

export interface StreamEvent {
  requestId: string;
  kind: 'opened' | 'completed' | 'closed-by-client';
  at: number;
}

/** One chat request as the simulator saw and answered it. */
export interface ChatLog {
  requestId: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
  /** The last user message's text ('' until the body has been read). */
  prompt: string;
  /** The request body as received (undefined until it has been read). */
  body?: Record<string, unknown>;
  /** The HTTP status answered; undefined while no headers were sent. */
  status?: number;
  /** Reasoning and content written to the client so far, exactly as sent. */
  reasoning: string;
  content: string;
  /** The response ended or its connection closed. */
  done: boolean;
}

export interface Simulator {
  baseURL: string;
  requests: RequestLog[];
  streams: StreamEvent[];
  chats: ChatLog[];
  /** Queue behaviours for the next chat requests, one each, in order. */
  script(...behaviours: Behaviour[]): void;
  /** Queue behaviours for the next chat requests whose last user message contains `match`. */
  scriptFor(match: string, ...behaviours: Behaviour[]): void;
  /** Chat requests (whose prompt contains `match`, if given) not yet ended or closed. */
  inFlight(match?: string): number;
  /** The chat requests whose prompt contains `match`, in arrival order. */
  chatsFor(match: string): ChatLog[];
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function moonshotError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { type, message } }, headers);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
}

function chunkText(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const models = options.models ?? ['kimi-k3.1-pro', 'kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5', 'kimi-for-coding'];
  const requests: RequestLog[] = [];
  const streams: StreamEvent[] = [];
  const queue: Behaviour[] = [];
  const keyed = new Map<string, Behaviour[]>();
  const chats: ChatLog[] = [];
  let counter = 0;

  function nextBehaviour(prompt: string): Behaviour {
    for (const [match, queued] of keyed) {
      if (prompt.includes(match) && queued.length) return queued.shift()!;
    }
    return queue.shift() ?? options.defaultBehaviour ?? {};
  }

  /** What a careless host adds to an error: the key in the body, the Authorization in a header. */
  function leaks(auth: string): { suffix: string; headers: Record<string, string> } {
    return {
      suffix: options.leakKeyInErrors === 'all' ? ` (request made with key ${auth.replace(/^Bearer /, '')})` : '',
      headers: options.echoKeyInHeader ? { 'x-debug-auth': auth } : {},
    };
  }

  async function chat(res: ServerResponse, body: Record<string, unknown>, log: ChatLog, auth: string): Promise<void> {
    const requestId = log.requestId;
    const idHeader = { 'x-request-id': requestId };
    const b = nextBehaviour(log.prompt);
    const leak = leaks(auth);
    if (b.stallBeforeHeaders) return; // the request stays open until the client gives up
    if (b.status) {
      log.status = b.status;
      const headers: Record<string, string> = { ...idHeader, ...leak.headers };
      if (b.retryAfter !== undefined) headers['retry-after'] = b.retryAfter;
      if (b.errorBody !== undefined) {
        res.writeHead(b.status, { 'content-type': 'text/html', ...headers });
        res.end(b.errorBody + leak.suffix);
        return;
      }
      moonshotError(res, b.status, b.errorType ?? 'server_error', (b.errorMessage ?? 'simulated failure') + leak.suffix, headers);
      return;
    }
    const invalid = validate(body, models, options.basicTextOnly ?? []);
    if (invalid) {
      log.status = invalid[0];
      return moonshotError(res, invalid[0], invalid[1], invalid[2] + leak.suffix, { ...idHeader, ...leak.headers });
    }

    const model = String(body.model);
    const messages = body.messages as Message[];
    const thinking = ALWAYS_THINKING.has(model) || (body.thinking as { type?: string } | undefined)?.type !== 'disabled';
    const prompt = lastUserText(messages);
    const content = b.content ?? `Simulated Kimi reply to: ${prompt.slice(0, 80)}`;
    const reasoning = thinking ? (b.reasoning ?? 'The user wants a short answer. I will give one.') : '';
    const promptTokens = Math.ceil(JSON.stringify(messages).length / 4);
    const reasoningTokens = Math.ceil(reasoning.length / 4);
    const cached = b.cachedTokens ?? 0;
    const layout = b.cachedLayout ?? 'both';
    // The model writes its tool calls too: their arguments are billed as output.
    const completionTokens = Math.ceil((content.length + (b.toolCalls ?? []).reduce((n, t) => n + t.name.length + t.arguments.length, 0)) / 4) + reasoningTokens;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      ...(layout !== 'details' ? { cached_tokens: cached } : {}),
      ...(layout !== 'top' ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
      completion_tokens_details: { reasoning_tokens: reasoningTokens },
    };
    const id = `chatcmpl-${requestId}`;
    const created = Math.floor(Date.now() / 1000);
    const finish = b.toolCalls?.length ? 'tool_calls' : 'stop';

    if (!body.stream) {
      const message: Record<string, unknown> = { role: 'assistant', content };
      if (reasoning) message.reasoning_content = reasoning;
      if (b.toolCalls) message.tool_calls = b.toolCalls.map((t, i) => ({ index: i, id: `${t.name}_${i}`, type: 'function', function: t }));
      log.status = 200;
      log.reasoning = reasoning;
      log.content = content;
      sendJson(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: finish }], ...(b.omitUsage ? {} : { usage }) }, idHeader);
      return;
    }

    log.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...idHeader });
    streams.push({ requestId, kind: 'opened', at: Date.now() });
    let finished = false;
    res.on('close', () => {
      if (!finished) streams.push({ requestId, kind: 'closed-by-client', at: Date.now() });
    });
    const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const delay = b.delayMs ?? 0;
    const open = () => !res.destroyed && !res.writableEnded;

    if (b.firstChunkDelayMs) await pause(b.firstChunkDelayMs);
    if (!open()) return;
    event([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    for (const piece of chunkText(reasoning, 12)) {
      if (!open()) return;
      event([{ index: 0, delta: { reasoning_content: piece }, finish_reason: null }]);
      log.reasoning += piece;
      if (delay) await pause(delay);
    }
    const pieces = chunkText(content, b.chunkSize ?? 8);
    const resetAfter = b.resetAfterChunks ?? b.dropAfterChunks;
    for (let i = 0; i < pieces.length; i++) {
      if (!open()) return;
      if (i === resetAfter) {
        await pause(30); // let what was written reach the client, then cut the connection
        return void res.socket?.destroy();
      }
      if (i === b.errorAfterChunks) {
        res.write(`data: ${JSON.stringify({ error: { type: 'engine_overloaded_error', message: `The engine is currently overloaded, please try again later${leak.suffix}` } })}\n\n`);
        finished = true;
        return void res.end();
      }
      if (i === b.endEarlyAfterChunks) {
        finished = true;
        return void res.end();
      }
      if (i === b.garbageAfterChunks) {
        res.write('data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": "never\n\n');
        res.write(Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0xc3, 0x28, 0x0a, 0x0a]));
        res.write('data: <html>upstream proxy error</html>\n\n');
        return; // and hold the connection open: only a client that gives up ends it
      }
      if (i === b.stallAfterChunks) return; // keep the connection open and send nothing more
      event([{ index: 0, delta: { content: pieces[i] }, finish_reason: null }]);
      log.content += pieces[i];
      if (delay) await pause(delay);
    }
    let argumentChunks = 0;
    for (const [index, call] of (b.toolCalls ?? []).entries()) {
      if (!open()) return;
      event([{ index: 0, delta: { tool_calls: [{ index, id: `${call.name}_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }, finish_reason: null }]);
      for (const piece of chunkText(call.arguments, b.argumentsChunkSize ?? 10)) {
        if (!open()) return;
        if (argumentChunks++ === b.resetAfterArgumentChunks) {
          await pause(30);
          return void res.socket?.destroy();
        }
        event([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null }]);
        if (delay) await pause(delay);
      }
    }
    // Moonshot: usage inside the finishing choice; with include_usage, one more chunk with choices: [].
    event([{ index: 0, delta: {}, finish_reason: finish, ...(b.omitUsage ? {} : { usage }) }]);
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage && !b.omitUsage) event([], { usage });
    if (!b.noDoneAfterFinish) res.write('data: [DONE]\n\n');
    finished = true;
    streams.push({ requestId, kind: 'completed', at: Date.now() });
    res.end();
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let log: ChatLog | undefined;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const entry: ChatLog = { requestId: `req-sim-${++counter}`, at: Date.now(), prompt: '', reasoning: '', content: '', done: false };
      log = entry;
      chats.push(entry);
      const settle = () => void (entry.done = true);
      res.once('finish', settle);
      res.once('close', settle);
    }
    void (async () => {
      const body = await readBody(req);
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      if (log) {
        log.body = body;
        log.prompt = lastUserText(Array.isArray(body?.messages) ? (body.messages as Message[]) : []);
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${options.apiKey}`) {
        const shown = options.leakKeyInErrors ? ` ${auth.replace(/^Bearer /, '')}` : '';
        if (log) log.status = 401;
        return moonshotError(res, 401, 'incorrect_api_key_error', `Incorrect API key provided:${shown}`, leaks(auth).headers);
      }
      if (log) return chat(res, body ?? {}, log, auth);
      if (req.method === 'GET' && path === '/v1/models') {
        return sendJson(res, 200, {
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 1780000000, owned_by: 'moonshot', context_length: 262144 })),
        });
      }
      if (req.method === 'POST' && path === '/v1/tokenizers/estimate-token-count') {
        const { model, messages } = (body ?? {}) as { model?: string; messages?: unknown[] };
        if (!model || !models.includes(model)) return moonshotError(res, 404, 'resource_not_found_error', `Not found the model ${model} or Permission denied`);
        if (!Array.isArray(messages) || messages.length === 0) return moonshotError(res, 400, 'invalid_request_error', 'Invalid request: messages must not be empty');
        return sendJson(res, 200, { data: { total_tokens: options.tokenCount ?? 80 } });
      }
      moonshotError(res, 404, 'resource_not_found_error', `No route ${req.method} ${path}`);
    })().catch((e: unknown) => {
      if (!res.headersSent) moonshotError(res, 500, 'server_error', String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    streams,
    chats,
    script: (...behaviours) => queue.push(...behaviours),
    scriptFor: (match, ...behaviours) => keyed.set(match, [...(keyed.get(match) ?? []), ...behaviours]),
    inFlight: (match) => chats.filter((c) => !c.done && (match === undefined || c.prompt.includes(match))).length,
    chatsFor: (match) => chats.filter((c) => c.prompt.includes(match)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
