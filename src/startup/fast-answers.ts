/**
 * What the start-up path answers from the snapshot (initialize, ping, tools/list), and which
 * params it is sure the full server would accept as well: anything it is not sure of takes the
 * full path, which validates with the SDK's own schemas and words the error.
 */
import { isId, isObject } from './jsonrpc.js';
import type { Id, JsonObject } from './jsonrpc.js';
import type { StartupSnapshot } from './snapshot.js';

const optional = (o: JsonObject, key: string, test: (v: unknown) => boolean) => !(key in o) || test(o[key]);
const isString = (v: unknown) => typeof v === 'string';
/** Nested objects all the way down (the shape of most capabilities), with these boolean leaves. */
const objectsDown = (v: unknown, booleans: readonly string[] = []): boolean =>
  isObject(v) && Object.entries(v).every(([k, x]) => (booleans.includes(k) ? typeof x === 'boolean' : objectsDown(x, booleans)));
const KNOWN_CAPABILITIES = ['experimental', 'sampling', 'elicitation', 'roots', 'tasks'];

/** `_meta` of a request, when it holds nothing the fast path would have to act on or check (a progress token at most). */
const plainMeta = (params: JsonObject) => optional(params, '_meta', (m) => isObject(m) && Object.keys(m).every((k) => k === 'progressToken') && optional(m, 'progressToken', isId));

/**
 * Params the fast answers are sure the full server accepts as well; anything it is not sure of
 * takes the full path, which validates with the SDK's own schemas and words the error.
 */
function paramsOk(method: string, params: unknown): boolean {
  if (method !== 'initialize') {
    if (params === undefined) return true;
    const keys = method === 'tools/list' ? ['_meta', 'cursor'] : ['_meta'];
    return isObject(params) && Object.keys(params).every((k) => keys.includes(k)) && plainMeta(params) && optional(params, 'cursor', isString);
  }
  if (!isObject(params) || !plainMeta(params) || typeof params.protocolVersion !== 'string') return false;
  const { capabilities, clientInfo } = params;
  return (
    isObject(clientInfo) &&
    isString(clientInfo.name) &&
    isString(clientInfo.version) &&
    ['title', 'websiteUrl', 'description'].every((k) => optional(clientInfo, k, isString)) &&
    !('icons' in clientInfo) &&
    isObject(capabilities) &&
    Object.entries(capabilities).every(([k, v]) => !KNOWN_CAPABILITIES.includes(k) || objectsDown(v, ['listChanged', 'applyDefaults']))
  );
}

export interface ToolCallParams {
  name: string;
  arguments?: unknown;
  _meta?: { progressToken?: Id };
}

/** `tools/call` params the start-up path may take: a tool name, arguments, a progress token at most. */
export function toolCallParams(message: JsonObject): ToolCallParams | undefined {
  const params = message.params;
  if (message.method !== 'tools/call' || !isId(message.id) || !isObject(params) || !isString(params.name) || !plainMeta(params)) return undefined;
  if (!Object.keys(params).every((k) => ['name', 'arguments', '_meta'].includes(k))) return undefined;
  return params as unknown as ToolCallParams;
}

/** Answers from the snapshot; false for anything the full server must handle. */
export function answerFromSnapshot(message: JsonObject, snapshot: StartupSnapshot, write: (m: JsonObject) => void): boolean {
  const id = message.id;
  if (!isId(id) || typeof message.method !== 'string' || !paramsOk(message.method, message.params)) return false;
  const reply = (result: unknown) => write({ jsonrpc: '2.0', id, result });
  switch (message.method) {
    case 'initialize': {
      const asked = (message.params as { protocolVersion: string }).protocolVersion;
      const protocolVersion = snapshot.protocolVersions.includes(asked) ? asked : snapshot.latestProtocolVersion;
      reply({ protocolVersion, ...snapshot.initialize });
      return true;
    }
    case 'ping':
      reply({});
      return true;
    case 'tools/list':
      reply({ tools: snapshot.tools });
      return true;
    default:
      return false;
  }
}

/** The client declared elicitation in its initialize params: the full server could ask it to confirm a call. */
export function declaresElicitation(initialize: JsonObject): boolean {
  const params = initialize.params;
  return isObject(params) && isObject(params.capabilities) && Boolean(params.capabilities.elicitation);
}
