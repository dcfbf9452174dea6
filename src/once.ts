/** Things done once per process, however many servers it builds (HTTP builds one per session or request). */
const done = new Set<string>();

/** True the first time `what` is asked about in this process, false ever after. */
export function firstTime(what: string): boolean {
  if (done.has(what)) return false;
  done.add(what);
  return true;
}
