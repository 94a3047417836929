/**
 * What a customer reads of the journal on SQLite: history pages of their own accounts, newest first, each
 * posting with the balance after it (statements.ts). Runs inside the caller's read transaction, so the
 * page and the balances it walks back from are one snapshot.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import type { HistoryQuery, HistoryResult } from "./ledger.ts";
import { asMinor, toHistoryItem } from "./rows.ts";
import type { HistoryRow } from "./rows.ts";
import { sqliteTime } from "./columns.ts";
import { sqliteAccount } from "./sqlite_operations.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";
import { asOfBounds, newestEntryOf, wholeEntries, withBalancesAfter } from "./statements.ts";

/** One page of an owner's history (one account's when the query names it, which the owner must own). */
export function sqliteHistory(
  db: SqliteDatabase,
  owner: string,
  query: HistoryQuery,
  now: Date,
): HistoryResult {
  if (query.accountId !== undefined) {
    const account = sqliteAccount(db, query.accountId, now);
    if (account === undefined || account.owner !== owner) return { code: "account_not_found" };
  }
  const asOf = asOfBounds(query.asOf);
  const rows = db.all(
    `SELECT p.entry, j.transfer_id, j.kind, p.account_id, p.amount_minor, j.created_at,
       CASE WHEN p.account_id = j.source_account_id THEN j.target_account_id ELSE j.source_account_id END
         AS counterparty
     FROM postings p JOIN journal j ON j.entry = p.entry JOIN accounts a ON a.id = p.account_id
     WHERE a.owner = ?1 AND a.kind = 'customer' AND (?2 IS NULL OR p.account_id = ?2)
       AND (?3 IS NULL OR p.entry < ?3) AND (?5 IS NULL OR p.entry <= ?5)
       AND (?6 IS NULL OR j.created_at <= ?6)
     ORDER BY p.entry DESC, p.account_id LIMIT ?4`,
    [
      owner,
      query.accountId ?? null,
      query.beforeEntry ?? null,
      query.limit + 1,
      asOf.entry,
      asOf.time === null ? null : sqliteTime(asOf.time),
    ],
  );
  const items = wholeEntries(rows.map((row) => toHistoryItem(row as unknown as HistoryRow)), query.limit);
  const balances = new Map<string, bigint>();
  for (const [accountId, entry] of newestEntryOf(items)) {
    const row = db.get(
      `SELECT a.balance_minor - COALESCE((SELECT SUM(p.amount_minor) FROM postings p
         WHERE p.account_id = a.id AND p.entry > ?2), 0) AS after FROM accounts a WHERE a.id = ?1`,
      [accountId, entry],
    );
    assert(row !== undefined, `Account ${accountId} of a history page exists`);
    balances.set(accountId, asMinor(row.after));
  }
  return { code: "ok", items: withBalancesAfter(items, balances) };
}
