/**
 * The ledger's schema, as versioned migrations applied in order at startup. Both stores get the same
 * tables, columns and constraints; only the dialect differs. A migration, once shipped, never changes:
 * a new version is added instead.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
  /**
   * SQLite rebuilds a table (the way SQLite changes a table's shape): foreign keys are off meanwhile, and the
   * whole database is checked for dangling references before commit.
   */
  foreignKeysOff?: boolean;
}

const V1_TABLES = (dialect: "sqlite" | "postgres") => {
  const serial = dialect === "sqlite" ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  const sequence = dialect === "sqlite" ? "INTEGER" : "BIGSERIAL";
  const time = dialect === "sqlite" ? "TEXT" : "TIMESTAMPTZ";
  const now = dialect === "sqlite" ? "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" : "now()";
  // Ids compare byte by byte in both stores (SQLite's default), so pages and lock order agree.
  const id = dialect === "sqlite" ? "TEXT" : 'TEXT COLLATE "C"';
  return `
CREATE TABLE accounts (
  id            ${id} PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 32),
  seq           ${sequence} NOT NULL UNIQUE,
  owner         ${id} NOT NULL CHECK (length(owner) BETWEEN 1 AND 64),
  kind          TEXT NOT NULL CHECK (kind IN ('customer', 'system')),
  currency      TEXT NOT NULL CHECK (currency = 'USD'),
  balance_minor BIGINT NOT NULL CHECK (kind = 'system' OR balance_minor >= 0),
  status        TEXT NOT NULL CHECK (status IN ('open', 'frozen')),
  created_at    ${time} NOT NULL
);
CREATE INDEX accounts_by_owner ON accounts (owner, seq);

CREATE TABLE journal (
  entry             ${serial},
  transfer_id       TEXT NOT NULL UNIQUE,
  kind              TEXT NOT NULL CHECK (kind IN ('deposit', 'transfer')),
  identity          TEXT NOT NULL,
  idempotency_key   TEXT NOT NULL,
  source_account_id ${id} NOT NULL REFERENCES accounts (id),
  target_account_id ${id} NOT NULL REFERENCES accounts (id),
  amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
  created_at        ${time} NOT NULL,
  CHECK (source_account_id <> target_account_id),
  UNIQUE (identity, idempotency_key)
);

CREATE TABLE postings (
  entry        BIGINT NOT NULL REFERENCES journal (entry),
  account_id   ${id} NOT NULL REFERENCES accounts (id),
  amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
  PRIMARY KEY (entry, account_id)
);
CREATE INDEX postings_by_account ON postings (account_id, entry);

CREATE TABLE contacts (
  owner      TEXT PRIMARY KEY,
  email      TEXT,
  phone      TEXT,
  address    TEXT,
  updated_at ${time} NOT NULL
);

CREATE TABLE contact_changes (
  id         ${serial},
  owner      TEXT NOT NULL,
  fields     TEXT NOT NULL,
  email      TEXT,
  phone      TEXT,
  address    TEXT,
  changed_at ${time} NOT NULL
);
CREATE INDEX contact_changes_by_owner ON contact_changes (owner, id);

INSERT INTO accounts (id, seq, owner, kind, currency, balance_minor, status, created_at)
VALUES ('EXTERNAL', 0, 'bank', 'system', 'USD', 0, 'open', ${now});
`;
};

const V2_IDENTITIES = (dialect: "sqlite" | "postgres") => {
  const time = dialect === "sqlite" ? "TEXT" : "TIMESTAMPTZ";
  const name = dialect === "sqlite" ? "TEXT" : 'TEXT COLLATE "C"';
  return `
CREATE TABLE identities (
  name       ${name} PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  auth_key   TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  generation BIGINT NOT NULL CHECK (generation >= 1),
  change_seq BIGINT NOT NULL UNIQUE,
  created_at ${time} NOT NULL,
  updated_at ${time} NOT NULL
);
`;
};

/**
 * Version 2 of the handshake: the store keeps public keys only. The v1 auth keys (enough to impersonate
 * every client) are dropped; an identity without a key cannot authenticate until one is added.
 */
const V3_IDENTITY_KEYS = (dialect: "sqlite" | "postgres") => {
  const time = dialect === "sqlite" ? "TEXT" : "TIMESTAMPTZ";
  const name = dialect === "sqlite" ? "TEXT" : 'TEXT COLLATE "C"';
  return `
ALTER TABLE identities DROP COLUMN auth_key;
CREATE TABLE identity_keys (
  identity      ${name} NOT NULL REFERENCES identities (name),
  key_id        ${name} NOT NULL CHECK (length(key_id) = 32),
  public_key    ${name} NOT NULL UNIQUE CHECK (length(public_key) = 43),
  kind          TEXT NOT NULL CHECK (kind IN ('device', 'invite')),
  status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  expires_at    ${time},
  attempts_left INTEGER CHECK (attempts_left >= 0),
  created_at    ${time} NOT NULL,
  updated_at    ${time} NOT NULL,
  PRIMARY KEY (identity, key_id),
  CHECK ((kind = 'invite') = (expires_at IS NOT NULL AND attempts_left IS NOT NULL))
);
`;
};

/**
 * The journal's hash chain (server/ledger/chain.ts): one link per entry, in commit order. Entries journaled
 * before it are linked when the store opens.
 */
const V4_JOURNAL_CHAIN = (dialect: "sqlite" | "postgres") => {
  const position = dialect === "sqlite"
    ? "INTEGER PRIMARY KEY CHECK (position >= 1)"
    : "BIGINT PRIMARY KEY CHECK (position >= 1)";
  return `
CREATE TABLE journal_chain (
  position ${position},
  entry    BIGINT NOT NULL UNIQUE REFERENCES journal (entry),
  hash     TEXT NOT NULL CHECK (length(hash) = 64)
);
`;
};

/** The most characters an operator's reason for a reversal may have. */
export const REVERSAL_REASON_CHARS_MAX = 200;

/** The journal's kinds from migration 5 on. */
const JOURNAL_KINDS = "kind IN ('deposit', 'transfer', 'capture', 'reversal', 'refund')";
/** How a journal row's kind, links and reason agree, from migration 5 on. */
const JOURNAL_LINKS = `CHECK ((kind IN ('reversal', 'refund')) = (original_entry IS NOT NULL)),
  CHECK ((kind = 'capture') = (hold_id IS NOT NULL)),
  CHECK (reason IS NULL OR (kind = 'reversal' AND length(reason) BETWEEN 1 AND ${REVERSAL_REASON_CHARS_MAX}))`;

/** How SQLite's journal keeps a transfer id and a time: text (migrations 5 and 6), or compact (7 on). */
export interface SqliteJournalForm {
  transferId: string;
  createdAt: string;
}

export const SQLITE_JOURNAL_TEXT: SqliteJournalForm = {
  transferId: "TEXT NOT NULL UNIQUE",
  createdAt: "TEXT NOT NULL",
};

/** SQLite's journal table `name` (rebuilt under it, then renamed), its id and time in `form`. */
export function sqliteJournalTable(name: string, form: SqliteJournalForm): string {
  return `CREATE TABLE ${name} (
  entry             INTEGER PRIMARY KEY AUTOINCREMENT,
  transfer_id       ${form.transferId},
  kind              TEXT NOT NULL CHECK (${JOURNAL_KINDS}),
  identity          TEXT NOT NULL,
  idempotency_key   TEXT NOT NULL,
  source_account_id TEXT NOT NULL REFERENCES accounts (id),
  target_account_id TEXT NOT NULL REFERENCES accounts (id),
  amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
  created_at        ${form.createdAt},
  original_entry    BIGINT REFERENCES journal (entry),
  hold_id           TEXT REFERENCES holds (hold_id),
  reason            TEXT,
  CHECK (source_account_id <> target_account_id),
  ${JOURNAL_LINKS},
  UNIQUE (identity, idempotency_key)
);`;
}

/** The index of reversals and refunds by the entry they undo. */
export const JOURNAL_BY_ORIGINAL =
  `CREATE INDEX journal_by_original ON journal (original_entry) WHERE original_entry IS NOT NULL;`;

/**
 * Holds (two-phase transfers) and reversals. A hold reserves money in its source account until it is
 * captured (a `capture` entry), voided, or expires; a `reversal` (by an operator) or `refund` (by the
 * recipient) is an entry linked to the one it undoes. The journal gains the kinds and links; SQLite cannot
 * change a CHECK in place, so its journal is rebuilt (with foreign keys off: see `foreignKeysOff`).
 */
const V5_HOLDS_AND_REVERSALS = (dialect: "sqlite" | "postgres") => {
  const time = dialect === "sqlite" ? "TEXT" : "TIMESTAMPTZ";
  const id = dialect === "sqlite" ? "TEXT" : 'TEXT COLLATE "C"';
  const holds = `
CREATE TABLE holds (
  hold_id           TEXT PRIMARY KEY,
  identity          TEXT NOT NULL,
  idempotency_key   TEXT NOT NULL,
  source_account_id ${id} NOT NULL REFERENCES accounts (id),
  target_account_id ${id} NOT NULL REFERENCES accounts (id),
  amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
  status            TEXT NOT NULL CHECK (status IN ('pending', 'captured', 'voided')),
  expires_at        ${time} NOT NULL,
  created_at        ${time} NOT NULL,
  settled_at        ${time},
  capture_entry     BIGINT UNIQUE REFERENCES journal (entry),
  CHECK (source_account_id <> target_account_id),
  CHECK ((status = 'captured') = (capture_entry IS NOT NULL)),
  CHECK ((status = 'pending') = (settled_at IS NULL)),
  UNIQUE (identity, idempotency_key)
);
CREATE INDEX holds_pending ON holds (source_account_id, expires_at) WHERE status = 'pending';
`;
  if (dialect === "postgres") {
    return `${holds}
ALTER TABLE journal DROP CONSTRAINT journal_kind_check;
ALTER TABLE journal ADD COLUMN original_entry BIGINT REFERENCES journal (entry),
  ADD COLUMN hold_id TEXT REFERENCES holds (hold_id),
  ADD COLUMN reason TEXT,
  ADD CONSTRAINT journal_kind_check CHECK (${JOURNAL_KINDS}),
  ADD ${JOURNAL_LINKS.replaceAll("\n  CHECK", "\n  ADD CHECK")};
${JOURNAL_BY_ORIGINAL}
`;
  }
  return `${holds}
${sqliteJournalTable("journal_v5", SQLITE_JOURNAL_TEXT)}
INSERT INTO journal_v5 (entry, transfer_id, kind, identity, idempotency_key, source_account_id,
  target_account_id, amount_minor, created_at)
SELECT entry, transfer_id, kind, identity, idempotency_key, source_account_id, target_account_id,
  amount_minor, created_at FROM journal;
DROP TABLE journal;
ALTER TABLE journal_v5 RENAME TO journal;
${JOURNAL_BY_ORIGINAL}
`;
};

/** SQLite's postings rebuilt WITHOUT ROWID under `name`, keyed by `key`, then renamed (migrations 6 and 8). */
function sqlitePostingsRebuild(name: string, key: string): string {
  return `
CREATE TABLE ${name} (
  entry        BIGINT NOT NULL REFERENCES journal (entry),
  account_id   TEXT NOT NULL REFERENCES accounts (id),
  amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
  PRIMARY KEY (${key})
) WITHOUT ROWID;
INSERT INTO ${name} (entry, account_id, amount_minor)
SELECT entry, account_id, amount_minor FROM postings ORDER BY ${key};
DROP TABLE postings;
ALTER TABLE ${name} RENAME TO postings;
`;
}

/**
 * Smaller entries on SQLite: postings become a WITHOUT ROWID table, stored in its primary key's b-tree
 * (entry, account_id) instead of a rowid table plus that key's index, which held every posting twice.
 * `postings_by_account` gains the amount, so that sums by account (`ledger verify`, a statement's balance
 * after each posting) read the index alone; it costs no more space, as the index holds the key already.
 * Columns, constraints and foreign keys stay, and the rows are copied unchanged, so no hash of the chain
 * changes. SQLite cannot drop a table's rowid in place, so postings are rebuilt (with
 * foreign keys off, then checked: see `foreignKeysOff`). PostgreSQL keeps its table (a heap and its
 * primary-key index: there is no rowid to drop), so its half changes nothing.
 */
const V6_POSTINGS_WITHOUT_ROWID = {
  sqlite: `${
    sqlitePostingsRebuild("postings_v6", "entry, account_id")
  }CREATE INDEX postings_by_account ON postings (account_id, entry, amount_minor);
`,
  postgres: "SELECT 1 AS postgres_keeps_postings",
};

/** A GLOB matching `digits` lower-case hex digits. */
const hexGlob = (digits: number) => "[0-9a-f]".repeat(digits);
/** A GLOB matching a UUID in canonical text form (the only form the ledger ever made). */
const UUID_GLOB = [8, 4, 4, 4, 12].map(hexGlob).join("-");

/** SQLite's chain table `name` (rebuilt under it, then renamed), its hash kept as `hash`. */
export function sqliteChainTable(name: string, hash: string): string {
  return `CREATE TABLE ${name} (
  position INTEGER PRIMARY KEY CHECK (position >= 1),
  entry    BIGINT NOT NULL UNIQUE REFERENCES journal (entry),
  hash     ${hash}
);`;
}

/** A chain hash as 64 hex digits (migrations 4 to 6). */
export const SQLITE_CHAIN_HASH_TEXT = "TEXT NOT NULL CHECK (length(hash) = 64)";
const SQLITE_CHAIN_HASH_BYTES =
  "BLOB NOT NULL CONSTRAINT hash_is_32_bytes CHECK (typeof(hash) = 'blob' AND length(hash) = 32)";

const SQLITE_JOURNAL_COMPACT: SqliteJournalForm = {
  transferId: `BLOB NOT NULL UNIQUE
    CONSTRAINT transfer_id_is_a_uuid CHECK (typeof(transfer_id) = 'blob' AND length(transfer_id) = 16)`,
  createdAt: "INTEGER NOT NULL CONSTRAINT created_at_is_milliseconds CHECK (typeof(created_at) = 'integer')",
};

/**
 * Smaller entries on SQLite: a transfer id becomes its 16 bytes (in the journal and in its unique index),
 * a journal time whole milliseconds since the epoch (an integer of 6 bytes instead of 24 characters), and
 * a chain hash its 32 bytes instead of 64 hex digits. Clients, receipts and the chain's encoding see the
 * same text as before (columns.ts converts), so no hash changes; `ledger verify` after the migration
 * proves it. A value the ledger could not have written (an id not in canonical form, a time that does not
 * come back as the same text) is copied as it was, so that its table's CHECK names it and the migration
 * stops with nothing changed. The journal and the chain are rebuilt (with foreign keys off, then checked:
 * see `foreignKeysOff`). PostgreSQL keeps its columns (native timestamps; its half changes nothing).
 */
const V7_COMPACT_JOURNAL = {
  sqlite: `
${sqliteJournalTable("journal_v7", SQLITE_JOURNAL_COMPACT)}
INSERT INTO journal_v7 (entry, transfer_id, kind, identity, idempotency_key, source_account_id,
  target_account_id, amount_minor, created_at, original_entry, hold_id, reason)
SELECT entry,
  CASE WHEN transfer_id GLOB '${UUID_GLOB}' THEN unhex(replace(transfer_id, '-', '')) ELSE transfer_id END,
  kind, identity, idempotency_key, source_account_id, target_account_id, amount_minor,
  CASE WHEN strftime('%Y-%m-%dT%H:%M:%S', ms / 1000, 'unixepoch') || printf('.%03dZ', ms % 1000) = created_at
    THEN ms ELSE created_at END,
  original_entry, hold_id, reason
FROM (SELECT *, CAST(strftime('%s', created_at) AS INTEGER) * 1000 + CAST(substr(created_at, 21, 3) AS INTEGER)
    AS ms FROM journal)
ORDER BY entry;
DROP TABLE journal;
ALTER TABLE journal_v7 RENAME TO journal;
${JOURNAL_BY_ORIGINAL}

${sqliteChainTable("journal_chain_v7", SQLITE_CHAIN_HASH_BYTES)}
INSERT INTO journal_chain_v7 (position, entry, hash)
SELECT position, entry, CASE WHEN hash GLOB '${hexGlob(64)}' THEN unhex(hash) ELSE hash END
FROM journal_chain ORDER BY position;
DROP TABLE journal_chain;
ALTER TABLE journal_chain_v7 RENAME TO journal_chain;
`,
  postgres: "SELECT 1 AS postgres_keeps_its_journal",
};

/**
 * Smaller entries on SQLite, no posting kept twice: postings become a WITHOUT ROWID table keyed by
 * (account_id, entry), the order a statement and an account's sum read them in, and `postings_by_account`,
 * which held every posting a second time in that order, goes. An entry's postings are found through its
 * journal row instead (its source and target accounts, two lookups of the key). Columns (in their order),
 * constraints and foreign keys stay, and the rows are copied unchanged, so no hash of the chain changes.
 * SQLite cannot change a table's key in place, so postings are rebuilt (with foreign keys off, then checked:
 * see `foreignKeysOff`). PostgreSQL keeps its heap and both indexes (its half changes nothing).
 */
const V8_POSTINGS_BY_ACCOUNT = {
  sqlite: sqlitePostingsRebuild("postings_v8", "account_id, entry"),
  postgres: "SELECT 1 AS postgres_keeps_postings",
};

/** Every migration, oldest first. Versions are consecutive from 1. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "accounts, journal, postings, contacts",
    sqlite: V1_TABLES("sqlite"),
    postgres: V1_TABLES("postgres"),
  },
  { version: 2, name: "identities", sqlite: V2_IDENTITIES("sqlite"), postgres: V2_IDENTITIES("postgres") },
  {
    version: 3,
    name: "identity public keys",
    sqlite: V3_IDENTITY_KEYS("sqlite"),
    postgres: V3_IDENTITY_KEYS("postgres"),
  },
  {
    version: 4,
    name: "journal hash chain",
    sqlite: V4_JOURNAL_CHAIN("sqlite"),
    postgres: V4_JOURNAL_CHAIN("postgres"),
  },
  {
    version: 5,
    name: "holds and reversals",
    sqlite: V5_HOLDS_AND_REVERSALS("sqlite"),
    postgres: V5_HOLDS_AND_REVERSALS("postgres"),
    foreignKeysOff: true,
  },
  {
    version: 6,
    name: "postings without rowid",
    sqlite: V6_POSTINGS_WITHOUT_ROWID.sqlite,
    postgres: V6_POSTINGS_WITHOUT_ROWID.postgres,
    foreignKeysOff: true,
  },
  {
    version: 7,
    name: "compact journal",
    sqlite: V7_COMPACT_JOURNAL.sqlite,
    postgres: V7_COMPACT_JOURNAL.postgres,
    foreignKeysOff: true,
  },
  {
    version: 8,
    name: "postings by account",
    sqlite: V8_POSTINGS_BY_ACCOUNT.sqlite,
    postgres: V8_POSTINGS_BY_ACCOUNT.postgres,
    foreignKeysOff: true,
  },
];

MIGRATIONS.forEach((migration, index) => {
  assert(migration.version === index + 1, `Migration ${migration.version} must be number ${index + 1}`);
});

/** The migration that created the chain: a store that applies it links the entries it journaled before. */
export const CHAIN_MIGRATION = 4;
assert(
  MIGRATIONS[CHAIN_MIGRATION - 1]?.name === "journal hash chain",
  "The chain's migration keeps its number",
);

/** The table that records which migrations a database has. */
export const MIGRATIONS_TABLE = "schema_migrations";

/** The store holds a schema newer than this program: an operating error, not a bug (say which to run). */
export class SchemaTooNewError extends Error {
  override name = "SchemaTooNewError";
}

/**
 * The migrations a store still needs, given the versions it has applied; throws {@link SchemaTooNewError}
 * when the store was written by a newer program.
 */
export function planMigrations(applied: readonly number[], store: string): Migration[] {
  const newest = Math.max(0, ...applied);
  if (newest > MIGRATIONS.length) {
    throw new SchemaTooNewError(
      `The ${store} ledger has schema version ${newest}, newer than this program's ${MIGRATIONS.length}: ` +
        `run the bank-server that wrote it, or a newer one`,
    );
  }
  return MIGRATIONS.filter((migration) => !applied.includes(migration.version));
}
