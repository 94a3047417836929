import { assertEquals, assertRejects } from "@std/assert";
import { FixedDeadlines } from "./deadlines.ts";

class Expired extends Error {}

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

Deno.test("FixedDeadlines passes results and errors through and empties its queue", async () => {
  const deadlines = new FixedDeadlines(1_000);
  assertEquals(await deadlines.race(Promise.resolve(7), () => new Expired()), 7);
  await assertRejects(
    () => deadlines.race(Promise.reject(new RangeError("no")), () => new Expired()),
    RangeError,
  );
  const many = await Promise.all(
    Array.from({ length: 50 }, (_, i) => deadlines.race(later(i % 5, i), () => new Expired())),
  );
  assertEquals(many, Array.from({ length: 50 }, (_, i) => i));
  assertEquals(deadlines.pending, 0);
});

Deno.test("FixedDeadlines expires only the calls that outlive the timeout, oldest first", async () => {
  const deadlines = new FixedDeadlines(40);
  const order: string[] = [];
  const slowWork = later(100, "slow");
  const slow = deadlines.race(slowWork, () => new Expired("slow"))
    .catch((error) => (order.push(`expired ${error.message}`), "expired"));
  const fast = deadlines.race(later(5, "fast"), () => new Expired("fast")).then((v) => (order.push(v), v));
  await later(20, null);
  const secondWork = later(120, "second");
  const second = deadlines.race(secondWork, () => new Expired("second"))
    .catch((error) => (order.push(`expired ${error.message}`), "expired"));
  assertEquals(await Promise.all([slow, fast, second]), ["expired", "fast", "expired"]);
  assertEquals(order, ["fast", "expired slow", "expired second"]);
  assertEquals(await Promise.all([slowWork, secondWork]), ["slow", "second"]);
  assertEquals(order.length, 3, "Late results change nothing");
  assertEquals(deadlines.pending, 0);
});

Deno.test("FixedDeadlines ignores a result that arrives after expiry", async () => {
  const deadlines = new FixedDeadlines(10);
  let settle: (value: string) => void = () => {};
  const work = new Promise<string>((resolve) => (settle = resolve));
  // The deadline timer does not hold the process open on its own: here a timer stands for the server's
  // listener, which does.
  const keepAlive = setTimeout(() => {}, 1_000);
  const raced = deadlines.race(work, () => new Expired("late"));
  await assertRejects(() => raced, Expired, "late");
  clearTimeout(keepAlive);
  settle("too late");
  await later(5, null);
  assertEquals(deadlines.pending, 0);
});
