/**
 * Errors shared by every room. Defined once, below them all, so `instanceof UsageError` holds
 * whichever module threw it (src/kimi/errors.ts re-exports it).
 */

/** An error whose message is meant for the agent: it says what was wrong and what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
