/**
 * The hash chain over the journal: every entry, in commit order, gets
 * `hash = SHA-256(previous hash || canonical encoding of the entry and its postings)`, starting from 32 zero
 * bytes. A store keeps the chain in `journal_chain` (position in commit order, entry, hash); rewriting any
 * entry or posting breaks the hash of that entry and of every one after it, and recomputing them all is
 * caught by any receipt a customer kept of a later hash. docs/LEDGER.md specifies the encoding precisely
 * enough to verify a chain with another program.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { assert } from "../../lib/assert.ts";
import { fromHex, lengthPrefixed, toHex } from "../../lib/bytes.ts";
import type { EntryKind, Transfer } from "./ledger.ts";

/** The hash before the first entry. */
const CHAIN_GENESIS: Uint8Array = new Uint8Array(32);
/** The first field of every encoded entry: the encoding's name and version. */
const CHAIN_ENCODING = "bank ledger entry v1";
/** Entries read per page when a chain is walked (verify, backfill): bounded memory on any store. */
export const CHAIN_PAGE_ENTRIES = 1_000;

/** An entry as the chain sees it: the journal row and its postings. */
export interface ChainEntry {
  entry: bigint;
  transferId: string;
  kind: string;
  identity: string;
  idempotencyKey: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  /** ISO 8601 UTC with milliseconds, as `Date.toISOString()` writes it. */
  createdAt: string;
  postings: readonly { accountId: string; amountMinor: bigint }[];
  /** A capture's hold. */
  holdId: string | null;
  /** A reversal's or refund's original entry, and an operator's reason. */
  originalEntry: bigint | null;
  reason: string | null;
}

/**
 * The canonical bytes of an entry: each field as `u32be(byte length) || UTF-8 bytes`, in this order: the
 * encoding's name, entry number, transfer id, kind, identity, idempotency key, source, target, amount,
 * time, the number of postings, then each posting's account and signed amount, postings ordered by account
 * id (bytewise). Numbers are written in decimal. A `capture` adds one field after the postings, its hold
 * id; a `reversal` or `refund` two, the original's entry number and the reason (empty when none). Deposits
 * and transfers add nothing, so links made before these kinds existed keep their hashes.
 */
function encodeChainEntry(entry: ChainEntry): Uint8Array {
  const postings = [...entry.postings].sort((a, b) => compareBytewise(a.accountId, b.accountId));
  return lengthPrefixed([
    CHAIN_ENCODING,
    entry.entry.toString(),
    entry.transferId,
    entry.kind,
    entry.identity,
    entry.idempotencyKey,
    entry.sourceAccountId,
    entry.targetAccountId,
    entry.amountMinor.toString(),
    entry.createdAt,
    postings.length.toString(),
    ...postings.flatMap((posting) => [posting.accountId, posting.amountMinor.toString()]),
    ...linkFields(entry),
  ]);
}

/** The fields an entry's kind adds after its postings. */
function linkFields(entry: ChainEntry): string[] {
  if (entry.kind === "capture") {
    assert(entry.holdId !== null, `Capture ${entry.entry} names its hold`);
    return [entry.holdId];
  }
  if (entry.kind === "reversal" || entry.kind === "refund") {
    assert(entry.originalEntry !== null, `Reversal ${entry.entry} names its original`);
    return [entry.originalEntry.toString(), entry.reason ?? ""];
  }
  return [];
}

/** An entry to journal: what moved, its kind, and its link (a capture's hold, a reversal's original). */
export interface EntryToWrite {
  kind: EntryKind;
  transfer: Transfer;
  holdId?: string | null;
  originalEntry?: bigint | null;
  reason?: string | null;
}

/** A journaled entry as the chain sees it (its two postings follow from it), without reading it back. */
export function chainEntryOf(entry: bigint, journaled: EntryToWrite): ChainEntry {
  const { transfer } = journaled;
  return {
    entry,
    transferId: transfer.id,
    kind: journaled.kind,
    holdId: journaled.holdId ?? null,
    originalEntry: journaled.originalEntry ?? null,
    reason: journaled.reason ?? null,
    identity: transfer.identity,
    idempotencyKey: transfer.idempotencyKey,
    sourceAccountId: transfer.sourceAccountId,
    targetAccountId: transfer.targetAccountId,
    amountMinor: transfer.amountMinor,
    createdAt: transfer.createdAt.toISOString(),
    postings: [
      { accountId: transfer.sourceAccountId, amountMinor: -transfer.amountMinor },
      { accountId: transfer.targetAccountId, amountMinor: transfer.amountMinor },
    ],
  };
}

/** The hash of `entry` following `previous`. */
export function chainHash(previous: Uint8Array, entry: ChainEntry): Uint8Array {
  assert(previous.length === 32, "A chain hash is 32 bytes");
  return new Uint8Array(createHash("sha256").update(previous).update(encodeChainEntry(entry)).digest());
}

/** A stored hash (64 hex digits) as bytes; null when it is not one. */
function readStoredHash(value: unknown): Uint8Array | null {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) return null;
  return fromHex(value);
}

export function formatHash(hash: Uint8Array): string {
  return toHex(hash);
}

/** The latest link: its position in commit order, entry number and hash (the genesis at position 0). */
export interface ChainHead {
  position: bigint;
  entry: bigint | null;
  hash: Uint8Array;
}

export const EMPTY_CHAIN: ChainHead = { position: 0n, entry: null, hash: CHAIN_GENESIS };

type Row = Record<string, unknown>;

/**
 * Entries from journal rows (in the order wanted) and all their posting rows, whatever integer type the
 * driver hands back; `created_at` may be text (SQLite) or a Date (PostgreSQL).
 */
export function chainEntriesFromRows(journal: readonly Row[], postings: readonly Row[]): ChainEntry[] {
  const byEntry = new Map<string, { accountId: string; amountMinor: bigint }[]>();
  for (const row of postings) {
    const key = String(row.entry);
    const list = byEntry.get(key) ?? [];
    list.push({ accountId: String(row.account_id), amountMinor: BigInt(row.amount_minor as bigint) });
    byEntry.set(key, list);
  }
  return journal.map((row) => ({
    entry: BigInt(row.entry as bigint),
    transferId: String(row.transfer_id),
    kind: String(row.kind),
    identity: String(row.identity),
    idempotencyKey: String(row.idempotency_key),
    sourceAccountId: String(row.source_account_id),
    targetAccountId: String(row.target_account_id),
    amountMinor: BigInt(row.amount_minor as bigint),
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : String(row.created_at),
    postings: byEntry.get(String(row.entry)) ?? [],
    // Rows journaled before migration 5 have no link columns.
    holdId: row.hold_id === null || row.hold_id === undefined ? null : String(row.hold_id),
    originalEntry: row.original_entry === null || row.original_entry === undefined
      ? null
      : BigInt(row.original_entry as bigint),
    reason: row.reason === null || row.reason === undefined ? null : String(row.reason),
  }));
}

/** What walking a stored chain found: the last link that verified, and the first problem after it. */
export interface ChainCheck {
  head: ChainHead;
  /** The first problem, naming its entry; null when every link verified. */
  problem: string | null;
}

/** A page of the chain in commit order: its stored links, and the entries they name (by entry number). */
export interface ChainPage {
  links: StoredLink[];
  entries: Map<bigint, ChainEntry>;
}

/**
 * Every page of a store's chain in commit order (`ledger export`, the chaos checker's verdict): one page in
 * memory at a time, each starting after the last position of the one before.
 */
export async function* chainPagesOf(
  store: { chainPage(position: bigint): Promise<ChainPage> },
): AsyncGenerator<ChainPage> {
  for (let position = 0n;;) {
    const page = await store.chainPage(position);
    if (page.links.length === 0) return;
    yield page;
    position = page.links.at(-1)!.position;
  }
}

/** A stored link, as the chain's queries return it: position, entry and stored hash. */
export interface StoredLink {
  position: bigint;
  entry: bigint;
  hash: unknown;
}

type AnyInteger = bigint | number | string;

/** A `journal_chain` row, whatever integer type the driver hands back. */
export function linkFromRow(row: Row): StoredLink {
  return {
    position: BigInt(row.position as AnyInteger),
    entry: BigInt(row.entry as AnyInteger),
    hash: row.hash,
  };
}

/** The head a `journal_chain` row names; the genesis when there is none. */
export function headFromRow(row: Row | undefined): ChainHead {
  if (row === undefined) return EMPTY_CHAIN;
  const link = linkFromRow(row);
  const hash = readStoredHash(link.hash);
  assert(hash !== null, `Chain position ${link.position} holds a malformed hash`);
  return { position: link.position, entry: link.entry, hash };
}

/** The first entry no link covers, in SQL both dialects read alike. */
export const FIRST_UNLINKED_SQL =
  "SELECT MIN(j.entry) AS entry FROM journal j LEFT JOIN journal_chain c ON c.entry = j.entry WHERE c.entry IS NULL";

/** The problem {@link FIRST_UNLINKED_SQL}'s row reports, if any. */
export function unlinkedProblem(row: Row | undefined): string | null {
  const entry = row?.entry;
  return entry === null || entry === undefined ? null : `Entry ${entry}: in the journal but not in the chain`;
}

/**
 * Checks a page of stored links against the entries they name, continuing from `from`. Returns the last
 * link that verified, and the first problem.
 */
export function checkChainPage(
  from: ChainHead,
  links: readonly StoredLink[],
  entries: ReadonlyMap<bigint, ChainEntry>,
): ChainCheck {
  let head = from;
  for (const link of links) {
    if (link.position !== head.position + 1n) {
      return {
        head,
        problem: `Chain position ${head.position + 1n} is missing (entry ${link.entry} follows)`,
      };
    }
    const entry = entries.get(link.entry);
    if (entry === undefined) {
      return { head, problem: `Entry ${link.entry}: in the chain but not in the journal` };
    }
    const expected = chainHash(head.hash, entry);
    if (link.hash !== formatHash(expected)) {
      return {
        head,
        problem: `Entry ${link.entry}: its hash does not match the chain (the entry, its postings or its ` +
          `link was changed)`,
      };
    }
    head = { position: link.position, entry: link.entry, hash: expected };
  }
  return { head, problem: null };
}

function compareBytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
