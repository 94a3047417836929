/**
 * Times that cut a statement or an export, in the forms both ends accept: on the wire only the canonical
 * UTC form `Date.toISOString()` writes; from a person, also a date alone (a whole UTC day) or an ISO 8601
 * time with its zone. Never a local time, and never outside 1970 ... 9999 (PostgreSQL has no year 0).
 *
 * @module
 */

const CANONICAL = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const ZONED =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2})$/;
const EARLIEST_MS = Date.UTC(1970, 0, 1);

/** The canonical UTC time `text` is, exactly; null for anything else (another form, a day that does not exist). */
export function readCanonicalTime(text: string): string | null {
  if (!CANONICAL.test(text)) return null;
  const time = new Date(text);
  return inRange(time) && time.toISOString() === text ? text : null;
}

/**
 * A person's cut-off as a canonical UTC time: a date alone is its first (`start`) or last (`end`)
 * millisecond, UTC; an ISO 8601 time must name its zone. Null for anything else.
 */
export function parseCutOff(text: string, side: "start" | "end"): string | null {
  const date = DATE.exec(text);
  if (date !== null) {
    const time = new Date(`${text}T${side === "start" ? "00:00:00.000" : "23:59:59.999"}Z`);
    // Date rolls 2026-02-30 over into March: a day that does not exist is refused instead.
    return inRange(time) && time.toISOString().startsWith(text) ? time.toISOString() : null;
  }
  if (!ZONED.test(text)) return null;
  const time = new Date(text);
  return inRange(time) && sameFieldsAsWritten(text) ? time.toISOString() : null;
}

function inRange(time: Date): boolean {
  return !Number.isNaN(time.getTime()) && time.getTime() >= EARLIEST_MS && time.getUTCFullYear() <= 9999;
}

/** Month, day, hour and minute as written are ones that exist (Date would roll 24:00 or 02-30 over). */
function sameFieldsAsWritten(text: string): boolean {
  const [month, day, hour, minute] = [
    text.slice(5, 7),
    text.slice(8, 10),
    text.slice(11, 13),
    text.slice(14, 16),
  ]
    .map(Number) as [number, number, number, number];
  const probe = new Date(Date.UTC(Number(text.slice(0, 4)), month - 1, day, hour, minute));
  return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day && probe.getUTCHours() === hour &&
    probe.getUTCMinutes() === minute;
}
