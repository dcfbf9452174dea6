/** Bounded parallelism for file work: enough to hide disk latency, few enough descriptors. */
export const FILE_CONCURRENCY = 16;

/**
 * `task` over `items` with at most `limit` running at once, results in input order. After a
 * failure no new task starts, and the failure of the earliest item is thrown, so which error a
 * caller sees does not depend on timing (earlier items always started first).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failedAt = Infinity;
  let failure: unknown;
  async function worker(): Promise<void> {
    while (next < items.length && failedAt === Infinity) {
      const index = next++;
      try {
        results[index] = await task(items[index]!);
      } catch (error) {
        if (index < failedAt) [failedAt, failure] = [index, error];
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failedAt !== Infinity) throw failure;
  return results;
}
