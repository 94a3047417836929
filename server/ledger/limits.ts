/**
 * The ledger's ceilings: money it may hold, accounts per owner, pages, retries, database connections and
 * waits, and group commit. Checked against the wire's bounds (protocol/limits.ts) when the module loads.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { BALANCE_MINOR_MAX, FRAME_BYTES_DEFAULT } from "../../protocol/limits.ts";

/**
 * All money ever deposited, in minor units. No balance can exceed the total, so with this cap no balance
 * passes `BALANCE_MINOR_MAX` and no sum of balances overflows a 64-bit integer.
 */
export const ISSUANCE_MINOR_MAX = BALANCE_MINOR_MAX;
/** Accounts one owner may hold: a balance answer lists them all, and it must fit one frame. */
export const ACCOUNTS_PER_OWNER_MAX = 100;

/** Accounts one SQLite connection keeps for balance checks until the store changes (some 2 MB). */
export const ACCOUNTS_CACHE_ACCOUNTS_MAX = 10_000;

/** Pages of the administration and the identity watcher. */
export const ACCOUNTS_PAGE_MAX = 1_000;
export const CONTACT_HISTORY_PAGE_MAX = 100;
export const IDENTITIES_PAGE_MAX = 1_000;

/** Attempts of one ledger transaction that hit a conflict (serialization failure, duplicate key race). */
export const LEDGER_ATTEMPTS_MAX = 8;
export const LEDGER_RETRY_DELAY_MS_MAX = 50;
/** How long SQLite waits for another process's write lock before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/**
 * The page cache `ledger verify` reads SQLite with (the connection's own is SQLite's default, 2 MiB): an
 * entry's two postings are two lookups by account, and the leaves of the accounts in use stay cached.
 */
export const SQLITE_VERIFY_CACHE_MIB = 64;
/** PostgreSQL: connections per server process, and the longest a statement or a connect may take. */
export const DATABASE_POOL_MAX = 10;
export const DATABASE_STATEMENT_TIMEOUT_MS = 10_000;
export const DATABASE_CONNECT_TIMEOUT_S = 10;
/** Reconnection waits after a database outage: doubling from the minimum up to the maximum, in seconds. */
export const DATABASE_BACKOFF_S_MIN = 0.05;
export const DATABASE_BACKOFF_S_MAX = 1;
/** TCP keepalive on database connections, so a dead network is noticed. */
export const DATABASE_KEEPALIVE_S = 10;
/** How long closing the database pool waits for queries in flight. */
export const DATABASE_CLOSE_TIMEOUT_S = 10;

/** Group commit: the most transfers one commit may hold, and the longest a transfer waits for company. */
export const GROUP_COMMIT_BATCH_MAX = 512;
export const GROUP_COMMIT_BATCH_DEFAULT = 128;
export const GROUP_COMMIT_WAIT_MS_MAX = 50;
export const GROUP_COMMIT_WAIT_MS_DEFAULT = 0;
/** Batches committing at once: PostgreSQL runs several (on separate connections); SQLite has one writer. */
export const GROUP_COMMIT_IN_FLIGHT_MAX = 8;
export const POSTGRES_BATCHES_IN_FLIGHT = 1;
/** How long a transfer may wait for its group commit; past it, it is dropped or rolled back, never applied. */
export const GROUP_COMMIT_DEADLINE_MS = 9_000;

assert(ISSUANCE_MINOR_MAX <= BALANCE_MINOR_MAX, "Issuance caps every balance");
assert(
  ACCOUNTS_PER_OWNER_MAX <= ACCOUNTS_CACHE_ACCOUNTS_MAX,
  "The balance cache can keep any owner's accounts",
);
assert(
  ACCOUNTS_PER_OWNER_MAX * 200 < FRAME_BYTES_DEFAULT,
  "A balance answer for every account must fit one frame",
);
assert(
  LEDGER_ATTEMPTS_MAX * LEDGER_RETRY_DELAY_MS_MAX < DATABASE_STATEMENT_TIMEOUT_MS,
  "Retries must be quick",
);
assert(GROUP_COMMIT_BATCH_DEFAULT <= GROUP_COMMIT_BATCH_MAX, "Default batch within the maximum");
assert(GROUP_COMMIT_WAIT_MS_DEFAULT <= GROUP_COMMIT_WAIT_MS_MAX, "Default wait within the maximum");
assert(POSTGRES_BATCHES_IN_FLIGHT <= GROUP_COMMIT_IN_FLIGHT_MAX, "PostgreSQL batches within the maximum");
assert(POSTGRES_BATCHES_IN_FLIGHT < DATABASE_POOL_MAX, "Batches leave pool connections for reads");

/** Keys an identity may hold usable at once (devices and an invite): each is a way in, so few. */
export const IDENTITY_KEYS_MAX = 8;
/** Keys one listing shows (active ones first, then the most recent revoked). */
export const IDENTITY_KEYS_PAGE_MAX = 100;
assert(IDENTITY_KEYS_MAX <= IDENTITY_KEYS_PAGE_MAX, "Every usable key fits one listing");
