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
import { uuidBytes, uuidText } from "../../lib/uuid.ts";

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
 * A transfer id someone named (a client asking to reverse it) as SQLite would keep it; null when it is not
 * a canonical UUID, so no transfer has it.
 */
export function sqliteTransferIdLookup(id: string): Uint8Array | null {
  return uuidBytes(id);
}

/** A time as SQLite's journal keeps it: whole milliseconds since the epoch. */
export function sqliteTime(date: Date): number {
  const ms = date.getTime();
  assert(Number.isSafeInteger(ms), "A journal time is a valid date");
  return ms;
}
