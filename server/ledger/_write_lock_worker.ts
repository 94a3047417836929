/**
 * A thread for write_lock_test.ts: takes the lock on the buffer it is sent, says so, holds it for the time
 * it was asked, then releases it and says so.
 *
 * @module
 */
import { ThreadWriteLock } from "./write_lock.ts";

const scope = self as unknown as {
  postMessage(message: string): void;
  onmessage: ((event: MessageEvent<{ buffer: SharedArrayBuffer; holdMs: number }>) => void) | null;
};

scope.onmessage = async (event) => {
  const lock = new ThreadWriteLock(event.data.buffer);
  if (!(await lock.acquire(1_000))) {
    scope.postMessage("not acquired");
    return;
  }
  scope.postMessage("held");
  await new Promise((resolve) => setTimeout(resolve, event.data.holdMs));
  lock.release();
  scope.postMessage("released");
};
