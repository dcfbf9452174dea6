/**
 * Runs a benchmark's main and exits: 0 when it resolves; 1 with the stack when it throws, after
 * `onFailure` (e.g. killing the processes it started). The exit is explicit so that a handle
 * still open (a child process, a socket, a timer) cannot keep the run alive after the report.
 */
export function runMain(main: () => Promise<void>, onFailure?: () => void): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      onFailure?.();
      process.exit(1);
    },
  );
}
