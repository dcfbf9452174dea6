/**
 * Downloading an image URL, bounded. Whoever can call a tool can name a URL, so the server must
 * not become their way into the network it sits on, nor be made to swallow an endless body:
 *
 * - https only; plain http just to the hosts the user listed in KIMI_MCP_IMAGE_HOSTS.
 * - Never to a loopback, private, link-local or unique-local address (nor the unspecified,
 *   shared, multicast or reserved ones) unless KIMI_MCP_ALLOW_PRIVATE_URLS=1. Every address a
 *   name resolves to is checked inside the lookup the connection itself uses, so the name cannot
 *   resolve elsewhere between the check and the connect; every redirect is checked the same way.
 * - The body is streamed and the request aborted once past the limit (a Content-Length over it
 *   is refused before any body is read).
 * - Whether a port refused, timed out or was never tried, the caller gets the same words, so
 *   refusals cannot be used to map which internal ports are open.
 *
 * node:http(s) rather than fetch: fetch takes no lookup of ours, so it could not be held to the
 * addresses that were checked.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { readVar } from '../env.js';
import type { Env } from '../env.js';
import { UsageError } from './errors.js';

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

/** Not the open internet. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) match the IPv4 rules. */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 reaches the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and the old IPv4-compatible form
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');

function isPublic(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Which image URLs may be fetched, from the environment. */
interface UrlPolicy {
  /** Hosts plain http may reach (KIMI_MCP_IMAGE_HOSTS, lower case). */
  plainHttpHosts: ReadonlySet<string>;
  /** KIMI_MCP_ALLOW_PRIVATE_URLS=1: the user's own network may be reached. */
  allowPrivate: boolean;
}

function urlPolicy(env: Env): UrlPolicy {
  const hosts = (readVar(env, 'KIMI_MCP_IMAGE_HOSTS').value ?? '').split(/[\s,]+/).filter(Boolean);
  return {
    plainHttpHosts: new Set(hosts.map((host) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1'))),
    allowPrivate: readVar(env, 'KIMI_MCP_ALLOW_PRIVATE_URLS').value === '1',
  };
}

/** A URL's host as the resolver and the allow-list see it: lower case, no IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** Raised from inside the connection's lookup, so it ends the request before any connect. */
class NotPublic extends Error {}

/** dns.lookup, refusing every name with an address that is not public; the connection uses only what it returns. */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    if (!addresses.length || addresses.some((a) => !isPublic(a.address))) return callback(new NotPublic(), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/** The image at `start` as a data URL. Every refusal is a UsageError naming the URL given. */
export async function downloadImage(start: string, env: Env, signal?: AbortSignal): Promise<string> {
  const policy = urlPolicy(env);
  const timeout = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let url = parseUrl(start, undefined, start);
  for (let hop = 0; ; hop++) {
    // Refusals name the URL given, and where a redirect led when it was one.
    const shown = hop === 0 ? start : `${start} (redirected to ${url.href})`;
    refuseByPolicy(url, policy, shown);
    const response = await get(url, policy, abort, shown);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      if (hop === MAX_REDIRECTS) throw new UsageError(`Image ${shown} redirects more than ${MAX_REDIRECTS} times. Pass the final URL, or a local file path.`);
      url = parseUrl(location, url, shown);
      continue;
    }
    return readImageBody(response, shown);
  }
}

function parseUrl(text: string, base: URL | undefined, shown: string): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new UsageError(`Image ${shown}: "${text}" is not a valid URL. Check it, or pass a local file path.`);
  }
}

/** The scheme and literal-address rules, before anything is resolved or connected. */
function refuseByPolicy(url: URL, policy: UrlPolicy, shown: string): void {
  const host = hostOf(url);
  if (url.protocol === 'http:' && !policy.plainHttpHosts.has(host)) {
    throw new UsageError(`Image ${shown}: images are fetched over https, and over plain http only to the hosts in KIMI_MCP_IMAGE_HOSTS. Use an https URL, add ${host} to KIMI_MCP_IMAGE_HOSTS, or pass a local file path.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Image ${shown}: only https (or listed http) URLs are fetched. Pass the image as an https URL or a local file path.`);
  }
  // A literal address is never looked up, so the lookup's check cannot catch it: check it here.
  if (!policy.allowPrivate && isIP(host) && !isPublic(host)) throw notPublic(shown);
}

function notPublic(shown: string): UsageError {
  return new UsageError(`Image ${shown} leads to a loopback, private, link-local or unique-local address, which images may not reach. Pass a public https URL or a local file path, or set KIMI_MCP_ALLOW_PRIVATE_URLS=1 to allow your own network.`);
}

/** One request, resolved to its response; connection failures of every kind become one message. */
function get(url: URL, policy: UrlPolicy, abort: AbortSignal, shown: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    // No pooled connections: a socket kept alive would skip the lookup, and so the check.
    const options = { agent: false, signal: abort, headers: { accept: 'image/*' }, ...(!policy.allowPrivate && { lookup: publicOnlyLookup }) };
    const request = client.get(url, options, resolve);
    request.on('error', (e) => {
      reject(
        e instanceof NotPublic
          ? notPublic(shown)
          : new UsageError(`Could not download image ${shown}: the host could not be reached or did not answer in time. Check the URL, or pass a local file path.`),
      );
    });
  });
}

/** The body as a data URL, read only while it stays under the limit. */
function readImageBody(response: IncomingMessage, shown: string): Promise<string> {
  const refuse = (message: string): Promise<never> => {
    response.destroy();
    return Promise.reject(new UsageError(message));
  };
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) return refuse(`Could not download image ${shown}: the host answered HTTP ${status}. Check the URL, or pass a local file path.`);
  const type = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!type.startsWith('image/')) return refuse(`${shown} is not an image (content-type "${type}"). Pass a png, jpeg, webp or gif.`);
  const tooLarge = `Image ${shown} is larger than the ${MAX_IMAGE_BYTES / 1048576} MB limit. Downscale it first, or pass a smaller file.`;
  if (Number(response.headers['content-length'] ?? 0) > MAX_IMAGE_BYTES) return refuse(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_IMAGE_BYTES) {
        response.destroy();
        reject(new UsageError(tooLarge));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(`data:${type};base64,${Buffer.concat(chunks, total).toString('base64')}`));
    // A reset, a timeout or a cancel mid-body; 'close' without 'end' covers one that sends no error.
    const brokeOff = () => reject(new UsageError(`Could not download image ${shown}: the connection broke off before the end. Try again, or pass a local file path.`));
    response.on('error', brokeOff);
    response.on('close', () => {
      if (!response.complete) brokeOff();
    });
  });
}
