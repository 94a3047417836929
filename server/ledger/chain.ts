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
import { hash } from "node:crypto";
import { assert } from "../../lib/assert.ts";
import { fromHex, toHex } from "../../lib/bytes.ts";
import { isoTime, storedHashText, transferIdOf } from "./columns.ts";
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
  postings: readonly ChainPosting[];
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
 *
 * Written after `previous` into one reused buffer, so that a link costs one hash call and no allocation
 * (the chain is hashed inside every write transaction, and `ledger verify` hashes every entry).
 */
function encodeLink(previous: Uint8Array | string, entry: ChainEntry): Uint8Array {
  const writer = LINK_WRITER;
  writer.reset();
  if (typeof previous === "string") writer.hex(previous);
  else writer.bytes(previous);
  writer.field(CHAIN_ENCODING);
  writer.field(entry.entry.toString());
  writer.field(entry.transferId);
  writer.field(entry.kind);
  writer.field(entry.identity);
  writer.field(entry.idempotencyKey);
  writer.field(entry.sourceAccountId);
  writer.field(entry.targetAccountId);
  writer.field(entry.amountMinor.toString());
  writer.field(entry.createdAt);
  const postings = entry.postings.length === 2 &&
      compareBytewise(entry.postings[0]!.accountId, entry.postings[1]!.accountId) <= 0
    ? entry.postings
    : [...entry.postings].sort((a, b) => compareBytewise(a.accountId, b.accountId));
  writer.field(postings.length.toString());
  for (const posting of postings) {
    writer.field(posting.accountId);
    writer.field(posting.amountMinor.toString());
  }
  for (const field of linkFields(entry)) writer.field(field);
  return writer.view();
}

/** Length-prefixed fields into one buffer that grows as needed and is reused from link to link. */
class LinkWriter {
  #buffer = new Uint8Array(1024);
  #at = 0;

  reset(): void {
    this.#at = 0;
  }

  bytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  /** The bytes of a hash node:crypto wrote in lower-case hex. */
  hex(hex: string): void {
    this.#reserve(hex.length / 2);
    decodeHexInto(hex, this.#buffer, this.#at);
    this.#at += hex.length / 2;
  }

  /** `u32be(UTF-8 byte length) || UTF-8 bytes`; ASCII is copied code unit by code unit. */
  field(text: string): void {
    this.#reserve(4 + text.length * 3);
    const buffer = this.#buffer;
    const start = this.#at + 4;
    let length = 0;
    let ascii = true;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code > 0x7f) {
        ascii = false;
        break;
      }
      buffer[start + index] = code;
    }
    if (ascii) length = text.length;
    else length = ENCODER.encodeInto(text, buffer.subarray(start)).written;
    buffer[this.#at] = length >>> 24;
    buffer[this.#at + 1] = (length >>> 16) & 0xff;
    buffer[this.#at + 2] = (length >>> 8) & 0xff;
    buffer[this.#at + 3] = length & 0xff;
    this.#at = start + length;
  }

  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#at);
  }

  #reserve(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(2 * this.#buffer.length, this.#at + bytes));
    grown.set(this.#buffer.subarray(0, this.#at));
    this.#buffer = grown;
  }
}

const ENCODER = new TextEncoder();
/** Each lower-case hex digit's value, by character code. */
const HEX_VALUES = new Uint8Array(128);
for (const [value, digit] of [..."0123456789abcdef"].entries()) HEX_VALUES[digit.charCodeAt(0)] = value;

/** Lower-case hex, as node:crypto writes it, into `out` at `at` (cheaper than `Uint8Array.fromHex` here). */
function decodeHexInto(hex: string, out: Uint8Array, at: number): void {
  for (let index = 0; index < hex.length / 2; index++) {
    out[at + index] = (HEX_VALUES[hex.charCodeAt(2 * index)]! << 4) |
      HEX_VALUES[hex.charCodeAt(2 * index + 1)]!;
  }
}

function hashBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  decodeHexInto(hex, bytes, 0);
  return bytes;
}
const LINK_WRITER = new LinkWriter();

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
    postings: entryPostings(transfer.sourceAccountId, transfer.targetAccountId, transfer.amountMinor),
  };
}

/** The two postings an entry from `source` to `target` of `amountMinor` makes: its debit, then its credit. */
export function entryPostings(source: string, target: string, amountMinor: bigint): ChainPosting[] {
  return [{ accountId: source, amountMinor: -amountMinor }, { accountId: target, amountMinor }];
}

/** The hash of `entry` following `previous`. */
export function chainHash(previous: Uint8Array, entry: ChainEntry): Uint8Array {
  return hashBytes(chainHashHex(previous, entry));
}

/**
 * The hash of `entry` following `previous`, in hex as the chain stores it. (node:crypto's one-shot hash is
 * several times cheaper with hex output than with a Buffer, in Deno 2.9.)
 */
function chainHashHex(previous: Uint8Array | string, entry: ChainEntry): string {
  assert(previous.length === (typeof previous === "string" ? 64 : 32), "A chain hash is 32 bytes");
  return hash("sha256", encodeLink(previous, entry), "hex");
}

/** A stored hash (64 hex digits, or 32 bytes) as bytes; null when it is not one. */
function readStoredHash(value: unknown): Uint8Array | null {
  const text = storedHashText(value);
  if (typeof text !== "string" || !/^[0-9a-f]{64}$/.test(text)) return null;
  return fromHex(text);
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

/** A posting as the chain sees it. */
export interface ChainPosting {
  accountId: string;
  amountMinor: bigint;
}

/** The journal's columns an entry's link covers, in the order {@link chainEntryFromColumns} reads them. */
export const JOURNAL_COLUMNS = [
  "transfer_id",
  "kind",
  "identity",
  "idempotency_key",
  "source_account_id",
  "target_account_id",
  "amount_minor",
  "created_at",
  "hold_id",
  "original_entry",
  "reason",
] as const;

type AnyInteger = bigint | number | string;

/**
 * An entry from its number, the values of {@link JOURNAL_COLUMNS} in order (whatever integer type the
 * driver hands back; the id, time and hash as either store keeps them: columns.ts), and its postings.
 */
export function chainEntryFromColumns(
  entry: AnyInteger,
  columns: readonly unknown[],
  postings: readonly ChainPosting[],
): ChainEntry {
  const [transferId, kind, identity, key, source, target, amount, createdAt, holdId, original, reason] =
    columns;
  return {
    entry: BigInt(entry),
    transferId: transferIdOf(transferId),
    kind: String(kind),
    identity: String(identity),
    idempotencyKey: String(key),
    sourceAccountId: String(source),
    targetAccountId: String(target),
    amountMinor: BigInt(amount as AnyInteger),
    createdAt: isoTime(createdAt, "A journal entry"),
    postings,
    // Rows journaled before migration 5 have no link columns.
    holdId: holdId === null || holdId === undefined ? null : String(holdId),
    originalEntry: original === null || original === undefined ? null : BigInt(original as AnyInteger),
    reason: reason === null || reason === undefined ? null : String(reason),
  };
}

/** Posting rows as (entry, account, amount), whatever integer type the driver hands back, grouped by entry. */
export function postingsByEntry(rows: Iterable<readonly unknown[]>): Map<bigint, ChainPosting[]> {
  const byEntry = new Map<bigint, ChainPosting[]>();
  for (const [entry, accountId, amountMinor] of rows) {
    const key = BigInt(entry as AnyInteger);
    const posting = { accountId: String(accountId), amountMinor: BigInt(amountMinor as AnyInteger) };
    const list = byEntry.get(key);
    if (list === undefined) byEntry.set(key, [posting]);
    else list.push(posting);
  }
  return byEntry;
}

/** Entries from journal rows (in the order wanted) and all their posting rows, as objects. */
export function chainEntriesFromRows(journal: readonly Row[], postings: readonly Row[]): ChainEntry[] {
  const byEntry = postingsByEntry(postings.map((row) => [row.entry, row.account_id, row.amount_minor]));
  return journal.map((row) => {
    const entry = BigInt(row.entry as AnyInteger);
    return chainEntryFromColumns(
      entry,
      JOURNAL_COLUMNS.map((column) => row[column]),
      byEntry.get(entry) ?? [],
    );
  });
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

/** A `journal_chain` row, whatever integer type the driver hands back. */
export function linkFromRow(row: Row): StoredLink {
  return {
    position: BigInt(row.position as AnyInteger),
    entry: BigInt(row.entry as AnyInteger),
    hash: storedHashText(row.hash),
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
  let { position, entry: last } = from;
  // The previous hash stays in hex from link to link, as hashed and as stored; bytes only for the head.
  let previous: Uint8Array | string = from.hash;
  const at = (problem: string | null): ChainCheck => ({
    head: { position, entry: last, hash: typeof previous === "string" ? hashBytes(previous) : previous },
    problem,
  });
  for (const link of links) {
    if (link.position !== position + 1n) {
      return at(`Chain position ${position + 1n} is missing (entry ${link.entry} follows)`);
    }
    const entry = entries.get(link.entry);
    if (entry === undefined) return at(`Entry ${link.entry}: in the chain but not in the journal`);
    const expected = chainHashHex(previous, entry);
    if (link.hash !== expected) {
      return at(
        `Entry ${link.entry}: its hash does not match the chain (the entry, its postings or its link was ` +
          `changed)`,
      );
    }
    position = link.position;
    last = link.entry;
    previous = expected;
  }
  return at(null);
}

function compareBytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
