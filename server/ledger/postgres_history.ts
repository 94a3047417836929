/**
 * What is read of the journal on PostgreSQL, each in one snapshot: a customer's history pages of their own
 * accounts, newest first, each posting with the balance after it (statements.ts); and `ledger verify`.
 *
 * @module
 */
import type { HistoryQuery, HistoryResult, VerifyReport } from "./ledger.ts";
import { checkPostgresChain } from "./postgres_chain.ts";
import { reportFromFacts } from "./rules.ts";
import { collectVerifyRowsAsync, factsFromRows } from "./verify.ts";
import { asMinor, toHistoryItem } from "./rows.ts";
import { asOfBounds, newestEntryOf, wholeEntries, withBalancesAfter } from "./statements.ts";
import type { HistoryRow } from "./rows.ts";
import type { Database, Query } from "./postgres_sql.ts";

/** One page of an owner's history (one account's when the query names it, which the owner must own). */
export function postgresHistory(sql: Database, owner: string, query: HistoryQuery): Promise<HistoryResult> {
  // The page and the balances it walks back from are read in one snapshot.
  return sql.begin(
    "isolation level repeatable read read only",
    (tx) => historyIn(tx, owner, query),
  ) as Promise<HistoryResult>;
}

async function historyIn(sql: Query, owner: string, query: HistoryQuery): Promise<HistoryResult> {
  const accountId = query.accountId ?? null;
  if (accountId !== null) {
    const [account] = await sql<{ owner: string }[]>`SELECT owner FROM accounts WHERE id = ${accountId}`;
    if (account === undefined || account.owner !== owner) return { code: "account_not_found" };
  }
  const beforeEntry = query.beforeEntry ?? null;
  const asOf = asOfBounds(query.asOf);
  const rows = await sql<HistoryRow[]>`
    SELECT p.entry, j.transfer_id, j.kind, p.account_id, p.amount_minor, j.created_at,
      CASE WHEN p.account_id = j.source_account_id THEN j.target_account_id ELSE j.source_account_id END
        AS counterparty
    FROM postings p JOIN journal j ON j.entry = p.entry JOIN accounts a ON a.id = p.account_id
    WHERE a.owner = ${owner} AND a.kind = 'customer'
      AND (${accountId}::text IS NULL OR p.account_id = ${accountId})
      AND (${beforeEntry}::bigint IS NULL OR p.entry < ${beforeEntry})
      AND (${asOf.entry}::bigint IS NULL OR p.entry <= ${asOf.entry})
      AND (${asOf.time}::timestamptz IS NULL OR j.created_at <= ${asOf.time})
    ORDER BY p.entry DESC, p.account_id COLLATE "C" LIMIT ${query.limit + 1}`;
  const items = wholeEntries(rows.map(toHistoryItem), query.limit);
  const newest = [...newestEntryOf(items)];
  const balances = new Map<string, bigint>();
  if (newest.length > 0) {
    const after = await sql<{ id: string; after: bigint }[]>`
      SELECT a.id, a.balance_minor - COALESCE((SELECT SUM(p.amount_minor) FROM postings p
        WHERE p.account_id = a.id AND p.entry > n.entry::bigint), 0)::bigint AS after
      FROM unnest(${newest.map(([id]) => id)}::text[], ${newest.map(([, entry]) => entry.toString())}::text[])
        AS n(id, entry) JOIN accounts a ON a.id = n.id`;
    for (const row of after) balances.set(row.id, asMinor(row.after));
  }
  return { code: "ok", items: withBalancesAfter(items, balances) };
}

/** Every invariant and the chain, in one snapshot: transfers committing meanwhile cannot look like mismatches. */
export function verifyPostgres(sql: Database): Promise<VerifyReport> {
  return sql.begin("isolation level repeatable read read only", async (tx) => {
    const rows = await collectVerifyRowsAsync((text) => tx.unsafe(text));
    return reportFromFacts(factsFromRows(rows), await checkPostgresChain(tx));
  }) as Promise<VerifyReport>;
}
