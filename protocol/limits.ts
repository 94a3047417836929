/**
 * What both ends of the wire must agree on: frame and message sizes, key and nonce sizes, money bounds,
 * pages a request may ask for, and where a server listens by default. The server's own budgets live in
 * server/limits.ts (and the ledger's in server/ledger/limits.ts), the client's in client/limits.ts. The
 * relations between bounds are checked when the module loads, so a bad edit stops the program at startup.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";

/** Where a server listens, and a client connects, by default. */
export const HOST_DEFAULT = "127.0.0.1";
export const PORT_DEFAULT = 8443;

/** Bytes of the big-endian length that precedes every frame body. */
export const FRAME_HEADER_BYTES = 4;
/** Default largest frame body accepted; a server's `--frame-max-bytes` may set it within the bounds below. */
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
/** Bytes of each handshake nonce. */
export const HANDSHAKE_NONCE_BYTES = 32;
/** Bytes of a raw key: an Ed25519 public key or seed, an X25519 public or private key, a derived key. */
export const KEY_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;
/** Bytes of a key id: the first half of the SHA-256 of a public key. */
export const KEY_ID_BYTES = 16;
/** Bytes of a handshake MAC (finished and accept: HMAC-SHA-256). */
export const MAC_BYTES = 32;
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
/** Requests one connection may send before the server ends the session (a new handshake is cheap). */
export const SESSION_REQUESTS_MAX = 1_000_000;

/**
 * Connections a server lets one source address hold before they authenticate, unless configured lower;
 * a client opens well under this many at once (client/limits.ts).
 */
export const ADDRESS_PENDING_DEFAULT = 64;

/** Text commands and structured requests. */
export const TEXT_COMMAND_BYTES_MAX = 4 * 1024;
export const CONTACT_FIELD_BYTES_MAX = 256;
export const CONTACT_BYTES_MAX = 2 * 1024;
export const ACCOUNT_ID_BYTES_MAX = 32;
export const IDEMPOTENCY_KEY_BYTES_MAX = 64;
export const REQUEST_ID_BYTES_MAX = 64;
/** A history page, as a request may ask for it. */
export const HISTORY_PAGE_MAX = 100;
export const HISTORY_PAGE_DEFAULT = 20;

/** Money: the largest amount of one transfer, in minor units ($10,000,000.00), and of one balance. */
export const TRANSFER_MINOR_MAX = 1_000_000_000n;
export const BALANCE_MINOR_MAX = 10n ** 17n;
/** Digits a wire amount may have: 10^17 fits comfortably in a signed 64-bit column. */
export const AMOUNT_DIGITS_MAX = 18;

/** Holds: how long an uncaptured hold reserves money when the request names no expiry, and at most. */
export const HOLD_EXPIRY_S_DEFAULT = 7 * 24 * 60 * 60;
export const HOLD_EXPIRY_S_MAX = 30 * 24 * 60 * 60;
/** Ids of holds and transfers as requests carry them (UUIDs are 36). */
export const LEDGER_ID_BYTES_MAX = 64;

/** Largest receipt file a client or server reads (a receipt is about 600 bytes). */
export const RECEIPT_FILE_BYTES_MAX = 4 * 1024;

/** Largest credential file a client or server reads. */
export const CREDENTIAL_FILE_BYTES_MAX = 4 * 1024;

assert(PORT_DEFAULT > 0, "The default port is a port");
assert(PORT_DEFAULT < 65_536, "The default port is a port");
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
assert(TRANSFER_MINOR_MAX < BALANCE_MINOR_MAX, "One transfer must be smaller than the largest balance");
assert(BALANCE_MINOR_MAX < 2n ** 63n, "Balances must fit a signed 64-bit column");
assert(BALANCE_MINOR_MAX < 10n ** BigInt(AMOUNT_DIGITS_MAX), "Balances must print within the digit limit");
assert(HOLD_EXPIRY_S_DEFAULT <= HOLD_EXPIRY_S_MAX, "The default hold expiry must be allowed");
assert(HISTORY_PAGE_DEFAULT <= HISTORY_PAGE_MAX, "Default history page must fit the maximum");
assert(HISTORY_PAGE_MAX * 200 < FRAME_BYTES_DEFAULT, "A history page must fit one frame");
assert(BigInt(SESSION_REQUESTS_MAX) < SESSION_FRAMES_MAX, "Session requests must fit the frame counter");
