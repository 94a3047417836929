/**
 * Rejections, logged without letting a flood become a log flood. In each interval, an address's first
 * rejections are logged one line each, as they happen; the rest are only counted, and when the interval
 * ends one line per address gives their number by reason. The lines, and the addresses tracked, have
 * ceilings per interval; past them a last line counts the other addresses.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import {
  REJECTION_ADDRESSES_MAX,
  REJECTION_LINES_PER_ADDRESS,
  REJECTION_LINES_PER_INTERVAL_MAX,
  REJECTION_LOG_INTERVAL_MS,
  REJECTION_TRACKED_ADDRESSES_MAX,
} from "./limits.ts";

/** What the log is told at the end of an interval. */
export interface RejectionSummary {
  /** An address with rejections that were counted, not logged: how many, by reason. */
  address?: string;
  /** True for the line that folds in every address past {@link REJECTION_ADDRESSES_MAX} or never tracked. */
  otherAddresses?: true;
  count: number;
  reasons: string;
  seconds: number;
}

interface Tally {
  logged: number;
  counted: number;
  reasons: Map<string, number>;
}

export class RejectionLog {
  readonly #summarize: (summary: RejectionSummary) => void;
  readonly #intervalMs: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #byAddress = new Map<string, Tally>();
  #lines = 0;
  #untracked: Tally = emptyTally();

  constructor(options: { summarize: (summary: RejectionSummary) => void; intervalMs?: number }) {
    this.#summarize = options.summarize;
    this.#intervalMs = options.intervalMs ?? REJECTION_LOG_INTERVAL_MS;
    this.#timer = setInterval(() => this.flush(), this.#intervalMs);
    Deno.unrefTimer(this.#timer);
  }

  /**
   * Counts one rejection; true when the caller should log it on its own line (within the budgets), false
   * when it is only counted, for the interval's summary.
   */
  record(address: string, reason: string): boolean {
    let tally = this.#byAddress.get(address);
    if (tally === undefined) {
      if (this.#byAddress.size >= REJECTION_TRACKED_ADDRESSES_MAX) {
        count(this.#untracked, reason);
        return false;
      }
      tally = emptyTally();
      this.#byAddress.set(address, tally);
    }
    if (tally.logged < REJECTION_LINES_PER_ADDRESS && this.#lines < REJECTION_LINES_PER_INTERVAL_MAX) {
      tally.logged += 1;
      this.#lines += 1;
      return true;
    }
    count(tally, reason);
    return false;
  }

  /** Ends the interval: one line per address whose rejections were counted, then starts afresh. */
  flush(): void {
    const seconds = Math.round(this.#intervalMs / 1000);
    const counted = [...this.#byAddress].filter(([, tally]) => tally.counted > 0)
      .sort((a, b) => b[1].counted - a[1].counted);
    for (const [address, tally] of counted.slice(0, REJECTION_ADDRESSES_MAX)) {
      this.#summarize({ address, count: tally.counted, reasons: describe(tally), seconds });
    }
    const rest = counted.slice(REJECTION_ADDRESSES_MAX);
    for (const [, tally] of rest) {
      this.#untracked.counted += tally.counted;
      for (const [reason, number] of tally.reasons) {
        this.#untracked.reasons.set(reason, (this.#untracked.reasons.get(reason) ?? 0) + number);
      }
    }
    if (this.#untracked.counted > 0) {
      const { counted: total } = this.#untracked;
      this.#summarize({ otherAddresses: true, count: total, reasons: describe(this.#untracked), seconds });
    }
    this.#byAddress = new Map();
    this.#lines = 0;
    this.#untracked = emptyTally();
  }

  /** Summarises what is left and stops the interval timer. */
  stop(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}

function emptyTally(): Tally {
  return { logged: 0, counted: 0, reasons: new Map() };
}

function count(tally: Tally, reason: string): void {
  tally.counted += 1;
  tally.reasons.set(reason, (tally.reasons.get(reason) ?? 0) + 1);
  assert(tally.reasons.size <= 64, "Rejection reasons come from a closed union");
}

/** `address_cap 29800, deadline 64`, most frequent first. */
function describe(tally: Tally): string {
  return [...tally.reasons].sort((a, b) => b[1] - a[1]).map(([reason, number]) => `${reason} ${number}`)
    .join(", ");
}
