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

/**
 * A base URL's query (a gateway's `?api-version=1` or `?key=…`) is sent with every request: the
 * SDK appends each path to the base URL as text, which would put the path inside the query.
 */
function splitQuery(baseURL: string): { baseURL: string; defaultQuery?: Record<string, string> } {
  const url = new URL(baseURL);
  if (!url.search) return { baseURL };
  const defaultQuery = Object.fromEntries(url.searchParams);
  url.search = '';
  return { baseURL: url.href, defaultQuery };
}

export function clientFor(host: Host): Promise<OpenAI> {
  const { baseURL } = host;
  if (host.problem || !baseURL) return Promise.reject(new UpstreamError(host.problem ?? 'no base URL'));
  const cacheKey = `${host.provider.id} ${baseURL} ${host.apiKey ?? ''}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = import('openai').then((module) => {
      sdk = module;
      return new module.OpenAI({
          apiKey: host.apiKey ?? 'not-needed',
          ...splitQuery(baseURL),
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

const trim = (text: string) => text.replace(/[.\s]*$/, '');
/** A host's message in a sentence: bounded, since an error body can be a whole page. */
const clip = (text: string, max = 400) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** The innermost cause's words ("connect ECONNREFUSED 127.0.0.1:9", "other side closed"). */
function rootCause(error: unknown): string | undefined {
  let found: { message?: string; code?: string } | undefined;
  for (let c = (error as { cause?: unknown })?.cause, depth = 0; c && typeof c === 'object' && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    found = c as { message?: string; code?: string };
  }
  return found ? trim(found.message || found.code || '') || undefined : undefined;
}

/** A gateway's HTML error page in place of the host's JSON: its title, or its text. */
function webPage(body: string): string | undefined {
  if (!/<(html|!doctype|head|body)\b/i.test(body)) return undefined;
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  return clip(title || body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim(), 120);
}

/**
 * A short description of any upstream failure, saying what to do about it; scrubbed, since a
 * host may echo the key in its message and the base URL may carry credentials.
 */
export function describeFailure(error: unknown, host: Host): string {
  return scrub(describe(error, host));
}

function describe(error: unknown, host: Host): string {
  const e = error as { status?: number; message?: string; type?: string; requestID?: string | null };
  const where = `${host.provider.title} (${host.baseURL})`;
  const cause = rootCause(error);
  if (isConnectionError(error)) {
    return `Could not reach ${where}: ${trim(e.message ?? '')}${cause ? ` (${cause})` : ''}. Check the base URL and your network.`;
  }
  // The SDK parses each stream event with JSON.parse: the host sent something else.
  if (error instanceof SyntaxError) return `${where} sent a stream event that is not valid JSON (${trim(e.message ?? '')}).`;
  if (typeof e?.status === 'number') {
    const type = e.type ? ` ${e.type}` : '';
    const id = e.requestID ? ` (request id ${e.requestID})` : '';
    // The SDK prefixes the status to the host's message ("429 Your account…"); say it once.
    const message = trim((e.message ?? '').replace(`${e.status} `, ''));
    const page = webPage(message);
    if (page !== undefined) return `${where} answered ${e.status}${type} with a web page ("${page}") instead of an API response, so a proxy or gateway in front of it failed${id}.`;
    return `${where} answered ${e.status}${type}: ${clip(message)}${id}.`;
  }
  // undici ends a body whose connection closed with "terminated" (cause: "other side closed").
  if (e?.message === 'terminated') return `${where} closed the connection mid-reply${cause ? ` (${cause})` : ''}.`;
  return `${where} failed: ${clip(trim(e?.message ?? String(error)))}${cause ? ` (${cause})` : ''}.`;
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
