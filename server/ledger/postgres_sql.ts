/**
 * The PostgreSQL driver's side of the ledger: the bounded pool and its settings, the statements that lock
 * and read accounts and transfers, the identity directory's statements, and the errors PostgreSQL answers
 * (which ones mean "run it again", which ones "the data was refused") with secrets scrubbed from messages.
 *
 * @module
 */
import postgres from "postgres";
import { assert } from "../../lib/assert.ts";
import type { Transfer } from "./ledger.ts";
import {
  DATABASE_BACKOFF_S_MAX,
  DATABASE_BACKOFF_S_MIN,
  DATABASE_CONNECT_TIMEOUT_S,
  DATABASE_KEEPALIVE_S,
  DATABASE_STATEMENT_TIMEOUT_MS,
  LEDGER_RETRY_DELAY_MS_MAX,
} from "./limits.ts";
import { toTransfer } from "./rows.ts";
import type { JournalRow } from "./rows.ts";

export type Types = { bigint: bigint };
export type Database = postgres.Sql<Types>;
export type Query = postgres.ISql<Types>;
export type Transaction = postgres.TransactionSql<Types>;

/** Key of the advisory lock that lets one process at a time migrate ("bankledg" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x62616e6b6c656467n;
/** SQLSTATEs after which the whole transaction is retried: serialization failure, deadlock. */
const RETRY_STATES: readonly string[] = ["40001", "40P01"];
const UNIQUE_VIOLATION_STATE = "23505";
/** The unique constraint a concurrent twin (same caller, same idempotency key) trips over. */
const IDEMPOTENCY_CONSTRAINT = "journal_identity_idempotency_key_key";

/**
 * Creates the bounded pool; no connection is made until the first query. `asyncCommitForTests` is the
 * chaos checker's negative control only (server/test_hooks.ts): commits acknowledged before they are durable.
 */
export function connect(
  url: string,
  poolMax: number,
  options: { asyncCommitForTests?: boolean } = {},
): Database {
  return postgres(url, {
    max: poolMax,
    connect_timeout: DATABASE_CONNECT_TIMEOUT_S,
    keep_alive: DATABASE_KEEPALIVE_S,
    // Reconnect quickly after an outage (postgres.js waits up to 20 s by default), never faster than 50 ms.
    backoff: (attempt: number) => Math.min(DATABASE_BACKOFF_S_MIN * 2 ** attempt, DATABASE_BACKOFF_S_MAX),
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: {
      application_name: "bank-server",
      statement_timeout: DATABASE_STATEMENT_TIMEOUT_MS,
      // A stalled process must not hold row locks forever.
      idle_in_transaction_session_timeout: DATABASE_STATEMENT_TIMEOUT_MS,
      // Durability is not left to the server's configuration.
      synchronous_commit: options.asyncCommitForTests === true ? "off" : "on",
    },
  });
}

export async function findTransferIn(
  sql: Query,
  identity: string,
  idempotencyKey: string,
): Promise<Transfer | null> {
  const rows = await sql<JournalRow[]>`
    SELECT * FROM journal WHERE identity = ${identity} AND idempotency_key = ${idempotencyKey}`;
  assert(rows.length <= 1, `Key ${idempotencyKey} of ${identity} must name one transfer`);
  const [row] = rows;
  return row === undefined ? null : toTransfer(row);
}

/**
 * Serializes identity writes across every server process, so change numbers are handed out in commit
 * order and a reader following them never skips one.
 */
export async function lockIdentities(tx: Query): Promise<void> {
  await tx`LOCK TABLE identities IN SHARE ROW EXCLUSIVE MODE`;
}

/** Tells whether a write tripped over a transfer journaled under the same key by another transaction. */
export function isIdempotencyConflict(error: unknown): boolean {
  return error instanceof postgres.PostgresError && error.code === UNIQUE_VIOLATION_STATE &&
    error.constraint_name === IDEMPOTENCY_CONSTRAINT;
}

/** Tells whether a statement failed on the data it was given (SQLSTATE classes 22 and 23). */
export function isDataError(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError) || isConflict(error)) return false;
  return error.code.startsWith("22") || error.code.startsWith("23");
}

/** Tells whether a failed transaction lost a race and may simply run again. */
export function isConflict(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError)) return false;
  if (RETRY_STATES.includes(error.code)) return true;
  return isIdempotencyConflict(error);
}

/** Where a URL points, without user or password, and the secrets to scrub from any error. */
export function describeTarget(url: string): { location: string; secrets: string[] } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") return null;
  const port = parsed.port === "" ? "5432" : parsed.port;
  const secrets = [parsed.password, safeDecode(parsed.password)].filter((secret) => secret !== "");
  return { location: `postgres://${parsed.hostname}:${port}${parsed.pathname}`, secrets };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** An error's message with every secret replaced. */
export function redact(error: unknown, secrets: readonly string[]): string {
  let message = describe(error);
  for (const secret of secrets) message = message.replaceAll(secret, "***");
  return message;
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

export function sleep(milliseconds: number): Promise<void> {
  assert(
    milliseconds >= 0 && milliseconds <= LEDGER_RETRY_DELAY_MS_MAX,
    `Delay ${milliseconds} is out of range`,
  );
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
