/**
 * Configuration from the environment. Which host, which key, which base URL and which default
 * model; every name and default comes from the catalog, so adding a host is a markdown change.
 */
import * as z from 'zod';
import { findModel, findProvider } from '../catalog/load.js';
import type { Catalog, ModelEntry, ProviderEntry } from '../catalog/load.js';
import { registerSecret } from '../log.js';
import { DEFAULT_MAX_FILE_BYTES } from './files/limits.js';

export type Env = Record<string, string | undefined>;

/** A resolved host: where to send requests and with which key (the key never leaves this object). */
export interface Host {
  provider: ProviderEntry;
  baseURL: string | undefined;
  apiKey: string | undefined;
  /** The variable the key came from, for messages (the catalog's key_env); never the key itself. */
  keyVar: string | undefined;
  /** Why this host cannot be called yet, with what to do; undefined when it can. */
  problem: string | undefined;
}

/** What every call needs: the catalog, the settings and the environment they came from. */
export interface CallContext {
  catalog: Catalog;
  settings: Settings;
  env: Env;
}

export interface Settings {
  provider: ProviderEntry;
  model: ModelEntry;
  /** A stream that sends nothing for this long is ended (the SDK's timeout stops at headers). */
  idleTimeoutMs: number;
  /** The client's cap on a tool result, in tokens (Claude Code: MAX_MCP_OUTPUT_TOKENS, 25000). */
  maxResultTokens: number;
  /** A file given in `files` larger than this is refused (KIMI_MCP_MAX_FILE_BYTES). */
  maxFileBytes: number;
  /** Conversations untouched for longer are removed at start-up; 0 keeps them (KIMI_MCP_KEEP_DAYS). */
  keepDays: number;
  /** Bad values found in the environment; the server still starts and reports them per call. */
  problems: string[];
}

const url = z.url({ protocol: /^https?$/ });

// Generous: some hosts return no reasoning text, so a thinking model can be silent for minutes.
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_RESULT_TOKENS = 25_000;
const DEFAULT_KEEP_DAYS = 30;

function wholeNumber(env: Env, name: string, fallback: number, problems: string[], allowZero = false): number {
  const raw = readVar(env, name).value;
  if (raw === undefined) return fallback;
  const parsed = z.coerce.number().int().min(allowZero ? 0 : 1).safeParse(raw);
  if (parsed.success) return parsed.data;
  problems.push(`${name}="${raw}" is not a ${allowZero ? 'whole number (0 or more)' : 'positive whole number'}; using ${fallback}.`);
  return fallback;
}

/**
 * A value a client passed without expanding (`${SOME_KEY}`), or an empty one, is treated as
 * unset: some clients (OpenClaw among them) hand the literal placeholder to the server.
 */
export function readVar(env: Env, name: string): { value: string | undefined; unexpanded: boolean } {
  const raw = env[name]?.trim();
  if (!raw) return { value: undefined, unexpanded: false };
  if (/^\$\{[^}]*\}$|^\$[A-Z_][A-Z0-9_]*$/.test(raw)) return { value: undefined, unexpanded: true };
  return { value: raw, unexpanded: false };
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

export function resolveSettings(catalog: Catalog, env: Env): Settings {
  const problems: string[] = [];
  let provider = catalog.defaultProvider;
  let model = catalog.defaultModel;
  const providerName = readVar(env, 'KIMI_PROVIDER').value;
  if (providerName) {
    const found = findProvider(catalog, providerName);
    if (found) provider = found;
    else problems.push(`KIMI_PROVIDER="${providerName}" is not a known host; set it to one of: ${catalog.providers.map((p) => p.id).join(', ')}.`);
  }
  const modelName = readVar(env, 'KIMI_MODEL').value;
  if (modelName) {
    const found = findModel(catalog, modelName);
    if (found) model = found;
    else problems.push(`KIMI_MODEL="${modelName}" is not a known model; set it to one of: ${catalog.models.map((m) => m.id).join(', ')}.`);
  }
  const idleTimeoutMs = wholeNumber(env, 'KIMI_IDLE_TIMEOUT_MS', DEFAULT_IDLE_TIMEOUT_MS, problems);
  const maxResultTokens = wholeNumber(env, 'MAX_MCP_OUTPUT_TOKENS', DEFAULT_MAX_RESULT_TOKENS, problems);
  const maxFileBytes = wholeNumber(env, 'KIMI_MCP_MAX_FILE_BYTES', DEFAULT_MAX_FILE_BYTES, problems);
  const keepDays = wholeNumber(env, 'KIMI_MCP_KEEP_DAYS', DEFAULT_KEEP_DAYS, problems, true);
  return { provider, model, idleTimeoutMs, maxResultTokens, maxFileBytes, keepDays, problems };
}

/** Resolves the base URL and key of one host from the environment. */
export function resolveHost(provider: ProviderEntry, env: Env): Host {
  const problems: string[] = [];
  let baseURL = provider.base_url;
  if (provider.base_url_env) {
    const fromEnv = readVar(env, provider.base_url_env).value;
    if (fromEnv) {
      if (url.safeParse(fromEnv).success) baseURL = fromEnv;
      else problems.push(`${provider.base_url_env}="${fromEnv}" is not an http(s) URL; set it like https://host/v1.`);
    }
  }

  let apiKey: string | undefined;
  let keyVar: string | undefined;
  const unexpanded: string[] = [];
  for (const name of provider.key_env) {
    const v = readVar(env, name);
    if (v.unexpanded) unexpanded.push(name);
    if (v.value) {
      apiKey = v.value;
      keyVar = name;
      break;
    }
  }
  // RunAPI's own skill documents OPENAI_API_KEY + OPENAI_BASE_URL. An OpenAI key is used only
  // when its base URL names this very host, so it is never sent anywhere the user did not name.
  const openaiBase = readVar(env, 'OPENAI_BASE_URL').value;
  const openaiKey = readVar(env, 'OPENAI_API_KEY').value;
  if (!apiKey && openaiKey && openaiBase && baseURL && sameUrl(openaiBase, baseURL)) {
    apiKey = openaiKey;
    keyVar = 'OPENAI_API_KEY';
  }

  registerSecret(apiKey);
  if (!baseURL && problems.length === 0) {
    problems.push(`${provider.title} needs a base URL: set ${provider.base_url_env} (for example http://127.0.0.1:8000/v1).`);
  }
  if (!apiKey && !provider.key_optional) {
    const [primary] = provider.key_env;
    const hint = unexpanded.length
      ? ` ${unexpanded.join(', ')} holds an unexpanded placeholder like \${${unexpanded[0]}}; your client did not substitute it, so put the key itself in the server's env.`
      : '';
    const where = provider.key_url ? ` Get a key at ${provider.key_url}.` : '';
    problems.push(`No API key for ${provider.title}: set ${primary} in the MCP server's environment.${where}${hint}`);
  }
  return { provider, baseURL, apiKey, keyVar, problem: problems.length ? problems.join(' ') : undefined };
}
