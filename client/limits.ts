/**
 * The client's ceilings and waits: clients and tasks per run, connections opened at once, how long it waits
 * for the server, and the load generator's bounds. Checked against the wire's bounds (protocol/limits.ts)
 * when the module loads.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { HISTOGRAM_VALUE_MS_MAX } from "../lib/histogram.ts";
import { ADDRESS_PENDING_DEFAULT, SESSION_REQUESTS_MAX } from "../protocol/limits.ts";

/** How long the client waits for a connection, and for each answer, before giving up on the connection. */
export const CLIENT_RESPONSE_TIMEOUT_MS = 30_000;
/**
 * Connections one client process opens at once (TLS and the bank handshake in progress). A server closes
 * an address's unauthenticated connections past its budget (64 by default), so clients stay well below it.
 */
export const CLIENT_CONNECTS_IN_FLIGHT_MAX = 32;
/** Clients one `bank-client` run may drive at once, and tasks per client. */
export const CLIENT_RUN_CLIENTS_MAX = 10_000;
export const CLIENT_RUN_TASKS_MAX = 1_000;
/** The largest CA certificate file a client reads. */
export const CA_FILE_BYTES_MAX = 64 * 1024;

/** Connections one bench may open, the same ceiling as a plain client run. */
export const BENCH_CLIENTS_MAX = CLIENT_RUN_CLIENTS_MAX;
/** The measured window and the warmup before it. */
export const BENCH_DURATION_MS_MIN = 100;
export const BENCH_DURATION_MS_MAX = 60 * 60_000;
export const BENCH_WARMUP_MS_DEFAULT = 1_000;
export const BENCH_WARMUP_MS_MAX = 10 * 60_000;
/** Requests in flight on one connection. */
export const BENCH_PIPELINE_MAX = 64;
/** Largest weight of one operation in the mix. */
export const BENCH_MIX_WEIGHT_MAX = 1_000;
/** Connections being set up at once, so thousands of them do not overrun the server's accept backlog. */
export const BENCH_CONNECTS_IN_FLIGHT_MAX = CLIENT_CONNECTS_IN_FLIGHT_MAX;
/** Distinct error codes counted by name; any further code is counted as `other`. */
export const BENCH_ERROR_CODES_MAX = 32;
/** How often progress is reported, and how often answers overdue are looked for. */
export const BENCH_PROGRESS_INTERVAL_MS = 250;
export const BENCH_WATCHDOG_INTERVAL_MS = 1_000;

assert(
  CLIENT_CONNECTS_IN_FLIGHT_MAX * 2 <= ADDRESS_PENDING_DEFAULT,
  "A client opens well below a server's pending budget",
);
assert(BENCH_DURATION_MS_MIN < BENCH_DURATION_MS_MAX, "The shortest bench must be shorter than the longest");
assert(BENCH_WARMUP_MS_DEFAULT <= BENCH_WARMUP_MS_MAX, "The default warmup must be within its ceiling");
assert(
  BENCH_DURATION_MS_MAX + BENCH_WARMUP_MS_MAX < HISTOGRAM_VALUE_MS_MAX,
  "The histogram must hold the longest wait",
);
assert(BENCH_PIPELINE_MAX < SESSION_REQUESTS_MAX, "A session must hold a full pipeline");
assert(BENCH_WATCHDOG_INTERVAL_MS < CLIENT_RESPONSE_TIMEOUT_MS, "Overdue answers must be noticed in time");

/** The library: how often a transfer is sent (same key) before giving up, and the pause that grows between. */
export const SDK_TRANSFER_ATTEMPTS_MAX = 3;
export const SDK_RETRY_DELAY_MS = 200;
assert(
  SDK_TRANSFER_ATTEMPTS_MAX * SDK_TRANSFER_ATTEMPTS_MAX * SDK_RETRY_DELAY_MS < CLIENT_RESPONSE_TIMEOUT_MS,
  "Retries of a transfer take less than one answer's wait",
);
