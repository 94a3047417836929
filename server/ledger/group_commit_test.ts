import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { AssertionFailure } from "../../lib/assert.ts";
import { DeadlineExceeded, GroupCommit } from "./group_commit.ts";
import type { Settled } from "./group_commit.ts";

const WAIT = { timeoutMs: 5_000 };

Deno.test("GroupCommit.submit() gathers writes that arrive together into one commit", async () => {
  const batches: number[][] = [];
  const group = new GroupCommit<number, number>(async (items) => {
    batches.push([...items]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return items.map((item): Settled<number> => ({ ok: true, value: item * 2 }));
  }, { batchMax: 8, waitMs: 0 });
  const results = await Promise.all(Array.from({ length: 20 }, (_, index) => group.submit(index, WAIT)));
  assertEquals(results, Array.from({ length: 20 }, (_, index) => index * 2));
  assertEquals(batches.flat(), Array.from({ length: 20 }, (_, index) => index), "every write once, in order");
  for (const batch of batches) assertEquals(batch.length <= 8, true, "a batch never exceeds its bound");
  assertEquals(batches.length < 20, true, `${batches.length} commits for 20 writes`);
  assertEquals(group.stats, { batches: batches.length, writes: 20 });
});

Deno.test("GroupCommit.submit() fails only the write that failed, and a failed commit fails its batch", async () => {
  let failCommit = false;
  const group = new GroupCommit<number, number>((items) => {
    if (failCommit) return Promise.reject(new Error("disk full"));
    return Promise.resolve(
      items.map((item): Settled<number> =>
        item === 3 ? { ok: false, error: new Error("refused 3") } : { ok: true, value: item }
      ),
    );
  }, { batchMax: 16, waitMs: 1 });
  const settled = await Promise.allSettled([1, 2, 3, 4].map((item) => group.submit(item, WAIT)));
  assertEquals(settled.map((result) => result.status), ["fulfilled", "fulfilled", "rejected", "fulfilled"]);
  failCommit = true;
  await assertRejects(() => group.submit(5, WAIT), Error, "disk full");
  failCommit = false;
  assertEquals(await group.submit(6, WAIT), 6, "the next batch commits again");
});

Deno.test("GroupCommit refuses bounds outside its limits", () => {
  const run = () => Promise.resolve([]);
  assertThrows(() => new GroupCommit(run, { batchMax: 0, waitMs: 0 }), AssertionFailure);
  assertThrows(() => new GroupCommit(run, { batchMax: 100_000, waitMs: 0 }), AssertionFailure);
  assertThrows(() => new GroupCommit(run, { batchMax: 8, waitMs: 10_000 }), AssertionFailure);
});

Deno.test("GroupCommit runs at most inFlightMax batches at once", async () => {
  let running = 0;
  let peak = 0;
  const group = new GroupCommit<number, number>(async (items) => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    running -= 1;
    return items.map((item): Settled<number> => ({ ok: true, value: item }));
  }, { batchMax: 2, waitMs: 0, inFlightMax: 3 });
  const results = await Promise.all(Array.from({ length: 30 }, (_, index) => group.submit(index, WAIT)));
  assertEquals(results, Array.from({ length: 30 }, (_, index) => index));
  assertEquals(peak, 3);
});

Deno.test("GroupCommit drops writes whose deadline passed before their batch, and never applies them", async () => {
  const applied: number[] = [];
  let release: () => void = () => {};
  const group = new GroupCommit<number, number>(async (items) => {
    if (items.includes(1)) await new Promise<void>((resolve) => (release = resolve));
    applied.push(...items);
    return items.map((item): Settled<number> => ({ ok: true, value: item }));
  }, { batchMax: 1, waitMs: 0 });
  const first = group.submit(1, WAIT);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const late = group.submit(2, { timeoutMs: 10 });
  await new Promise((resolve) => setTimeout(resolve, 30));
  release();
  assertEquals(await first, 1);
  await assertRejects(() => late, DeadlineExceeded);
  assertEquals(applied, [1], "the expired write never ran");
});
