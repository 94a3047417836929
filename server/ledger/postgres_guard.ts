/**
 * A guard against one known crash of the postgres.js driver, so that a lost database connection costs the
 * requests in flight (they answer `unavailable`) instead of the whole server process.
 *
 * The bug (postgres.js 3.4.9, porsager/postgres#1154 and #1208): when the connection dies inside
 * `sql.begin`, the driver rejects the failed statement, then writes `ROLLBACK` to the same connection,
 * whose socket is already `null`. A write under 1024 bytes is deferred with `setImmediate(nextWrite)`, and
 * `nextWrite` calls `socket.write` on `null`: a `TypeError` thrown from a timer callback, which no `await`
 * can catch, so it reaches the global `error` event and stops the process. It is never a promise
 * rejection (every path to `nextWrite` is synchronous), so the guard listens to `error` only.
 *
 * Swallowing it is safe for the ledger: the transaction it belonged to was already rejected with
 * `CONNECTION_CLOSED`, and PostgreSQL rolls back a transaction whose connection is gone. The unsent
 * `ROLLBACK` stays buffered in that pool connection; it goes out ahead of the connection's next startup
 * message, which PostgreSQL refuses ("invalid length of startup packet"), so it never runs in a session.
 * Until then that connection's reconnects fail with `CONNECT_TIMEOUT`: requests on it answer `unavailable`.
 * Nothing else is swallowed: an `AssertionFailure` (protocol/assert.ts) or any other error still stops the
 * process.
 *
 * Install it in every thread that opens a PostgreSQL store: an error event is per thread, and a worker's
 * uncaught error ends the whole process. Remove this module and its call once `postgres` in deno.json is a
 * release with the upstream fix (porsager/postgres#1209, "Guard nextWrite against a closed socket");
 * `tests/failover_test.ts` must still pass without it.
 *
 * @module
 */

/** The message V8 gives `socket.write(…)` when `socket` is `null`. */
const DRIVER_BUG_MESSAGE = "Cannot read properties of null (reading 'write')";
/**
 * The top stack frame of the bug: `nextWrite` in postgres.js's `src/connection.js`, as Deno names it from
 * its npm cache (`…/postgres/3.4.9/src/connection.js`) or from a `node_modules` folder
 * (`…/node_modules/postgres/src/connection.js`).
 */
const DRIVER_BUG_FRAME_PATTERN =
  /^\s*at (?:\S+\.)?nextWrite \(\S*\/postgres\/(?:\d+\.\d+\.\d+[^/]*\/)?src\/connection\.js:\d+:\d+\)$/;

/**
 * Keeps the process alive through the postgres.js `nextWrite` crash described in this module's header.
 *
 * @param onSwallowed Told about each swallowed error, to log it.
 * @returns A function that removes the guard.
 *
 * @example Usage
 * ```ts ignore
 * const uninstall = installPostgresDriverGuard((error) => log.error(error.message));
 * uninstall();
 * ```
 */
export function installPostgresDriverGuard(onSwallowed: (error: Error) => void): () => void {
  if (installed !== undefined) return installed;
  const listener = (event: ErrorEvent) => {
    if (!isDriverBug(event.error)) return;
    event.preventDefault();
    onSwallowed(event.error);
  };
  globalThis.addEventListener("error", listener);
  installed = () => {
    globalThis.removeEventListener("error", listener);
    installed = undefined;
  };
  return installed;
}

/** Uninstalls the guard of this thread, when one is installed: each thread installs it once. */
let installed: (() => void) | undefined;

/** Tells whether an uncaught error is exactly the postgres.js `nextWrite` bug, judged by its top frame. */
export function isDriverBug(error: unknown): error is TypeError {
  if (!(error instanceof TypeError)) return false;
  if (error.message !== DRIVER_BUG_MESSAGE) return false;
  const topFrame = (error.stack ?? "").split("\n").find((line) => /^\s*at /.test(line));
  return topFrame !== undefined && DRIVER_BUG_FRAME_PATTERN.test(topFrame);
}
