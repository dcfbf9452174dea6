/**
 * The requests the start-up path answers from the build's snapshot, in either protocol era:
 * `initialize`, `ping` and `tools/list` of a 2025-era client; `server/discover` and `tools/list`
 * of a 2026-07-28 client (a request whose `_meta` carries the per-request envelope). It answers
 * only params it is sure the full server accepts as well; anything else, however small, is the
 * full server's to answer (or to refuse, with the SDK's own wording).
 */
import type { StartupSnapshot } from '../catalog/snapshot.js';
import { isId, isObject } from '../transport/jsonrpc.js';
import type { Id, JsonObject } from '../transport/jsonrpc.js';

export type Era = 'legacy' | 'modern';

/** The envelope keys of 2026-07-28 (spec constants; the SDK is not loaded here). */
const ENVELOPE = 'io.modelcontextprotocol/';
const PROTOCOL_VERSION = `${ENVELOPE}protocolVersion`;
const CLIENT_INFO = `${ENVELOPE}clientInfo`;
const CLIENT_CAPABILITIES = `${ENVELOPE}clientCapabilities`;

const optional = (o: JsonObject, key: string, test: (v: unknown) => boolean) => !(key in o) || test(o[key]);
const isString = (v: unknown) => typeof v === 'string';
/** Nested objects all the way down (the shape of most capabilities), with these boolean leaves. */
const objectsDown = (v: unknown, booleans: readonly string[] = []): boolean =>
  isObject(v) && Object.entries(v).every(([k, x]) => (booleans.includes(k) ? typeof x === 'boolean' : objectsDown(x, booleans)));
const KNOWN_CAPABILITIES = ['experimental', 'sampling', 'elicitation', 'roots', 'tasks'];

const plainClientInfo = (v: unknown) =>
  isObject(v) && isString(v.name) && isString(v.version) && ['title', 'websiteUrl', 'description'].every((k) => optional(v, k, isString)) && !('icons' in v);
const plainCapabilities = (v: unknown) =>
  isObject(v) && Object.entries(v).every(([k, c]) => !KNOWN_CAPABILITIES.includes(k) || objectsDown(c, ['listChanged', 'applyDefaults']));

/** The era a request belongs to: modern when its `_meta` makes an envelope claim. */
export function eraOf(message: JsonObject): Era {
  const meta = isObject(message.params) ? message.params._meta : undefined;
  return isObject(meta) && Object.keys(meta).some((k) => k.startsWith(ENVELOPE)) ? 'modern' : 'legacy';
}

/** `_meta` holding nothing the fast path would have to act on or check: a progress token, and in the modern era a plain envelope. */
function plainMeta(params: JsonObject, era: Era, snapshot: StartupSnapshot): boolean {
  if (!('_meta' in params)) return era === 'legacy';
  const meta = params._meta;
  if (!isObject(meta) || !optional(meta, 'progressToken', isId)) return false;
  if (era === 'legacy') return Object.keys(meta).every((k) => k === 'progressToken');
  return (
    Object.keys(meta).every((k) => [PROTOCOL_VERSION, CLIENT_INFO, CLIENT_CAPABILITIES, 'progressToken'].includes(k)) &&
    snapshot.modern.protocolVersions.includes(meta[PROTOCOL_VERSION] as string) &&
    optional(meta, CLIENT_INFO, plainClientInfo) &&
    optional(meta, CLIENT_CAPABILITIES, plainCapabilities)
  );
}

/** Params the fast answers are sure the full server accepts as well. */
function paramsOk(method: string, params: unknown, era: Era, snapshot: StartupSnapshot): boolean {
  if (method === 'initialize') {
    return isObject(params) && plainMeta(params, era, snapshot) && typeof params.protocolVersion === 'string' && plainClientInfo(params.clientInfo) && plainCapabilities(params.capabilities);
  }
  if (params === undefined) return era === 'legacy';
  const keys = method === 'tools/list' ? ['_meta', 'cursor'] : ['_meta'];
  return isObject(params) && Object.keys(params).every((k) => keys.includes(k)) && plainMeta(params, era, snapshot) && optional(params, 'cursor', isString);
}

/** The recorded answer to a request, or undefined for anything the full server must handle. */
export function answerFromSnapshot(message: JsonObject, snapshot: StartupSnapshot): { id: Id; result: JsonObject; era: Era } | undefined {
  const { id, method, params } = message;
  if (!isId(id) || typeof method !== 'string') return undefined;
  const era = eraOf(message);
  const recorded = snapshot[era].answers[method];
  if (!recorded || !paramsOk(method, params, era, snapshot)) return undefined;
  if (method !== 'initialize') return { id, result: recorded, era };
  const asked = (params as { protocolVersion: string }).protocolVersion;
  const protocolVersion = snapshot.legacy.protocolVersions.includes(asked) ? asked : snapshot.legacy.latestProtocolVersion;
  return { id, result: { ...recorded, protocolVersion }, era };
}
