/**
 * The spending ledger: one JSONL line per Kimi call with what it really cost, in the state
 * folder next to the conversations. Servers in several agent windows share it; they only ever
 * append (jsonl.ts), so no process can lose another's spend and nothing is read-modify-written.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { appendRecord, readShaped } from './jsonl.js';
import { stateDir } from './dir.js';

export interface LedgerEntry {
  /** ISO time the call ended. */
  at: string;
  /** Our provider id, as in the catalog. */
  provider: string;
  /** The host name the call went to (URL host). */
  host: string;
  /** Our model id. */
  model: string;
  /** The host's own id for the model. */
  model_id: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  /** What the call counts against the budget, in USD; null when no USD price is known. */
  cost_usd: number | null;
  /** Usage estimated from what arrived (a broken stream). */
  estimated?: boolean;
  /** The host publishes no USD price: counted at the model's highest known price on any host. */
  priced_at?: 'highest known';
}

export type BudgetPeriod = 'day' | 'month';

/** The line format; bump it if an entry's shape ever changes incompatibly. */
const VERSION = 1;
/** spentSince reads the file backwards this many bytes at a time. */
const CHUNK_BYTES = 64 * 1024;
/**
 * Lines are in append order, not `at` order: a call's time is taken when it ends, and another
 * process may append its line first. This much disorder is tolerated before the scan stops.
 */
const DISORDER_MS = 3_600_000;

export function ledgerFile(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'ledger.jsonl');
}

/** Start of the current day or month in the machine's local time zone. */
export function periodStart(period: BudgetPeriod, now: Date = new Date()): Date {
  return period === 'day' ? new Date(now.getFullYear(), now.getMonth(), now.getDate()) : new Date(now.getFullYear(), now.getMonth(), 1);
}

/** A parsed line is used only if it has an entry's shape; anything else counts as unreadable. */
function isEntry(value: unknown): value is LedgerEntry & { v?: number } {
  const e = value as Partial<LedgerEntry> | null;
  return (
    typeof e === 'object' && e !== null && typeof e.at === 'string' && !Number.isNaN(Date.parse(e.at)) &&
    typeof e.model === 'string' && typeof e.provider === 'string' && (e.cost_usd === null || typeof e.cost_usd === 'number') &&
    typeof e.prompt_tokens === 'number' && typeof e.completion_tokens === 'number'
  );
}

/** One line as an entry, or undefined for empty, torn or foreign lines. */
function parse(line: string): LedgerEntry | undefined {
  if (!line.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isEntry(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Sums of prices gather float noise (0.1 + 0.2); a ten-billionth of a dollar is below any price's resolution. */
function roundUsd(n: number): number {
  return Number(n.toFixed(10));
}

/** Exactly `length` bytes from `position` (a read may return fewer than asked). */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) return buffer.subarray(0, done);
    done += bytesRead;
  }
  return buffer;
}

export class Ledger {
  constructor(private readonly file: string) {}

  /** One append; throws on failure (the caller decides what a lost record means). */
  async record(entry: LedgerEntry): Promise<void> {
    await appendRecord(this.file, { v: VERSION, ...entry });
  }

  /** All entries in file order (a missing file has none); `torn` counts unreadable lines. */
  async entries(): Promise<{ entries: LedgerEntry[]; torn: number }> {
    try {
      const { records, torn } = await readShaped(this.file, isEntry);
      return { entries: records, torn };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], torn: 0 };
      throw e;
    }
  }

  /**
   * USD spent by calls that ended at or after `since` (unpriced calls count 0). Reads only the
   * tail of the file: chunks from the end, stopping after a chunk whose entries all ended well
   * before `since`, so a budget check stays fast however long the ledger grows.
   */
  async spentSince(since: Date): Promise<number> {
    const sinceMs = since.getTime();
    let handle: FileHandle;
    try {
      handle = await open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    try {
      let total = 0;
      let end = (await handle.stat()).size;
      // The start of a line whose beginning lies in the chunk before (earlier in the file).
      let rest = Buffer.alloc(0);
      while (end > 0) {
        const start = Math.max(0, end - CHUNK_BYTES);
        const bytes = Buffer.concat([await readAt(handle, start, end - start), rest]);
        end = start;
        // Cutting at "\n" is safe in UTF-8: the byte never occurs inside a multi-byte character.
        const cut = start === 0 ? -1 : bytes.indexOf(0x0a);
        if (start > 0 && cut === -1) {
          rest = bytes; // one line longer than a chunk: keep gathering it
          continue;
        }
        rest = bytes.subarray(0, cut + 1);
        let seen = 0;
        let allOld = true;
        for (const line of bytes.subarray(cut + 1).toString('utf8').split('\n')) {
          const entry = parse(line);
          if (!entry) continue;
          seen++;
          const at = Date.parse(entry.at);
          if (at >= sinceMs) total += entry.cost_usd ?? 0;
          if (at >= sinceMs - DISORDER_MS) allOld = false;
        }
        if (seen > 0 && allOld) break;
      }
      return roundUsd(total);
    } finally {
      await handle.close();
    }
  }
}
