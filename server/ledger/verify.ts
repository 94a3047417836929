/**
 * What `ledger verify` asks either store, in SQL both dialects read alike, and how the rows become the
 * facts `reportFromFacts` judges: every balance against its postings, every entry's two postings (found
 * through its journal row's two accounts, and no other posting in the store), no customer account below
 * zero, and all balances adding up to zero.
 *
 * @module
 */
import { asMinor } from "./rows.ts";
import type { VerifyFacts } from "./rules.ts";

/** Offending rows reported per kind of problem; past it, the report says there are more. */
export const PROBLEM_ROWS_MAX = 100;

export const VERIFY_QUERIES = {
  totals: `SELECT COUNT(*) AS accounts, CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT) AS total,
      (SELECT COUNT(*) FROM journal) AS entries, (SELECT COUNT(*) FROM postings) AS postings
    FROM accounts`,
  balanceMismatches: `SELECT a.id, a.balance_minor, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS posted
    FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id
    HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0)
    ORDER BY a.id LIMIT ${PROBLEM_ROWS_MAX}`,
  // Each of an entry's two postings is one lookup of a key (account, entry): at most one row each.
  unbalancedEntries:
    `SELECT j.entry, j.amount_minor, debit.amount_minor AS debit, credit.amount_minor AS credit
    FROM journal j
    LEFT JOIN postings debit ON debit.account_id = j.source_account_id AND debit.entry = j.entry
    LEFT JOIN postings credit ON credit.account_id = j.target_account_id AND credit.entry = j.entry
    WHERE debit.amount_minor IS NULL OR credit.amount_minor IS NULL
      OR debit.amount_minor <> -j.amount_minor OR credit.amount_minor <> j.amount_minor
    ORDER BY j.entry LIMIT ${PROBLEM_ROWS_MAX}`,
  negativeAccounts: `SELECT id FROM accounts WHERE kind = 'customer' AND balance_minor < 0
    ORDER BY id LIMIT ${PROBLEM_ROWS_MAX}`,
} as const;

type Row = Record<string, unknown>;

/** The rows each of {@link VERIFY_QUERIES} returned, read in one snapshot. */
export type VerifyRows = { [K in keyof typeof VERIFY_QUERIES]: readonly Row[] };

const QUERY_NAMES = Object.keys(VERIFY_QUERIES) as (keyof typeof VERIFY_QUERIES)[];

/** Runs every verify query through a store's synchronous `query`, inside its one snapshot. */
export function collectVerifyRows(query: (sql: string) => readonly Row[]): VerifyRows {
  return Object.fromEntries(QUERY_NAMES.map((name) => [name, query(VERIFY_QUERIES[name])])) as VerifyRows;
}

/** Runs every verify query through a store's asynchronous `query`, one after the other in its snapshot. */
export async function collectVerifyRowsAsync(
  query: (sql: string) => Promise<readonly Row[]>,
): Promise<VerifyRows> {
  const rows: Partial<Record<keyof typeof VERIFY_QUERIES, readonly Row[]>> = {};
  for (const name of QUERY_NAMES) rows[name] = await query(VERIFY_QUERIES[name]);
  return rows as VerifyRows;
}

/** Turns the rows into facts, whatever integer type the driver handed back. */
export function factsFromRows(rows: VerifyRows): VerifyFacts {
  const [totals] = rows.totals;
  if (totals === undefined) throw new Error("The verify totals query returned no row");
  return {
    accounts: Number(totals.accounts),
    entries: Number(totals.entries),
    postings: Number(totals.postings),
    totalMinor: asMinor(totals.total),
    balanceMismatches: rows.balanceMismatches.map((row) => ({
      accountId: String(row.id),
      balanceMinor: asMinor(row.balance_minor),
      postedMinor: asMinor(row.posted),
    })),
    unbalancedEntries: rows.unbalancedEntries.map((row) => ({
      entry: BigInt(row.entry as bigint | number | string),
      amountMinor: asMinor(row.amount_minor),
      debitMinor: row.debit === null ? null : asMinor(row.debit),
      creditMinor: row.credit === null ? null : asMinor(row.credit),
    })),
    negativeAccounts: rows.negativeAccounts.map((row) => String(row.id)),
  };
}
