/**
 * Group commit: writes that arrive together share one durable commit (one fsync). Each caller is answered
 * only after the commit that holds its write is durable; one write that fails is rolled back alone (its
 * store runs each write in its own savepoint) and never fails its neighbours. The batch size, the wait for
 * more writes and the batches committing at once are bounded; while they commit, the next batch gathers.
 *
 * Adaptive: with no added wait (the default), a batch is flushed once the event loop has handled the input
 * that is ready now (`setImmediate`, after the I/O callbacks of this turn), not after a timer. A write that
 * arrives alone commits at once (a zero-delay timer costs 1-2 ms here), and under load a batch holds every
 * write that arrived meanwhile, so batches grow only as load does.
 *
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";
import { assert } from "../../lib/assert.ts";
import {
  GROUP_COMMIT_BATCH_DEFAULT,
  GROUP_COMMIT_BATCH_MAX,
  GROUP_COMMIT_IN_FLIGHT_MAX,
  GROUP_COMMIT_WAIT_MS_DEFAULT,
  GROUP_COMMIT_WAIT_MS_MAX,
} from "./limits.ts";

/** What became of one write in a batch: its result, or the error that rolled back just that write. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * Runs a batch of writes in one transaction and returns one outcome per write, in order. It must not commit
 * after `deadlineMs` (a `performance.now()` time): past it, it rolls back and throws {@link DeadlineExceeded}.
 */
export type BatchRunner<I, O> = (items: readonly I[], deadlineMs: number) => Promise<Settled<O>[]>;

/** A write that could not be committed before its caller stops waiting: it was not applied. */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
}

/** Throws {@link DeadlineExceeded} once `deadlineMs` has passed; a batch runner calls it just before committing. */
export function checkDeadline(deadlineMs: number): void {
  if (performance.now() > deadlineMs) {
    throw new DeadlineExceeded("The batch ran past its deadline; rolled back");
  }
}

export interface GroupCommitOptions {
  /** The most writes in one commit. */
  batchMax: number;
  /** How long the first write of a batch waits for others (0: only those already waiting). */
  waitMs: number;
  /** Batches committing at once (default 1); a store whose batches lock in one order may run several. */
  inFlightMax?: number;
}

/** Group commit as configured by default: up to 128 transfers per commit, no added wait. */
export const GROUP_COMMIT_DEFAULTS: GroupCommitOptions = {
  batchMax: GROUP_COMMIT_BATCH_DEFAULT,
  waitMs: GROUP_COMMIT_WAIT_MS_DEFAULT,
};

interface Pending<I, O> {
  item: I;
  deadlineMs: number;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  readonly #run: BatchRunner<I, O>;
  readonly #options: GroupCommitOptions;
  readonly #inFlightMax: number;
  #queue: Pending<I, O>[] = [];
  /** The pending flush: after this turn's input (no added wait), or after the configured wait. */
  #timer:
    | { immediate: ReturnType<typeof setImmediate> }
    | { timeout: ReturnType<typeof setTimeout> }
    | undefined;
  #inFlight = 0;
  #batches = 0;
  #writes = 0;

  constructor(run: BatchRunner<I, O>, options: GroupCommitOptions) {
    assert(Number.isInteger(options.batchMax), "Batch size must be an integer");
    assert(
      options.batchMax >= 1 && options.batchMax <= GROUP_COMMIT_BATCH_MAX,
      `Batch ${options.batchMax} out of range`,
    );
    assert(
      options.waitMs >= 0 && options.waitMs <= GROUP_COMMIT_WAIT_MS_MAX,
      `Wait ${options.waitMs} out of range`,
    );
    const inFlightMax = options.inFlightMax ?? 1;
    assert(
      Number.isInteger(inFlightMax) && inFlightMax >= 1 && inFlightMax <= GROUP_COMMIT_IN_FLIGHT_MAX,
      "Bad in-flight",
    );
    this.#run = run;
    this.#options = options;
    this.#inFlightMax = inFlightMax;
  }

  /**
   * Queues a write; resolves with its result once the commit that holds it is durable. A write not
   * committed within `timeoutMs` is never applied and rejects with {@link DeadlineExceeded}, so a caller
   * told "unavailable" can never see it land later.
   */
  submit(item: I, options: { timeoutMs: number }): Promise<O> {
    assert(options.timeoutMs > 0, "A write needs time to commit");
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, deadlineMs: performance.now() + options.timeoutMs, resolve, reject });
      this.#schedule();
    });
  }

  /** Commits so far and writes they held, for the benchmark's report. */
  get stats(): { batches: number; writes: number } {
    return { batches: this.#batches, writes: this.#writes };
  }

  #schedule(): void {
    if (this.#inFlight >= this.#inFlightMax || this.#queue.length === 0) return;
    if (this.#queue.length >= this.#options.batchMax) {
      this.#cancelTimer();
      void this.#flush();
      return;
    }
    this.#timer ??= this.#options.waitMs === 0
      ? { immediate: setImmediate(() => this.#fire()) }
      : { timeout: setTimeout(() => this.#fire(), this.#options.waitMs) };
  }

  #fire(): void {
    this.#timer = undefined;
    void this.#flush();
  }

  #cancelTimer(): void {
    const timer = this.#timer;
    this.#timer = undefined;
    if (timer === undefined) return;
    if ("immediate" in timer) clearImmediate(timer.immediate);
    else clearTimeout(timer.timeout);
  }

  async #flush(): Promise<void> {
    if (this.#inFlight >= this.#inFlightMax || this.#queue.length === 0) return;
    const nowMs = performance.now();
    for (const expired of this.#queue.filter((pending) => pending.deadlineMs <= nowMs)) {
      expired.reject(new DeadlineExceeded("The write waited past its deadline and was not applied"));
    }
    this.#queue = this.#queue.filter((pending) => pending.deadlineMs > nowMs);
    if (this.#queue.length === 0) return;
    this.#inFlight += 1;
    const batch = this.#queue.splice(0, this.#options.batchMax);
    const deadlineMs = Math.min(...batch.map((pending) => pending.deadlineMs));
    try {
      const outcomes = await this.#run(batch.map((pending) => pending.item), deadlineMs);
      assert(outcomes.length === batch.length, "A batch must answer every write");
      this.#batches += 1;
      this.#writes += batch.length;
      batch.forEach((pending, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#inFlight -= 1;
      this.#schedule();
    }
  }
}
