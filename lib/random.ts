/**
 * A small deterministic PRNG (mulberry32), so that a random run (a test, a benchmark's mix) can be replayed
 * from its seed. Not for secrets: keys, nonces and tokens come from `crypto.getRandomValues`.
 *
 * @module
 */

/**
 * Numbers in [0, 1) from a 32-bit seed; the same seed gives the same sequence.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { seededRandom } from "./random.ts";
 * assertEquals(seededRandom(7)(), seededRandom(7)());
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
