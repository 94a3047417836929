/**
 * Items that arrive while a batch is pending, handed over together once the current task's microtasks run:
 * the first item of a batch schedules it, and every item added before it runs joins it.
 *
 * @module
 */

/**
 * Gathers items into batches of what arrives together.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { MicrotaskBatch } from "./microtask_batch.ts";
 * const batches: number[][] = [];
 * const batch = new MicrotaskBatch<number>((items) => batches.push(items));
 * batch.add(1);
 * batch.add(2);
 * await Promise.resolve();
 * assertEquals(batches, [[1, 2]]);
 * ```
 */
export class MicrotaskBatch<T> {
  #items: T[] = [];
  readonly #flush: (items: T[]) => void;

  /** `flush` gets each batch once, and must not throw: it answers every item itself. */
  constructor(flush: (items: T[]) => void) {
    this.#flush = flush;
  }

  add(item: T): void {
    this.#items.push(item);
    if (this.#items.length === 1) queueMicrotask(() => this.#take());
  }

  #take(): void {
    const items = this.#items;
    this.#items = [];
    this.#flush(items);
  }
}
