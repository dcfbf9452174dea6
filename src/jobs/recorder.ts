/**
 * Writes a running job's progress to its file: every line in order through one queue, and the
 * text so far at most every RECORD_INTERVAL_MS (a fast stream must not write per token), as the
 * part that is new since the last line. What arrived before a crash is on disk, give or take
 * the last interval; `flush` writes the rest when the work ends.
 */
import { log, scrub, scrubSettled } from '../log.js';
import type { JobStore } from './store.js';

export const RECORD_INTERVAL_MS = 500;

/** What the work reports as it runs (src/mcp/tool.ts ToolCall.record). Text is the whole text so far (of the current step). */
export interface WorkEvent {
  text?: string;
  reasoning?: string;
  /** One finished step of an agent (a tool call). */
  step?: string;
  /** An agent's whole patch so far (propose mode). */
  patch?: string;
  /** What the work has cost so far, with `step` (null while a price is unknown). */
  cost_usd?: number | null;
}

type Line = Parameters<JobStore['append']>[1];

export class JobRecorder {
  private queue: Promise<void> = Promise.resolve();
  private written = { text: '', reasoning: '' };
  private pending: WorkEvent = {};
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private closed = false;

  constructor(
    private readonly store: JobStore,
    private readonly id: string,
    private readonly intervalMs = RECORD_INTERVAL_MS,
  ) {}

  /** Appends a line after every line before it; a failed write is logged, never thrown at the work. */
  write(line: Line): Promise<void> {
    this.queue = this.queue.then(() => this.store.append(this.id, line)).catch((e: unknown) => log(`job ${this.id}: could not write its file:`, e));
    return this.queue;
  }

  record(event: WorkEvent): void {
    if (this.closed) return;
    if (event.step !== undefined) {
      // A step follows the text that led to it.
      this.writePending();
      void this.write({ type: 'step', line: scrub(event.step), ...(event.cost_usd !== undefined ? { cost_usd: event.cost_usd } : {}) });
    }
    if (event.patch !== undefined) {
      // Rare (after an edit) and the hardest part to redo: written at once.
      this.writePending();
      void this.write({ type: 'patch', patch: scrub(event.patch) });
    }
    const { step: _step, patch: _patch, cost_usd: _cost, ...rest } = event;
    Object.assign(this.pending, rest);
    if (this.timer || !Object.keys(this.pending).length) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.writePending(), wait);
    this.timer.unref();
  }

  private writePending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { text, reasoning } = this.pending;
    this.pending = {};
    this.lastWrite = Date.now();
    // Scrubbed as far as settled: a key split between two writes is caught as surely as a whole one.
    const textLine = this.textLine(text === undefined ? text : scrubSettled(text), reasoning === undefined ? reasoning : scrubSettled(reasoning));
    if (textLine) void this.write(textLine);
  }

  /** The new part of the text (and reasoning), or the whole of it when it started over (an agent's next step). */
  private textLine(text: string | undefined, reasoning: string | undefined): Line | undefined {
    const changed = (now: string | undefined, before: string) => now !== undefined && now !== before;
    if (!changed(text, this.written.text) && !changed(reasoning, this.written.reasoning)) return undefined;
    const part = (now: string | undefined, before: string) => {
      if (now === undefined) return { from: before.length, text: '' };
      const from = now.startsWith(before) ? before.length : 0;
      return { from, text: now.slice(from) };
    };
    const t = part(text, this.written.text);
    const r = changed(reasoning, this.written.reasoning) ? part(reasoning, this.written.reasoning) : undefined;
    if (text !== undefined) this.written.text = text;
    if (reasoning !== undefined) this.written.reasoning = reasoning;
    return { type: 'text', from: t.from, text: t.text, ...(r ? { reasoning_from: r.from, reasoning: r.text } : {}) };
  }

  /** Writes what is pending and every queued line; nothing is recorded after. */
  async flush(): Promise<void> {
    this.writePending();
    this.closed = true;
    await this.queue;
  }
}
