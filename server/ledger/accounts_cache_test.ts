import { DatabaseSync } from "node:sqlite";
import { assertEquals, assertNotStrictEquals } from "@std/assert";
import { AccountsCache, cachedAccounts } from "./accounts_cache.ts";
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

Deno.test("AccountsCache keeps at most its owners, hands out copies and drops all at a new version", () => {
  const cache = new AccountsCache(2);
  assertEquals(cache.get("alice", 1), undefined);
  cache.set("alice", 1, [anAccount("A1")]);
  cache.set("bob", 1, [anAccount("B1", { owner: "bob" })]);
  cache.set("carol", 1, [anAccount("C1", { owner: "carol" })]);
  assertEquals(cache.size, 2);
  assertEquals(cache.get("alice", 1), undefined, "the oldest owner made room");
  const kept = cache.get("bob", 1)!;
  kept[0]!.balanceMinor = 1n;
  assertEquals(cache.get("bob", 1)![0]!.balanceMinor, 100n, "a caller's change does not reach the cache");
  assertNotStrictEquals(cache.get("bob", 1), cache.get("bob", 1));
  cache.set("alice", 0, [anAccount("A1")]);
  assertEquals(cache.get("alice", 1), undefined, "a read from before the cache's version is not kept");
  cache.set("dave", 1, [anAccount("D1", { owner: "dave", heldMinor: 5n })]);
  assertEquals(cache.get("dave", 1), undefined, "an account with active holds is not kept");
  assertEquals(cache.get("bob", 2), undefined);
  assertEquals(cache.size, 0);
});

Deno.test("cachedAccounts reads again after a commit by this connection, another one, or another process", async () => {
  await withStore(async (path) => {
    const db = SqliteDatabase.open(path);
    db.exec("CREATE TABLE t (n INTEGER)");
    let reads = 0;
    const read = () => {
      reads += 1;
      return [anAccount("A1")];
    };
    const cache = new AccountsCache(10);
    await cachedAccounts(db, cache, "alice", read);
    await cachedAccounts(db, cache, "alice", read);
    assertEquals(reads, 1, "nothing changed: the second check is answered from the cache");
    db.write(() => db.run("INSERT INTO t VALUES (1)"));
    await cachedAccounts(db, cache, "alice", read);
    assertEquals(reads, 2, "a write on this connection");
    const other = new DatabaseSync(path);
    other.exec("INSERT INTO t VALUES (2)");
    other.close();
    await cachedAccounts(db, cache, "alice", read);
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
    await cachedAccounts(db, cache, "alice", read);
    assertEquals(reads, 4, "a commit by another process");
    await cachedAccounts(db, cache, "alice", read);
    assertEquals(reads, 4);
    db.close();
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
