import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { newUuidV7, uuidBytes, uuidText, UuidV7 } from "./uuid.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a version 7 UUID starts with. */
function millisecondsOf(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

Deno.test("newUuidV7() has the version, the variant and the clock's milliseconds", () => {
  const nowMs = Date.now();
  const id = newUuidV7(nowMs);
  assertMatch(id, V7);
  assert(millisecondsOf(id) >= nowMs, `${id} is from ${millisecondsOf(id)}, before ${nowMs}`);
  assert(millisecondsOf(id) < nowMs + 1_000, `${id} is from ${millisecondsOf(id)}, long after ${nowMs}`);
});

Deno.test("UuidV7 ids are strictly increasing within one millisecond, past a full counter", () => {
  const nowMs = 1_700_000_000_000;
  const generator = new UuidV7();
  const ids = Array.from({ length: 10_000 }, () => generator.next(nowMs));
  for (let index = 1; index < ids.length; index++) {
    assertMatch(ids[index]!, V7);
    assert(ids[index - 1]! < ids[index]!, `${ids[index - 1]} before ${ids[index]}`);
  }
  assertEquals(new Set(ids).size, ids.length);
  assert(millisecondsOf(ids.at(-1)!) > nowMs, "a full counter moves on to the next millisecond");
});

Deno.test("UuidV7 does not go back with a clock that steps back", () => {
  const generator = new UuidV7();
  const first = generator.next(1_700_000_000_000);
  const second = generator.next(1_700_000_000_000 - 60_000);
  assert(first < second, `${first} before ${second}`);
  assertEquals(millisecondsOf(second), millisecondsOf(first));
});

Deno.test("UuidV7 ends in 62 random bits, from its source of randomness", () => {
  const generator = new UuidV7();
  const tails = new Set(Array.from({ length: 1_000 }, () => generator.next(1_700_000_000_000).slice(19)));
  assertEquals(tails.size, 1_000);
  const fixed = new UuidV7((bytes) => bytes.fill(0xff));
  assertEquals(fixed.next(0), "00000000-0000-77ff-bfff-ffffffffffff");
  assertEquals(
    fixed.next(0),
    "00000000-0000-7800-bfff-ffffffffffff",
    "the counter goes on within the millisecond",
  );
});

Deno.test("UuidV7 refuses a time that does not fit 48 bits of whole milliseconds", () => {
  for (const nowMs of [-1, 1.5, 2 ** 48, Number.NaN]) {
    assertThrows(() => new UuidV7().next(nowMs), RangeError, "whole milliseconds");
  }
});

Deno.test("uuidBytes() and uuidText() turn every canonical UUID into 16 bytes and back, and nothing else", () => {
  const generator = new UuidV7();
  for (let index = 0; index < 1_000; index++) {
    const id = index % 2 === 0 ? generator.next(1_700_000_000_000 + index) : crypto.randomUUID();
    const bytes = uuidBytes(id);
    assertEquals(bytes?.length, 16);
    assertEquals(uuidText(bytes!), id);
  }
  assertEquals(Array.from(uuidBytes("00112233-4455-6677-8899-aabbccddeeff")!), [
    0x00,
    0x11,
    0x22,
    0x33,
    0x44,
    0x55,
    0x66,
    0x77,
    0x88,
    0x99,
    0xaa,
    0xbb,
    0xcc,
    0xdd,
    0xee,
    0xff,
  ]);
  for (
    const text of [
      "",
      "00112233-4455-6677-8899-AABBCCDDEEFF",
      "00112233445566778899aabbccddeeff",
      "00112233-4455-6677-8899-aabbccddeef",
      "00112233-4455-6677-8899-aabbccddeeff0",
      "0011223-34455-6677-8899-aabbccddeeff",
      "g0112233-4455-6677-8899-aabbccddeeff",
      " 00112233-4455-6677-8899-aabbccddeeff",
      "ACC-0001",
    ]
  ) assertEquals(uuidBytes(text), null, `"${text}" is not a canonical UUID`);
  assertThrows(() => uuidText(new Uint8Array(15)), RangeError);
});
