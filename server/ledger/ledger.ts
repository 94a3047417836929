/**
 * The ledger interface handlers work over. Implementations: {@link MemoryLedger} (tests and development);
 * durable stores implement the same interface and behaviour.
 *
 * Money is `bigint` minor units everywhere. Every operation returns a result whose `code` comes from a
 * closed union; codes are part of the wire protocol, never renamed or reused.
 *
 * @module
 */
import type { TransferFailureCode } from "../../protocol/codes.ts";

export type Currency = "USD";
export type AccountStatus = "open" | "frozen";

export interface Account {
  id: string;
  owner: string;
  currency: Currency;
  balanceMinor: bigint;
  status: AccountStatus;
  createdAt: Date;
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

/** What a caller asks to move. Without `sourceAccountId` the caller's first account pays. */
export interface TransferInput {
  identity: string;
  sourceAccountId?: string;
  targetAccountId: string;
  amountMinor: bigint;
  idempotencyKey: string;
}

export type { TransferFailureCode };

export type TransferCode = "ok" | "exists" | TransferFailureCode;

/**
 * `ok`: journaled now. `exists`: this idempotency key was journaled before with the same fields; nothing
 * moved again. Failures move nothing and are not remembered, so a retry is evaluated afresh.
 */
export type TransferResult =
  | { code: "ok" | "exists"; transfer: Transfer }
  | { code: TransferFailureCode };

export interface ContactDetails {
  email?: string;
  phone?: string;
  address?: string;
}

export type ContactField = keyof ContactDetails;

export type ContactCode = "ok";

export interface ContactResult {
  code: ContactCode;
  /** Fields whose value changed; empty when the caller confirmed the details already on file. */
  changed: ContactField[];
}

export interface OpenAccountInput {
  owner: string;
  id: string;
  depositMinor: bigint;
}

export type OpenAccountResult = { code: "ok"; account: Account } | { code: "account_exists" };

/** What a full recomputation of balances from the journal found. */
export interface VerifyReport {
  ok: boolean;
  accounts: number;
  totalMinor: bigint;
  problems: string[];
}

export interface Ledger extends AsyncDisposable {
  /** The accounts an identity owns, oldest first. */
  accountsOf(owner: string): Promise<Account[]>;
  transfer(input: TransferInput): Promise<TransferResult>;
  updateContact(owner: string, details: ContactDetails): Promise<ContactResult>;
  openAccount(input: OpenAccountInput): Promise<OpenAccountResult>;
  /** Recomputes every balance from the journal and compares. */
  verify(): Promise<VerifyReport>;
  close(): Promise<void>;
}
