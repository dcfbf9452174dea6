/**
 * A Kimi host simulator: a real HTTP server on 127.0.0.1 that answers like Moonshot's API
 * (kimi-api.md): Bearer auth, `GET /v1/models`, `POST /v1/tokenizers/estimate-token-count`,
 * and Moonshot's error bodies. Tests point the real openai SDK at it; nothing leaves the machine.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimulatorOptions {
  apiKey: string;
  models?: string[];
  /** Token count the estimate endpoint answers (it cannot tokenise for real either). */
  tokenCount?: number;
  /** Echo the caller's key in the 401 message, as a careless host might. */
  leakKeyInErrors?: boolean;
}

export interface RequestLog {
  method: string;
  path: string;
  body: unknown;
}

export interface Simulator {
  baseURL: string;
  requests: RequestLog[];
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${Math.random().toString(36).slice(2, 10)}` });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const models = options.models ?? ['kimi-k3', 'kimi-k2.7-code', 'kimi-k2.6', 'kimi-k2.5', 'moonshot-v1-8k'];
  const requests: RequestLog[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push({ method: req.method ?? '', path, body });
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${options.apiKey}`) {
        const shown = options.leakKeyInErrors ? ` ${auth.replace(/^Bearer /, '')}` : '';
        sendJson(res, 401, { error: { type: 'incorrect_api_key_error', message: `Incorrect API key provided:${shown}` } });
        return;
      }
      if (req.method === 'GET' && path === '/v1/models') {
        sendJson(res, 200, {
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 1780000000, owned_by: 'moonshot', context_length: 262144 })),
        });
        return;
      }
      if (req.method === 'POST' && path === '/v1/tokenizers/estimate-token-count') {
        const { model, messages } = (body ?? {}) as { model?: string; messages?: unknown[] };
        if (!model || !models.includes(model)) {
          sendJson(res, 404, { error: { type: 'resource_not_found_error', message: `Not found the model ${model} or Permission denied` } });
          return;
        }
        if (!Array.isArray(messages) || messages.length === 0) {
          sendJson(res, 400, { error: { type: 'invalid_request_error', message: 'Invalid request: messages must not be empty' } });
          return;
        }
        sendJson(res, 200, { data: { total_tokens: options.tokenCount ?? 80 } });
        return;
      }
      sendJson(res, 404, { error: { type: 'resource_not_found_error', message: `No route ${req.method} ${path}` } });
    })().catch((e: unknown) => sendJson(res, 500, { error: { type: 'server_error', message: String(e) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
