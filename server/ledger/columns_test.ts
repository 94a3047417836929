import { assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { uuidBytes } from "../../lib/uuid.ts";
import { isoTime, sqliteTransferIdFromHex, storedHashText, timeOf, transferIdOf } from "./columns.ts";

Deno.test("isoTime() writes every millisecond exactly as Date.toISOString() does, in any order", () => {
  const anyMs = fc.integer({ min: -8.64e15, max: 8.64e15 });
  const nearNow = fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 });
  fc.assert(
    fc.property(fc.array(fc.oneof(anyMs, nearNow), { minLength: 1, maxLength: 50 }), (times) => {
      for (const ms of times) {
        const expected = new Date(ms).toISOString();
        assertEquals(isoTime(ms, "t"), expected);
        assertEquals(isoTime(BigInt(ms), "t"), expected);
        assertEquals(isoTime(new Date(ms), "t"), expected);
      }
    }),
    { numRuns: 500 },
  );
  for (
    const ms of [0, -1, 86_399_999, 86_400_000, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001]
  ) {
    assertEquals(isoTime(ms, "t"), new Date(ms).toISOString(), `at ${ms}`);
  }
  assertEquals(isoTime("2026-12-01T12:00:00.000Z", "t"), "2026-12-01T12:00:00.000Z", "text as stored");
  assertThrows(() => isoTime(8.64e15 + 1, "t"), Error, "t has no valid time");
  assertThrows(() => isoTime(Number.NaN, "t"), Error, "t has no valid time");
});

Deno.test("the stored forms of ids, times and hashes read back as the text the ledger always had", () => {
  const id = "0192a5e8-3c4d-7abc-8def-0123456789ab";
  assertEquals(transferIdOf(uuidBytes(id)), id);
  assertEquals(transferIdOf(id), id);
  assertEquals(sqliteTransferIdFromHex(id.replaceAll("-", "")), id);
  assertEquals(sqliteTransferIdFromHex("abcd"), "abcd", "not 16 bytes: kept, for the chain to report");
  assertEquals(timeOf(1_796_172_312_310n, "t").toISOString(), "2026-12-02T00:45:12.310Z");
  assertEquals(timeOf("2026-12-02T00:45:12.310Z", "t").getTime(), 1_796_172_312_310);
  assertThrows(() => timeOf("yesterday", "t"), Error, "t has no valid time");
  assertEquals(storedHashText(new Uint8Array(32).fill(0xab)), "ab".repeat(32));
  assertEquals(storedHashText("ab".repeat(32)), "ab".repeat(32));
  const short = new Uint8Array(31);
  assertEquals(storedHashText(short), short, "a damaged hash is passed on, never mistaken for another");
});
