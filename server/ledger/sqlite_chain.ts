/**
 * The journal's hash chain on SQLite. Writes are one at a time (one write transaction per process, the
 * threads' shared lock between processes' threads), so appending inside the entry's own transaction puts
 * the chain in commit order. Walking it for `ledger verify` reads a page at a time, with fixed statements.
 * A hash is stored as its 32 bytes (since migration 7); an entry's postings are found through its journal
 * row (since migration 8), and a link is checked against the postings that row names.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import {
  CHAIN_PAGE_ENTRIES,
  chainEntriesFromRows,
  chainEntryFromColumns,
  chainHash,
  checkChainPage,
  EMPTY_CHAIN,
  entryPostings,
  FIRST_UNLINKED_SQL,
  formatHash,
  headFromRow,
  JOURNAL_COLUMNS,
  linkFromRow,
  unlinkedProblem,
} from "./chain.ts";
import type { ChainCheck, ChainEntry, ChainHead, ChainPage } from "./chain.ts";
import { sqliteTransferIdFromHex } from "./columns.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";
import type { EntryLink } from "./ledger.ts";

/**
 * The page of links after position `?1`, each with its journal row (null columns when the entry is missing):
 * one fixed statement, rows read as arrays (a page is read for every 1,000 entries `ledger verify` checks).
 * The hash and the transfer id arrive as hex (SQLite's `hex()` spares a buffer for each, and the id's text is
 * cut from its digits: in all, a third of what reading them as bytes cost here). An entry's postings are the
 * debit and credit its row names (since migration 8 they are kept by account, and reading them back would be
 * two lookups an entry); `ledger verify` checks the stored ones against the same rows (verify.ts).
 */
const PAGE_LINKS = `SELECT c.position, c.entry, lower(hex(c.hash)), j.entry, ${
  JOURNAL_COLUMNS.map((c) => c === "transfer_id" ? "lower(hex(j.transfer_id))" : `j.${c}`).join(", ")
}
  FROM journal_chain c LEFT JOIN journal j ON j.entry = c.entry
  WHERE c.position > ?1 ORDER BY c.position LIMIT ${CHAIN_PAGE_ENTRIES}`;

const TRANSFER_ID_COLUMN = JOURNAL_COLUMNS.indexOf("transfer_id");
const SOURCE_COLUMN = JOURNAL_COLUMNS.indexOf("source_account_id");
const TARGET_COLUMN = JOURNAL_COLUMNS.indexOf("target_account_id");
const AMOUNT_COLUMN = JOURNAL_COLUMNS.indexOf("amount_minor");

/** The latest link. Inside a write transaction it is the one the next entry follows. */
export function sqliteChainHead(db: SqliteDatabase): ChainHead {
  return headFromRow(
    db.get("SELECT position, entry, hash FROM journal_chain ORDER BY position DESC LIMIT 1"),
  );
}

/** Links the given entries (already journaled in this write transaction), in their order; returns the links. */
export function appendSqliteChain(db: SqliteDatabase, entries: readonly ChainEntry[]): EntryLink[] {
  assert(db.isTransaction, "The chain is appended inside the entries' own write transaction");
  let head = sqliteChainHead(db);
  const links: EntryLink[] = [];
  for (const entry of entries) {
    const hash = chainHash(head.hash, entry);
    head = { position: head.position + 1n, entry: entry.entry, hash };
    const link = { entry: entry.entry, hash: formatHash(hash) };
    db.run("INSERT INTO journal_chain (position, entry, hash) VALUES (?, ?, ?)", [
      head.position,
      link.entry,
      hash,
    ]);
    links.push(link);
  }
  return links;
}

/** Links every journaled entry not yet in the chain, oldest first (a store written before the chain). */
export function backfillSqliteChain(db: SqliteDatabase): void {
  const unlinked = `SELECT j.entry FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry
    WHERE c.entry IS NULL ORDER BY j.entry LIMIT ${CHAIN_PAGE_ENTRIES}`;
  for (;;) {
    const journal = db.all(`SELECT * FROM journal WHERE entry IN (${unlinked}) ORDER BY entry`);
    if (journal.length === 0) return;
    // An entry's postings are keyed by its two accounts (since migration 8).
    const postings = db.all(`SELECT p.* FROM journal j JOIN postings p
      ON p.account_id IN (j.source_account_id, j.target_account_id) AND p.entry = j.entry
      WHERE j.entry IN (${unlinked})`);
    appendSqliteChain(db, chainEntriesFromRows(journal, postings));
  }
}

/** The page of at most {@link CHAIN_PAGE_ENTRIES} links after `position`, with their entries. */
export function readSqliteChainPage(db: SqliteDatabase, position: bigint): ChainPage {
  const rows = db.arrays(PAGE_LINKS, [position]);
  const links = [];
  const entries = new Map<bigint, ChainEntry>();
  for (const [linkPosition, linkEntry, hash, journaled, ...columns] of rows) {
    links.push(linkFromRow({ position: linkPosition, entry: linkEntry, hash }));
    if (journaled === null) continue;
    columns[TRANSFER_ID_COLUMN] = sqliteTransferIdFromHex(columns[TRANSFER_ID_COLUMN] as string);
    const entry = chainEntryFromColumns(
      journaled as bigint,
      columns,
      entryPostings(
        String(columns[SOURCE_COLUMN]),
        String(columns[TARGET_COLUMN]),
        BigInt(columns[AMOUNT_COLUMN] as bigint),
      ),
    );
    entries.set(entry.entry, entry);
  }
  return { links, entries };
}

/** Walks the whole chain in commit order, a page at a time; stops at the first link that does not verify. */
export function checkSqliteChain(db: SqliteDatabase): ChainCheck {
  let head = EMPTY_CHAIN;
  for (;;) {
    const { links, entries } = readSqliteChainPage(db, head.position);
    if (links.length === 0) break;
    const checked = checkChainPage(head, links, entries);
    if (checked.problem !== null) return checked;
    head = checked.head;
  }
  return { head, problem: unlinkedProblem(db.get(FIRST_UNLINKED_SQL)) };
}
