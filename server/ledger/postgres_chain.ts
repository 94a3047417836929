/**
 * The journal's hash chain on PostgreSQL, where several servers write at once. Entry numbers come from a
 * sequence when rows are inserted, not when they commit, so the chain has positions of its own: a batch
 * takes a transaction-scoped advisory lock after its writes and holds it until it commits, so positions
 * follow commit order on every server. Batching is kept: the lock and the head's read go out with the
 * batch's writes, and one insert links the whole batch. A transaction holding the lock waits for nothing
 * else (its account locks are taken), so the lock adds no deadlock.
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
import type { Query } from "./postgres_sql.ts";
import type { EntryLink } from "./ledger.ts";

/** Key of the advisory lock that orders chain appends ("bankchai" in ASCII). */
const CHAIN_LOCK_KEY = 0x62616e6b63686169n;

type Row = Record<string, unknown>;

/** The latest link, as the caller's snapshot sees it. */
export async function postgresChainHead(tx: Query): Promise<ChainHead> {
  const [row] = await tx<
    Row[]
  >`SELECT position, entry, hash FROM journal_chain ORDER BY position DESC LIMIT 1`;
  return headFromRow(row);
}

/**
 * Takes the chain's lock and reads its head. The two go out together, after whatever the transaction
 * started before: the read runs once the lock is granted, so it sees the last link committed.
 */
export async function lockChainHead(tx: Query): Promise<ChainHead> {
  const [, head] = await Promise.all([
    tx`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`,
    postgresChainHead(tx),
  ]);
  return head;
}

/** Links the given entries (journaled in this transaction) after `head`, the locked head, in one insert. */
export async function insertChainLinks(
  tx: Query,
  head: ChainHead,
  entries: readonly ChainEntry[],
): Promise<EntryLink[]> {
  const positions: string[] = [];
  const numbers: string[] = [];
  const hashes: string[] = [];
  let link = head;
  for (const entry of entries) {
    const hash = chainHash(link.hash, entry);
    link = { position: link.position + 1n, entry: entry.entry, hash };
    positions.push(link.position.toString());
    numbers.push(entry.entry.toString());
    hashes.push(formatHash(hash));
  }
  await tx`INSERT INTO journal_chain (position, entry, hash)
    SELECT * FROM unnest(${positions}::bigint[], ${numbers}::bigint[], ${hashes}::text[])`;
  return entries.map((entry, index) => ({ entry: entry.entry, hash: hashes[index]! }));
}

/** Locks the chain and links the given entries: for writes that have nothing to send alongside the lock. */
export async function appendPostgresChain(tx: Query, entries: readonly ChainEntry[]): Promise<EntryLink[]> {
  if (entries.length === 0) return [];
  return await insertChainLinks(tx, await lockChainHead(tx), entries);
}

/** Links the entries of the given transfers, read back from this transaction (the savepoint path, backfill). */
export async function appendPostgresChainOf(
  tx: Query,
  transferIds: readonly string[],
): Promise<Map<string, EntryLink>> {
  if (transferIds.length === 0) return new Map();
  const [journal, postings] = await Promise.all([
    tx<Row[]>`SELECT * FROM journal WHERE transfer_id = ANY(${[...transferIds]}::text[]) ORDER BY entry`,
    tx<Row[]>`SELECT p.* FROM postings p JOIN journal j ON j.entry = p.entry
      WHERE j.transfer_id = ANY(${[...transferIds]}::text[])`,
  ]);
  assert(journal.length === transferIds.length, "Every transfer to chain must be journaled");
  const entries = chainEntriesFromRows(journal, postings);
  const links = await appendPostgresChain(tx, entries);
  return new Map(entries.map((entry, index) => [entry.transferId, links[index]!]));
}

/** Links every journaled entry not yet in the chain, oldest first (a store written before the chain). */
export async function backfillPostgresChain(tx: Query): Promise<void> {
  for (;;) {
    const rows = await tx<{ transfer_id: string }[]>`
      SELECT j.transfer_id FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry
      WHERE c.entry IS NULL ORDER BY j.entry LIMIT ${CHAIN_PAGE_ENTRIES}`;
    if (rows.length === 0) return;
    await appendPostgresChainOf(tx, rows.map((row) => row.transfer_id));
  }
}

/** The page of at most {@link CHAIN_PAGE_ENTRIES} links after `position`, with their entries. */
export async function readPostgresChainPage(tx: Query, position: bigint): Promise<ChainPage> {
  const links = (await tx<Row[]>`
    SELECT position, entry, hash FROM journal_chain WHERE position > ${position}
    ORDER BY position LIMIT ${CHAIN_PAGE_ENTRIES}`).map(linkFromRow);
  if (links.length === 0) return { links, entries: new Map() };
  const numbers = links.map((link) => link.entry.toString());
  const [journal, postings] = await Promise.all([
    tx<Row[]>`SELECT * FROM journal WHERE entry = ANY(${numbers}::bigint[])`,
    tx<Row[]>`SELECT * FROM postings WHERE entry = ANY(${numbers}::bigint[])`,
  ]);
  return {
    links,
    entries: new Map(chainEntriesFromRows(journal, postings).map((entry) => [entry.entry, entry])),
  };
}

/** Walks the whole chain in commit order within the caller's snapshot, a page at a time. */
export async function checkPostgresChain(tx: Query): Promise<ChainCheck> {
  let head = EMPTY_CHAIN;
  for (;;) {
    const { links, entries } = await readPostgresChainPage(tx, head.position);
    if (links.length === 0) break;
    const checked = checkChainPage(head, links, entries);
    if (checked.problem !== null) return checked;
    head = checked.head;
  }
  const [unlinked] = await tx.unsafe<Row[]>(FIRST_UNLINKED_SQL);
  return { head, problem: unlinkedProblem(unlinked) };
}
