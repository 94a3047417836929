/**
 * Deadlines for calls that all share one timeout, without a timer per call. Each call starts no earlier
 * than the one queued before it, so with a fixed timeout the calls also expire in the order they were
 * queued: a FIFO queue and a single timer, armed for the oldest call still running, serve them all. The
 * timer does not keep the process alive by itself (a server's listener does).
 *
 * @module
 */
import { assert } from "../lib/assert.ts";

interface Entry {
  dueMs: number;
  /** Rejects the call; dropped once it settles, so a finished call holds nothing while it waits its turn. */
  expire: (() => void) | null;
}

/** Entries before the queue's head that trigger compaction of the array. */
const COMPACT_AFTER = 1024;

/** Races calls against one fixed timeout. */
export class FixedDeadlines {
  readonly #timeoutMs: number;
  #queue: Entry[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    assert(Number.isInteger(timeoutMs), `Timeout ${timeoutMs} must be a positive integer`);
    assert(timeoutMs > 0, `Timeout ${timeoutMs} must be a positive integer`);
    this.#timeoutMs = timeoutMs;
  }

  /** Calls running (or expired but not yet swept from the queue's head). */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Settles like `work`, or rejects with `onExpiry()` once the timeout passes first. Work that expires is
   * not cancelled: its late result is ignored.
   */
  race<T>(work: Promise<T>, onExpiry: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        dueMs: performance.now() + this.#timeoutMs,
        expire: () => reject(onExpiry()),
      };
      this.#queue.push(entry);
      if (this.#timer === undefined) this.#arm(this.#timeoutMs);
      work.then(
        (value) => {
          entry.expire = null;
          this.#sweep();
          resolve(value);
        },
        (error) => {
          entry.expire = null;
          this.#sweep();
          reject(error);
        },
      );
    });
  }

  /** Drops settled calls from the head of the queue. */
  #sweep(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]!.expire === null) this.#head += 1;
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(delayMs: number): void {
    const timer = setTimeout(() => this.#wake(), Math.max(1, Math.ceil(delayMs)));
    // The timer only guards calls in flight, and those keep the process alive by themselves.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #wake(): void {
    this.#timer = undefined;
    const nowMs = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head]!;
      const expire = entry.expire;
      if (expire !== null) {
        if (entry.dueMs > nowMs) break;
        entry.expire = null;
        expire();
      }
      this.#head += 1;
    }
    this.#sweep();
    const oldest = this.#queue[this.#head];
    if (oldest !== undefined) this.#arm(oldest.dueMs - nowMs);
  }
}
