/**
 * The server's budgets: what one process may hold, per source address, per identity and for the monitor.
 * Each has a flag and a `BANK_...` variable (server/config.ts); these are the defaults and the bounds.
 * Relations between them are checked when the module loads, so a bad edit stops the server at startup.
 *
 * The connection budget comes from the process's open-file limit: every connection costs one file, and
 * {@link FD_RESERVE_DEFAULT} files stay free for the store, the monitor, logs and the runtime, so normal
 * operation never meets "Too many open files".
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { ADDRESS_PENDING_DEFAULT, TRANSFER_MINOR_MAX } from "../protocol/limits.ts";
import {
  DATABASE_STATEMENT_TIMEOUT_MS,
  GROUP_COMMIT_DEADLINE_MS,
  IDENTITIES_PAGE_MAX,
  ISSUANCE_MINOR_MAX,
} from "./ledger/limits.ts";

/** The monitor's default port (the TLS listener's is the wire's `PORT_DEFAULT`). */
export const MONITOR_PORT_DEFAULT = 5000;
/** The web app's HTTPS port (`--web-port`). */
export const WEB_PORT_DEFAULT = 8444;
/** Serving threads one server may run. */
export const WORKERS_MAX = 64;

/** Waits, in milliseconds. The handshake timeout covers TLS and authentication together. */
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;
export const FRAME_TIMEOUT_MS_DEFAULT = 10_000;
export const IDLE_TIMEOUT_MS_DEFAULT = 5 * 60_000;
/** On SIGINT/SIGTERM: how long requests in flight may take before connections are cut. */
export const SHUTDOWN_TIMEOUT_MS_DEFAULT = 10_000;
/** Bounds of every configurable wait. */
export const TIMEOUT_MS_MIN = 50;
export const TIMEOUT_MS_MAX = 24 * 60 * 60_000;
/** The longest one request may wait on the ledger before it is answered `unavailable`. */
export const LEDGER_CALL_TIMEOUT_MS = 12_000;
/** How often the server rereads identities, to end the sessions of revoked or rotated ones. */
export const IDENTITY_REFRESH_MS = 1_000;
/** Identities the server will load from its store. */
export const IDENTITIES_MAX = 100_000;

/** The default largest single transfer ($1,000,000.00), in minor units; `--transfer-limit` changes it. */
export const TRANSFER_MINOR_LIMIT_DEFAULT = 100_000_000n;

/** Demo identities provisioned on first start, and what each demo account holds. */
export const DEMO_CLIENTS_DEFAULT = 100;
export const DEMO_CLIENTS_MAX = 10_000;
export const DEMO_DEPOSIT_MINOR = 50_000n;

/** Files kept free of connections: the store, the monitor's listener, logs, the runtime's own. */
export const FD_RESERVE_DEFAULT = 1_024;
/** On a small open-file limit, the reserve shrinks to this share of it (a quarter). */
export const FD_RESERVE_SHARE = 4;
/** Smallest reserve a flag may set: what the process holds before it serves (about 30 files) and more. */
export const FD_RESERVE_MIN = 64;
/** Fewest TLS connections the budget may leave; a smaller open-file limit stops the server at startup. */
export const CONNECTIONS_MIN = 16;
/** The most TLS connections one process holds, whatever the open-file limit. */
export const CONNECTIONS_MAX = 1_000_000;
/**
 * Files from the limit at which the listener counts as under pressure: it may have met "Too many open
 * files" in its accept loop, so it is rebuilt once the pressure is gone (see server/tls_node.ts).
 */
export const FD_PRESSURE_MARGIN = 16;
/** How often each serving thread samples the process's open files and its limit. */
export const FD_CHECK_INTERVAL_MS = 250;

/** Connections from one address not yet authenticated (TLS and the bank handshake still running). */
export const ADDRESS_PENDING_MAX_DEFAULT = ADDRESS_PENDING_DEFAULT;
/** New connections one address may open per second, and the burst it may open at once. */
export const ADDRESS_CONNECTS_PER_SECOND_DEFAULT = 1_000;
export const ADDRESS_CONNECTS_BURST_DEFAULT = 10_000;
/** IPv6 peers are counted by their /64 prefix: one host usually holds a whole /64. */
export const IPV6_PREFIX_BITS = 64;

/** Sessions one identity may hold at once (per server process). */
export const IDENTITY_SESSIONS_MAX_DEFAULT = 64;
/** Requests one identity may send per second, and the burst it may send at once (a token bucket). */
export const IDENTITY_REQUESTS_PER_SECOND_DEFAULT = 20_000;
export const IDENTITY_REQUESTS_BURST_DEFAULT = 40_000;
/** Bounds on every per-second rate and burst a flag may set. */
export const RATE_PER_SECOND_MAX = 1_000_000;
export const RATE_BURST_MAX = 1_000_000;

/**
 * Slots in each shared table of per-address and per-identity counts and buckets (a power of two). Keys
 * hash into two rows of this many slots with a per-process secret seed; a key is limited only when both
 * of its slots are, so two keys share a fate only if they collide in both rows.
 */
export const BUDGET_TABLE_SLOTS = 1 << 16;

/** The monitor: connections at once, and per address; at the cap the oldest unfinished request goes. */
export const MONITOR_CONNECTIONS_MAX_DEFAULT = 64;
export const MONITOR_ADDRESS_CONNECTIONS_MAX_DEFAULT = 16;
/** The monitor's request head and body, in bytes; a longer one is answered 431 or 413 and closed. */
export const MONITOR_HEADER_BYTES_MAX_DEFAULT = 8 * 1024;
export const MONITOR_BODY_BYTES_MAX_DEFAULT = 4 * 1024;
export const MONITOR_BYTES_MAX = 1024 * 1024;
/** From accepting a monitor connection to having read its whole request. */
export const MONITOR_REQUEST_TIMEOUT_MS_DEFAULT = 5_000;
/** How long the monitor's handler may take, and the largest answer it may write. */
export const MONITOR_RESPONSE_TIMEOUT_MS = 10_000;
export const MONITOR_RESPONSE_BYTES_MAX = 4 * 1024 * 1024;
/** The most monitor connections the budget may set. */
export const MONITOR_CONNECTIONS_MAX = 4_096;

/**
 * Rejection logs: per address and interval, this many rejections are logged one line each; the rest are
 * counted and summed up in one line per address when the interval ends. At most
 * {@link REJECTION_LINES_PER_INTERVAL_MAX} single lines and {@link REJECTION_ADDRESSES_MAX} summarised
 * addresses per interval; beyond them, one line counts the other addresses.
 */
export const REJECTION_LOG_INTERVAL_MS = 10_000;
export const REJECTION_LINES_PER_ADDRESS = 20;
export const REJECTION_LINES_PER_INTERVAL_MAX = 200;
export const REJECTION_ADDRESSES_MAX = 50;
/** Addresses whose rejections one interval tracks; past it, they are counted under "other addresses". */
export const REJECTION_TRACKED_ADDRESSES_MAX = 10_000;

/** The dashboard's series: seconds kept (ten minutes), and recent transfers remembered. */
export const SERIES_SECONDS_MAX = 600;
export const RECENT_TRANSFERS_MAX = 20;
/** What a worker thread gathers before it sends it to the main thread: at most this many requests, or this often. */
export const FORWARD_REQUESTS_MAX = 20_000;
export const FORWARD_INTERVAL_MS = 50;

/** Back-off after a failed accept (out of files, out of sockets) before accepting again. */
export const ACCEPT_RETRY_MS = 100;

/** The reserve for an open-file limit: {@link FD_RESERVE_DEFAULT}, or a quarter of a small limit. */
export function defaultFdReserve(fileLimit: number): number {
  assert(Number.isInteger(fileLimit), `Open-file limit ${fileLimit} must be positive`);
  assert(fileLimit > 0, `Open-file limit ${fileLimit} must be positive`);
  return Math.max(FD_RESERVE_MIN, Math.min(FD_RESERVE_DEFAULT, Math.floor(fileLimit / FD_RESERVE_SHARE)));
}

assert(TIMEOUT_MS_MIN < HANDSHAKE_TIMEOUT_MS_DEFAULT, "Handshake timeout must be above the minimum");
assert(IDLE_TIMEOUT_MS_DEFAULT <= TIMEOUT_MS_MAX, "Idle timeout must be within the maximum");
assert(
  LEDGER_CALL_TIMEOUT_MS > DATABASE_STATEMENT_TIMEOUT_MS,
  "The database times out before the request does",
);
assert(
  GROUP_COMMIT_DEADLINE_MS < LEDGER_CALL_TIMEOUT_MS,
  "A transfer is dropped before its request times out",
);
assert(TRANSFER_MINOR_LIMIT_DEFAULT <= TRANSFER_MINOR_MAX, "Default transfer limit must be within the cap");
assert(DEMO_CLIENTS_DEFAULT <= DEMO_CLIENTS_MAX, "Default demo clients must be within the cap");
assert(DEMO_CLIENTS_MAX <= IDENTITIES_MAX, "Demo clients must fit the identity store");
assert(IDENTITIES_PAGE_MAX <= IDENTITIES_MAX, "An identity page fits the identities");
assert(
  BigInt(DEMO_CLIENTS_MAX) * DEMO_DEPOSIT_MINOR < ISSUANCE_MINOR_MAX,
  "Demo deposits must fit the issuance",
);
assert(FD_RESERVE_MIN <= FD_RESERVE_DEFAULT, "The smallest reserve is within the default");
assert(FD_PRESSURE_MARGIN * 2 < FD_RESERVE_MIN, "Pressure is noticed well inside the reserve");
assert(CONNECTIONS_MIN < CONNECTIONS_MAX, "The connection bounds are ordered");
assert(
  ADDRESS_PENDING_MAX_DEFAULT <= ADDRESS_CONNECTS_BURST_DEFAULT,
  "An address may open its pending connections at once",
);
assert(ADDRESS_CONNECTS_PER_SECOND_DEFAULT <= RATE_PER_SECOND_MAX, "Default address rate within bounds");
assert(IDENTITY_REQUESTS_PER_SECOND_DEFAULT <= RATE_PER_SECOND_MAX, "Default identity rate within bounds");
assert(IDENTITY_REQUESTS_BURST_DEFAULT <= RATE_BURST_MAX, "Default identity burst within bounds");
assert(RATE_BURST_MAX * 1_000 < 2 ** 30, "A full bucket's milli-tokens fit its 30 bits");
assert((BUDGET_TABLE_SLOTS & (BUDGET_TABLE_SLOTS - 1)) === 0, "Budget tables have a power-of-two size");
assert(
  MONITOR_ADDRESS_CONNECTIONS_MAX_DEFAULT <= MONITOR_CONNECTIONS_MAX_DEFAULT,
  "One address fits the monitor",
);
assert(MONITOR_CONNECTIONS_MAX_DEFAULT <= MONITOR_CONNECTIONS_MAX, "Default monitor cap within bounds");
assert(MONITOR_HEADER_BYTES_MAX_DEFAULT <= MONITOR_BYTES_MAX, "Monitor header limit within bounds");
assert(MONITOR_REQUEST_TIMEOUT_MS_DEFAULT >= TIMEOUT_MS_MIN, "Monitor request timeout above the minimum");
assert(
  MONITOR_REQUEST_TIMEOUT_MS_DEFAULT < HANDSHAKE_TIMEOUT_MS_DEFAULT + 1_000,
  "A half-sent monitor request is dropped about as soon as a stalled handshake",
);
assert(REJECTION_LINES_PER_ADDRESS <= REJECTION_LINES_PER_INTERVAL_MAX, "Line budgets are ordered");
assert(REJECTION_ADDRESSES_MAX <= REJECTION_TRACKED_ADDRESSES_MAX, "Summaries cover tracked addresses");

/** Invites: failed handshakes a code survives, and how long it works. */
export const INVITE_ATTEMPTS_DEFAULT = 5;
export const INVITE_ATTEMPTS_MAX = 20;
export const INVITE_TTL_MS_DEFAULT = 24 * 3_600_000;
export const INVITE_TTL_MS_MAX = 7 * 24 * 3_600_000;
assert(INVITE_ATTEMPTS_DEFAULT <= INVITE_ATTEMPTS_MAX, "The default invite attempts fit the maximum");
assert(INVITE_TTL_MS_DEFAULT <= INVITE_TTL_MS_MAX, "The default invite lifetime fits the maximum");

/** Receipts one `ledger verify --receipts DIR` checks at most (each is one indexed lookup). */
export const RECEIPTS_PER_VERIFY_MAX = 1_000_000;
