/**
 * Time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that orders
 * the ids one thread makes within a millisecond, then 62 random bits. An index on such ids grows at its end,
 * where a random UUID (version 4) lands anywhere in it, and an index that outgrows the page cache reads a
 * leaf back from disk for every insert.
 *
 * @module
 */

const COUNTER_MAX = 0xfff;
/** A new millisecond starts the counter below this, so that many ids still fit in it. */
const COUNTER_START_MAX = 0x800;

let lastMs = 0;
let counter = 0;
const random = new Uint8Array(10);

/**
 * A new version 7 UUID in its lower-case text form. Ids one thread makes are strictly increasing, as text
 * too: when the clock stands still or steps back, the previous millisecond goes on with the counter, and a
 * full counter moves on to the next millisecond.
 *
 * @example Usage
 * ```ts
 * import { assert } from "@std/assert";
 * import { newUuidV7 } from "./uuid.ts";
 * const first = newUuidV7();
 * assert(first < newUuidV7());
 * ```
 */
export function newUuidV7(nowMs: number = Date.now()): string {
  crypto.getRandomValues(random);
  if (nowMs > lastMs) {
    lastMs = nowMs;
    counter = ((random[8]! << 8) | random[9]!) % COUNTER_START_MAX;
  } else if (counter < COUNTER_MAX) {
    counter += 1;
  } else {
    lastMs += 1;
    counter = 0;
  }
  const time = lastMs.toString(16).padStart(12, "0");
  const hex = Array.from(random.subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join("");
  const variant = (0x8 | (parseInt(hex[0]!, 16) & 0x3)).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${counter.toString(16).padStart(3, "0")}-` +
    `${variant}${hex.slice(1, 4)}-${hex.slice(4, 16)}`;
}
