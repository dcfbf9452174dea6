/**
 * Background jobs on disk: one append-only `<id>.jsonl` file per job in `<state>/jobs` (a folder
 * of it per HTTP token scope). A header line, then events as the work runs (queued, started, text
 * so far, steps, spending), then one final line with the result. Lines are appended whole
 * (src/state/jsonl.ts), so a crash can only tear the last one, which readers skip; a job with no
 * final line whose process is gone reads as `interrupted`, with whatever had arrived.
 * Knows nothing of MCP or Kimi: a result is stored as the caller hands it over.
 */
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { appendRecord, readRecords } from '../state/jsonl.js';
import { RecordFolder } from '../state/record-folder.js';
import { isOwner, mayBeRunning, THIS_PROCESS } from '../state/process-owner.js';
import type { Owner } from '../state/process-owner.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';
/** How a job ended, as its final line says; `interrupted` also when its process died without one. */
export type EndState = 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobHeader {
  id: string;
  /** The tool that runs (kimi_chat, kimi_agent, kimi_review). */
  tool: string;
  /** A short description of the request, for lists. */
  label: string;
  /** Whose job this is: the folders it may read (and the HTTP token scope), hashed. */
  project: string;
  owner: Owner;
  created: string;
}

/** A long text the result links to (kimi://replies/{id}), kept so a later process can serve it. */
export interface KeptReply {
  id: string;
  title: string;
  text: string;
}

/** A tools/call result as the caller stores it; opaque here. */
export type StoredResult = Record<string, unknown>;

type JobLine =
  | ({ type: 'job'; v: number } & JobHeader)
  | { type: 'queued'; at: string; position: number }
  | { type: 'started'; at: string }
  /** The text so far: what was known up to `from` characters stays, `text` follows it. */
  | { type: 'text'; at: string; from: number; text: string; reasoning_from?: number; reasoning?: string }
  | { type: 'step'; at: string; line: string; cost_usd?: number | null }
  /** An agent's whole patch so far (each replaces the one before). */
  | { type: 'patch'; at: string; patch: string }
  | ({ type: 'reply' } & KeptReply)
  | { type: 'end'; at: string; state: EndState; why?: string; result?: StoredResult };

/** Everything the file tells about a job. */
export interface JobView extends JobHeader {
  state: JobState;
  /** Place in the queue when it was queued (1 = next). */
  position?: number;
  started?: string;
  ended?: string;
  /** Why it ended as it did (cancelled, interrupted). */
  why?: string;
  text: string;
  reasoning: string;
  steps: string[];
  /** What the steps so far cost, as the last step reported it (agent and review jobs). */
  cost_so_far?: number | null;
  /** An agent job's patch so far (propose mode), for a job that ended without its result. */
  patch?: string;
  /** The tools/call result the call returned (done, failed, cancelled, and interrupted when the stop was orderly). */
  result?: StoredResult;
  replies: KeptReply[];
  /** Lines that could not be read (a crash tore one). */
  torn: number;
}

const VERSION = 1;
const SUFFIX = '.jsonl';
/** 16 lowercase hex digits: random, short enough to type, nothing path-like can pass. */
const ID = /^[0-9a-f]{16}$/;

export function newJobId(): string {
  return randomBytes(8).toString('hex');
}

export function isJobId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

function at(): string {
  return new Date().toISOString();
}

/** The job's view from its lines; undefined when there is no readable header. */
export function viewOf(lines: readonly JobLine[], torn: number): JobView | undefined {
  const header = lines[0];
  if (header?.type !== 'job' || !isJobId(header.id) || !isOwner(header.owner)) return undefined;
  const { type: _type, v: _v, ...fields } = header;
  const view: JobView = { ...fields, state: 'running', text: '', reasoning: '', steps: [], replies: [], torn };
  let queued = false;
  for (const line of lines.slice(1)) {
    switch (line.type) {
      case 'queued':
        queued = true;
        view.position = line.position;
        break;
      case 'started':
        queued = false;
        view.started = line.at;
        delete view.position;
        break;
      case 'text':
        view.text = view.text.slice(0, line.from) + line.text;
        if (line.reasoning !== undefined) view.reasoning = view.reasoning.slice(0, line.reasoning_from ?? 0) + line.reasoning;
        break;
      case 'step':
        view.steps.push(line.line);
        if (line.cost_usd !== undefined) view.cost_so_far = line.cost_usd;
        break;
      case 'patch':
        view.patch = line.patch;
        break;
      case 'reply':
        view.replies.push({ id: line.id, title: line.title, text: line.text });
        break;
      case 'end':
        view.state = line.state;
        view.ended = line.at;
        if (line.why) view.why = line.why;
        if (line.result) view.result = line.result;
        delete view.position;
        return view;
    }
  }
  view.state = queued ? 'queued' : 'running';
  if (!mayBeRunning(view.owner)) {
    view.state = 'interrupted';
    view.why = 'the server running it stopped before it finished (killed or crashed); what had arrived is kept';
    delete view.position;
  }
  return view;
}

function isLine(value: unknown): value is JobLine {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export class JobStore {
  private readonly files: RecordFolder;

  /** `<stateDir>/jobs`, or a scope's folder of it. */
  constructor(readonly folder: string) {
    this.files = new RecordFolder(folder, SUFFIX, isJobId, 'job');
  }

  file(id: string): string {
    if (!isJobId(id)) throw new UsageError(`${JSON.stringify(String(id).slice(0, 40))} is not a job id; pass the job_id a background call returned (kimi_job with action "list" shows them).`);
    return this.files.file(id);
  }

  /** The job's file begins: its header line (the file is created 0600, the folder 0700). */
  async create(header: Omit<JobHeader, 'owner' | 'created'>): Promise<JobHeader> {
    const full: JobHeader = { ...header, owner: THIS_PROCESS, created: at() };
    await appendRecord(this.file(header.id), { type: 'job', v: VERSION, ...full });
    return full;
  }

  append(id: string, line: DistributiveOmit<Exclude<JobLine, { type: 'job' }>, 'at'>): Promise<void> {
    return appendRecord(this.file(id), { ...line, at: at() });
  }

  /** The job as its file tells it; undefined when there is no such job. */
  async read(id: string): Promise<JobView | undefined> {
    const file = this.file(id);
    try {
      const { records, torn } = await readRecords<unknown>(file);
      const lines = records.filter(isLine);
      return viewOf(lines, torn + records.length - lines.length);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** A job that never began (withdrawn before anything was sent) leaves no file. */
  async remove(id: string): Promise<void> {
    await unlink(this.file(id)).catch(() => undefined);
  }

  /** The project's jobs, newest first, at most `limit`. */
  async list(project: string, limit = 20): Promise<JobView[]> {
    const views = await Promise.all((await this.files.entries()).map((e) => this.read(e.id).catch(() => undefined)));
    return views
      .filter((v): v is JobView => v !== undefined && v.project === project)
      .sort((a, b) => b.created.localeCompare(a.created))
      .slice(0, limit);
  }

  /** Removes job files not modified for more than `days` days; never throws (runs in the background). */
  removeOlderThan(days: number, now: number = Date.now()): Promise<number> {
    return this.files.removeOlderThan(days, now);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
