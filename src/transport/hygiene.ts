/**
 * What a long-lived stdio child needs before anything else runs: stdout carries the protocol
 * only (a library's console.log would corrupt it), a stray rejection is logged rather than
 * ending the session (Node 20's default), and a closed stdout (EPIPE: the client went away)
 * ends the process the way its caller says.
 */
import { log } from '../log.js';

/** How long requests already received may take to finish after the client closes stdin. */
export const DRAIN_MS = 5_000;
/** How long calls cut off by a shutdown may take to store their partial turn and cost. */
export const SETTLE_MS = 1_000;

const logRejection = (e: unknown) => log('unhandled rejection:', e);

/**
 * Sets the process up for stdio; `onGone` runs when stdout closes. Returns what undoes it, for a
 * start-up path that hands the process to the full server, which sets it up again its own way.
 */
export function guardStdio(onGone: (why: string) => void): () => void {
  console.log = console.info = console.debug = console.error;
  const onStdoutError = (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? onGone('stdout closed (EPIPE)') : log('stdout error:', e));
  process.on('unhandledRejection', logRejection);
  process.stdout.on('error', onStdoutError);
  return () => {
    process.off('unhandledRejection', logRejection);
    process.stdout.off('error', onStdoutError);
  };
}
