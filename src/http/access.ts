/**
 * Who may reach `serve --http`: loopback decided on the addresses a bind name resolves to (not on
 * how the name looks), the bearer token a public bind requires, and the Host/Origin checks that
 * keep a browser page from reaching a loopback port (DNS rebinding).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { UsageError } from '../kimi/errors.js';

/** Names a loopback server answers to in Host and Origin. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/** A token a person can guess or that was meant as a placeholder is no protection. */
export const MIN_TOKEN_LENGTH = 32;

/** Whether an IP address is a loopback one (127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) !== 6) return false;
  return bare === '::1' || /^::ffff:127\./.test(bare) || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(bare);
}

/** Whether binding to `host` keeps the server on this machine: every address it resolves to is loopback. */
export async function bindsLoopback(host: string): Promise<boolean> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return isLoopbackAddress(bare);
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false; // a name that does not resolve: listen will fail with its own message
  }
}

/** Refuses to start with a token that protects nothing; says what to set instead. */
export function checkToken(token: string | undefined, placeholder: boolean, host: string, loopback: boolean): void {
  const make = 'set KIMI_MCP_HTTP_TOKEN to a long random secret, e.g. $(openssl rand -hex 32) (clients send it as "Authorization: Bearer <token>")';
  if (placeholder) throw new UsageError(`KIMI_MCP_HTTP_TOKEN holds an unexpanded placeholder, not a token: ${make}.`);
  if (loopback) return;
  if (!token) throw new UsageError(`Serving on ${host} exposes your Kimi key to the network: ${make}, or bind to 127.0.0.1.`);
  if (token.length < MIN_TOKEN_LENGTH) throw new UsageError(`KIMI_MCP_HTTP_TOKEN is ${token.length} characters; serving on ${host} needs at least ${MIN_TOKEN_LENGTH}: ${make}.`);
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A Host or Origin a loopback server on `port` must refuse, or undefined when the request may pass. */
export function foreignOrigin(req: IncomingMessage, port: number): string | undefined {
  const allowed = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  if (!allowed.includes(req.headers.host ?? '')) return `Invalid Host header "${req.headers.host ?? ''}"`;
  const origin = req.headers.origin;
  if (origin && !allowed.some((h) => origin === `http://${h}` || origin === `https://${h}`)) return `Invalid Origin "${origin}"`;
  return undefined;
}

/**
 * The conversation store HTTP clients share: one per token (its hash names the folder), and one
 * for tokenless loopback use, never the stdio user's own.
 */
export function conversationScope(token: string | undefined): string {
  return token ? `http-${createHash('sha256').update(token).digest('hex').slice(0, 16)}` : 'http-local';
}
