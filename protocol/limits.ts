/**
 * Every ceiling in one place: anything that can grow or wait has a named bound here. The relations between
 * bounds are checked when the module loads, so a bad edit stops the program at startup.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";

/** Bytes of the big-endian length that precedes every frame body. */
export const FRAME_HEADER_BYTES = 4;
/** Default largest frame body accepted; `--frame-max-bytes` may lower or raise it within the bounds below. */
export const FRAME_BYTES_DEFAULT = 64 * 1024;
/** Smallest configurable frame body: a handshake frame must always fit. */
export const FRAME_BYTES_MIN = 1024;
/** Largest configurable frame body. */
export const FRAME_BYTES_MAX = 1024 * 1024;

/** Largest frame before the handshake completes: a hello needs under 100 bytes, so a peer that is not yet
 * authenticated can make the server buffer at most this much. */
export const HANDSHAKE_FRAME_BYTES_MAX = FRAME_BYTES_MIN;

/** Longest identity name, in bytes of UTF-8 (names are ASCII, so also characters). */
export const IDENTITY_NAME_BYTES_MAX = 64;
/** Bytes of a client secret and of each handshake nonce. */
export const SECRET_BYTES = 32;
export const HANDSHAKE_NONCE_BYTES = 32;
/** Bytes of a handshake proof (an HKDF-SHA-256 output). */
export const PROOF_BYTES = 32;
/** AES-256-GCM: key, nonce and tag sizes, spelled out rather than trusted to defaults. */
export const AES_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
/** Bytes of a sealed frame's header inside the body: type (1) and sequence number (8). */
export const SEALED_HEADER_BYTES = 9;
/**
 * Frames one direction of one session may seal. Each session derives fresh keys, so the sequence number
 * is the nonce; the session ends well before the 64-bit counter could wrap.
 */
export const SESSION_FRAMES_MAX = 2n ** 48n;

/** Serving threads one server may run. */
export const WORKERS_MAX = 64;

/** Connections the server holds at once, per serving thread; at the limit it stops accepting. */
export const CONNECTIONS_MAX_DEFAULT = 20_000;
/** Requests one connection may send before the server ends the session (a new handshake is cheap). */
export const SESSION_REQUESTS_MAX = 1_000_000;

/** Waits, in milliseconds. The handshake timeout covers TLS and authentication together. */
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;
export const FRAME_TIMEOUT_MS_DEFAULT = 10_000;
export const IDLE_TIMEOUT_MS_DEFAULT = 5 * 60_000;
/** On SIGINT/SIGTERM: how long requests in flight may take before connections are cut. */
export const SHUTDOWN_TIMEOUT_MS_DEFAULT = 10_000;
/** How often the server rereads identities, to end the sessions of revoked or rotated ones. */
export const IDENTITY_REFRESH_MS = 1_000;
export const TIMEOUT_MS_MIN = 50;
export const TIMEOUT_MS_MAX = 24 * 60 * 60_000;
/** How long the client waits for each answer before giving up on the connection. */
export const CLIENT_RESPONSE_TIMEOUT_MS = 30_000;
/**
 * Connections one client process opens at once (TLS and the bank handshake in progress). The server
 * closes an address's unauthenticated connections past its own budget (64 by default), so clients stay
 * well below it.
 */
export const CLIENT_CONNECTS_IN_FLIGHT_MAX = 32;

/** Text commands and structured requests. */
export const TEXT_COMMAND_BYTES_MAX = 4 * 1024;
export const CONTACT_FIELD_BYTES_MAX = 256;
export const CONTACT_BYTES_MAX = 2 * 1024;
export const ACCOUNT_ID_BYTES_MAX = 32;
export const IDEMPOTENCY_KEY_BYTES_MAX = 64;
export const REQUEST_ID_BYTES_MAX = 64;

/** Money: the largest amount of one transfer, in minor units ($10,000,000.00), and of one balance. */
export const TRANSFER_MINOR_MAX = 1_000_000_000n;
export const TRANSFER_MINOR_LIMIT_DEFAULT = 100_000_000n;
export const BALANCE_MINOR_MAX = 10n ** 17n;
/**
 * All money ever deposited, in minor units. No balance can exceed the total, so with this cap no balance
 * passes {@link BALANCE_MINOR_MAX} and no sum of balances overflows a 64-bit integer.
 */
export const ISSUANCE_MINOR_MAX = BALANCE_MINOR_MAX;
/** Accounts one owner may hold: a balance answer lists them all, and it must fit one frame. */
export const ACCOUNTS_PER_OWNER_MAX = 100;
/** Digits a wire amount may have: 10^17 fits comfortably in a signed 64-bit column. */
export const AMOUNT_DIGITS_MAX = 18;

/** Demo identities provisioned on first start. */
export const DEMO_CLIENTS_DEFAULT = 100;
export const DEMO_CLIENTS_MAX = 10_000;
export const DEMO_DEPOSIT_MINOR = 50_000n;
/** Clients one `bank-client` run may drive at once, and tasks per client. */
export const CLIENT_RUN_CLIENTS_MAX = 10_000;
export const CLIENT_RUN_TASKS_MAX = 1_000;
/** Identities the server will load from its store. */
export const IDENTITIES_MAX = 100_000;
/** Largest credential or identity-store file read from disk. */
export const CREDENTIAL_FILE_BYTES_MAX = 4 * 1024;
export const IDENTITY_STORE_BYTES_MAX = 32 * 1024 * 1024;

/** Ledger: pages, retries and waits. */
export const HISTORY_PAGE_MAX = 100;
export const HISTORY_PAGE_DEFAULT = 20;
export const ACCOUNTS_PAGE_MAX = 1_000;
export const CONTACT_HISTORY_PAGE_MAX = 100;
export const IDENTITIES_PAGE_MAX = 1_000;
/** Attempts of one ledger transaction that hit a conflict (serialization failure, duplicate key race). */
export const LEDGER_ATTEMPTS_MAX = 8;
export const LEDGER_RETRY_DELAY_MS_MAX = 50;
/** How long SQLite waits for another process's write lock before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** PostgreSQL: connections per server process, and the longest a statement or a connect may take. */
export const DATABASE_POOL_MAX = 10;
export const DATABASE_STATEMENT_TIMEOUT_MS = 10_000;
export const DATABASE_CONNECT_TIMEOUT_S = 10;
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
/** Reconnection waits after a database outage: doubling from the minimum up to the maximum, in seconds. */
export const DATABASE_BACKOFF_S_MIN = 0.05;
export const DATABASE_BACKOFF_S_MAX = 1;
/** TCP keepalive on database connections, so a dead network is noticed. */
export const DATABASE_KEEPALIVE_S = 10;
/** The longest one request may wait on the ledger before it is answered `unavailable`. */
export const LEDGER_CALL_TIMEOUT_MS = 12_000;
/** How long closing the database pool waits for queries in flight. */
export const DATABASE_CLOSE_TIMEOUT_S = 10;

assert(FRAME_BYTES_MIN <= FRAME_BYTES_DEFAULT, "Default frame size must be at least the minimum");
assert(FRAME_BYTES_DEFAULT <= FRAME_BYTES_MAX, "Default frame size must be at most the maximum");
assert(FRAME_BYTES_MAX < 2 ** 32, "Frame size must fit the 4-byte length");
assert(
  1 + 1 + 1 + IDENTITY_NAME_BYTES_MAX + HANDSHAKE_NONCE_BYTES < FRAME_BYTES_MIN,
  "A hello frame must fit the smallest frame",
);
assert(
  SEALED_HEADER_BYTES + TEXT_COMMAND_BYTES_MAX + GCM_TAG_BYTES < FRAME_BYTES_DEFAULT,
  "A text command must fit one default frame",
);
assert(CONTACT_BYTES_MAX + 1024 < FRAME_BYTES_DEFAULT, "Contact details must fit in one frame");
assert(3 * CONTACT_FIELD_BYTES_MAX < CONTACT_BYTES_MAX, "Three contact fields must fit the contact limit");
assert(TRANSFER_MINOR_LIMIT_DEFAULT <= TRANSFER_MINOR_MAX, "Default transfer limit must be within the cap");
assert(TRANSFER_MINOR_MAX < BALANCE_MINOR_MAX, "One transfer must be smaller than the largest balance");
assert(BALANCE_MINOR_MAX < 2n ** 63n, "Balances must fit a signed 64-bit column");
assert(ISSUANCE_MINOR_MAX <= BALANCE_MINOR_MAX, "Issuance caps every balance");
assert(
  ACCOUNTS_PER_OWNER_MAX * 200 < FRAME_BYTES_DEFAULT,
  "A balance answer for every account must fit one frame",
);
assert(BALANCE_MINOR_MAX < 10n ** BigInt(AMOUNT_DIGITS_MAX), "Balances must print within the digit limit");
assert(DEMO_CLIENTS_DEFAULT <= DEMO_CLIENTS_MAX, "Default demo clients must be within the cap");
assert(DEMO_CLIENTS_MAX <= IDENTITIES_MAX, "Demo clients must fit the identity store");
assert(BigInt(DEMO_CLIENTS_MAX) * DEMO_DEPOSIT_MINOR < BALANCE_MINOR_MAX, "Demo deposits must fit a balance");
assert(TIMEOUT_MS_MIN < HANDSHAKE_TIMEOUT_MS_DEFAULT, "Handshake timeout must be above the minimum");
assert(IDLE_TIMEOUT_MS_DEFAULT <= TIMEOUT_MS_MAX, "Idle timeout must be within the maximum");
assert(
  LEDGER_CALL_TIMEOUT_MS > DATABASE_STATEMENT_TIMEOUT_MS,
  "The database times out before the request does",
);
assert(HISTORY_PAGE_DEFAULT <= HISTORY_PAGE_MAX, "Default history page must fit the maximum");
assert(HISTORY_PAGE_MAX * 200 < FRAME_BYTES_DEFAULT, "A history page must fit one frame");
assert(
  LEDGER_ATTEMPTS_MAX * LEDGER_RETRY_DELAY_MS_MAX < DATABASE_STATEMENT_TIMEOUT_MS,
  "Retries must be quick",
);
assert(BigInt(SESSION_REQUESTS_MAX) < SESSION_FRAMES_MAX, "Session requests must fit the frame counter");
