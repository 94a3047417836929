import { DatabaseSync } from "node:sqlite";
import { assertEquals } from "@std/assert";
import { LEDGER_CASES } from "./_ledger_cases.ts";
import { MIGRATIONS } from "./schema.ts";
import { SqliteLedger } from "./sqlite.ts";
import { executeSqlite } from "./testing.ts";

for (const ledgerCase of LEDGER_CASES) {
  Deno.test(`SqliteLedger: ${ledgerCase.name}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledger-" });
    const path = `${dir}/bank.db`;
    const ledger = SqliteLedger.open(path);
    try {
      await ledgerCase.fn({
        ledger,
        execute: (sql) => executeSqlite(path, sql),
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

Deno.test("SqliteLedger.transfer(): a transfer the database refuses fails alone, not its batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  const path = `${dir}/bank.db`;
  try {
    const ledger = SqliteLedger.open(path);
    await ledger.openAccount({ owner: "alice", id: "A1", depositMinor: 1_000n });
    await ledger.openAccount({ owner: "bob", id: "B1", depositMinor: 0n });
    // A rule the shared judgement does not know, so only the database refuses the poisoned key.
    await executeSqlite(
      path,
      "CREATE TRIGGER test_poison BEFORE INSERT ON journal WHEN NEW.idempotency_key = 'poison' " +
        "BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
    );
    const keys = ["k1", "k2", "poison", "k3", "k4"];
    const results = await Promise.allSettled(
      keys.map((idempotencyKey) =>
        ledger.transfer({ identity: "alice", targetAccountId: "B1", amountMinor: 10n, idempotencyKey })
      ),
    );
    assertEquals(
      results.map((result) => result.status === "fulfilled" ? result.value.code : "error"),
      ["ok", "ok", "error", "ok", "ok"],
    );
    assertEquals(ledger.groupCommitStats.batches, 1, "the five arrived together");
    assertEquals((await ledger.accountsOf("bob"))[0]?.balanceMinor, 40n);
    assertEquals(await ledger.findTransfer("alice", "poison"), null);
    assertEquals((await ledger.verify()).problems, []);
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteLedger.updateContact(): updates sent together are group-committed in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-" });
  try {
    const ledger = SqliteLedger.open(`${dir}/bank.db`);
    const results = await Promise.all([
      ledger.updateContact("alice", { email: "a@example.com" }),
      ledger.updateContact("alice", { email: "a@example.com" }),
      ledger.updateContact("alice", { email: "b@example.com" }),
      ledger.updateContact("alice", { phone: "+1 555 0100" }),
      ledger.updateContact("bob", { address: "1 Main St" }),
    ]);
    assertEquals(results.map((result) => result.changed), [["email"], [], ["email"], ["phone"], ["address"]]);
    const history = await ledger.contactHistory("alice", { limit: 10 });
    assertEquals(history.map((change) => change.changed), [["phone"], ["email"], ["email"]]);
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
