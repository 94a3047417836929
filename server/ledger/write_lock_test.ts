import { assert, assertEquals } from "@std/assert";
import { ThreadWriteLock } from "./write_lock.ts";

Deno.test("ThreadWriteLock: one holder at a time, and a bounded wait", async () => {
  const buffer = ThreadWriteLock.createBuffer();
  const [first, second] = [new ThreadWriteLock(buffer), new ThreadWriteLock(buffer)];
  assertEquals(await first.acquire(100), true);
  assertEquals(await second.acquire(20), false, "taken: the wait ends at its timeout");
  first.release();
  assertEquals(await second.acquire(100), true);
  second.release();
});

Deno.test("ThreadWriteLock: a thread waiting for another keeps its event loop running", async () => {
  const buffer = ThreadWriteLock.createBuffer();
  const worker = new Worker(new URL("./_write_lock_worker.ts", import.meta.url), { type: "module" });
  const messages: string[] = [];
  let heard = (_message: string) => {};
  worker.onmessage = (event: MessageEvent<string>) => {
    messages.push(event.data);
    heard(event.data);
  };
  const hear = (wanted: string) =>
    new Promise<void>((resolve) => {
      heard = (message) => message === wanted && resolve();
      if (messages.includes(wanted)) resolve();
    });
  try {
    worker.postMessage({ buffer, holdMs: 200 });
    await hear("held");
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const lock = new ThreadWriteLock(buffer);
    const startedMs = performance.now();
    const acquired = await lock.acquire(5_000);
    const waitedMs = performance.now() - startedMs;
    clearInterval(ticker);
    assertEquals(acquired, true);
    assert(waitedMs >= 100, `waited ${waitedMs.toFixed(0)} ms for the other thread's release`);
    assert(ticks >= 5, `the event loop ran meanwhile (${ticks} ticks)`);
    lock.release();
    await hear("released");
  } finally {
    worker.terminate();
  }
});
