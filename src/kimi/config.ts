/**
 * Configuration from the environment. Which host, which key, which base URL and which default
 * model; every name and default comes from the catalog, so adding a host is a markdown change.
 */
import { findModel, findProvider } from '../catalog/find.js';
import type { Catalog, ModelEntry, ProviderEntry } from '../catalog/load.js';
import { readVar } from '../env.js';
import type { Env } from '../env.js';
import { log, registerSecret, registerUrlSecrets } from '../log.js';
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
  /** serve --http keeps at most this many 2025-era sessions (KIMI_MCP_HTTP_MAX_SESSIONS). */
  maxHttpSessions: number;
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
  /**
   * Limits set but unreadable, each with what to write instead. The guard then refuses every
   * call: a limit the user meant to set must never be silently off.
   */
  invalid: { name: string; problem: string }[];
}

/** zod is not loaded for this: configuration is read on paths that must start fast. */
function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** `https://user:password@host`: fetch refuses to send such a URL. */
function hasUserinfo(httpUrl: string): boolean {
  const { username, password } = new URL(httpUrl);
  return Boolean(username || password);
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
/** Minutes, not an hour: an abandoned 2025-era HTTP session holds memory until then. */
export const DEFAULT_SESSION_IDLE_MS = 5 * 60_000;
export const DEFAULT_MAX_HTTP_SESSIONS = 100;

function wholeNumber(env: Env, name: string, fallback: number, problems: string[], allowZero = false): number {
  const raw = readVar(env, name).value;
  if (raw === undefined) return fallback;
  const n = numberIn(raw);
  if (n !== undefined && Number.isInteger(n) && n >= (allowZero ? 0 : 1)) return n;
  problems.push(`${name}="${raw}" is not a ${allowZero ? 'whole number (0 or more)' : 'positive whole number'}; using ${fallback}.`);
  return fallback;
}

/** Digits with at most one decimal point, after an optional "$": what a dollar limit looks like. */
const PLAIN_AMOUNT = /^\$?(\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A spending limit in US dollars, or undefined when unset. A value that is set but unreadable
 * (a word, a decimal comma, a negative amount, a placeholder the client left unexpanded) goes to
 * `invalid`, and the guard refuses every call until it is fixed.
 */
function dollars(env: Env, name: string, invalid: SpendingLimits['invalid']): number | undefined {
  const { value: raw, unexpanded } = readVar(env, name);
  const refused = `so every Kimi call is refused until it is fixed`;
  const example = (amount: string) => `write it like ${name}=${amount}, or remove ${name} to turn that limit off`;
  if (unexpanded) {
    invalid.push({ name, problem: `${name} holds "${env[name]?.trim()}", a placeholder your MCP client did not substitute, ${refused}: put the amount itself in the server's env (${example('5.00')}).` });
    return undefined;
  }
  if (raw === undefined) return undefined;
  if (PLAIN_AMOUNT.test(raw)) return Number(raw.replace(/^\$/, ''));
  // "5,00": a decimal comma; say what it most likely meant.
  const decimalComma = /^\$?\d+,\d{1,2}$/.test(raw) ? raw.replace(/^\$/, '').replace(',', '.') : undefined;
  const why = raw.startsWith('-') ? 'is negative (a limit is 0 or more)' : 'is not an amount in US dollars (digits and at most one dot)';
  invalid.push({ name, problem: `${name}="${raw}" ${why}, ${refused}: ${example(decimalComma ?? '0.50')}.` });
  return undefined;
}

function spendingLimits(env: Env, problems: string[]): SpendingLimits {
  const invalid: SpendingLimits['invalid'] = [];
  const maxPerCallUsd = dollars(env, 'KIMI_MAX_COST_PER_CALL_USD', invalid);
  const budgetUsd = dollars(env, 'KIMI_BUDGET_USD', invalid);
  const confirmAboveUsd = dollars(env, 'KIMI_CONFIRM_ABOVE_USD', invalid);
  const period = readVar(env, 'KIMI_BUDGET_PERIOD').value?.toLowerCase() ?? 'day';
  if (period !== 'day' && period !== 'month') {
    // Read as a day, a monthly budget would allow 30 times the spend: refuse instead, while a budget is set.
    const problem = `KIMI_BUDGET_PERIOD="${period}" is neither day nor month`;
    if (budgetUsd !== undefined) invalid.push({ name: 'KIMI_BUDGET_PERIOD', problem: `${problem}, so every Kimi call is refused until it is fixed: write KIMI_BUDGET_PERIOD=day or KIMI_BUDGET_PERIOD=month.` });
    else problems.push(`${problem}; using day.`);
  }
  problems.push(...invalid.map((i) => i.problem));
  const limits: SpendingLimits = { budgetPeriod: period === 'month' ? 'month' : 'day', invalid };
  if (maxPerCallUsd !== undefined) limits.maxPerCallUsd = maxPerCallUsd;
  if (budgetUsd !== undefined) limits.budgetUsd = budgetUsd;
  if (confirmAboveUsd !== undefined) limits.confirmAboveUsd = confirmAboveUsd;
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
  const maxHttpSessions = wholeNumber(env, 'KIMI_MCP_HTTP_MAX_SESSIONS', DEFAULT_MAX_HTTP_SESSIONS, problems);
  const spending = spendingLimits(env, problems);
  const fallback = fallbackHosts(catalog, env, problems);
  registerHostSecrets(catalog, env);
  return { provider, model, idleTimeoutMs, maxResultTokens, maxFileBytes, keepDays, spending, sessionIdleMs, maxHttpSessions, fallback, problems };
}

/**
 * Every host's key and base-URL credentials are registered with the scrubber as settings are
 * read, before any command or call runs: a host may echo them (and doctor checks fallback hosts
 * a call may never reach), and messages may name any host.
 */
function registerHostSecrets(catalog: Catalog, env: Env): void {
  for (const provider of catalog.providers) resolveHost(provider, env);
}

/** A variable holding a key, registered with the scrubber as it is read. */
function readKey(env: Env, name: string): ReturnType<typeof readVar> {
  const read = readVar(env, name);
  registerSecret(read.value);
  return read;
}

/** A variable holding a URL, whose credentials (userinfo, `?key=`) are registered as it is read. */
function readUrl(env: Env, name: string): string | undefined {
  const { value } = readVar(env, name);
  registerUrlSecrets(value);
  return value;
}

/** Resolves the base URL and key of one host from the environment. */
export function resolveHost(provider: ProviderEntry, env: Env): Host {
  const problems: string[] = [];
  let baseURL = provider.base_url;
  if (provider.base_url_env) {
    const fromEnv = readUrl(env, provider.base_url_env);
    if (fromEnv) {
      if (!isHttpUrl(fromEnv)) problems.push(`${provider.base_url_env}="${fromEnv}" is not an http(s) URL; set it like https://host/v1.`);
      // fetch refuses a URL with credentials, so it could only fail, and show them on the way.
      else if (hasUserinfo(fromEnv)) problems.push(`${provider.base_url_env} has a user name or password in it (…@); requests cannot carry them that way. Remove them from the URL and put the key in ${provider.key_env[0]}.`);
      else baseURL = fromEnv;
    }
  }

  let apiKey: string | undefined;
  let keyVar: string | undefined;
  const unexpanded: string[] = [];
  for (const name of provider.key_env) {
    // Every one is read (and so registered), also those after the key that is used.
    const v = readKey(env, name);
    if (v.unexpanded) unexpanded.push(name);
    if (v.value && !apiKey) {
      apiKey = v.value;
      keyVar = name;
    }
  }
  // RunAPI's own skill documents OPENAI_API_KEY + OPENAI_BASE_URL. An OpenAI key is used only
  // when its base URL names this very host, so it is never sent anywhere the user did not name.
  const openaiBase = readUrl(env, 'OPENAI_BASE_URL');
  const openaiKey = readKey(env, 'OPENAI_API_KEY').value;
  if (!apiKey && openaiKey && openaiBase && baseURL && sameUrl(openaiBase, baseURL)) {
    apiKey = openaiKey;
    keyVar = 'OPENAI_API_KEY';
  }

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
