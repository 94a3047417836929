/**
 * SQLite stores written by older programs, opened by this one: the journal before the chain (migration 4),
 * and the journal with text ids, times and hashes before migration 7. Each test makes a store with this
 * program, turns it back into the old shape with SQL, checks that the old shape holds what an old program
 * wrote, and opens it again.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { assert } from "../../lib/assert.ts";
import { toHex } from "../../lib/bytes.ts";
import { uuidText } from "../../lib/uuid.ts";
import { SqliteLedger } from "./sqlite.ts";
import { executeSqlite, SQLITE_JOURNAL_BEFORE_V7 } from "./testing.ts";

interface StoreRows {
  journal: Record<string, unknown>[];
  chain: Record<string, unknown>[];
  columns: unknown[];
  indexes: unknown[];
  versions: unknown[];
}

function readStore(path: string): StoreRows {
  const raw = new DatabaseSync(path);
  try {
    const all = (sql: string) => raw.prepare(sql).all();
    return {
      journal: all("SELECT * FROM journal ORDER BY entry"),
      chain: all("SELECT * FROM journal_chain ORDER BY position"),
      columns: all(
        "SELECT m.name AS tab, c.name, c.type FROM sqlite_schema m, pragma_table_info(m.name) c " +
          "WHERE m.name IN ('journal', 'journal_chain') ORDER BY m.name, c.cid",
      ),
      indexes: all(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('journal', 'journal_chain') " +
          "ORDER BY name",
      ),
      versions: all("SELECT version FROM schema_migrations ORDER BY version").map((row) => row.version),
    };
  } finally {
    raw.close();
  }
}

/**
 * A store with an entry of every kind (deposits, a transfer, a capture, a refund, an operator's reversal),
 * made by this program; returns its chain head.
 */
async function storeOfEveryKind(path: string): Promise<Uint8Array> {
  const ledger = SqliteLedger.open(path);
  try {
    await ledger.openAccount({ owner: "alice", id: "A1", depositMinor: 5_000n });
    await ledger.openAccount({ owner: "bob", id: "B1", depositMinor: 500n });
    const sent = await ledger.transfer({
      identity: "alice",
      targetAccountId: "B1",
      amountMinor: 1_000n,
      idempotencyKey: "t1",
    });
    assert(sent.code === "ok", `the transfer is accepted, got ${sent.code}`);
    const held = await ledger.hold({
      identity: "alice",
      targetAccountId: "B1",
      amountMinor: 300n,
      idempotencyKey: "h1",
      expiresInS: 3600,
    });
    assert(held.code === "ok", `the hold is placed, got ${held.code}`);
    assertEquals((await ledger.captureHold({ identity: "alice", holdId: held.hold.id })).code, "ok");
    const refund = {
      kind: "refund",
      identity: "bob",
      transferId: sent.transfer.id,
      idempotencyKey: "r1",
      amountMinor: 10n,
    } as const;
    assertEquals((await ledger.reverse(refund)).code, "ok");
    const reversal = {
      kind: "reversal",
      identity: "operator",
      transferId: sent.transfer.id,
      idempotencyKey: "v1",
      reason: "sent twice",
      amountMinor: 20n,
    } as const;
    assertEquals((await ledger.reverse(reversal)).code, "ok");
    return (await ledger.chainHead()).hash;
  } finally {
    await ledger.close();
  }
}

Deno.test("SqliteLedger.open() keeps every entry and hash of a store written before the journal was compact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  const path = `${dir}/bank.db`;
  try {
    const head = await storeOfEveryKind(path);
    const fresh = readStore(path);
    assertEquals(fresh.journal.length, 6);
    assert(fresh.journal.every((row) => row.transfer_id instanceof Uint8Array), "ids are kept as bytes");
    assert(fresh.journal.every((row) => typeof row.created_at === "number"), "times are milliseconds");
    assert(fresh.chain.every((row) => (row.hash as Uint8Array).length === 32), "hashes are 32 bytes");
    await executeSqlite(path, SQLITE_JOURNAL_BEFORE_V7);
    const old = readStore(path);
    // The old shape holds what the old program wrote: canonical UUIDs, toISOString() times, hex hashes.
    assertEquals(
      old.journal.map((row) => [row.transfer_id, row.created_at]),
      fresh.journal.map((row) => [
        uuidText(row.transfer_id as Uint8Array),
        new Date(row.created_at as number).toISOString(),
      ]),
    );
    assertEquals(old.chain.map((row) => row.hash), fresh.chain.map((row) => toHex(row.hash as Uint8Array)));
    assertEquals(old.versions, [1, 2, 3, 4, 5, 6]);
    const told: number[][] = [];
    const onMigrations = (pending: readonly { version: number }[]) =>
      told.push(pending.map((m) => m.version));
    const second = SqliteLedger.open(path, { onMigrations });
    const report = await second.verify();
    assertEquals([report.ok, report.problems, report.chain.links], [true, [], 6]);
    assertEquals((await second.chainHead()).hash, head, "every entry hashes as it did");
    const found = await second.findTransfer("alice", "t1");
    assertEquals(found?.id, uuidText(fresh.journal[2]!.transfer_id as Uint8Array));
    await second.close();
    await SqliteLedger.open(path, { onMigrations }).close();
    assertEquals(
      told,
      [[7, 8]],
      "told of migrations 7 and 8 before they ran, and of nothing on the next open",
    );
    assertEquals(
      readStore(path),
      fresh,
      "the same rows, columns and indexes as a store made by this program",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [what, damage, constraint] of [
    [
      "an id in upper case",
      "UPDATE journal SET transfer_id = upper(transfer_id) WHERE entry = 3",
      "transfer_id_is_a_uuid",
    ],
    [
      "an id that is no UUID",
      "UPDATE journal SET transfer_id = 'T-3' WHERE entry = 3",
      "transfer_id_is_a_uuid",
    ],
    [
      "a time not written by toISOString()",
      "UPDATE journal SET created_at = replace(replace(created_at, 'T', ' '), 'Z', '') WHERE entry = 4",
      "created_at_is_milliseconds",
    ],
    [
      "a time that is no time",
      "UPDATE journal SET created_at = 'yesterday' WHERE entry = 4",
      "created_at_is_milliseconds",
    ],
    [
      "a hash in upper case",
      "UPDATE journal_chain SET hash = upper(hash) WHERE position = 2",
      "hash_is_32_bytes",
    ],
  ] as const
) {
  Deno.test(`SqliteLedger.open() refuses to compact a journal holding ${what}, and changes nothing`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledger-" });
    const path = `${dir}/bank.db`;
    try {
      await storeOfEveryKind(path);
      await executeSqlite(path, `${SQLITE_JOURNAL_BEFORE_V7}; ${damage}`);
      const before = readStore(path);
      const error = await assertRejects(async () => await SqliteLedger.open(path).close());
      assertMatch(
        String((error as Error).message),
        new RegExp(`Migration 7 \\(compact journal\\) failed, nothing was changed: .*${constraint}`),
      );
      assertEquals(readStore(path), before, "the store is as it was");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("SqliteLedger.open() links a store journaled before the chain, once, when it applies the chain's migration", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  const path = `${dir}/bank.db`;
  try {
    const first = SqliteLedger.open(path);
    await first.openAccount({ owner: "alice", id: "A1", depositMinor: 500n });
    await first.openAccount({ owner: "bob", id: "B1", depositMinor: 500n });
    await first.transfer({
      identity: "alice",
      targetAccountId: "B1",
      amountMinor: 5n,
      idempotencyKey: "old",
    });
    const head = await first.chainHead();
    await first.close();
    // The store as a program before the chain left it: text columns, no chain table, migration 4 not applied.
    await executeSqlite(
      path,
      `${SQLITE_JOURNAL_BEFORE_V7}; DROP TABLE journal_chain; DELETE FROM schema_migrations WHERE version = 4`,
    );
    const second = SqliteLedger.open(path);
    const report = await second.verify();
    assertEquals([report.ok, report.chain.links], [true, 3]);
    assertEquals((await second.chainHead()).hash, head.hash, "linked in the same order, to the same hashes");
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
