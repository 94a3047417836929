import { assert, assertEquals, assertMatch } from "@std/assert";
import { newUuidV7 } from "./uuid.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a version 7 UUID starts with. */
function millisecondsOf(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

Deno.test("a version 7 UUID has the version, the variant and the clock's milliseconds", () => {
  const nowMs = Date.now();
  const id = newUuidV7(nowMs);
  assertMatch(id, V7);
  assert(millisecondsOf(id) >= nowMs, `${id} is from ${millisecondsOf(id)}, before ${nowMs}`);
  assert(millisecondsOf(id) < nowMs + 1_000, `${id} is from ${millisecondsOf(id)}, long after ${nowMs}`);
});

Deno.test("ids are strictly increasing within one millisecond, past a full counter", () => {
  const nowMs = Date.now();
  const ids = Array.from({ length: 10_000 }, () => newUuidV7(nowMs));
  for (let index = 1; index < ids.length; index++) {
    assertMatch(ids[index]!, V7);
    assert(ids[index - 1]! < ids[index]!, `${ids[index - 1]} before ${ids[index]}`);
  }
  assertEquals(new Set(ids).size, ids.length);
  assert(millisecondsOf(ids.at(-1)!) > nowMs, "a full counter moves on to the next millisecond");
});

Deno.test("a clock that steps back does not take the ids back", () => {
  const first = newUuidV7(Date.now());
  const second = newUuidV7(Date.now() - 60_000);
  assert(first < second, `${first} before ${second}`);
  assertEquals(millisecondsOf(second), millisecondsOf(first));
});

Deno.test("the last 62 bits are random", () => {
  const nowMs = Date.now() + 5_000;
  const tails = new Set(Array.from({ length: 1_000 }, () => newUuidV7(nowMs).slice(19)));
  assertEquals(tails.size, 1_000);
});
