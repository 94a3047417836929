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
import {
  JOURNAL_BY_ORIGINAL,
  MIGRATIONS,
  SQLITE_CHAIN_HASH_TEXT,
  SQLITE_JOURNAL_TEXT,
  sqliteChainTable,
  sqliteJournalTable,
} from "./schema.ts";

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
 * Postings as migration 6 left them (keyed by entry, and a second copy of each in `postings_by_account`):
 * migration 6's own SQL rebuilds them, as it would from any older shape.
 */
const SQLITE_POSTINGS_V6 = MIGRATIONS[6 - 1]!.sqlite;

/**
 * Postings as every program before migration 8 kept them, migration 8 not applied (rebuilt with foreign keys
 * off, as the migrations rebuild tables).
 */
export const SQLITE_POSTINGS_BEFORE_V8 = `
PRAGMA foreign_keys = OFF;
BEGIN;
${SQLITE_POSTINGS_V6}
DELETE FROM schema_migrations WHERE version = 8;
COMMIT;`;

/**
 * The journal, its chain and postings as every program before migration 7 kept them: text ids, times and
 * hashes, postings keyed by entry (rebuilt with foreign keys off, as the migrations rebuild tables): what a
 * test turns a store back into to stand for one an older program wrote.
 */
export const SQLITE_JOURNAL_BEFORE_V7 = `
PRAGMA foreign_keys = OFF;
BEGIN;
${SQLITE_POSTINGS_V6}
${sqliteJournalTable("journal_v6", SQLITE_JOURNAL_TEXT)}
INSERT INTO journal_v6 SELECT entry,
  lower(substr(hex(transfer_id), 1, 8) || '-' || substr(hex(transfer_id), 9, 4) || '-' ||
    substr(hex(transfer_id), 13, 4) || '-' || substr(hex(transfer_id), 17, 4) || '-' || substr(hex(transfer_id), 21)),
  kind, identity, idempotency_key, source_account_id, target_account_id, amount_minor,
  strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'), original_entry, hold_id, reason
FROM journal ORDER BY entry;
DROP TABLE journal;
ALTER TABLE journal_v6 RENAME TO journal;
${JOURNAL_BY_ORIGINAL}
${sqliteChainTable("journal_chain_v6", SQLITE_CHAIN_HASH_TEXT)}
INSERT INTO journal_chain_v6 SELECT position, entry, lower(hex(hash)) FROM journal_chain ORDER BY position;
DROP TABLE journal_chain;
ALTER TABLE journal_chain_v6 RENAME TO journal_chain;
DELETE FROM schema_migrations WHERE version >= 7;
COMMIT;`;
