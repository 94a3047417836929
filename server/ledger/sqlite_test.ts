import { DatabaseSync } from "node:sqlite";
import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import { CHAIN_CASES } from "./_chain_cases.ts";
import { LEDGER_CASES, TestClock } from "./_ledger_cases.ts";
import { HOLD_CASES } from "./_hold_cases.ts";
import { STATEMENT_CASES } from "./_statement_cases.ts";
import { MIGRATIONS } from "./schema.ts";
import { SqliteLedger } from "./sqlite.ts";
import { SqliteDatabase } from "./sqlite_database.ts";
import { executeSqlite, SQLITE_POSTINGS_BEFORE_V8 } from "./testing.ts";

for (const ledgerCase of [...LEDGER_CASES, ...CHAIN_CASES, ...HOLD_CASES, ...STATEMENT_CASES]) {
  Deno.test(`SqliteLedger: ${ledgerCase.name}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledger-" });
    const path = `${dir}/bank.db`;
    const clock = new TestClock();
    const ledger = SqliteLedger.open(path, { now: () => clock.now() });
    try {
      await ledgerCase.fn({
        ledger,
        clock,
        execute: (sql) => executeSqlite(path, sql),
        dialect: "sqlite",
        [Symbol.asyncDispose]: () => ledger.close(),
      });
    } finally {
      await ledger.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("SqliteLedger.open() keeps data across reopening and applies migrations once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  try {
    const first = SqliteLedger.open(`${dir}/bank.db`);
    await first.openAccount({ owner: "alice", id: "A1", depositMinor: 500n });
    await first.close();
    const second = SqliteLedger.open(`${dir}/bank.db`);
    assertEquals((await second.accountsOf("alice")).map((a) => a.balanceMinor), [500n]);
    assertEquals((await second.verify()).ok, true);
    await second.close();
    const raw = new DatabaseSync(`${dir}/bank.db`);
    assertEquals(raw.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get(), { n: MIGRATIONS.length });
    assertEquals(raw.prepare("PRAGMA journal_mode").get(), { journal_mode: "wal" });
    raw.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteLedger.transfer() shares one commit among transfers that arrive together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  try {
    const ledger = SqliteLedger.open(`${dir}/bank.db`);
    await ledger.openAccount({ owner: "alice", id: "A1", depositMinor: 1_000n });
    await ledger.openAccount({ owner: "bob", id: "B1", depositMinor: 0n });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        ledger.transfer({
          identity: "alice",
          targetAccountId: "B1",
          amountMinor: 7n,
          idempotencyKey: `g${index}`,
        })),
    );
    const accepted = results.filter((result) => result.code === "ok").length;
    assertEquals(accepted, 142, "1000 / 7 transfers fit; the rest are refused without failing their batch");
    assertEquals(results.filter((result) => result.code === "insufficient_funds").length, 58);
    const { batches, writes } = ledger.groupCommitStats;
    assertEquals(writes, 200);
    assertEquals(batches < 20, true, `${batches} commits for 200 transfers`);
    assertEquals((await ledger.verify()).ok, true);
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteLedger.open() refuses a store written by a newer program, with a message saying so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  try {
    await SqliteLedger.open(`${dir}/bank.db`).close();
    const raw = new DatabaseSync(`${dir}/bank.db`);
    raw.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 'x')");
    raw.close();
    const error = assertThrows(() => SqliteLedger.open(`${dir}/bank.db`), Error);
    assertMatch(error.message, /SQLite ledger has schema version 99, newer than this program's \d+/);
    assertEquals(isAssertionFailure(error), false, "an operating error, not a broken invariant");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Postings as every program before migration 6 stored them: a rowid table beside its primary key's index;
 * migrations 6 and 8, which rebuild postings, not applied.
 */
const POSTINGS_BEFORE_V6 = `
CREATE TABLE postings_v5 (
  entry        BIGINT NOT NULL REFERENCES journal (entry),
  account_id   TEXT NOT NULL REFERENCES accounts (id),
  amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
  PRIMARY KEY (entry, account_id)
);
INSERT INTO postings_v5 (entry, account_id, amount_minor) SELECT entry, account_id, amount_minor FROM postings;
DROP TABLE postings;
ALTER TABLE postings_v5 RENAME TO postings;
CREATE INDEX postings_by_account ON postings (account_id, entry);
DELETE FROM schema_migrations WHERE version IN (6, 8)`;

interface PostingsShape {
  rows: unknown[];
  postingsSql: unknown;
  indexes: unknown[];
  key: unknown[];
}

function readPostings(path: string): PostingsShape {
  const raw = new DatabaseSync(path);
  try {
    return {
      rows: raw.prepare("SELECT entry, account_id, amount_minor FROM postings ORDER BY entry, account_id")
        .all(),
      postingsSql: raw.prepare("SELECT sql FROM sqlite_schema WHERE name = 'postings'").get()?.sql,
      indexes: raw.prepare("SELECT name FROM pragma_index_list('postings') ORDER BY name").all(),
      key: raw.prepare("SELECT name FROM pragma_index_info('sqlite_autoindex_postings_1') ORDER BY seqno")
        .all(),
    };
  } finally {
    raw.close();
  }
}

/** A store with deposits, three transfers and a refund, made by this program; returns its chain head. */
async function storeWithRefund(path: string): Promise<Uint8Array> {
  const first = SqliteLedger.open(path);
  try {
    await first.openAccount({ owner: "alice", id: "A1", depositMinor: 5_000n });
    await first.openAccount({ owner: "bob", id: "B1", depositMinor: 500n });
    const transferIds: string[] = [];
    for (const [index, amountMinor] of [7n, 1_000n, 42n].entries()) {
      const sent = await first.transfer({
        identity: "alice",
        targetAccountId: "B1",
        amountMinor,
        idempotencyKey: `old-${index}`,
      });
      assert(sent.code === "ok", `transfer ${index} is accepted, got ${sent.code}`);
      transferIds.push(sent.transfer.id);
    }
    const refund = {
      kind: "refund",
      identity: "bob",
      transferId: transferIds[1]!,
      idempotencyKey: "r1",
    } as const;
    assertEquals((await first.reverse({ ...refund, amountMinor: 10n })).code, "ok");
    return (await first.chainHead()).hash;
  } finally {
    await first.close();
  }
}

/** Older shapes of postings a store may hold, each as a test turns a fresh store back into it. */
const OLD_POSTINGS = [
  {
    before: "postings lost their rowid",
    sql: POSTINGS_BEFORE_V6,
    // A rowid table, beside its primary key's index and postings_by_account.
    isOld: (old: PostingsShape) => !/WITHOUT ROWID/.test(String(old.postingsSql)) && old.indexes.length === 2,
  },
  {
    before: "postings were keyed by account",
    sql: SQLITE_POSTINGS_BEFORE_V8,
    // Keyed by entry, every posting kept again in postings_by_account.
    isOld: (old: PostingsShape) =>
      /PRIMARY KEY \(entry, account_id\)/.test(String(old.postingsSql)) &&
      old.indexes.length === 2,
  },
];

for (const shape of OLD_POSTINGS) {
  Deno.test(`SqliteLedger.open() keeps every posting of a store written before ${shape.before}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledger-" });
    const path = `${dir}/bank.db`;
    try {
      const head = await storeWithRefund(path);
      const fresh = readPostings(path);
      assertMatch(String(fresh.postingsSql), /PRIMARY KEY \(account_id, entry\)\n\) WITHOUT ROWID$/);
      assertEquals(fresh.indexes.length, 1, "the key's index alone");
      await executeSqlite(path, shape.sql);
      const old = readPostings(path);
      assertEquals(old.rows, fresh.rows);
      assert(shape.isOld(old), "the fixture has the old shape");
      const second = SqliteLedger.open(path);
      const report = await second.verify();
      assertEquals([report.ok, report.problems, report.chain.links], [true, [], 6]);
      assertEquals((await second.chainHead()).hash, head, "every entry hashes as it did");
      await second.close();
      const migrated = readPostings(path);
      assertEquals(migrated.rows.length, 12, "two postings for each of 6 entries");
      assertEquals(migrated, fresh, "the same postings, table and indexes as a store made by this program");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("SqliteDatabase.withPageCache() sizes the connection's page cache for its work, then gives it back", () => {
  const db = SqliteDatabase.open(":memory:");
  try {
    const cacheSize = () => db.get("PRAGMA cache_size")?.cache_size;
    const before = cacheSize();
    assertEquals(db.withPageCache(64, cacheSize), -64n * 1024n, "64 MiB, as SQLite counts KiB");
    assertEquals(cacheSize(), before);
    assertThrows(() => db.withPageCache(8, () => assert(false, "the work fails")), Error, "the work fails");
    assertEquals(cacheSize(), before, "given back when the work throws too");
    assertThrows(() => db.withPageCache(0, cacheSize), Error, "whole number from 1");
  } finally {
    db.close();
  }
});
