/**
 * Logging to stderr only: stdout carries the MCP protocol. Every line passes through the
 * scrubber, so a key can never reach a log even inside an upstream error message. The scrubber
 * is the one place every way out goes through: log lines, tool results and progress, and every
 * line the CLI prints (src/cli/context.ts).
 */
const REDACTED = '[redacted]';
/** Shorter values are not masked: they would blank ordinary words out of every reply. */
const MIN_SECRET_LENGTH = 4;
const secrets = new Set<string>();

/** Registers a value (an API key) that must never appear in output. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** Query parameters that carry credentials: key, api_key, apikey, token, access_token, sig… */
const CREDENTIAL_PARAM = /key|token|secret|passw(or)?d|pwd|sig(nature)?|auth|credential/i;
/** A shorter value of such a parameter is a setting (token_type=bearer, auth=none), not a key. */
const MIN_PARAM_SECRET_LENGTH = 8;

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % is not an escape; the text as written is what could be echoed
  }
}

/**
 * Registers what a URL carries that works as a credential: its userinfo (the password, or a
 * user name standing alone, as tokens do) and the value of every query parameter named like a
 * key or token; each as written in the URL and decoded, the forms a host or a library may echo.
 */
export function registerUrlSecrets(url: string | undefined): void {
  if (!url) return;
  // "user:pw@host/v1" would parse as a URL of scheme "user:"; read with one, it has userinfo.
  const parsed = [url, `http://${url}`].find((u) => u.includes('//') && URL.canParse(u));
  if (!parsed) return;
  const { username, password, search } = new URL(parsed);
  const values = [password, password ? `${username}:${password}` : username];
  for (const pair of search.slice(1).split('&')) {
    const [[name, value] = ['', '']] = new URLSearchParams(pair);
    if (CREDENTIAL_PARAM.test(name) && value.length >= MIN_PARAM_SECRET_LENGTH) values.push(value, pair.slice(pair.indexOf('=') + 1));
  }
  for (const value of values) {
    registerSecret(value);
    registerSecret(percentDecoded(value));
  }
}

export function scrub(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(REDACTED);
  return out;
}

/** How much of a growing text can be shown: all but an ending that may be a secret's start. */
function settledLength(text: string): number {
  let held = 0;
  for (const s of secrets) {
    for (let n = Math.min(s.length - 1, text.length); n > held; n--) {
      if (text.endsWith(s.slice(0, n))) {
        held = n;
        break;
      }
    }
  }
  return text.length - held;
}

/**
 * A growing text (a streamed reply) scrubbed as far as it has settled: an ending that may be
 * the start of a secret still arriving is left off. Anything cut from the result (a progress
 * message's tail) can then only cut a mask, never a key.
 */
export function scrubSettled(text: string): string {
  return scrub(text.slice(0, settledLength(text)));
}

/**
 * A text shown while it grows (a streamed reply), scrubbed: an ending that could be the start
 * of a secret is held back until the next piece settles it, so a key split across two chunks
 * is caught as surely as a whole one.
 */
export class ScrubbedStream {
  /** Characters of the text written so far. */
  private shown = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** True once anything was written. */
  get started(): boolean {
    return this.shown > 0;
  }

  /** The whole text so far; what is new and settled is written. */
  update(text: string): void {
    const settled = settledLength(text);
    if (settled <= this.shown) return;
    this.write(scrub(text.slice(this.shown, settled)));
    this.shown = settled;
  }

  /** The text is complete: what was held back is written too. */
  end(text: string): void {
    if (text.length > this.shown) this.write(scrub(text.slice(this.shown)));
    this.shown = text.length;
  }
}

export function log(...parts: unknown[]): void {
  const line = parts.map((p) => (p instanceof Error ? (p.stack ?? p.message) : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  process.stderr.write(`[kimi-mcp] ${scrub(line)}\n`);
}
