/**
 * Runs background jobs, one runner per process (every server of an HTTP process shares it): at
 * most `max` at once (KIMI_MAX_JOBS), the rest queued first come, first served. Each job writes
 * its file as it runs (store.ts, recorder.ts). Cancel aborts a running job's signal (the call
 * path stops the upstream request and returns what arrived) or takes a queued one off the queue.
 * A server whose client went away stops its jobs with `stopAll`: they end `interrupted` with what
 * had arrived rather than spend in an orphan process.
 */
import { log } from '../log.js';
import { JobRecorder } from './recorder.js';
import type { WorkEvent } from './recorder.js';
import { newJobId } from './store.js';
import type { EndState, JobStore, KeptReply, StoredResult } from './store.js';

export interface JobWork {
  id: string;
  signal: AbortSignal;
  record(event: WorkEvent): void;
}

export interface JobOutcome {
  result: StoredResult;
  /** The result is a failure (isError). */
  failed: boolean;
  /** Long texts the result links to, kept in the job's file for later processes. */
  replies?: KeptReply[];
}

export interface JobSpec {
  store: JobStore;
  tool: string;
  label: string;
  project: string;
  /** KIMI_MAX_JOBS as this job's server read it. */
  max: number;
  run(work: JobWork): Promise<JobOutcome>;
  /** Told once the job's final line is on disk (a withdrawn job is not told). */
  onEnd?(ended: { id: string; tool: string; state: EndState }): void;
}

export interface Submitted {
  id: string;
  state: 'queued' | 'running';
  /** Place in the queue (1 = next) when queued. */
  position?: number;
}

interface LiveJob {
  id: string;
  spec: JobSpec;
  controller: AbortController;
  recorder: JobRecorder;
  state: 'queued' | 'running';
  /** Set when the job was stopped from outside: how it ends and why. */
  stop?: { state: 'cancelled' | 'interrupted'; why: string };
  /** Withdrawn before anything was sent (a confirmation the foreground asks first): its file is removed. */
  withdrawn?: boolean;
  ended: Promise<void>;
  end: () => void;
}

export class JobRunner {
  private readonly live = new Map<string, LiveJob>();
  private readonly queue: LiveJob[] = [];
  private running = 0;

  /** Writes the job's header, then starts it or queues it. Rejects (nothing started) when the file cannot be written. */
  async submit(spec: JobSpec): Promise<Submitted> {
    const id = newJobId();
    await spec.store.create({ id, tool: spec.tool, label: spec.label, project: spec.project });
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const job: LiveJob = { id, spec, controller: new AbortController(), recorder: new JobRecorder(spec.store, id), state: 'queued', ended, end };
    this.live.set(id, job);
    if (this.running < spec.max) {
      this.start(job);
      return { id, state: 'running' };
    }
    this.queue.push(job);
    void job.recorder.write({ type: 'queued', position: this.queue.length });
    return { id, state: 'queued', position: this.queue.length };
  }

  /** A job this process runs or has queued, with its place in the queue; undefined for others. */
  get(id: string): { state: 'queued' | 'running'; position?: number } | undefined {
    const job = this.live.get(id);
    if (!job) return undefined;
    return job.state === 'queued' ? { state: 'queued', position: this.queue.indexOf(job) + 1 } : { state: 'running' };
  }

  /** Resolves when the job (of this process) has its final line; undefined when this process does not run it. */
  ended(id: string): Promise<void> | undefined {
    return this.live.get(id)?.ended;
  }

  /** Cancels a job of this process: off the queue, or its work aborted. False when this process does not run it. */
  cancel(id: string, why = 'cancelled (kimi_job cancel)'): boolean {
    const job = this.live.get(id);
    if (!job) return false;
    this.stop(job, { state: 'cancelled', why });
    return true;
  }

  /** The job is dropped without a trace (it sent nothing); its work is aborted if it still runs. */
  withdraw(id: string, store: JobStore): void {
    const job = this.live.get(id);
    if (!job) return void store.remove(id);
    job.withdrawn = true;
    this.stop(job, { state: 'cancelled', why: 'withdrawn' });
  }

  /** Stops every job of this process (the client went away) and resolves once each has its final line, or after `ms`. */
  async stopAll(why: string, ms: number): Promise<void> {
    const jobs = [...this.live.values()];
    for (const job of jobs) this.stop(job, { state: 'interrupted', why });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(jobs.map((j) => j.ended)), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  private stop(job: LiveJob, stop: NonNullable<LiveJob['stop']>): void {
    job.stop ??= stop;
    if (job.state === 'running') return job.controller.abort();
    const place = this.queue.indexOf(job);
    if (place < 0) return; // already finishing
    this.queue.splice(place, 1);
    void this.finish(job, undefined);
  }

  private start(job: LiveJob): void {
    job.state = 'running';
    this.running++;
    void job.recorder.write({ type: 'started' });
    const work: JobWork = { id: job.id, signal: job.controller.signal, record: (event) => job.recorder.record(event) };
    job.spec
      .run(work)
      .catch((e: unknown): JobOutcome => {
        log(`job ${job.id} (${job.spec.tool}) failed:`, e);
        return { result: { isError: true, content: [{ type: 'text', text: `kimi-mcp failed running the job: ${(e as Error)?.message ?? String(e)}` }] }, failed: true };
      })
      .then((outcome) => this.finish(job, outcome))
      .finally(() => {
        this.running--;
        this.next();
      });
  }

  /** Starts queued jobs while there is room. */
  private next(): void {
    while (this.queue.length && this.running < this.queue[0]!.spec.max) this.start(this.queue.shift()!);
  }

  private async finish(job: LiveJob, outcome: JobOutcome | undefined): Promise<void> {
    const { store, tool } = job.spec;
    try {
      await job.recorder.flush();
      if (job.withdrawn) return await store.remove(job.id);
      const state: EndState = job.stop?.state ?? (outcome?.failed ? 'failed' : 'done');
      for (const reply of outcome?.replies ?? []) await store.append(job.id, { type: 'reply', ...reply });
      await store.append(job.id, { type: 'end', state, ...(job.stop ? { why: job.stop.why } : {}), ...(outcome ? { result: outcome.result } : {}) });
      job.spec.onEnd?.({ id: job.id, tool, state });
    } catch (e) {
      log(`job ${job.id}: could not record its end:`, e);
    } finally {
      this.live.delete(job.id);
      job.end();
    }
  }
}

/** The runner of this process, shared by every server it builds. */
export const processJobs = new JobRunner();
