/**
 * Statements: each history item's balance right after its entry, computed the same way on every store.
 * A page lists postings newest first; the store reads, for each account on the page, its balance after the
 * newest entry listed (today's balance minus every later posting), and the rest of the page follows by
 * walking back through the amounts. The cost is one indexed sum per account on the page, over the postings
 * newer than it: nothing for the first page, and proportional to the depth for deep ones.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import type { AsOf, HistoryItem } from "./ledger.ts";

/** A history item before its balance is known. */
export type PostedItem = Omit<HistoryItem, "balanceAfterMinor">;

/**
 * A page that never splits an entry: the store reads one row more than the page holds, and when that row
 * is the other posting of the page's last entry (money moved between two of the caller's own accounts),
 * the page keeps it; paging by entry would otherwise skip it. A page thus holds at most `limit + 1` items.
 */
export function wholeEntries<T extends { entry: bigint }>(rows: readonly T[], limit: number): T[] {
  assert(rows.length <= limit + 1, "A page reads at most one row past its limit");
  if (rows.length <= limit) return [...rows];
  return rows[limit]!.entry === rows[limit - 1]!.entry ? [...rows] : rows.slice(0, limit);
}

/** The newest entry of each account on a page: where each account's balance must be read. */
export function newestEntryOf(items: readonly PostedItem[]): Map<string, bigint> {
  const newest = new Map<string, bigint>();
  for (const item of items) {
    const seen = newest.get(item.accountId);
    if (seen === undefined || item.entry > seen) newest.set(item.accountId, item.entry);
  }
  return newest;
}

/**
 * Gives every item its balance after, from each account's balance after its newest item on the page
 * (`balanceAfterNewest`, keyed by account). Items must be newest first.
 */
export function withBalancesAfter(
  items: readonly PostedItem[],
  balanceAfterNewest: ReadonlyMap<string, bigint>,
): HistoryItem[] {
  const running = new Map(balanceAfterNewest);
  return items.map((item, index) => {
    assert(index === 0 || items[index - 1]!.entry >= item.entry, "A history page runs newest first");
    const after = running.get(item.accountId);
    assert(after !== undefined, `The balance of ${item.accountId} is read for its page`);
    running.set(item.accountId, after - item.amountMinor);
    return { ...item, balanceAfterMinor: after };
  });
}

/** The cut-off's two bounds as query parameters: an entry number and an ISO time, either null. */
export function asOfBounds(asOf: AsOf | undefined): { entry: bigint | null; time: Date | null } {
  if (asOf === undefined) return { entry: null, time: null };
  return "entry" in asOf ? { entry: asOf.entry, time: null } : { entry: null, time: asOf.time };
}
