/**
 * The journal's compact columns, as each store keeps them. PostgreSQL keeps a transfer id as its UUID text,
 * a time as `timestamptz` and a chain hash as 64 hex digits; SQLite (since migration 7, for smaller
 * entries) keeps the id's 16 bytes, whole milliseconds since the epoch and the hash's 32 bytes. The readers
 * here accept either form, so the code above them sees one: text ids, `Date`s and hex hashes, exactly as
 * clients, receipts and the chain's encoding always had them.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { toHex } from "../../lib/bytes.ts";
import { uuidBytes, uuidText, uuidTextOfHex } from "../../lib/uuid.ts";

/** A transfer id as stored: UUID text, or its 16 bytes. */
export function transferIdOf(value: unknown): string {
  return value instanceof Uint8Array ? uuidText(value) : String(value);
}

/** A stored time: a `Date`, ISO 8601 text, or whole milliseconds since the epoch. */
export function timeOf(value: unknown, what: string): Date {
  const date = typeof value === "bigint" || typeof value === "number"
    ? new Date(Number(value))
    : new Date(value as Date | string);
  assert(!Number.isNaN(date.getTime()), `${what} has no valid time`);
  return date;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1_000 }, (_, value) => String(value).padStart(3, "0"));
/** The day {@link isoTime} formatted last, and its `YYYY-MM-DDT`: entries come in time order. */
let formattedDay = Number.NaN;
let formattedDayPrefix = "";

/**
 * A stored time as the chain hashes it: ISO 8601 UTC with milliseconds, exactly as `Date.toISOString()`
 * writes it, text as stored. Milliseconds are formatted without a `Date` (4 times cheaper; `ledger verify`
 * formats one per entry), the date part once per day.
 */
export function isoTime(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (typeof value !== "bigint" && typeof value !== "number") return timeOf(value, what).toISOString();
  const ms = Number(value);
  const day = Math.floor(ms / DAY_MS);
  if (day !== formattedDay) {
    const midnight = timeOf(day * DAY_MS, what).toISOString();
    // Years before 0 or after 9999 are written with a sign and six digits.
    if (midnight.length !== 24) return timeOf(ms, what).toISOString();
    formattedDay = day;
    formattedDayPrefix = midnight.slice(0, 11);
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1_000);
  return `${formattedDayPrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${
    THREE_DIGITS[rest - seconds * 1_000]
  }Z`;
}

/**
 * A stored hash as the chain compares it: 64 hex digits for 32 stored bytes, anything else as it was (so
 * that a damaged hash is reported, never mistaken for another).
 */
export function storedHashText(value: unknown): unknown {
  return value instanceof Uint8Array && value.length === 32 ? toHex(value) : value;
}

/** A transfer id the ledger made (always a canonical UUID) as SQLite keeps it. */
export function sqliteTransferId(id: string): Uint8Array {
  const bytes = uuidBytes(id);
  assert(bytes !== null, `Transfer id ${id} is a canonical UUID`);
  return bytes;
}

/**
 * A SQLite transfer id read as `lower(hex(transfer_id))`, as its UUID text; anything but 32 digits (which
 * no valid row holds) as it was, so that the chain reports the entry rather than mistaking it for another.
 */
export function sqliteTransferIdFromHex(hex: string): string {
  return hex.length === 32 ? uuidTextOfHex(hex) : hex;
}

/** A time as SQLite's journal keeps it: whole milliseconds since the epoch. */
export function sqliteTime(date: Date): number {
  const ms = date.getTime();
  assert(Number.isSafeInteger(ms), "A journal time is a valid date");
  return ms;
}
