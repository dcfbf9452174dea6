/** Runs a test file's tests under the umask most users have: file modes must come out exact despite it. */
import { afterEach, beforeEach } from 'vitest';

export function underUmask(mask = 0o022): void {
  let previous: number;
  beforeEach(() => {
    previous = process.umask(mask);
  });
  afterEach(() => {
    process.umask(previous);
  });
}
