/**
 * Configuration from the environment. Which host, which key, which base URL and which default
 * model; every name and default comes from the catalog, so adding a host is a markdown change.
 */
import { findModel, findProvider } from '../catalog/find.js';
import type { Catalog, ModelEntry, ProviderEntry } from '../catalog/load.js';
import { readVar } from '../env.js';
import type { Env } from '../env.js';
import { log, registerSecret } from '../log.js';
import { firstTime } from '../once.js';
import { DEFAULT_MAX_FILE_BYTES } from './files/limits.js';

// Defined in src/env.ts so that src/state reads variables the same way without importing src/kimi.
export { readVar };
export type { Env };

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
  spending: SpendingLimits;
  /** serve --http closes a session idle this long (KIMI_MCP_SESSION_IDLE_MS). */
  sessionIdleMs: number;
  /** Hosts to try, in order, when the chosen one fails before any text (KIMI_FALLBACK). */
  fallback: ProviderEntry[];
  /** Bad values found in the environment; the server still starts and reports them per call. */
  problems: string[];
}

/** The spending guard, all optional (off when unset); amounts in USD. */
export interface SpendingLimits {
  /** KIMI_MAX_COST_PER_CALL_USD: a call whose worst case costs more is refused. */
  maxPerCallUsd?: number;
  /** KIMI_BUDGET_USD per KIMI_BUDGET_PERIOD: a call whose worst case does not fit what is left is refused. */
  budgetUsd?: number;
  budgetPeriod: 'day' | 'month';
  /** KIMI_CONFIRM_ABOVE_USD: a call whose worst case costs more is confirmed by the user first. */
  confirmAboveUsd?: number;
}

/** zod is not loaded for this: configuration is read on paths that must start fast. */
function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** A number written in an environment variable, or undefined (empty, words, NaN, Infinity). */
function numberIn(raw: string): number | undefined {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

// Generous: some hosts return no reasoning text, so a thinking model can be silent for minutes.
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_RESULT_TOKENS = 25_000;
const DEFAULT_KEEP_DAYS = 30;
/** Clients that vanish without DELETE would otherwise keep their HTTP session (and its server) forever. */
export const DEFAULT_SESSION_IDLE_MS = 60 * 60_000;

function wholeNumber(env: Env, name: string, fallback: number, problems: string[], allowZero = false): number {
  const raw = readVar(env, name).value;
  if (raw === undefined) return fallback;
  const n = numberIn(raw);
  if (n !== undefined && Number.isInteger(n) && n >= (allowZero ? 0 : 1)) return n;
  problems.push(`${name}="${raw}" is not a ${allowZero ? 'whole number (0 or more)' : 'positive whole number'}; using ${fallback}.`);
  return fallback;
}

function dollars(env: Env, name: string, problems: string[]): number | undefined {
  const raw = readVar(env, name).value;
  if (raw === undefined) return undefined;
  const n = numberIn(raw.replace(/^\$/, ''));
  if (n !== undefined && n >= 0) return n;
  problems.push(`${name}="${raw}" is not an amount in US dollars (like 0.50); it is ignored, so that limit is OFF.`);
  return undefined;
}

function spendingLimits(env: Env, problems: string[]): SpendingLimits {
  const period = readVar(env, 'KIMI_BUDGET_PERIOD').value?.toLowerCase() ?? 'day';
  if (period !== 'day' && period !== 'month') problems.push(`KIMI_BUDGET_PERIOD="${period}" is neither day nor month; using day.`);
  const limits: SpendingLimits = { budgetPeriod: period === 'month' ? 'month' : 'day' };
  const perCall = dollars(env, 'KIMI_MAX_COST_PER_CALL_USD', problems);
  const budget = dollars(env, 'KIMI_BUDGET_USD', problems);
  const confirm = dollars(env, 'KIMI_CONFIRM_ABOVE_USD', problems);
  if (perCall !== undefined) limits.maxPerCallUsd = perCall;
  if (budget !== undefined) limits.budgetUsd = budget;
  if (confirm !== undefined) limits.confirmAboveUsd = confirm;
  return limits;
}

function fallbackHosts(catalog: Catalog, env: Env, problems: string[]): ProviderEntry[] {
  const names = (readVar(env, 'KIMI_FALLBACK').value ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  return names.flatMap((name) => {
    const found = findProvider(catalog, name);
    if (!found) problems.push(`KIMI_FALLBACK names "${name}", which is not a known host; use hosts from: ${catalog.providers.map((p) => p.id).join(', ')}.`);
    return found ? [found] : [];
  });
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Logs bad configuration once per process, whichever path (start-up or full server) meets it first. */
export function reportConfiguration(settings: Settings): void {
  if (firstTime('report configuration')) for (const problem of settings.problems) log(`configuration: ${problem}`);
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
  const sessionIdleMs = wholeNumber(env, 'KIMI_MCP_SESSION_IDLE_MS', DEFAULT_SESSION_IDLE_MS, problems);
  const spending = spendingLimits(env, problems);
  const fallback = fallbackHosts(catalog, env, problems);
  return { provider, model, idleTimeoutMs, maxResultTokens, maxFileBytes, keepDays, spending, sessionIdleMs, fallback, problems };
}

/** Resolves the base URL and key of one host from the environment. */
export function resolveHost(provider: ProviderEntry, env: Env): Host {
  const problems: string[] = [];
  let baseURL = provider.base_url;
  if (provider.base_url_env) {
    const fromEnv = readVar(env, provider.base_url_env).value;
    if (fromEnv) {
      if (isHttpUrl(fromEnv)) baseURL = fromEnv;
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
