/**
 * What a customer reads of the journal on PostgreSQL: history pages of their own accounts, newest first.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import type { HistoryQuery, HistoryResult } from "./ledger.ts";
import { toHistoryItem } from "./rows.ts";
import type { HistoryRow } from "./rows.ts";
import type { Query } from "./postgres_sql.ts";

/** One page of an owner's history (one account's when the query names it, which the owner must own). */
export async function postgresHistory(
  sql: Query,
  owner: string,
  query: HistoryQuery,
): Promise<HistoryResult> {
  const accountId = query.accountId ?? null;
  if (accountId !== null) {
    const [account] = await sql<{ owner: string }[]>`SELECT owner FROM accounts WHERE id = ${accountId}`;
    if (account === undefined || account.owner !== owner) return { code: "account_not_found" };
  }
  const beforeEntry = query.beforeEntry ?? null;
  const rows = await sql<HistoryRow[]>`
    SELECT p.entry, j.transfer_id, j.kind, p.account_id, p.amount_minor, j.created_at,
      CASE WHEN p.account_id = j.source_account_id THEN j.target_account_id ELSE j.source_account_id END
        AS counterparty
    FROM postings p JOIN journal j ON j.entry = p.entry JOIN accounts a ON a.id = p.account_id
    WHERE a.owner = ${owner} AND a.kind = 'customer'
      AND (${accountId}::text IS NULL OR p.account_id = ${accountId})
      AND (${beforeEntry}::bigint IS NULL OR p.entry < ${beforeEntry})
    ORDER BY p.entry DESC, p.account_id COLLATE "C" LIMIT ${query.limit}`;
  assert(rows.length <= query.limit, "History must fit its page");
  return { code: "ok", items: rows.map(toHistoryItem) };
}
