/**
 * The spending ledger, in the state folder next to the conversations. Servers in several agent
 * windows share it; they only ever append (jsonl.ts), so no process can lose another's spend and
 * nothing is read-modify-written. Three kinds of line:
 * - a call's cost (LedgerEntry), appended when the call ends;
 * - a reservation: the worst case of a call about to be sent, appended before it is sent, so
 *   every process sharing the ledger counts the calls in flight against the budget;
 * - a release: a reservation withdrawn (the call was refused, or ended with nothing billed).
 * A cost line names the reservation it settles, in the same write, so no reader ever sees a
 * call that is neither reserved nor spent.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { appendRecord, readRecords } from './jsonl.js';
import { stateDir } from './dir.js';
import { isOwner, mayBeRunning, THIS_PROCESS } from './process-owner.js';
import type { Owner } from './process-owner.js';
import { readBackwards } from './read-backwards.js';
import type { LineAge } from './read-backwards.js';

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
  /** A membership plan covered the call (a host that bills no tokens): no money, cost_usd null. */
  covered_by_plan?: string;
  /** The reservation this cost settles (a call admitted under a budget). */
  settles?: string;
}

/** A call in flight: its worst case, held against the budget until its cost line settles it. */
interface ReservationLine {
  at: string;
  reservation: string;
  reserved_usd: number;
  owner: Owner;
}

interface ReleaseLine {
  at: string;
  released: string;
}

type Line = { kind: 'cost'; line: LedgerEntry } | { kind: 'reservation'; line: ReservationLine } | { kind: 'release'; line: ReleaseLine };

/** Where a budget stands: spent in the period, and the worst cases of calls still in flight. */
export interface Standing {
  spent_usd: number;
  reserved_usd: number;
  /** How many calls hold the reservations. */
  in_flight: number;
}

/** A reservation to settle (with the call's cost) or release, or why there was none. */
export type Admission = { admitted: true; reservation: string } | { admitted: false; standing: Standing };

export type BudgetPeriod = 'day' | 'month';

/** The line format; bump it if an entry's shape ever changes incompatibly. */
const VERSION = 1;
/**
 * Lines are in append order, not `at` order: a call's time is taken when it ends, and another
 * process may append its line first. This much disorder is tolerated before a scan stops.
 */
const DISORDER_MS = 3_600_000;
/**
 * A reservation no longer counts after this long, for owners that cannot be checked (another
 * machine sharing the folder, a pid taken by a new process): longer than any call lasts (a whole
 * 262k-token output at 20 tokens a second is under 4 hours), so only a crash waits this long.
 */
export const RESERVATION_TTL_MS = 6 * 3_600_000;

export function ledgerFile(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'ledger.jsonl');
}

/** Start of the current day or month in the machine's local time zone. */
export function periodStart(period: BudgetPeriod, now: Date = new Date()): Date {
  return period === 'day' ? new Date(now.getFullYear(), now.getMonth(), now.getDate()) : new Date(now.getFullYear(), now.getMonth(), 1);
}

const hasTime = (e: { at?: unknown }) => typeof e.at === 'string' && !Number.isNaN(Date.parse(e.at));

/** A parsed line is used only if it has one of the three shapes; anything else counts as unreadable. */
function classify(value: unknown): Line | undefined {
  if (typeof value !== 'object' || value === null || !hasTime(value)) return undefined;
  const e = value as Partial<LedgerEntry & ReservationLine & ReleaseLine>;
  if (
    typeof e.model === 'string' && typeof e.provider === 'string' && (e.cost_usd === null || typeof e.cost_usd === 'number') &&
    typeof e.prompt_tokens === 'number' && typeof e.completion_tokens === 'number'
  ) {
    return { kind: 'cost', line: e as LedgerEntry };
  }
  if (typeof e.reservation === 'string' && typeof e.reserved_usd === 'number' && isOwner(e.owner)) return { kind: 'reservation', line: e as ReservationLine };
  if (typeof e.released === 'string') return { kind: 'release', line: e as ReleaseLine };
  return undefined;
}

/** One line, or undefined for empty, torn or foreign lines. */
function parse(text: string): Line | undefined {
  if (!text.trim()) return undefined;
  try {
    return classify(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Sums of prices gather float noise (0.1 + 0.2); a ten-billionth of a dollar is below any price's resolution. */
function roundUsd(n: number): number {
  return Number(n.toFixed(10));
}

export class Ledger {
  constructor(private readonly file: string) {}

  /** One append; throws on failure (the caller decides what a lost record means). */
  async record(entry: LedgerEntry): Promise<void> {
    await appendRecord(this.file, { v: VERSION, ...entry });
  }

  /** Every call's cost in file order (a missing file has none); `torn` counts unreadable lines. */
  async entries(): Promise<{ entries: LedgerEntry[]; torn: number }> {
    let read: { records: unknown[]; torn: number };
    try {
      read = await readRecords<unknown>(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], torn: 0 };
      throw e;
    }
    const entries: LedgerEntry[] = [];
    let torn = read.torn;
    for (const record of read.records) {
      const line = classify(record);
      if (!line) torn++;
      else if (line.kind === 'cost') {
        const { v: _version, ...entry } = line.line as LedgerEntry & { v?: number };
        entries.push(entry);
      }
    }
    return { entries, torn };
  }

  /**
   * USD spent by calls that ended at or after `since` (unpriced calls count 0). Reads only the
   * tail of the file, so a budget check stays fast however long the ledger grows.
   */
  async spentSince(since: Date): Promise<number> {
    const sinceMs = since.getTime();
    let total = 0;
    await readBackwards(this.file, (text) => {
      const line = parse(text);
      if (!line) return 'ignored';
      const at = Date.parse(line.line.at);
      if (line.kind === 'cost' && at >= sinceMs) total += line.line.cost_usd ?? 0;
      return at >= sinceMs - DISORDER_MS ? 'recent' : 'old';
    });
    return roundUsd(total);
  }

  /**
   * Spent since `since`, and the reservations still open: not settled or released, and held by
   * a process that may still be running, for less than RESERVATION_TTL_MS. With `before`, only
   * reservations appended before that one count (in file order, the order of admission).
   */
  async standing(since: Date, before?: string): Promise<Standing> {
    const sinceMs = since.getTime();
    const now = Date.now();
    const horizon = Math.min(sinceMs, now - RESERVATION_TTL_MS) - DISORDER_MS;
    const closed = new Set<string>();
    const open: { usd: number; beforeOwn: boolean }[] = [];
    let ownSeen = before === undefined;
    let spent = 0;
    await readBackwards(this.file, (text): LineAge => {
      const parsed = parse(text);
      if (!parsed) return 'ignored';
      const at = Date.parse(parsed.line.at);
      // Read backwards, a reservation's settlement or release comes before the reservation itself.
      if (parsed.kind === 'cost') {
        if (at >= sinceMs) spent += parsed.line.cost_usd ?? 0;
        if (parsed.line.settles) closed.add(parsed.line.settles);
      } else if (parsed.kind === 'release') {
        closed.add(parsed.line.released);
      } else if (parsed.line.reservation === before) {
        ownSeen = true;
      } else if (!closed.has(parsed.line.reservation) && now - at < RESERVATION_TTL_MS && mayBeRunning(parsed.line.owner)) {
        open.push({ usd: parsed.line.reserved_usd, beforeOwn: ownSeen });
      }
      return !ownSeen || at >= horizon ? 'recent' : 'old';
    });
    // Our own reservation gone (the file replaced meanwhile): every open one counts.
    const counted = open.filter((r) => r.beforeOwn || !ownSeen);
    return { spent_usd: roundUsd(spent), reserved_usd: roundUsd(counted.reduce((sum, r) => sum + r.usd, 0)), in_flight: counted.length };
  }

  /**
   * Reserves `usd` for a call about to be sent if it fits the budget with everything spent and
   * reserved. Race-free across processes without a lock: the reservation is appended first, and
   * only reservations appended before it are counted, so of two processes admitting at the same
   * instant the later one always sees the earlier; if it does not fit, it is withdrawn. Throws
   * when the ledger cannot be read or written.
   */
  async reserve(usd: number, budget: { limit: number; since: Date }): Promise<Admission> {
    // A worst case above the whole budget can never fit: nothing to reserve, nothing to withdraw.
    if (usd > budget.limit) return { admitted: false, standing: await this.standing(budget.since) };
    const reservation = randomUUID();
    await appendRecord(this.file, { v: VERSION, at: new Date().toISOString(), reservation, reserved_usd: usd, owner: THIS_PROCESS });
    // If a withdrawal below cannot be written, the reservation counts until this process ends:
    // too strict for a while, never too loose.
    const withdraw = () => this.release(reservation).catch(() => undefined);
    let standing: Standing;
    try {
      standing = await this.standing(budget.since, reservation);
    } catch (e) {
      await withdraw();
      throw e;
    }
    if (roundUsd(standing.spent_usd + standing.reserved_usd + usd) <= budget.limit) return { admitted: true, reservation };
    await withdraw();
    return { admitted: false, standing };
  }

  /** Withdraws a reservation whose call will not be sent or was billed nothing. */
  async release(reservation: string): Promise<void> {
    await appendRecord(this.file, { v: VERSION, at: new Date().toISOString(), released: reservation });
  }
}
