import { DatabaseSync } from "node:sqlite";
import { assertEquals, assertNotStrictEquals, assertThrows } from "@std/assert";
import { AccountsCache, CachedAccounts } from "./accounts_cache.ts";
import type { Account } from "./ledger.ts";
import { SqliteDatabase } from "./sqlite_database.ts";
import { SqliteLedger } from "./sqlite.ts";

function anAccount(id: string, fields: Partial<Account> = {}): Account {
  return {
    id,
    owner: "alice",
    kind: "customer",
    currency: "USD",
    balanceMinor: 100n,
    heldMinor: 0n,
    status: "open",
    createdAt: new Date(0),
    ...fields,
  };
}

async function withStore(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "accounts-cache-" });
  try {
    await fn(`${dir}/bank.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const AT = (version: number, nowMs = 1_000) => ({ version, nowMs });
const READ = (version: number, readAtMs = 1_000) => ({ version, readAtMs });

Deno.test("AccountsCache keeps at most its accounts, hands out copies and drops all at a new version", () => {
  const cache = new AccountsCache(3);
  assertEquals(cache.get("alice", AT(1)), undefined);
  cache.set("alice", READ(1), [anAccount("A1"), anAccount("A2")]);
  cache.set("bob", READ(1), [anAccount("B1", { owner: "bob" })]);
  assertEquals(cache.size, 2);
  cache.set("carol", READ(1), [anAccount("C1", { owner: "carol" })]);
  assertEquals(cache.size, 1, "a full cache starts again");
  assertEquals(cache.get("alice", AT(1)), undefined);
  cache.set("bob", READ(1), [anAccount("B1", { owner: "bob" })]);
  const kept = cache.get("bob", AT(1))!;
  kept[0]!.balanceMinor = 1n;
  kept[0]!.createdAt.setTime(5);
  assertEquals(
    cache.get("bob", AT(1))![0],
    anAccount("B1", { owner: "bob" }),
    "a caller's change stays its own",
  );
  assertNotStrictEquals(cache.get("bob", AT(1)), cache.get("bob", AT(1)));
  cache.set("alice", READ(0), [anAccount("A1")]);
  assertEquals(cache.get("alice", AT(1)), undefined, "a read from before the cache's version is not kept");
  cache.set("dave", READ(1), [anAccount("D1", { owner: "dave", heldMinor: 5n })]);
  assertEquals(cache.get("dave", AT(1)), undefined, "an account with active holds is not kept");
  assertEquals(cache.get("bob", AT(2)), undefined);
  assertEquals(cache.size, 0);
  assertThrows(() => cache.get("bob", AT(1)), Error, "never goes back");
  assertThrows(() => cache.set("bob", READ(2), [anAccount("A1")]), Error, "Only bob's accounts");
});

Deno.test("AccountsCache does not answer for a clock that stepped back before the read", () => {
  const cache = new AccountsCache(10);
  cache.get("alice", AT(1));
  cache.set("alice", READ(1, 5_000), [anAccount("A1")]);
  assertEquals(cache.get("alice", AT(1, 5_000))?.length, 1);
  assertEquals(cache.get("alice", AT(1, 4_999)), undefined, "an expired hold might count again then");
});

Deno.test("CachedAccounts reads again after a commit by this connection, another one, or another process", async () => {
  await withStore(async (path) => {
    const db = SqliteDatabase.open(path);
    db.exec("CREATE TABLE t (n INTEGER)");
    let reads = 0;
    const accounts = new CachedAccounts({
      db,
      cache: new AccountsCache(10),
      now: () => new Date(),
      read: (owner: string) => {
        reads += 1;
        return [anAccount("A1", { owner })];
      },
    });
    await accounts.accountsOf("alice");
    await accounts.accountsOf("alice");
    assertEquals(reads, 1, "nothing changed: the second check is answered from the cache");
    db.write(() => db.run("INSERT INTO t VALUES (1)"));
    await accounts.accountsOf("alice");
    assertEquals(reads, 2, "a write on this connection");
    const other = new DatabaseSync(path);
    other.exec("INSERT INTO t VALUES (2)");
    other.close();
    await accounts.accountsOf("alice");
    assertEquals(reads, 3, "a commit on another connection");
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `new (await import("node:sqlite")).DatabaseSync(${
          JSON.stringify(path)
        }).exec("INSERT INTO t VALUES (3)")`,
      ],
    }).output();
    assertEquals(child.code, 0, new TextDecoder().decode(child.stderr));
    await accounts.accountsOf("alice");
    assertEquals(reads, 4, "a commit by another process");
    await accounts.accountsOf("alice");
    assertEquals(reads, 4);
    const together = await Promise.all([accounts.accountsOf("alice"), accounts.accountsOf("bob")]);
    assertEquals(together.map((list) => list.length), [1, 1]);
    assertEquals(reads, 5, "checks that arrive together share one version; only bob's is read");
    db.close();
  });
});

Deno.test("SqliteDatabase refuses a statement that may write outside write(), which the change version counts", async () => {
  await withStore((path) => {
    const db = SqliteDatabase.open(path);
    try {
      db.exec("CREATE TABLE t (n INTEGER)");
      assertThrows(() => db.get("INSERT INTO t VALUES (1) RETURNING n"), Error, "inside write()");
      assertThrows(() => db.all("UPDATE t SET n = 2 RETURNING n"), Error, "inside write()");
      assertEquals(db.write(() => db.get("INSERT INTO t VALUES (1) RETURNING n")), { n: 1n });
      assertEquals(db.all("SELECT n, 'updated_at' AS updated FROM t"), [{ n: 1n, updated: "updated_at" }]);
    } finally {
      db.close();
    }
    return Promise.resolve();
  });
});

Deno.test("SqliteLedger: a balance check sees a transfer committed by another serving thread's connection", async () => {
  await withStore(async (path) => {
    const first = SqliteLedger.open(path);
    const second = SqliteLedger.open(path);
    try {
      await first.openAccount({ owner: "alice", id: "A1", depositMinor: 1_000n });
      await first.openAccount({ owner: "bob", id: "B1", depositMinor: 0n });
      for (let round = 1; round <= 3; round++) {
        assertEquals((await first.accountsOf("alice")).map((a) => a.balanceMinor), [
          1_000n - 10n * BigInt(round - 1),
        ]);
        assertEquals((await first.accountsOf("bob")).map((a) => a.balanceMinor), [10n * BigInt(round - 1)]);
        const moved = await second.transfer({
          identity: "alice",
          targetAccountId: "B1",
          amountMinor: 10n,
          idempotencyKey: `t${round}`,
        });
        assertEquals(moved.code, "ok");
      }
      assertEquals((await first.accountsOf("alice")).map((a) => a.balanceMinor), [970n]);
      assertEquals((await first.accountsOf("bob")).map((a) => a.balanceMinor), [30n]);
      assertEquals((await first.verify()).ok, true);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
