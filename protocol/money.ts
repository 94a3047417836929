/**
 * Money as `bigint` minor units (cents). Text becomes minor units once, where it enters, by reading digits;
 * a `number` never holds money, and `12.34` is only ever written for display.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { AMOUNT_DIGITS_MAX, BALANCE_MINOR_MAX } from "./limits.ts";

/** Why an amount was refused. Part of the wire protocol. */
export type AmountCode = "amount_malformed" | "amount_must_be_positive" | "amount_over_limit";

export type AmountResult = { ok: true; amountMinor: bigint } | { ok: false; code: AmountCode };

const AMOUNT_PATTERN = new RegExp(`^(0|[1-9][0-9]{0,${AMOUNT_DIGITS_MAX - 1}})$`);
const DOLLARS_PATTERN = /^\$(0|[1-9][0-9]{0,2}(?:,[0-9]{3})*|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/;
const DOLLAR_DIGITS_MAX = AMOUNT_DIGITS_MAX - 2;

/**
 * Reads a wire amount in minor units (structured requests carry amounts as digit strings).
 *
 * @param text Digits only: no sign, separator or decimal point.
 * @param limitMinor The largest amount accepted.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseAmountMinor } from "./money.ts";
 * assertEquals(parseAmountMinor("1250", 100_000n), { ok: true, amountMinor: 1250n });
 * ```
 */
export function parseAmountMinor(text: string, limitMinor: bigint): AmountResult {
  assert(limitMinor > 0n, `Amount limit ${limitMinor} is out of range`);
  assert(limitMinor <= BALANCE_MINOR_MAX, `Amount limit ${limitMinor} is out of range`);
  if (!AMOUNT_PATTERN.test(text)) return { ok: false, code: "amount_malformed" };
  return checkAmount(BigInt(text), limitMinor);
}

/**
 * Reads a dollar amount as people write it: `$100`, `$12.34`, `$1,234.5`. Commas must group thousands.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseDollars } from "./money.ts";
 * assertEquals(parseDollars("$1,234.56", 10_000_000n), { ok: true, amountMinor: 123456n });
 * ```
 */
export function parseDollars(text: string, limitMinor: bigint): AmountResult {
  assert(limitMinor > 0n, `Amount limit ${limitMinor} is out of range`);
  assert(limitMinor <= BALANCE_MINOR_MAX, `Amount limit ${limitMinor} is out of range`);
  const match = DOLLARS_PATTERN.exec(text);
  if (match === null) return { ok: false, code: "amount_malformed" };
  const wholeDigits = match[1]!.replaceAll(",", "");
  if (wholeDigits.length > DOLLAR_DIGITS_MAX) return { ok: false, code: "amount_over_limit" };
  const cents = (match[2] ?? "").padEnd(2, "0");
  return checkAmount(BigInt(wholeDigits) * 100n + BigInt(cents), limitMinor);
}

/**
 * Writes minor units for people: whole dollars without cents (`$500`, as the original design printed),
 * otherwise two decimals (`$1,234.50`), thousands grouped; `cents: "always"` writes `$500.00` (tables).
 */
export function formatDollars(
  amountMinor: bigint,
  options: { cents?: "when_not_zero" | "always" } = {},
): string {
  assert(amountMinor >= 0n, `Cannot format a negative amount ${amountMinor}`);
  assert(amountMinor <= BALANCE_MINOR_MAX, `Cannot format amount ${amountMinor}: over the balance cap`);
  const whole = (amountMinor / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = amountMinor % 100n;
  if (cents === 0n && options.cents !== "always") return `$${whole}`;
  return `$${whole}.${cents.toString().padStart(2, "0")}`;
}

function checkAmount(amountMinor: bigint, limitMinor: bigint): AmountResult {
  assert(amountMinor >= 0n, "Parsed amounts are never negative");
  if (amountMinor === 0n) return { ok: false, code: "amount_must_be_positive" };
  if (amountMinor > limitMinor) return { ok: false, code: "amount_over_limit" };
  return { ok: true, amountMinor };
}
