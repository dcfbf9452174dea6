/**
 * JSON-RPC 2.0 over newline-delimited stdio, before any MCP library sees a byte: lines (with a
 * size limit), the structural checks of a message, and the errors the JSON-RPC spec prescribes
 * for lines that fail them. Shared by the fast path and the full server, and free of
 * dependencies, because the launcher loads it.
 *
 * What gets which answer:
 * - not UTF-8, or not JSON: -32700 Parse error, id null;
 * - JSON but not a request object (a number, a batch array, a wrong `jsonrpc`, a `method` that is
 *   no string, an `id` that is no string or safe integer, unknown members, `params` that are no
 *   object): -32600 Invalid Request, with the request's id when it has a usable one, else null.
 *   MCP has had no batches since 2025-06-18: every request in a batch gets that error, by id;
 * - positional `params` (an array): -32602 Invalid params;
 * - a malformed response (the client answering one of our requests) gets no answer, as an
 *   error with its id would land on one of the client's own requests; it is logged;
 * - blank lines (JSON whitespace only) are no messages and are skipped.
 */

export type Id = string | number;
export type JsonObject = Record<string, unknown>;

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;

/** The largest message taken, as over HTTP: a 256K-token prompt is about 1 MB. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** How much of each end of an oversized line is kept to find its id (the SDK writes it last). */
const HEAD_BYTES = 64 * 1024;

export interface ErrorAnswer {
  id: Id | null;
  code: number;
  message: string;
}

export function errorMessage(answer: ErrorAnswer): JsonObject {
  return { jsonrpc: '2.0', id: answer.id, error: { code: answer.code, message: answer.message } };
}

/** A line of input: its bytes (without the newline), or how long it was when over the limit. */
export type Line = { bytes: Buffer } | { oversize: number; head: Buffer; tail: Buffer };

/**
 * Splits a byte stream into lines, one at a time, so that a reader can stop after any line and
 * hand the rest on. Linear in the input; a line over the limit is dropped as it streams, keeping
 * only its head and its tail.
 */
export class LineSplitter {
  private readonly queue: Buffer[] = [];
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private skipped = 0;
  private head: Buffer | undefined;
  private tail = Buffer.alloc(0);

  constructor(private readonly maxBytes = MAX_MESSAGE_BYTES) {}

  push(chunk: Buffer): void {
    if (chunk.length) this.queue.push(chunk);
  }

  /** The next complete line, or undefined when the input so far holds none. */
  next(): Line | undefined {
    while (this.queue.length) {
      const chunk = this.queue.shift()!;
      const newline = chunk.indexOf(10);
      const piece = newline < 0 ? chunk : chunk.subarray(0, newline);
      if (newline >= 0 && newline + 1 < chunk.length) this.queue.unshift(chunk.subarray(newline + 1));
      if (this.head) {
        this.skipped += piece.length;
        this.keepTail(piece);
      }
      else {
        this.partial.push(piece);
        this.partialBytes += piece.length;
        if (this.partialBytes > this.maxBytes) {
          const whole = Buffer.concat(this.partial);
          this.head = whole.subarray(0, HEAD_BYTES);
          this.tail = Buffer.from(whole.subarray(-HEAD_BYTES));
          this.skipped = this.partialBytes;
          this.partial = [];
          this.partialBytes = 0;
        }
      }
      if (newline >= 0) return this.take();
    }
    return undefined;
  }

  /** At the end of the input: what is left, unterminated, as a last line. */
  end(): Line | undefined {
    const last = this.next();
    if (last) return last;
    return this.head || this.partialBytes ? this.take() : undefined;
  }

  /** The input not yet returned as lines (for a hand-over right after a complete line). */
  rest(): Buffer {
    return Buffer.concat([...this.partial, ...this.queue]);
  }

  /** The last HEAD_BYTES of an oversized line so far. */
  private keepTail(piece: Buffer): void {
    this.tail = piece.length >= HEAD_BYTES ? Buffer.from(piece.subarray(-HEAD_BYTES)) : Buffer.concat([this.tail, piece]).subarray(-HEAD_BYTES);
  }

  private take(): Line {
    if (this.head) {
      const line = { oversize: this.skipped, head: this.head, tail: this.tail };
      this.head = undefined;
      this.tail = Buffer.alloc(0);
      this.skipped = 0;
      return line;
    }
    let bytes = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    if (bytes.length && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, -1);
    return { bytes };
  }
}

export type Inbound =
  | { kind: 'blank' }
  | { kind: 'message'; message: JsonObject }
  /** Answers to send (none for a bad response), and what was wrong, for the log. */
  | { kind: 'invalid'; answers: ErrorAnswer[]; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isId = (v: unknown): v is Id => typeof v === 'string' || Number.isSafeInteger(v);
const clip = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}…` : s);
const REQUEST_MEMBERS = ['jsonrpc', 'id', 'method', 'params'];
const RESPONSE_MEMBERS = ['jsonrpc', 'id', 'result', 'error'];

function invalid(id: Id | null, code: number, message: string): Inbound {
  return { kind: 'invalid', answers: [{ id, code, message }], problem: message };
}

function responseProblem(o: JsonObject): string | undefined {
  if (o.jsonrpc !== '2.0') return '"jsonrpc" must be "2.0"';
  if (!isId(o.id) && !(o.id === null && 'error' in o)) return '"id" must be a string or an integer';
  if ('result' in o && 'error' in o) return 'a response has "result" or "error", not both';
  if ('result' in o && !isObject(o.result)) return '"result" must be an object';
  if ('error' in o && !(isObject(o.error) && Number.isSafeInteger(o.error.code) && typeof o.error.message === 'string')) {
    return '"error" must be an object with an integer "code" and a string "message"';
  }
  const extra = Object.keys(o).find((k) => !RESPONSE_MEMBERS.includes(k));
  return extra === undefined ? undefined : `unexpected member ${JSON.stringify(clip(extra, 60))}`;
}

/** The checks of one JSON-RPC request, notification or response, as parsed. */
function checkObject(o: JsonObject): Inbound {
  if (!('method' in o) && ('result' in o || 'error' in o)) {
    const problem = responseProblem(o);
    return problem ? { kind: 'invalid', answers: [], problem: `ignored a malformed response: ${problem}` } : { kind: 'message', message: o };
  }
  const request = 'id' in o;
  // An error must carry the request's id if it can be told; one that is no id at all cannot.
  const id = request && (typeof o.id === 'string' || typeof o.id === 'number') ? o.id : null;
  const bad = (message: string) => invalid(id, INVALID_REQUEST, `Invalid Request: ${message}`);
  if (o.jsonrpc !== '2.0') return bad('"jsonrpc" must be "2.0"');
  if (typeof o.method !== 'string') return bad('"method" must be a string');
  if (request && !isId(o.id)) {
    return bad(o.id === null ? '"id" must be a string or an integer, not null' : '"id" must be a string or an integer (a safe one, below 2^53 in size)');
  }
  const extra = Object.keys(o).find((k) => !REQUEST_MEMBERS.includes(k));
  if (extra !== undefined) return bad(`unexpected member ${JSON.stringify(clip(extra, 60))}; a request has only jsonrpc, id, method and params`);
  if ('params' in o && !isObject(o.params)) {
    if (!Array.isArray(o.params)) return bad('"params" must be an object');
    const message = `Invalid params: "params" must be an object (MCP names its parameters), not an array`;
    return request ? invalid(id, INVALID_PARAMS, message) : { kind: 'invalid', answers: [], problem: `ignored a notification: ${message}` };
  }
  return { kind: 'message', message: o };
}

/** One line of input, checked as JSON-RPC. */
export function classify(bytes: Buffer): Inbound {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return invalid(null, PARSE_ERROR, 'Parse error: the line is not valid UTF-8');
  }
  if (/^[ \t\r]*$/.test(text)) return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid(null, PARSE_ERROR, `Parse error: ${clip((e as Error).message)}`);
  }
  if (Array.isArray(value)) {
    const message = value.length
      ? 'Invalid Request: batches are not supported (MCP has none since 2025-06-18); send each message on a line of its own'
      : 'Invalid Request: an empty batch';
    const ids = [...new Set(value.filter((m) => isObject(m) && 'method' in m && isId(m.id)).map((m: JsonObject) => m.id as Id))];
    return { kind: 'invalid', answers: (ids.length ? ids : [null]).map((id) => ({ id, code: INVALID_REQUEST, message })), problem: message };
  }
  if (!isObject(value)) return invalid(null, INVALID_REQUEST, 'Invalid Request: a message must be a JSON object');
  return checkObject(value);
}

/**
 * The top-level "id" of a JSON-RPC object read from the end of its text (which may start
 * anywhere): the id member with, after it, at most string-valued members and the object's
 * closing brace. A nested object ending the same way closes with a second brace, so it is not
 * taken for the message's own id.
 */
export function idAtEnd(text: string): Id | null {
  const match = /"id"\s*:\s*(-?\d{1,16}|"(?:[^"\\]|\\.){0,512}")(?:\s*,\s*"[a-z]+"\s*:\s*"(?:[^"\\]|\\.){0,512}")*\s*\}\s*$/.exec(text);
  if (!match) return null;
  const id = JSON.parse(match[1]!) as unknown;
  return isId(id) ? id : null;
}

/** The answer to a line over the limit, with its id wherever the kept head or tail shows it. */
export function oversizeAnswer(line: { oversize: number; head: Buffer; tail: Buffer }, maxBytes = MAX_MESSAGE_BYTES): ErrorAnswer {
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
  return {
    id: idIn(line.head.toString('utf8')) ?? idAtEnd(line.tail.toString('utf8')),
    code: INVALID_REQUEST,
    message: `Invalid Request: the message is ${mb(line.oversize)}; the limit is ${mb(maxBytes)}. Name large inputs by path in "files" instead of inlining them.`,
  };
}

/**
 * The top-level "id" of a JSON object, read from the start of its text (which may be cut off),
 * or null. A small scanner, so that a message too large to parse can still be answered by id.
 */
export function idIn(text: string): Id | null {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const string = (): string | undefined => {
    const start = i;
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') {
        i++;
        try {
          return JSON.parse(text.slice(start, i)) as string;
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  };
  const skipValue = (): boolean => {
    if (text[i] === '"') return string() !== undefined;
    let depth = 0;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') {
        if (string() === undefined) return false;
        i--;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) return true;
        if (--depth === 0) {
          i++;
          return true;
        }
      } else if (depth === 0 && (c === ',' || ' \t\r\n'.includes(c))) return true;
    }
    return false;
  };
  space();
  if (text[i] !== '{') return null;
  i++;
  for (;;) {
    space();
    if (text[i] !== '"') return null;
    const key = string();
    space();
    if (key === undefined || text[i] !== ':') return null;
    i++;
    space();
    if (key === 'id') {
      if (text[i] === '"') return string() ?? null;
      const number = /^-?\d+(?=[\s,}])/.exec(text.slice(i, i + 30));
      return number && isId(Number(number[0])) ? Number(number[0]) : null;
    }
    if (!skipValue()) return null;
    space();
    if (text[i] !== ',') return null;
    i++;
  }
}
