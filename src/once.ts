/**
 * Things done once per process, whichever part of us gets there first. The start-up path and the
 * full server are separate bundles, each with its own copy of every module, so the mark is kept
 * on `process` (as src/startup/hygiene.ts keeps its client-gone handler).
 */
const DONE = Symbol.for('kimi-mcp.done-once');

/** True the first time `what` is asked about in this process, false ever after. */
export function firstTime(what: string): boolean {
  const holder = process as unknown as { [DONE]?: Set<string> };
  const done = (holder[DONE] ??= new Set());
  if (done.has(what)) return false;
  done.add(what);
  return true;
}
