/**
 * A gate that lets a bounded number of tasks run at once; the rest wait their turn in order.
 *
 * @module
 */
import { assert } from "./assert.ts";

/**
 * Runs at most `limit` tasks at once.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Gate } from "./gate.ts";
 * const gate = new Gate(2);
 * assertEquals(await Promise.all([1, 2, 3].map((n) => gate.run(async () => n * 2))), [2, 4, 6]);
 * ```
 */
export class Gate {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    assert(Number.isInteger(limit), `A gate lets at least one task through, not ${limit}`);
    assert(limit >= 1, `A gate lets at least one task through, not ${limit}`);
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running += 1;
    try {
      return await task();
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }
}
