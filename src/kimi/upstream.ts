/**
 * The HTTP side: an OpenAI SDK client per host, created on first use. `openai` is imported
 * lazily so that starting the server (and listing tools) never pays for loading it.
 */
import type OpenAI from 'openai';
import type { Host } from './config.js';
import { log, scrub } from '../log.js';

const clients = new Map<string, Promise<OpenAI>>();
/** The loaded SDK module, for instanceof checks (class names do not survive minification). */
let sdk: typeof import('openai') | undefined;

/** Per-attempt timeout until response headers; stalled bodies are handled by the caller. */
const HEADERS_TIMEOUT_MS = 120_000;

export class UpstreamError extends Error {
  constructor(message: string) {
    super(scrub(message));
    this.name = 'UpstreamError';
  }
}

export function clientFor(host: Host): Promise<OpenAI> {
  if (host.problem || !host.baseURL) return Promise.reject(new UpstreamError(host.problem ?? 'no base URL'));
  const cacheKey = `${host.provider.id} ${host.baseURL} ${host.apiKey ?? ''}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = import('openai').then((module) => {
      sdk = module;
      return new module.default({
          apiKey: host.apiKey ?? 'not-needed',
          baseURL: host.baseURL,
          timeout: HEADERS_TIMEOUT_MS,
          maxRetries: 2,
          // The SDK logs through console by default, and console.info goes to stdout.
          logLevel: 'warn',
          logger: { error: log, warn: log, info: log, debug: log },
      });
    });
    clients.set(cacheKey, client);
  }
  return client;
}

/** True for a failure to reach the host at all (refused, reset, DNS, header timeout). */
export function isConnectionError(error: unknown): boolean {
  return sdk !== undefined && error instanceof sdk.APIConnectionError;
}

/** A short, key-free description of any upstream failure, saying what to do about it. */
export function describeFailure(error: unknown, host: Host): string {
  const e = error as { status?: number; message?: string; type?: string; requestID?: string | null };
  const where = `${host.provider.title} (${host.baseURL})`;
  if (isConnectionError(error)) {
    return `Could not reach ${where}: ${e.message}. Check the base URL and your network.`;
  }
  if (typeof e?.status === 'number') {
    const type = e.type ? ` ${e.type}` : '';
    const id = e.requestID ? ` (request id ${e.requestID})` : '';
    // The SDK prefixes the status to the host's message ("429 Your account…"); say it once.
    const message = (e.message ?? '').replace(`${e.status} `, '').replace(/[.\s]*$/, '');
    return `${where} answered ${e.status}${type}: ${message}${id}.`;
  }
  return `${where} failed: ${(e?.message ?? String(error)).replace(/[.\s]*$/, '')}.`;
}

export interface LiveModel {
  id: string;
  context_length?: number;
}

/** The host's own `GET /models` list. */
export async function listLiveModels(host: Host, signal?: AbortSignal): Promise<LiveModel[]> {
  const client = await clientFor(host);
  const page = await client.models.list({ signal });
  return page.data.map((m) => {
    const extra = m as unknown as { context_length?: unknown };
    return typeof extra.context_length === 'number' ? { id: m.id, context_length: extra.context_length } : { id: m.id };
  });
}

/** Exact prompt tokens from a host's count endpoint (Moonshot: `POST /tokenizers/estimate-token-count`). */
export async function countTokensExactly(
  host: Host,
  path: string,
  modelId: string,
  messages: readonly unknown[],
  signal?: AbortSignal,
): Promise<number> {
  const client = await clientFor(host);
  const reply = await client.post<unknown>(path, { body: { model: modelId, messages }, signal, maxRetries: 1 });
  const total = (reply as { data?: { total_tokens?: unknown } })?.data?.total_tokens;
  if (typeof total !== 'number') throw new UpstreamError(`${path} answered without data.total_tokens`);
  return total;
}
