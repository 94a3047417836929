/**
 * The ledger interface handlers work over, and the rules every implementation keeps:
 *
 * - Double entry: every journal entry has exactly two postings, a debit and a credit of the same amount.
 *   Money enters only through the system account `EXTERNAL` (opening deposits), so the sum of all balances
 *   is always zero, and a customer balance is never below zero.
 * - Balances and journal agree at every commit: {@link Ledger.verify} recomputes each balance from the
 *   postings.
 * - Exactly once: a transfer is identified by its caller and idempotency key. The same key with the same
 *   fields returns the original transfer (`exists`) without moving money again; with other fields it is a
 *   conflict. Refused transfers move nothing and are not remembered, so a retry is judged afresh.
 * - Durable: a method resolves only after its commit is durable.
 *
 * Implementations: `sqlite.ts` (embedded default) and `postgres.ts` (scale-out). One behaviour suite,
 * `_ledger_cases.ts`, runs against both. Money is `bigint` minor units everywhere.
 *
 * @module
 */
import type {
  CaptureFailureCode,
  HoldFailureCode,
  ReversalFailureCode,
  TransferFailureCode,
  VoidFailureCode,
} from "../../protocol/codes.ts";
import type { ChainHead, ChainPage } from "./chain.ts";

export type {
  CaptureFailureCode,
  HoldFailureCode,
  ReversalFailureCode,
  TransferFailureCode,
  VoidFailureCode,
};
export type Currency = "USD";
export type AccountStatus = "open" | "frozen";
export type AccountKind = "customer" | "system";

/** The system account that money enters and leaves the bank through; it alone may be negative. */
export const EXTERNAL_ACCOUNT_ID = "EXTERNAL";
/** The owner of the bank's own accounts. */
export const BANK_OWNER = "bank";

export interface Account {
  id: string;
  owner: string;
  kind: AccountKind;
  currency: Currency;
  balanceMinor: bigint;
  /** What active holds reserve of the balance: spendable is `balanceMinor - heldMinor`. */
  heldMinor: bigint;
  status: AccountStatus;
  createdAt: Date;
}

/** What kind of movement a journal entry records. */
export type EntryKind = "deposit" | "transfer" | "capture" | "reversal" | "refund";

/** Where an entry sits in the journal's hash chain: what a receipt signs. */
export interface EntryLink {
  entry: bigint;
  /** The chain's hash through this entry, 64 hex digits. */
  hash: string;
}

/** A transfer the ledger has journaled. */
export interface Transfer {
  id: string;
  idempotencyKey: string;
  identity: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  createdAt: Date;
}

/** What a caller asks to move. Without `sourceAccountId` the caller's oldest account pays. */
export interface TransferInput {
  identity: string;
  sourceAccountId?: string;
  targetAccountId: string;
  amountMinor: bigint;
  idempotencyKey: string;
}

export type TransferCode = "ok" | "exists" | TransferFailureCode;

export type TransferResult =
  | { code: "ok" | "exists"; transfer: Transfer; link: EntryLink }
  | { code: TransferFailureCode };

/**
 * A hold: money reserved in the source account for the target until it is captured (whole or in part,
 * once), voided, or reaches `expiresAt` by the ledger's clock. `pending` past its expiry reserves nothing.
 */
export interface Hold {
  id: string;
  identity: string;
  idempotencyKey: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  status: "pending" | "captured" | "voided";
  expiresAt: Date;
  createdAt: Date;
  /** When it was captured or voided; null while pending. */
  settledAt: Date | null;
  /** The capture's entry; null unless captured. */
  captureEntry: bigint | null;
}

/** A hold to place; without `sourceAccountId` the caller's oldest account pays. */
export interface HoldInput {
  identity: string;
  sourceAccountId?: string;
  targetAccountId: string;
  amountMinor: bigint;
  idempotencyKey: string;
  /** Seconds from now until an uncaptured hold expires, 1 to `HOLD_EXPIRY_S_MAX`. */
  expiresInS: number;
}

export type HoldResult = { code: "ok" | "exists"; hold: Hold } | { code: HoldFailureCode };

/** A capture of a caller's hold: `amountMinor` of it (the whole hold when absent), at most once. */
export interface CaptureInput {
  identity: string;
  holdId: string;
  amountMinor?: bigint;
}

export type CaptureResult =
  | { code: "ok" | "exists"; hold: Hold; capture: Transfer; link: EntryLink }
  | { code: CaptureFailureCode };

export interface VoidInput {
  identity: string;
  holdId: string;
}

export type VoidResult = { code: "ok" | "exists"; hold: Hold } | { code: VoidFailureCode };

/**
 * A reversal of a transfer or capture, whole (no `amountMinor`: what is left of it) or in part: by an
 * operator (`reversal`, with a reason) or by the transfer's recipient (`refund`). Money goes back from the
 * original's target to its source; all reversals of an entry never add up to more than it.
 */
export interface ReversalInput {
  kind: "reversal" | "refund";
  /** The operator's `BANK_OWNER`, or the recipient. */
  identity: string;
  transferId: string;
  amountMinor?: bigint;
  idempotencyKey: string;
  reason?: string;
}

export type ReversalResult =
  | { code: "ok" | "exists"; reversal: Transfer; link: EntryLink; original: Transfer; reversedMinor: bigint }
  | { code: ReversalFailureCode };

/** One line of an account's history, newest first; `entry` is the paging cursor. */
export interface HistoryItem {
  entry: bigint;
  transferId: string;
  kind: EntryKind;
  accountId: string;
  counterpartyAccountId: string;
  /** Positive when money came in, negative when it went out. */
  amountMinor: bigint;
  /** The account's ledger balance right after this entry (entries in number order). */
  balanceAfterMinor: bigint;
  createdAt: Date;
}

/** A statement's cut-off: up to and including an entry number, or every entry written at or before a time. */
export type AsOf = { entry: bigint } | { time: Date };

export interface HistoryQuery {
  /** One of the caller's accounts; all of them when absent. */
  accountId?: string;
  limit: number;
  /** Only entries older than this cursor. */
  beforeEntry?: bigint;
  /** Only entries up to this cut-off: the page starts at the statement's last entry. */
  asOf?: AsOf;
}

export type HistoryResult = { code: "ok"; items: HistoryItem[] } | { code: "account_not_found" };

export interface ContactDetails {
  email?: string;
  phone?: string;
  address?: string;
}

export type ContactField = keyof ContactDetails;

export interface ContactResult {
  code: "ok";
  /** Fields whose value changed; empty when the caller confirmed the details already on file. */
  changed: ContactField[];
}

/** One recorded contact update, newest first: which fields changed and when (values are not returned). */
export interface ContactChange {
  changed: ContactField[];
  at: Date;
}

export interface OpenAccountInput {
  owner: string;
  /** Chosen by the ledger when absent. */
  id?: string;
  depositMinor: bigint;
}

export type OpenAccountResult =
  | { code: "ok"; account: Account }
  | { code: "account_exists" | "owner_account_limit" | "issuance_over_limit" };

export type StatusResult = { code: "ok"; account: Account } | { code: "account_not_found" };

/** What a full recomputation of balances from the journal found. */
export interface VerifyReport {
  ok: boolean;
  accounts: number;
  entries: number;
  totalMinor: bigint;
  problems: string[];
  /** The links of the journal's hash chain that verified, and the last of them. */
  chain: { links: number; head: ChainHead };
}

export interface Ledger extends AsyncDisposable {
  /** `sqlite` or `postgres`, for logs and reports. */
  readonly store: string;
  /** The accounts an identity owns, oldest first. */
  accountsOf(owner: string): Promise<Account[]>;
  /** Accounts for administration, by id, at most `limit`, after the id `after`. */
  listAccounts(query: { owner?: string; limit: number; after?: string }): Promise<Account[]>;
  openAccount(input: OpenAccountInput): Promise<OpenAccountResult>;
  setAccountStatus(accountId: string, status: AccountStatus): Promise<StatusResult>;
  transfer(input: TransferInput): Promise<TransferResult>;
  /** Places a hold: judged like a transfer against the available balance, but nothing moves yet. */
  hold(input: HoldInput): Promise<HoldResult>;
  captureHold(input: CaptureInput): Promise<CaptureResult>;
  voidHold(input: VoidInput): Promise<VoidResult>;
  /** Journals a reversal or refund linked to its original. Nothing is ever edited or deleted. */
  reverse(input: ReversalInput): Promise<ReversalResult>;
  /** The transfer journaled for a caller's idempotency key, or null. */
  findTransfer(identity: string, idempotencyKey: string): Promise<Transfer | null>;
  history(owner: string, query: HistoryQuery): Promise<HistoryResult>;
  updateContact(owner: string, details: ContactDetails): Promise<ContactResult>;
  contactHistory(owner: string, query: { limit: number }): Promise<ContactChange[]>;
  /** Resolves when the store answers a trivial query (readiness); rejects otherwise. */
  ping(): Promise<void>;
  /** Recomputes every balance from the journal and checks every invariant. */
  verify(): Promise<VerifyReport>;
  /** Journal entry number `entry`, its kind and its link, or null (what a receipt is checked against). */
  entryAt(entry: bigint): Promise<{ kind: EntryKind; transfer: Transfer; link: EntryLink } | null>;
  /** The latest link of the journal's hash chain: what `ledger head` prints and receipts point into. */
  chainHead(): Promise<ChainHead>;
  /** The chain's links after `position`, a page at a time in commit order, with their entries (export). */
  chainPage(position: bigint): Promise<ChainPage>;
  close(): Promise<void>;
}

export type IdentityStatus = "active" | "revoked";

/** An identity as the store keeps it. Its keys are {@link IdentityKey}s: public halves only. */
export interface IdentityRecord {
  name: string;
  status: IdentityStatus;
  /** Grows by one on every change of the identity or its keys; sessions made under an older one are checked. */
  generation: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A device's own key pair, or an invite's (derived from a one-time code) that may enrol one device. */
export type KeyKind = "device" | "invite";
export type KeyStatus = "active" | "revoked";

/** A public key an identity authenticates with; the private half never reaches the bank. */
export interface IdentityKey {
  identity: string;
  /** 32 hex digits: the first half of the public key's SHA-256. */
  keyId: string;
  publicKey: Uint8Array;
  kind: KeyKind;
  status: KeyStatus;
  /** An invite's deadline and the failed handshakes it may still take; null for a device key. */
  expiresAt: Date | null;
  attemptsLeft: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A key to add: a device key, or an invite with its deadline and attempts. */
export type NewKey =
  | { kind: "device"; keyId: string; publicKey: Uint8Array }
  | { kind: "invite"; keyId: string; publicKey: Uint8Array; expiresAt: Date; attemptsLeft: number };

/** How a key change ended: done, no such active identity or key, the key already known, or too many keys. */
export type KeyChangeResult = "ok" | "not_found" | "key_exists" | "key_limit";

/** Identity changes after a cursor, oldest first, with the cursor to ask from next time. */
export interface IdentityChanges {
  cursor: number;
  changes: { name: string; status: IdentityStatus; generation: number }[];
}

/**
 * The identities a store knows and their public keys, shared by every server process on it. Writes are
 * serialized, so change numbers follow commit order and {@link IdentityDirectory.identityChangesSince}
 * never misses one. Every change of a key moves its identity to a new generation and change number.
 */
export interface IdentityDirectory {
  /**
   * A key an identity may authenticate with now, and the identity's generation: an active key of an active
   * identity (an invite only before its deadline and with attempts left); null otherwise.
   */
  lookupKey(name: string, keyId: string): Promise<{ key: IdentityKey; generation: number } | null>;
  addIdentity(name: string): Promise<"ok" | "exists">;
  addKey(name: string, key: NewKey): Promise<KeyChangeResult>;
  /** Revokes one usable key and adds another in one commit: enrolment (an invite's key by a device's) and rotation. */
  replaceKey(name: string, change: { oldKeyId: string; key: NewKey }): Promise<KeyChangeResult>;
  revokeKey(name: string, keyId: string): Promise<"ok" | "not_found">;
  /** Counts one failed handshake against the identity's open invites; at zero attempts one stops working. */
  spendInviteAttempt(name: string): Promise<void>;
  /** The identity's keys, newest first: every active one, then the most recent revoked ones. */
  listKeys(name: string, query: { limit: number }): Promise<IdentityKey[]>;
  revokeIdentity(name: string): Promise<"ok" | "not_found">;
  listIdentities(query: { limit: number; after?: string }): Promise<IdentityRecord[]>;
  countIdentities(): Promise<number>;
  identityChangesSince(cursor: number, query: { limit: number }): Promise<IdentityChanges>;
}

/** A store: the ledger and the identity directory over one database. */
export type BankStore = Ledger & IdentityDirectory;
