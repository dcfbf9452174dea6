/**
 * Keeping the work a file set costs within what the model's window could take, in two steps:
 *
 * 1. Before a byte is read, from the sizes stat gave: a set that could not fit even at the most
 *    bytes a token can hold is refused at once (100 files of 2 MB took 20 s and 814 MB to be
 *    refused when they were read first; 500 ran past what a string can hold).
 * 2. While reading, from the token estimate of each file as it is counted: once the files
 *    counted so far are past the window, the rest are neither read nor counted, so no set costs
 *    more than about a window's worth of estimating (30 files of 2 MB passed step 1 and took
 *    seconds of estimating each call).
 *
 * Both only refuse what could never be sent: step 2 uses the same leniency as the check of the
 * whole prompt (request.ts), so a set it refuses is one that check would refuse too.
 */
import { UsageError } from '../errors.js';
import type { SentFile } from './index.js';
import { describeSize } from './read.js';
import type { Measured } from './read.js';

/** The window the files must fit: the model's, less the answer's `max_tokens` when one is given. */
export interface FitWindow {
  model: string;
  contextWindow: number;
  maxTokens?: number;
}

/**
 * A ceiling, not an estimate: text averages 3-4 bytes a token, and even the longest tokens
 * (runs of spaces or dashes) are far shorter than this, so a file holds at least its size over
 * this many tokens. Excerpts (`path:40-120`) are left out of the sum: their size is not known yet.
 */
const MAX_BYTES_PER_TOKEN = 256;
/** The estimator can be ~10% high; as request.ts does for the whole prompt, only a generous reading counts. */
const ESTIMATE_SLACK = 0.9;
const LARGEST_NAMED = 5;

function room(window: FitWindow): number {
  return window.contextWindow - (window.maxTokens ?? 0);
}

function cannotFit(files: string, window: FitWindow, why: string, largest: string): UsageError {
  const answer = window.maxTokens ? ` with max_tokens ${window.maxTokens}` : '';
  return new UsageError(
    `${files} can never fit ${window.model}'s ${window.contextWindow}-token window${answer}: ${why}, so nothing was sent. ` +
      `Largest files: ${largest}. Send fewer files, a line range (path:40-120) or "!" excludes.`,
  );
}

const count = (n: number) => (n === 1 ? '1 file' : `${n} files`);

/** Step 1: throws when the whole files in `measured` hold more tokens than `window` can take, however they count. */
export function refuseWhatCannotFit(measured: readonly Measured[], window: FitWindow): void {
  const whole = measured.filter((m) => !m.file.range);
  const bytes = whole.reduce((sum, m) => sum + m.bytes, 0);
  const atLeast = Math.ceil(bytes / MAX_BYTES_PER_TOKEN);
  if (atLeast <= room(window)) return;
  const largest = [...whole].sort((a, b) => b.bytes - a.bytes).slice(0, LARGEST_NAMED);
  throw cannotFit(
    `${count(whole.length)} of ${describeSize(bytes)}`,
    window,
    `even at ${MAX_BYTES_PER_TOKEN} bytes a token (no text packs more) that is at least ${atLeast} tokens, and none was read`,
    largest.map((m) => `${m.file.shown} (${describeSize(m.bytes)})`).join(', '),
  );
}

/** Step 2: the files counted so far, refusing the set once they are past the window. */
export class TokenTally {
  private readonly counted: SentFile[] = [];
  private tokens = 0;
  private refusal: UsageError | undefined;

  constructor(
    private readonly window: FitWindow,
    private readonly files: number,
  ) {}

  /** Throws once the set has been refused: a file not counted yet is not worth counting. */
  throwIfOver(): void {
    if (this.refusal) throw this.refusal;
  }

  /** Counts one file; throws (the same refusal every time) once the files counted are past the window. */
  add(file: SentFile): void {
    this.throwIfOver();
    this.counted.push(file);
    this.tokens += file.tokens;
    // Less a token a file: the whole prompt is estimated in one piece, where rounding happens once.
    if (Math.floor((this.tokens - this.counted.length) * ESTIMATE_SLACK) <= room(this.window)) return;
    const largest = [...this.counted].sort((a, b) => b.tokens - a.tokens).slice(0, LARGEST_NAMED);
    const rest = this.files - this.counted.length;
    this.refusal = cannotFit(
      count(this.files),
      this.window,
      `counting stopped at about ${this.tokens} tokens after ${count(this.counted.length)}${rest ? `, with ${rest} more not counted` : ''}`,
      `${largest.map((f) => `${f.path} ~${f.tokens}`).join(', ')} tokens`,
    );
    throw this.refusal;
  }
}
