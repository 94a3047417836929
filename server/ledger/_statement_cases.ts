/**
 * Statements in the behaviour suite every store passes: each history item's balance after its entry, a
 * page deep in the history that still starts from the right balance, and statements as of an entry number
 * or a time (by the ledger's clock), with holds, captures and refunds among the entries.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { assert } from "../../lib/assert.ts";
import type { BankStore, HistoryItem, HistoryQuery } from "./ledger.ts";
import type { LedgerCase } from "./_ledger_cases.ts";

const DEPOSIT = 10_000n;

async function page(ledger: BankStore, owner: string, query: HistoryQuery): Promise<HistoryItem[]> {
  const result = await ledger.history(owner, query);
  assert(result.code === "ok", `history of ${owner} answers, got ${result.code}`);
  return result.items;
}

/** [entry amount, balance after] of each item. */
function walk(items: readonly HistoryItem[]): [bigint, bigint][] {
  return items.map((item) => [item.amountMinor, item.balanceAfterMinor]);
}

export const STATEMENT_CASES: readonly LedgerCase[] = [
  {
    name: "history() gives each entry the balance after it, on every page and for each account",
    async fn({ ledger }) {
      for (const [owner, id] of [["alice", "A1"], ["alice", "A2"], ["bob", "B1"]] as const) {
        assertEquals((await ledger.openAccount({ owner, id, depositMinor: DEPOSIT })).code, "ok");
      }
      for (let index = 1; index <= 6; index++) {
        const from = index % 2 === 0 ? "A2" : "A1";
        const input = {
          identity: "alice",
          sourceAccountId: from,
          targetAccountId: "B1",
          amountMinor: BigInt(index * 100),
          idempotencyKey: `s${index}`,
        };
        assertEquals((await ledger.transfer(input)).code, "ok");
      }
      const incoming = { identity: "bob", targetAccountId: "A1", amountMinor: 50n, idempotencyKey: "in" };
      assertEquals((await ledger.transfer(incoming)).code, "ok");
      const a1 = await page(ledger, "alice", { limit: 20, accountId: "A1" });
      assertEquals(walk(a1), [[50n, 9_150n], [-500n, 9_100n], [-300n, 9_600n], [-100n, 9_900n], [
        DEPOSIT,
        DEPOSIT,
      ]]);
      // Both accounts on one page, interleaved: each has its own running balance.
      const both = await page(ledger, "alice", { limit: 3 });
      assertEquals(both.map((item) => [item.accountId, item.balanceAfterMinor]), [
        ["A1", 9_150n],
        ["A2", 8_800n],
        ["A1", 9_100n],
      ]);
      // A page deep in the history starts from the balance at that depth, not today's.
      const deep = await page(ledger, "alice", { limit: 2, accountId: "A2", beforeEntry: both[1]!.entry });
      assertEquals(walk(deep), [[-400n, 9_400n], [-200n, 9_800n]]);
      const bob = await page(ledger, "bob", { limit: 1 });
      assertEquals(walk(bob), [[-50n, DEPOSIT + 2_100n - 50n]]);
    },
  },
  {
    name: "history() never splits an entry between pages: both postings of a move between own accounts",
    async fn({ ledger }) {
      for (const id of ["A1", "A2"]) {
        assertEquals((await ledger.openAccount({ owner: "alice", id, depositMinor: DEPOSIT })).code, "ok");
      }
      const own = { identity: "alice", sourceAccountId: "A1", targetAccountId: "A2", idempotencyKey: "own" };
      assertEquals((await ledger.transfer({ ...own, amountMinor: 100n })).code, "ok");
      const first = await page(ledger, "alice", { limit: 1 });
      assertEquals(first.map((item) => [item.accountId, item.amountMinor, item.balanceAfterMinor]), [
        ["A1", -100n, 9_900n],
        ["A2", 100n, 10_100n],
      ]);
      const rest = await page(ledger, "alice", { limit: 1, beforeEntry: first[0]!.entry });
      assertEquals(rest.map((item) => [item.kind, item.accountId]), [["deposit", "A2"]]);
    },
  },
  {
    name: "history() as of an entry or a time lists what was journaled by then, with the balances then",
    async fn({ ledger, clock }) {
      for (const [owner, id] of [["alice", "A1"], ["bob", "B1"]] as const) {
        assertEquals((await ledger.openAccount({ owner, id, depositMinor: DEPOSIT })).code, "ok");
      }
      const first = await ledger.transfer({
        identity: "alice",
        targetAccountId: "B1",
        amountMinor: 1_000n,
        idempotencyKey: "t1",
      });
      assert(first.code === "ok", "the first transfer is journaled");
      clock.advance(60_000);
      const cutOff = clock.now();
      clock.advance(60_000);
      const held = await ledger.hold({
        identity: "alice",
        targetAccountId: "B1",
        amountMinor: 2_000n,
        idempotencyKey: "h1",
        expiresInS: 3600,
      });
      assert(held.code === "ok", "the hold is placed");
      const captured = await ledger.captureHold({ identity: "alice", holdId: held.hold.id });
      assert(captured.code === "ok", "the hold is captured");
      const refund = await ledger.reverse({
        identity: "bob",
        transferId: first.transfer.id,
        amountMinor: 300n,
        idempotencyKey: "r1",
        kind: "refund",
      });
      assert(refund.code === "ok", "bob refunds part of the first transfer");
      const today = await page(ledger, "alice", { limit: 10 });
      assertEquals(today.map((item) => [item.kind, item.amountMinor, item.balanceAfterMinor]), [
        ["refund", 300n, 7_300n],
        ["capture", -2_000n, 7_000n],
        ["transfer", -1_000n, 9_000n],
        ["deposit", DEPOSIT, DEPOSIT],
      ]);
      const byTime = await page(ledger, "alice", { limit: 10, asOf: { time: cutOff } });
      assertEquals(walk(byTime), [[-1_000n, 9_000n], [DEPOSIT, DEPOSIT]]);
      const byEntry = await page(ledger, "alice", { limit: 10, asOf: { entry: today[1]!.entry } });
      assertEquals(walk(byEntry), walk(today.slice(1)));
      const before = await page(ledger, "alice", { limit: 10, asOf: { time: new Date(0) } });
      assertEquals(before, []);
      // Paging inside a statement: the cursor and the cut-off together.
      const paged = await page(ledger, "alice", {
        limit: 1,
        asOf: { entry: today[0]!.entry },
        beforeEntry: today[1]!.entry,
      });
      assertEquals(walk(paged), [[-1_000n, 9_000n]]);
    },
  },
];
