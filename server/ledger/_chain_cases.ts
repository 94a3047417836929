/**
 * The journal's hash chain, in the behaviour suite every store passes: it follows every write (deposits,
 * single transfers, batches), verifies, names the first entry a consistent rewrite changed, and the first
 * entry a dropped chain leaves unlinked.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { assert } from "../../lib/assert.ts";
import { formatHash } from "./chain.ts";
import type { LedgerCase } from "./_ledger_cases.ts";
import type { TransferInput } from "./ledger.ts";

function transfer(amountMinor: bigint, key: string): TransferInput {
  return { identity: "alice", targetAccountId: "B1", amountMinor, idempotencyKey: key };
}

export const CHAIN_CASES: readonly LedgerCase[] = [
  {
    name: "the hash chain links every entry in commit order, batches included, and verifies",
    async fn({ ledger }) {
      const empty = await ledger.chainHead();
      assertEquals([empty.position, empty.entry, formatHash(empty.hash)], [0n, null, "0".repeat(64)]);
      for (const [owner, id] of [["alice", "A1"], ["bob", "B1"]] as const) {
        assertEquals((await ledger.openAccount({ owner, id, depositMinor: 10_000n })).code, "ok");
      }
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => ledger.transfer(transfer(BigInt(index + 1), `c${index}`))),
      );
      assert(results.every((result) => result.code === "ok"), "every transfer is accepted");
      const replay = await ledger.transfer(transfer(1n, "c0"));
      assertEquals(replay.code, "exists", "a replay adds no link");
      const report = await ledger.verify();
      assertEquals(report.problems, []);
      assertEquals([report.entries, report.chain.links], [22, 22]);
      const head = await ledger.chainHead();
      assertEquals(head.position, 22n);
      assertEquals(formatHash(head.hash), formatHash(report.chain.head.hash));
    },
  },
  {
    name:
      "verify() names the entry a consistent rewrite changed, and entries a dropped chain leaves unlinked",
    async fn({ ledger, execute }) {
      for (const [owner, id] of [["alice", "A1"], ["bob", "B1"]] as const) {
        assertEquals((await ledger.openAccount({ owner, id, depositMinor: 10_000n })).code, "ok");
      }
      for (let index = 0; index < 5; index++) {
        assertEquals((await ledger.transfer(transfer(100n, `r${index}`))).code, "ok");
      }
      const found = await ledger.findTransfer("alice", "r1");
      assert(found !== null, "r1 is journaled");
      // Everything a careless auditor checks agrees afterwards: postings, balances and their sum.
      const r1 = "identity = 'alice' AND idempotency_key = 'r1'";
      await execute(`UPDATE journal SET amount_minor = 1100 WHERE ${r1}`);
      await execute(
        `UPDATE postings SET amount_minor = CASE WHEN amount_minor < 0 THEN -1100 ELSE 1100 END
         WHERE entry = (SELECT entry FROM journal WHERE ${r1})`,
      );
      await execute("UPDATE accounts SET balance_minor = balance_minor - 1000 WHERE id = 'A1'");
      await execute("UPDATE accounts SET balance_minor = balance_minor + 1000 WHERE id = 'B1'");
      const report = await ledger.verify();
      assertEquals(report.ok, false);
      const history = await ledger.history("alice", { limit: 10 });
      assert(history.code === "ok", "alice has a history");
      const entry = history.items.find((item) => item.transferId === found.id)?.entry;
      assertEquals(report.problems, [
        `Entry ${entry}: its hash does not match the chain (the entry, its postings or its link was changed)`,
      ]);
      assertEquals(report.chain.links, 3, "the deposits and the first transfer still verify");

      // A rewriter who drops the chain to hide the change leaves entries no link names.
      await execute("DELETE FROM journal_chain");
      assertEquals((await ledger.verify()).problems[0], "Entry 1: in the journal but not in the chain");
    },
  },
  {
    name: "verify() counts a posting that no entry's two accounts explain, even where every sum still agrees",
    async fn({ ledger, execute }) {
      for (const [owner, id] of [["alice", "A1"], ["bob", "B1"], ["carol", "C1"]] as const) {
        assertEquals((await ledger.openAccount({ owner, id, depositMinor: 10_000n })).code, "ok");
      }
      for (let index = 0; index < 2; index++) {
        assertEquals((await ledger.transfer(transfer(100n, `s${index}`))).code, "ok");
      }
      const clean = await ledger.verify();
      assertEquals([clean.ok, clean.entries], [true, 5]);
      // Carol gains 500 in one transfer between others and loses it in the other: her balance, every
      // entry's own two postings and the total all agree.
      await execute(`INSERT INTO postings (entry, account_id, amount_minor)
        SELECT entry, 'C1', CASE WHEN idempotency_key = 's0' THEN 500 ELSE -500 END FROM journal
        WHERE identity = 'alice'`);
      const report = await ledger.verify();
      assertEquals(report.ok, false);
      assert(
        report.problems.includes("The store holds 12 postings, expected 2 for each of its 5 entries"),
        `the stray postings are counted: ${report.problems.join("; ")}`,
      );
    },
  },
  {
    name: "verify() names an entry whose postings alone were rewritten, its balances made to agree",
    async fn({ ledger, execute }) {
      for (const [owner, id] of [["alice", "A1"], ["bob", "B1"]] as const) {
        assertEquals((await ledger.openAccount({ owner, id, depositMinor: 10_000n })).code, "ok");
      }
      assertEquals((await ledger.transfer(transfer(100n, "p0"))).code, "ok");
      const found = await ledger.findTransfer("alice", "p0");
      assert(found !== null, "p0 is journaled");
      // The journal row and its link stay; its postings say 1,100 moved, and both balances agree with them.
      await execute(
        `UPDATE postings SET amount_minor = CASE WHEN amount_minor < 0 THEN -1100 ELSE 1100 END
         WHERE entry = (SELECT entry FROM journal WHERE identity = 'alice' AND idempotency_key = 'p0')`,
      );
      await execute("UPDATE accounts SET balance_minor = balance_minor - 1000 WHERE id = 'A1'");
      await execute("UPDATE accounts SET balance_minor = balance_minor + 1000 WHERE id = 'B1'");
      const report = await ledger.verify();
      assertEquals(report.ok, false);
      const entry = (await ledger.chainHead()).entry;
      assert(
        report.problems.includes(
          `Entry ${entry}: its source's posting is -1100 and its target's 1100, expected -100 and 100`,
        ),
        report.problems.join("; "),
      );
    },
  },
];
