/**
 * Logging to stderr only: stdout carries the MCP protocol. Every line passes through the
 * redactor, so a key can never reach a log even inside an upstream error message.
 */
const secrets = new Set<string>();

/** Registers a value (an API key) that must never appear in output. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function scrub(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

export function log(...parts: unknown[]): void {
  const line = parts.map((p) => (p instanceof Error ? (p.stack ?? p.message) : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  process.stderr.write(`[kimi-mcp] ${scrub(line)}\n`);
}
