import { assertEquals, assertThrows } from "@std/assert";
import { formatDollars, parseAmountMinor, parseDollars } from "./money.ts";

const LIMIT = 1_000_000_00n;

Deno.test("parseDollars() reads the amounts people write", () => {
  const cases: [string, bigint][] = [
    ["$100", 10_000n],
    ["$12.34", 1_234n],
    ["$12.3", 1_230n],
    ["$0.01", 1n],
    ["$1,234.56", 123_456n],
    ["$1234.56", 123_456n],
    ["$1,000,000", 100_000_000n],
  ];
  for (const [text, amountMinor] of cases) {
    assertEquals(parseDollars(text, LIMIT), { ok: true, amountMinor }, text);
  }
});

Deno.test("parseDollars() refuses malformed, zero and oversized amounts with their codes", () => {
  const cases: [string, string][] = [
    ["100", "amount_malformed"],
    ["$", "amount_malformed"],
    ["$-5", "amount_malformed"],
    ["$1.234", "amount_malformed"],
    ["$1,23", "amount_malformed"],
    ["$12,34.00", "amount_malformed"],
    ["$01", "amount_malformed"],
    ["$1e3", "amount_malformed"],
    ["$ 5", "amount_malformed"],
    ["$5.", "amount_malformed"],
    ["$Infinity", "amount_malformed"],
    ["$0", "amount_must_be_positive"],
    ["$0.00", "amount_must_be_positive"],
    ["$1,000,000.01", "amount_over_limit"],
    ["$99999999999999999999999999999", "amount_over_limit"],
  ];
  for (const [text, code] of cases) assertEquals(parseDollars(text, LIMIT), { ok: false, code }, text);
});

Deno.test("parseAmountMinor() reads digit strings only", () => {
  assertEquals(parseAmountMinor("1250", LIMIT), { ok: true, amountMinor: 1250n });
  assertEquals(parseAmountMinor("0", LIMIT), { ok: false, code: "amount_must_be_positive" });
  for (const text of ["", "-1", "1.5", "01", " 1", "1e3", "0x10", "1".repeat(19)]) {
    assertEquals(parseAmountMinor(text, LIMIT), { ok: false, code: "amount_malformed" }, text);
  }
  assertEquals(parseAmountMinor("100000001", LIMIT), { ok: false, code: "amount_over_limit" });
});

Deno.test("formatDollars() prints whole dollars like the original design and cents otherwise", () => {
  assertEquals(formatDollars(50_000n), "$500");
  assertEquals(formatDollars(40_050n), "$400.50");
  assertEquals(formatDollars(1n), "$0.01");
  assertEquals(formatDollars(0n), "$0");
  assertEquals(formatDollars(123_456_789n), "$1,234,567.89");
  assertThrows(() => formatDollars(-1n));
});
