/**
 * A lock shared by the threads of one process through a `SharedArrayBuffer`, waited for without blocking:
 * a thread that finds it taken awaits `Atomics.waitAsync`, so its event loop keeps serving meanwhile.
 *
 * The SQLite ledgers of a server's serving threads take it around every write transaction. Without it they
 * would meet in SQLite's busy handler, which sleeps on the waiting thread's event loop, stalling all of that
 * thread's sessions, for as long as another thread's commit takes.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";

const UNLOCKED = 0;
const LOCKED = 1;
/** The longest one wait lasts before the lock is tried again, whether or not a release woke it. */
const RECHECK_MS = 50;

/** One lock over a 4-byte shared buffer; every thread makes its own handle on the same buffer. */
export class ThreadWriteLock {
  readonly #state: Int32Array;
  #held = false;

  constructor(buffer: SharedArrayBuffer) {
    assert(buffer.byteLength === ThreadWriteLock.BYTES, "A write lock's buffer holds one 32-bit word");
    this.#state = new Int32Array(buffer);
  }

  /** The size of the shared buffer a lock needs. */
  static readonly BYTES = Int32Array.BYTES_PER_ELEMENT;

  /** A fresh, unlocked buffer to share with every thread. */
  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(ThreadWriteLock.BYTES);
  }

  /** Takes the lock; resolves false when it was not free within `timeoutMs`. Never blocks the thread. */
  async acquire(timeoutMs: number): Promise<boolean> {
    assert(!this.#held, "A thread must not take its write lock twice");
    const deadlineMs = performance.now() + timeoutMs;
    while (Atomics.compareExchange(this.#state, 0, UNLOCKED, LOCKED) !== UNLOCKED) {
      const remainingMs = deadlineMs - performance.now();
      if (remainingMs <= 0) return false;
      // Woken by the holder's release. A waitAsync's own timeout is not delivered by Deno's event loop, so
      // a timer of ours bounds each wait instead, and keeps the event loop alive meanwhile.
      const wait = Atomics.waitAsync(this.#state, 0, LOCKED);
      if (!wait.async) continue;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        wait.value,
        new Promise((resolve) => timer = setTimeout(resolve, Math.min(remainingMs, RECHECK_MS))),
      ]);
      clearTimeout(timer);
    }
    this.#held = true;
    return true;
  }

  /**
   * Gives the lock back and wakes every waiting thread: one of them takes it. (Waking one only could wake a
   * wait its thread has already given up on.)
   */
  release(): void {
    assert(this.#held, "Only the thread holding the write lock may release it");
    this.#held = false;
    Atomics.store(this.#state, 0, UNLOCKED);
    Atomics.notify(this.#state, 0);
  }
}
