import { assertEquals } from "@std/assert";
import { parseCutOff, readCanonicalTime } from "./time.ts";

Deno.test("readCanonicalTime() takes only Date.toISOString()'s form, of a time that exists, from 1970 on", () => {
  assertEquals(readCanonicalTime("2026-12-01T10:00:00.000Z"), "2026-12-01T10:00:00.000Z");
  for (
    const text of [
      "2026-12-01T10:00:00Z",
      "2026-12-01T10:00:00.000+00:00",
      "2026-02-30T00:00:00.000Z",
      "2026-12-01T24:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "1969-12-31T23:59:59.999Z",
      "2026-12-01",
      "",
    ]
  ) {
    assertEquals(readCanonicalTime(text), null, text);
  }
});

Deno.test("parseCutOff() reads a whole UTC day or a zoned ISO time, and never a local time", () => {
  assertEquals(parseCutOff("2026-11-30", "start"), "2026-11-30T00:00:00.000Z");
  assertEquals(parseCutOff("2026-11-30", "end"), "2026-11-30T23:59:59.999Z");
  assertEquals(parseCutOff("2026-12-01T10:00+01:00", "end"), "2026-12-01T09:00:00.000Z");
  assertEquals(parseCutOff("2026-12-01T10:00:30.5Z", "start"), "2026-12-01T10:00:30.500Z");
  for (
    const text of [
      "12-01-2026",
      "1-2-2026",
      "2026-02-30",
      "2026-12-01T10:00",
      "2026-12-01 10:00Z",
      "2026-12-01T24:00Z",
      "2026-13-01T00:00Z",
      "1969-12-31",
      "0000-01-01T00:00Z",
      "yesterday",
      "",
    ]
  ) {
    assertEquals(parseCutOff(text, "end"), null, text);
  }
});
