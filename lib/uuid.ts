/**
 * Time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that orders
 * the ids one thread makes within a millisecond, then 62 random bits. An index on such ids grows at its end,
 * where a random UUID (version 4) lands anywhere in it, and an index that outgrows the page cache reads a
 * leaf back from disk for every insert.
 *
 * @module
 */

import { toHex } from "./bytes.ts";

const COUNTER_MAX = 0xfff;
/** The 48 bits of milliseconds end in the year 10889. */
const TIME_LIMIT_MS = 2 ** 48;
/** A new millisecond starts the counter below this, so that many ids still fit in it. */
const COUNTER_START_MAX = 0x800;

/**
 * Makes version 7 UUIDs in lower-case text form, strictly increasing, as text too: when the clock stands
 * still or steps back, the previous millisecond goes on with the counter, and a full counter moves on to
 * the next millisecond. The clock is the caller's (`nowMs`); the random bits come from `fill`.
 *
 * @example Usage
 * ```ts
 * import { assert } from "@std/assert";
 * import { UuidV7 } from "./uuid.ts";
 * const ids = new UuidV7();
 * const first = ids.next(Date.now());
 * assert(first < ids.next(Date.now()));
 * ```
 */
export class UuidV7 {
  #lastMs = -1;
  #counter = 0;
  readonly #random = new Uint8Array(10);
  readonly #fill: (bytes: Uint8Array<ArrayBuffer>) => void;

  constructor(fill: (bytes: Uint8Array<ArrayBuffer>) => void = (bytes) => crypto.getRandomValues(bytes)) {
    this.#fill = fill;
  }

  next(nowMs: number): string {
    if (!(Number.isSafeInteger(nowMs) && nowMs >= 0 && nowMs < TIME_LIMIT_MS)) {
      throw new RangeError(`A version 7 UUID's time is whole milliseconds from 0 to 2^48, got ${nowMs}`);
    }
    const random = this.#random;
    this.#fill(random);
    if (nowMs > this.#lastMs) {
      this.#lastMs = nowMs;
      this.#counter = ((random[8]! << 8) | random[9]!) % COUNTER_START_MAX;
    } else if (this.#counter < COUNTER_MAX) {
      this.#counter += 1;
    } else {
      this.#lastMs += 1;
      this.#counter = 0;
    }
    const time = this.#lastMs.toString(16).padStart(12, "0");
    const hex = Array.from(random.subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join("");
    const variant = (0x8 | (parseInt(hex[0]!, 16) & 0x3)).toString(16);
    return `${time.slice(0, 8)}-${time.slice(8)}-7${this.#counter.toString(16).padStart(3, "0")}-` +
      `${variant}${hex.slice(1, 4)}-${hex.slice(4, 16)}`;
  }
}

/** This thread's generator: one, so that the ids it makes are in order. */
const THREAD_IDS = new UuidV7();

/**
 * A new version 7 UUID from this thread's generator (see {@link UuidV7}).
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
  return THREAD_IDS.next(nowMs);
}

/** A UUID in its canonical text form: lower-case hex in groups of 8, 4, 4, 4 and 12 digits. */
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The 16 bytes of a UUID in canonical text form (any version); null for any other text, so that what
 * {@link uuidText} gives back is always the text given.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { uuidBytes, uuidText } from "./uuid.ts";
 * const id = "0192a5e8-3c4d-7abc-8def-0123456789ab";
 * assertEquals(uuidText(uuidBytes(id)!), id);
 * assertEquals(uuidBytes(id.toUpperCase()), null);
 * ```
 */
export function uuidBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!CANONICAL.test(text)) return null;
  const bytes = new Uint8Array(16);
  let at = 0;
  for (let index = 0; index < text.length; index += 2) {
    if (text.charCodeAt(index) === 0x2d) index += 1;
    bytes[at++] = parseInt(text.slice(index, index + 2), 16);
  }
  return bytes;
}

/**
 * The canonical text form of a UUID's 16 bytes.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { uuidText } from "./uuid.ts";
 * assertEquals(uuidText(new Uint8Array(16).fill(0xab)), "abababab-abab-abab-abab-abababababab");
 * ```
 */
export function uuidText(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`A UUID is 16 bytes, got ${bytes.length}`);
  return uuidTextOfHex(toHex(bytes));
}

/**
 * The canonical text form of a UUID from its 32 lower-case hex digits (the hyphens cut in).
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { uuidTextOfHex } from "./uuid.ts";
 * assertEquals(uuidTextOfHex("ab".repeat(16)), "abababab-abab-abab-abab-abababababab");
 * ```
 */
export function uuidTextOfHex(hex: string): string {
  if (hex.length !== 32) throw new RangeError(`A UUID is 32 hex digits, got ${hex.length}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
