/**
 * The journal's hash chain on PostgreSQL, where several servers write at once. Entry numbers come from a
 * sequence when rows are inserted, not when they commit, so the chain has positions of its own: a batch
 * appends its entries under a transaction-scoped advisory lock, taken after its writes and held until it
 * commits, so positions follow commit order on every server. Batching is kept: one lock, one read and one
 * insert per batch, whatever its size. A transaction holding the lock waits for nothing else (its account
 * locks are taken), so the lock adds no deadlock.
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
import type { Query } from "./postgres_sql.ts";

/** Key of the advisory lock that orders chain appends ("bankchai" in ASCII). */
export const CHAIN_LOCK_KEY = 0x62616e6b63686169n;

type Row = Record<string, unknown>;

/** The latest link, as the caller's snapshot sees it. */
export async function postgresChainHead(tx: Query): Promise<ChainHead> {
  const [row] = await tx<
    Row[]
  >`SELECT position, entry, hash FROM journal_chain ORDER BY position DESC LIMIT 1`;
  if (row === undefined) return EMPTY_CHAIN;
  const hash = readStoredHash(row.hash);
  assert(hash !== null, `Chain position ${row.position} holds a malformed hash`);
  return { position: BigInt(row.position as bigint), entry: BigInt(row.entry as bigint), hash };
}

/**
 * Links the given entries (journaled in this transaction), in their order. The lock and the read of the
 * head go out together: the read runs once the lock is granted, so it sees the last link committed.
 */
export async function appendPostgresChain(tx: Query, entries: readonly ChainEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const [, head] = await Promise.all([
    tx`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`,
    postgresChainHead(tx),
  ]);
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
}

/** Links the entries of the given transfers, read back from this transaction (the savepoint path, backfill). */
export async function appendPostgresChainOf(tx: Query, transferIds: readonly string[]): Promise<void> {
  if (transferIds.length === 0) return;
  const [journal, postings] = await Promise.all([
    tx<Row[]>`SELECT * FROM journal WHERE transfer_id = ANY(${[...transferIds]}::text[]) ORDER BY entry`,
    tx<Row[]>`SELECT p.* FROM postings p JOIN journal j ON j.entry = p.entry
      WHERE j.transfer_id = ANY(${[...transferIds]}::text[])`,
  ]);
  assert(journal.length === transferIds.length, "Every transfer to chain must be journaled");
  await appendPostgresChain(tx, chainEntriesFromRows(journal, postings));
}

/** Links every journaled entry not yet in the chain, oldest first (a store written before the chain). */
export async function backfillPostgresChain(tx: Query): Promise<number> {
  let linked = 0;
  for (;;) {
    const rows = await tx<{ transfer_id: string }[]>`
      SELECT j.transfer_id FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry
      WHERE c.entry IS NULL ORDER BY j.entry LIMIT ${CHAIN_PAGE_ENTRIES}`;
    if (rows.length === 0) return linked;
    await appendPostgresChainOf(tx, rows.map((row) => row.transfer_id));
    linked += rows.length;
  }
}

/** Walks the whole chain in commit order within the caller's snapshot, a page at a time. */
export async function checkPostgresChain(tx: Query): Promise<ChainCheck> {
  let head = EMPTY_CHAIN;
  let links = 0;
  for (;;) {
    const chain = (await tx<Row[]>`
      SELECT position, entry, hash FROM journal_chain WHERE position > ${head.position}
      ORDER BY position LIMIT ${CHAIN_PAGE_ENTRIES}`).map((row) => ({
      position: BigInt(row.position as bigint),
      entry: BigInt(row.entry as bigint),
      hash: row.hash,
    }));
    if (chain.length === 0) break;
    const numbers = chain.map((link) => link.entry.toString());
    const [journal, postings] = await Promise.all([
      tx<Row[]>`SELECT * FROM journal WHERE entry = ANY(${numbers}::bigint[])`,
      tx<Row[]>`SELECT * FROM postings WHERE entry = ANY(${numbers}::bigint[])`,
    ]);
    const entries = new Map(chainEntriesFromRows(journal, postings).map((entry) => [entry.entry, entry]));
    const checked = checkChainPage(head, chain, entries);
    links += checked.verified;
    if (checked.problem !== null) return { links, head: checked.head, problem: checked.problem };
    head = checked.head;
  }
  const [unlinked] = await tx<{ entry: bigint | null }[]>`
    SELECT MIN(j.entry) AS entry FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry
    WHERE c.entry IS NULL`;
  const problem = unlinked?.entry === null || unlinked?.entry === undefined
    ? null
    : `Entry ${unlinked.entry}: in the journal but not in the chain`;
  return { links, head, problem };
}
