/**
 * The journal's hash chain on SQLite. Writes are one at a time (one write transaction per process, the
 * threads' shared lock between processes' threads), so appending inside the entry's own transaction puts
 * the chain in commit order. Walking it for `ledger verify` reads a page at a time.
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
  formatHash,
  readStoredHash,
} from "./chain.ts";
import type { ChainCheck, ChainEntry, ChainHead } from "./chain.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";

/** The latest link. Inside a write transaction it is the one the next entry follows. */
export function sqliteChainHead(db: SqliteDatabase): ChainHead {
  const row = db.get("SELECT position, entry, hash FROM journal_chain ORDER BY position DESC LIMIT 1");
  if (row === undefined) return EMPTY_CHAIN;
  const hash = readStoredHash(row.hash);
  assert(hash !== null, `Chain position ${row.position} holds a malformed hash`);
  return { position: BigInt(row.position as number), entry: BigInt(row.entry as number), hash };
}

/** Links the given entries (already journaled in this write transaction), in their order. */
export function appendSqliteChain(db: SqliteDatabase, entries: readonly ChainEntry[]): ChainHead {
  assert(db.isTransaction, "The chain is appended inside the entries' own write transaction");
  let head = sqliteChainHead(db);
  for (const entry of entries) {
    const hash = chainHash(head.hash, entry);
    head = { position: head.position + 1n, entry: entry.entry, hash };
    db.run("INSERT INTO journal_chain (position, entry, hash) VALUES (?, ?, ?)", [
      head.position,
      entry.entry,
      formatHash(hash),
    ]);
  }
  return head;
}

/** Links every journaled entry not yet in the chain, oldest first (a store written before the chain). */
export function backfillSqliteChain(db: SqliteDatabase): number {
  let linked = 0;
  for (;;) {
    const rows = db.all(
      `SELECT j.entry FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry
       WHERE c.entry IS NULL ORDER BY j.entry LIMIT ${CHAIN_PAGE_ENTRIES}`,
    );
    if (rows.length === 0) return linked;
    const numbers = rows.map((row) => BigInt(row.entry as number));
    const marks = numbers.map(() => "?").join(", ");
    const journal = db.all(`SELECT * FROM journal WHERE entry IN (${marks}) ORDER BY entry`, [...numbers]);
    const postings = db.all(`SELECT * FROM postings WHERE entry IN (${marks})`, [...numbers]);
    appendSqliteChain(db, chainEntriesFromRows(journal, postings));
    linked += rows.length;
  }
}

/** Walks the whole chain in commit order, a page at a time; stops at the first link that does not verify. */
export function checkSqliteChain(db: SqliteDatabase): ChainCheck {
  let head = EMPTY_CHAIN;
  let links = 0;
  for (;;) {
    const chain = db.all(
      `SELECT position, entry, hash FROM journal_chain WHERE position > ? ORDER BY position LIMIT ${CHAIN_PAGE_ENTRIES}`,
      [head.position],
    ).map((row) => ({
      position: BigInt(row.position as number),
      entry: BigInt(row.entry as number),
      hash: row.hash,
    }));
    if (chain.length === 0) break;
    const numbers = chain.map((link) => link.entry);
    const marks = numbers.map(() => "?").join(", ");
    const journal = db.all(`SELECT * FROM journal WHERE entry IN (${marks})`, [...numbers]);
    const postings = db.all(`SELECT * FROM postings WHERE entry IN (${marks})`, [...numbers]);
    const entries = new Map(chainEntriesFromRows(journal, postings).map((entry) => [entry.entry, entry]));
    const checked = checkChainPage(head, chain, entries);
    links += checked.verified;
    if (checked.problem !== null) return { links, head: checked.head, problem: checked.problem };
    head = checked.head;
  }
  const unlinked = db.get(
    "SELECT MIN(j.entry) AS entry FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry WHERE c.entry IS NULL",
  );
  const problem = unlinked?.entry === null || unlinked?.entry === undefined
    ? null
    : `Entry ${unlinked.entry}: in the journal but not in the chain`;
  return { links, head, problem };
}
