/**
 * The rows both stores read, and how they become ledger values. PostgreSQL hands back `Date`s and SQLite
 * ISO-8601 text for timestamps; both hand back `bigint` for money, which is checked, never converted.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { storedHashText, timeOf, transferIdOf } from "./columns.ts";
import type {
  Account,
  ContactChange,
  ContactField,
  EntryKind,
  EntryLink,
  Hold,
  IdentityChanges,
  IdentityRecord,
  IdentityStatus,
  Transfer,
} from "./ledger.ts";
import type { JournaledEntry } from "./operations.ts";
import type { PostedItem } from "./statements.ts";

export interface AccountRow {
  id: string;
  owner: string;
  kind: string;
  balance_minor: bigint;
  /** What active holds reserve: every account query computes it ({@link heldMinorSql}). */
  held_minor: bigint;
  status: string;
  created_at: Date | string;
}

/**
 * The SQL, in both dialects, of an account's `held_minor`: the pending holds on account `a` that expire
 * after `now` (a parameter placeholder: the ledger's clock, never the client's).
 */
export function heldMinorSql(now: string): string {
  return `CAST(COALESCE((SELECT SUM(h.amount_minor) FROM holds h
    WHERE h.source_account_id = a.id AND h.status = 'pending' AND h.expires_at > ${now}), 0) AS BIGINT)`;
}

export interface HoldRow {
  hold_id: string;
  identity: string;
  idempotency_key: string;
  source_account_id: string;
  target_account_id: string;
  amount_minor: bigint;
  status: string;
  expires_at: Date | string;
  created_at: Date | string;
  settled_at: Date | string | null;
  capture_entry: bigint | number | null;
}

export function toHold(row: HoldRow): Hold {
  const { status } = row;
  assert(status === "pending" || status === "captured" || status === "voided", `Hold has status ${status}`);
  return {
    id: String(row.hold_id),
    identity: String(row.identity),
    idempotencyKey: String(row.idempotency_key),
    sourceAccountId: String(row.source_account_id),
    targetAccountId: String(row.target_account_id),
    amountMinor: asMinor(row.amount_minor),
    status,
    expiresAt: timeOf(row.expires_at, `Hold ${row.hold_id}`),
    createdAt: timeOf(row.created_at, `Hold ${row.hold_id}`),
    settledAt: row.settled_at === null ? null : timeOf(row.settled_at, `Hold ${row.hold_id}`),
    captureEntry: row.capture_entry === null ? null : BigInt(row.capture_entry),
  };
}

/** A journal row; its id, time and hash as either store keeps them (columns.ts). */
export interface JournalRow {
  transfer_id: string | Uint8Array;
  identity: string;
  idempotency_key: string;
  source_account_id: string;
  target_account_id: string;
  amount_minor: bigint;
  created_at: Date | string | bigint;
}

export interface HistoryRow {
  entry: bigint;
  transfer_id: string | Uint8Array;
  kind: string;
  account_id: string;
  counterparty: string;
  amount_minor: bigint;
  created_at: Date | string | bigint;
}

/** Checks that a money column arrived as a bigint (never a number) and passes it on. */
export function asMinor(value: unknown): bigint {
  assert(typeof value === "bigint", `Money must arrive as a bigint, got ${typeof value}`);
  return value;
}

export function toAccount(row: AccountRow): Account {
  const { status, kind } = row;
  assert(status === "open" || status === "frozen", `Account ${row.id} has status ${status}`);
  assert(kind === "customer" || kind === "system", `Account ${row.id} has kind ${kind}`);
  return {
    id: String(row.id),
    owner: String(row.owner),
    kind,
    currency: "USD",
    balanceMinor: asMinor(row.balance_minor),
    heldMinor: asMinor(row.held_minor),
    status,
    createdAt: timeOf(row.created_at, `Account ${row.id}`),
  };
}

export function toTransfer(row: JournalRow): Transfer {
  const id = transferIdOf(row.transfer_id);
  return {
    id,
    identity: String(row.identity),
    idempotencyKey: String(row.idempotency_key),
    sourceAccountId: String(row.source_account_id),
    targetAccountId: String(row.target_account_id),
    amountMinor: asMinor(row.amount_minor),
    createdAt: timeOf(row.created_at, `Transfer ${id}`),
  };
}

export function toHistoryItem(row: HistoryRow): PostedItem {
  const { kind } = row;
  assert(isEntryKind(kind), `Journal entry ${row.entry} has kind ${kind}`);
  assert(typeof row.entry === "bigint", `Journal entry ${row.entry} must be a bigint`);
  return {
    entry: row.entry,
    transferId: transferIdOf(row.transfer_id),
    kind,
    accountId: String(row.account_id),
    counterpartyAccountId: String(row.counterparty),
    amountMinor: asMinor(row.amount_minor),
    createdAt: timeOf(row.created_at, `Journal entry ${row.entry}`),
  };
}

const ENTRY_KINDS: ReadonlySet<string> = new Set<EntryKind>([
  "deposit",
  "transfer",
  "capture",
  "reversal",
  "refund",
]);

export function isEntryKind(kind: string): kind is EntryKind {
  return ENTRY_KINDS.has(kind);
}

/**
 * An entry as a replay or a receipt needs it (its transfer, link, kind and original), from a journal row
 * joined with its chain hash; null for no row. Both stores read entries this way.
 */
export function toJournaledEntry(row: Record<string, unknown> | undefined): JournaledEntry | null {
  if (row === undefined) return null;
  const kind = String(row.kind);
  assert(isEntryKind(kind), `Entry ${row.entry} has kind ${kind}`);
  return {
    transfer: toTransfer(row as unknown as JournalRow),
    link: toLink(row),
    kind,
    originalEntry: row.original_entry === null ? null : BigInt(row.original_entry as bigint),
  };
}

/** An entry's link in the chain from its `entry` and `hash` columns. */
export function toLink(row: { entry?: unknown; hash?: unknown }): EntryLink {
  const hash = storedHashText(row.hash);
  assert(typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash), "A linked entry has its hash");
  return { entry: BigInt(row.entry as bigint | number), hash };
}

export interface IdentityRow {
  name: string;
  status: string;
  generation: bigint | number;
  change_seq: bigint | number;
  created_at: Date | string;
  updated_at: Date | string;
}

export function toIdentityRecord(row: IdentityRow): IdentityRecord {
  const status = row.status;
  assert(status === "active" || status === "revoked", `Identity ${row.name} has status ${status}`);
  return {
    name: String(row.name),
    status,
    generation: Number(row.generation),
    createdAt: timeOf(row.created_at, `Identity ${row.name}`),
    updatedAt: timeOf(row.updated_at, `Identity ${row.name}`),
  };
}

export function toIdentityChanges(cursor: number, rows: readonly IdentityRow[]): IdentityChanges {
  let next = cursor;
  const changes = rows.map((row) => {
    const seq = Number(row.change_seq);
    assert(seq > next, "Identity changes must come in order");
    next = seq;
    const status = row.status;
    assert(status === "active" || status === "revoked", `Identity ${row.name} has status ${status}`);
    return { name: String(row.name), status: status as IdentityStatus, generation: Number(row.generation) };
  });
  return { cursor: next, changes };
}

/** A row of `contact_changes` as the ledger reports it: which fields changed (never their values), and when. */
export function contactChangeFromRow(row: { fields?: unknown; changed_at?: unknown }): ContactChange {
  const changed = String(row.fields).split(",").filter((field) => field !== "");
  assert(changed.every((field) => CONTACT_FIELD_NAMES.has(field)), `Contact change names unknown fields`);
  return {
    changed: changed as ContactField[],
    at: timeOf(row.changed_at as Date | string, "A contact change"),
  };
}

const CONTACT_FIELD_NAMES: ReadonlySet<string> = new Set(["email", "phone", "address"]);
