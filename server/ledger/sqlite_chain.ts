/**
 * The journal's hash chain on SQLite. Writes are one at a time (one write transaction per process, the
 * threads' shared lock between processes' threads), so appending inside the entry's own transaction puts
 * the chain in commit order. Walking it for `ledger verify` reads a page at a time, with fixed statements.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import {
  CHAIN_PAGE_ENTRIES,
  chainEntriesFromRows,
  chainHash,
  checkChainPage,
  EMPTY_CHAIN,
  FIRST_UNLINKED_SQL,
  formatHash,
  headFromRow,
  linkFromRow,
  unlinkedProblem,
} from "./chain.ts";
import type { ChainCheck, ChainEntry, ChainHead, ChainPage } from "./chain.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";
import type { EntryLink } from "./ledger.ts";

/** The entries, and their postings, of the page of links after position `?1`: fixed statements. */
const PAGE = `FROM journal_chain c JOIN TABLE t ON t.entry = c.entry
  WHERE c.position > ?1 AND c.position <= ?1 + ${CHAIN_PAGE_ENTRIES}`;
const PAGE_JOURNAL = `SELECT t.* ${PAGE.replace("TABLE", "journal")}`;
const PAGE_POSTINGS = `SELECT t.* ${PAGE.replace("TABLE", "postings")}`;

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
      link.hash,
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
    const postings = db.all(`SELECT * FROM postings WHERE entry IN (${unlinked})`);
    appendSqliteChain(db, chainEntriesFromRows(journal, postings));
  }
}

/** The page of at most {@link CHAIN_PAGE_ENTRIES} links after `position`, with their entries. */
export function readSqliteChainPage(db: SqliteDatabase, position: bigint): ChainPage {
  const links = db.all(
    `SELECT position, entry, hash FROM journal_chain WHERE position > ? ORDER BY position LIMIT ${CHAIN_PAGE_ENTRIES}`,
    [position],
  ).map(linkFromRow);
  if (links.length === 0) return { links, entries: new Map() };
  const journal = db.all(PAGE_JOURNAL, [position]);
  const postings = db.all(PAGE_POSTINGS, [position]);
  return {
    links,
    entries: new Map(chainEntriesFromRows(journal, postings).map((entry) => [entry.entry, entry])),
  };
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
