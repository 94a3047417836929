import { assertEquals } from "@std/assert";
import {
  formatAmount,
  formatCompact,
  formatDuration,
  formatMeasure,
  formatSpan,
  formatTick,
} from "./format.ts";

Deno.test("formatAmount() writes minor units as dollars and cents, and refuses anything but a positive digit string", () => {
  const cases: [string, string | null][] = [
    ["0", null], // no transfer moves nothing
    ["1", "$0.01"],
    ["10000", "$100.00"],
    ["12345", "$123.45"],
    ["123456789", "$1,234,567.89"],
    ["", null],
    ["-5", null],
    ["007", null],
    ["1.5", null],
    ["1e3", null],
    [" 1", null],
    ["9".repeat(40), null],
  ];
  for (const [minor, expected] of cases) assertEquals(formatAmount(minor), expected, minor);
});

Deno.test("formatDuration() keeps the two largest units", () => {
  assertEquals(formatDuration(0), "0s");
  assertEquals(formatDuration(59), "59s");
  assertEquals(formatDuration(61), "1m 01s");
  assertEquals(formatDuration(3_600), "1h 00m");
  assertEquals(formatDuration(90_061), "1d 01h");
});

Deno.test("formatMeasure(), formatTick(), formatSpan() and formatCompact() write figures for a chart", () => {
  assertEquals(formatMeasure(null, false), "–");
  assertEquals(formatMeasure(1234, true), "1,234");
  assertEquals(formatMeasure(0.4123, false), "0.41");
  assertEquals(formatMeasure(12.34, false), "12.3");
  assertEquals(formatMeasure(123.4, false), "123");
  assertEquals(formatTick(0.5, 0.25), "0.50");
  assertEquals(formatTick(2000, 500), "2,000");
  assertEquals(formatSpan(30), "30 s");
  assertEquals(formatSpan(120), "2 min");
  assertEquals(formatSpan(90), "1 min 30 s");
  assertEquals(formatCompact(9_999), "9,999");
  assertEquals(formatCompact(20_000), "20k");
  assertEquals(formatCompact(1_048_576), "1.0M");
});
