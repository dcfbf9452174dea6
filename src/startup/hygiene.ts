/** What a long-lived stdio child needs before anything else runs (see the SDK notes, §5). */
import { log } from '../log.js';

/** How long requests already received may take to finish after the client closes stdin. */
export const DRAIN_MS = 5_000;
/** How long calls cut off by a shutdown may take to store their partial turn and cost. */
export const SETTLE_MS = 1_000;

let guarded = false;

/**
 * How the full server leaves when the client has gone (its calls store what they have first).
 * On `process`, not in this module: the launcher and the server bundle each hold a copy of it.
 */
const CLIENT_GONE = Symbol.for('kimi-mcp.client-gone');
type ClientGone = (why: string) => void;
const gone = process as unknown as { [CLIENT_GONE]?: ClientGone };

export function onClientGone(handler: ClientGone): void {
  gone[CLIENT_GONE] = handler;
}

export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  // Libraries that print with console.log/info/debug must not corrupt the protocol stream.
  console.log = console.info = console.debug = console.error;
  // A stray rejection is logged; by default Node 20 would end the process and the session.
  process.on('unhandledRejection', (e) => log('unhandled rejection:', e));
  // The client went away: nothing left to serve.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return gone[CLIENT_GONE] ? gone[CLIENT_GONE]('stdout closed (EPIPE)') : process.exit(0);
    log('stdout error:', e);
  });
}
