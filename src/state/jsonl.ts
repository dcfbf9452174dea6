/**
 * Append-only JSONL files that a crash or two processes cannot corrupt. Each record is one line
 * written with one write() on an O_APPEND descriptor: the kernel puts every such write at the
 * end of the file as a whole, so concurrent appenders interleave whole lines, never bytes.
 * Nothing is ever rewritten, so a crash can at worst tear the last line, which readers skip.
 * Generic on purpose: conversations use it, and so will the spending ledger.
 */
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Creates the folder (and any missing parents) owner-only; state may hold prompts and files. */
async function ensureFolder(folder: string): Promise<void> {
  const first = await mkdir(folder, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // mkdir's mode passes through the umask; set it exactly, but only on folders this call made.
  for (let dir = folder; ; dir = dirname(dir)) {
    await chmod(dir, 0o700);
    if (dir === first || dirname(dir) === dir) break;
  }
}

/**
 * Appends one record as one line with a single O_APPEND write. Creates parent folders 0700 and
 * the file 0600. If the file does not end in "\n" (a line torn by a crash), the record starts
 * with "\n" so it never merges into the torn one.
 */
export async function appendRecord(file: string, record: unknown): Promise<void> {
  const json = JSON.stringify(record);
  if (json === undefined) throw new TypeError('appendRecord: the record has no JSON form');
  await ensureFolder(resolve(dirname(file)));
  // 'a+' = O_APPEND | O_CREAT | O_RDWR: reading is needed for the torn-line check below.
  const handle = await open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      // A concurrent appender's write in progress also looks torn here (the size grows page
      // by page while it copies); then the "\n" only adds an empty line, which readers ignore.
      if (last[0] !== 0x0a) lead = '\n';
    }
    const bytes = Buffer.from(`${lead}${json}\n`, 'utf8');
    // Never continue a short write with a second one: another process could append in between.
    // What was written is a torn line that readers skip and the next append steps over.
    const { bytesWritten } = await handle.write(bytes, 0, bytes.length);
    if (bytesWritten !== bytes.length) throw new Error(`short write to ${file}: ${bytesWritten} of ${bytes.length} bytes (disk full?)`);
  } finally {
    await handle.close();
  }
}

/**
 * Every parseable line; lines that do not parse (torn by a crash) are skipped and counted in
 * `torn`. Empty lines are ignored. A last line without its "\n" counts when it parses: only the
 * newline was lost. A missing file rejects with the ENOENT error.
 */
export async function readRecords<T>(file: string): Promise<{ records: T[]; torn: number }> {
  const text = await readFile(file, 'utf8');
  const records: T[] = [];
  let torn = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      torn++;
    }
  }
  return { records, torn };
}

/**
 * Records written as `{ v, ...record }` that have the expected shape, without their `v`; a line
 * that parses but has another shape counts as unreadable too, so it can never reach the caller.
 */
export async function readShaped<T>(file: string, isShape: (value: unknown) => value is T & { v?: number }): Promise<{ records: T[]; torn: number }> {
  const read = await readRecords<unknown>(file);
  const records: T[] = [];
  let torn = read.torn;
  for (const record of read.records) {
    if (!isShape(record)) {
      torn++;
      continue;
    }
    const { v: _version, ...rest } = record;
    records.push(rest as T);
  }
  return { records, torn };
}
