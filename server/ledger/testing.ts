/**
 * Test support for the ledger stores, for ledger tests and end-to-end tests alike: a throwaway PostgreSQL
 * database per test, raw SQL on a SQLite file, and the seeded PRNG.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { assert } from "../../lib/assert.ts";
import { DATABASE_CONNECT_TIMEOUT_S } from "./limits.ts";
import { REVERSAL_REASON_CHARS_MAX } from "./schema.ts";

const DATABASE_NAME_PATTERN = /^bank_test_[0-9a-f]{16}$/;
const ADMIN_CLOSE_TIMEOUT_S = 5;

/** A database that exists until disposed. */
export interface TestDatabase extends AsyncDisposable {
  /** The admin URL with its database replaced by the new one. */
  url: string;
}

/**
 * The PostgreSQL server tests may use, from `DATABASE_URL`.
 *
 * @returns The URL, or undefined when PostgreSQL tests should be skipped.
 */
export function databaseUrlForTests(): string | undefined {
  const url = Deno.env.get("DATABASE_URL");
  return url === undefined || url.trim() === "" ? undefined : url;
}

/**
 * Creates a fresh, uniquely named database (`bank_test_<16 hex digits>`) and drops it on dispose.
 *
 * @param adminUrl A URL whose user may create and drop databases.
 * @returns The new database's URL; `await using` drops it (WITH (FORCE)) at the end of the scope.
 *
 * @example Usage
 * ```ts ignore
 * await using database = await createTestDatabase(databaseUrlForTests()!);
 * await using ledger = await PostgresLedger.open(database.url);
 * ```
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const name = `bank_test_${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
  assert(DATABASE_NAME_PATTERN.test(name), `Test database name ${name} must be safe to quote`);
  await runAsAdmin(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  assert(url.pathname === `/${name}`, `Test database URL must name ${name}`);
  let dropped = false;
  return {
    url: url.href,
    async [Symbol.asyncDispose]() {
      if (dropped) return;
      dropped = true;
      await runAsAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Runs one statement on its own short-lived connection: CREATE/DROP DATABASE cannot run in a transaction. */
async function runAsAdmin(adminUrl: string, statement: string): Promise<void> {
  const admin = postgres(adminUrl, {
    max: 1,
    connect_timeout: DATABASE_CONNECT_TIMEOUT_S,
    onnotice: () => {},
  });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end({ timeout: ADMIN_CLOSE_TIMEOUT_S });
  }
}

/** Runs one statement directly on a SQLite ledger file, bypassing the ledger (to simulate tampering). */
export function executeSqlite(path: string, sql: string): Promise<void> {
  const raw = new DatabaseSync(path);
  try {
    raw.exec(sql);
  } finally {
    raw.close();
  }
  return Promise.resolve();
}

/**
 * The journal and its chain as every program before migration 7 kept them: text ids, times and hashes
 * (rebuilt with foreign keys off, as the migrations rebuild tables): what a test turns a store back into to
 * stand for one an older program wrote.
 */
export const SQLITE_JOURNAL_BEFORE_V7 = `
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE journal_v6 (
  entry             INTEGER PRIMARY KEY AUTOINCREMENT,
  transfer_id       TEXT NOT NULL UNIQUE,
  kind              TEXT NOT NULL CHECK (kind IN ('deposit', 'transfer', 'capture', 'reversal', 'refund')),
  identity          TEXT NOT NULL,
  idempotency_key   TEXT NOT NULL,
  source_account_id TEXT NOT NULL REFERENCES accounts (id),
  target_account_id TEXT NOT NULL REFERENCES accounts (id),
  amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
  created_at        TEXT NOT NULL,
  original_entry    BIGINT REFERENCES journal (entry),
  hold_id           TEXT REFERENCES holds (hold_id),
  reason            TEXT,
  CHECK (source_account_id <> target_account_id),
  CHECK ((kind IN ('reversal', 'refund')) = (original_entry IS NOT NULL)),
  CHECK ((kind = 'capture') = (hold_id IS NOT NULL)),
  CHECK (reason IS NULL OR (kind = 'reversal' AND length(reason) BETWEEN 1 AND ${REVERSAL_REASON_CHARS_MAX})),
  UNIQUE (identity, idempotency_key)
);
INSERT INTO journal_v6 SELECT entry,
  lower(substr(hex(transfer_id), 1, 8) || '-' || substr(hex(transfer_id), 9, 4) || '-' ||
    substr(hex(transfer_id), 13, 4) || '-' || substr(hex(transfer_id), 17, 4) || '-' || substr(hex(transfer_id), 21)),
  kind, identity, idempotency_key, source_account_id, target_account_id, amount_minor,
  strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'), original_entry, hold_id, reason
FROM journal ORDER BY entry;
DROP TABLE journal;
ALTER TABLE journal_v6 RENAME TO journal;
CREATE INDEX journal_by_original ON journal (original_entry) WHERE original_entry IS NOT NULL;
CREATE TABLE journal_chain_v6 (
  position INTEGER PRIMARY KEY CHECK (position >= 1),
  entry    BIGINT NOT NULL UNIQUE REFERENCES journal (entry),
  hash     TEXT NOT NULL CHECK (length(hash) = 64)
);
INSERT INTO journal_chain_v6 SELECT position, entry, lower(hex(hash)) FROM journal_chain ORDER BY position;
DROP TABLE journal_chain;
ALTER TABLE journal_chain_v6 RENAME TO journal_chain;
DELETE FROM schema_migrations WHERE version = 7;
COMMIT;`;
