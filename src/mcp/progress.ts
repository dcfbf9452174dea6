/**
 * Progress for long calls, as MCP allows it: `notifications/progress` whose message is the
 * newest text. Throttled (about ten a second), each send awaited and queued so messages keep
 * their order, a keep-alive while the model is silent, and nothing after `finish()` resolves.
 */
import { scrubSettled } from '../log.js';

export const PROGRESS_INTERVAL_MS = 100;
export const KEEP_ALIVE_MS = 5_000;
export const TAIL_CHARS = 200;
/**
 * The SDK client drops a progress message that lands in the same read as the result
 * (typescript-sdk#2580), so the result waits until the last message is this old.
 */
const SETTLE_MS = 20;

export function tail(text: string, max = TAIL_CHARS): string {
  // Only the end matters, and this runs on replies of any length: look at a bounded slice.
  const flat = text.slice(-4 * max).replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `…${flat.slice(flat.length - (max - 1))}`;
}

export class ProgressReporter {
  private queue: Promise<void> = Promise.resolve();
  private lastSent = 0;
  private lastActivity = Date.now();
  /** When the last message finished sending; 0 while none has. */
  private lastDelivered = 0;
  private readonly started = Date.now();
  private received = 0;
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly send: (message: string) => Promise<void>,
    private readonly label: string,
    /** false: keep-alives only (kimi_chat); true: also the growing text (kimi_stream). */
    private readonly showText: boolean,
    keepAliveMs = KEEP_ALIVE_MS,
  ) {
    this.enqueue(`${label}: waiting for the first token`);
    this.keepAlive = setInterval(() => {
      if (Date.now() - this.lastActivity >= keepAliveMs) this.enqueue(this.status());
    }, keepAliveMs);
    this.keepAlive.unref();
  }

  private status(): string {
    const seconds = Math.round((Date.now() - this.started) / 1000);
    return this.received ? `${this.label}: ${seconds} s, ${this.received} characters so far` : `${this.label}: thinking, ${seconds} s`;
  }

  private enqueue(message: string): Promise<void> {
    if (this.closed) return this.queue;
    this.lastActivity = Date.now();
    this.queue = this.queue
      .then(() => this.send(message))
      .then(() => void (this.lastDelivered = Date.now()))
      .catch(() => undefined);
    return this.queue;
  }

  /** New text arrived: sent if the last message is old enough, else skipped (a later one, or the result, carries it). */
  async update(text: string, reasoning: string): Promise<void> {
    this.received = text.length + reasoning.length;
    if (!this.showText || this.received === 0) return;
    if (Date.now() - this.lastSent < PROGRESS_INTERVAL_MS) return;
    this.lastSent = Date.now();
    const thinking = 'thinking: ';
    // Scrubbed before the tail is cut, so the cut can never leave part of a key; text that may
    // all be a key still arriving is not shown yet.
    const shown = text ? tail(scrubSettled(text)) : `${thinking}${tail(scrubSettled(reasoning), TAIL_CHARS - thinking.length)}`;
    await this.enqueue(shown || this.status());
  }

  note(message: string): Promise<void> {
    return this.enqueue(`${this.label}: ${message}`);
  }

  /**
   * Stops sending and lets the last message land before the result goes out. Text still held
   * back by the throttle is dropped: the result, which follows at once, carries all of it.
   */
  async finish(): Promise<void> {
    clearInterval(this.keepAlive);
    this.closed = true;
    await this.queue;
    const wait = SETTLE_MS - (Date.now() - this.lastDelivered);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
