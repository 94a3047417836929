/**
 * What handlers take and give: typed requests decoded from either text commands or structured messages,
 * and typed outcomes that either wire format can render.
 *
 * @module
 */
import type { ErrorCode, Operation } from "../../protocol/codes.ts";
import type { HandshakeCrypto, Signer } from "../../protocol/handshake_crypto.ts";
import type { Receipt } from "../../protocol/receipt.ts";
import type {
  Account,
  AsOf,
  ContactDetails,
  ContactField,
  HistoryItem,
  Hold,
  IdentityDirectory,
  KeyKind,
  Ledger,
  Transfer,
} from "../ledger/ledger.ts";

export type BankRequest =
  | { operation: "balance" }
  | {
    operation: "transfer";
    sourceAccountId?: string;
    targetAccountId: string;
    amountMinor: bigint;
    idempotencyKey: string;
  }
  | {
    operation: "hold";
    sourceAccountId?: string;
    targetAccountId: string;
    amountMinor: bigint;
    idempotencyKey: string;
    expiresInS: number;
  }
  | { operation: "capture"; holdId: string; amountMinor?: bigint }
  | { operation: "void"; holdId: string }
  | { operation: "refund"; transferId: string; amountMinor?: bigint; idempotencyKey: string }
  | { operation: "history"; accountId?: string; limit: number; beforeEntry?: bigint; asOf?: AsOf }
  | { operation: "update_contact"; details: ContactDetails }
  | { operation: "enrol"; publicKey: Uint8Array; signature: Uint8Array }
  | {
    operation: "rotate_key";
    publicKey: Uint8Array;
    newKeySignature: Uint8Array;
    oldKeySignature: Uint8Array;
  };

export type Outcome =
  | { operation: "balance"; ok: true; accounts: Account[] }
  | { operation: "transfer"; ok: true; code: "ok" | "exists"; transfer: Transfer; receipt: Receipt }
  | { operation: "hold" | "void"; ok: true; code: "ok" | "exists"; hold: Hold; expired: boolean }
  | {
    operation: "capture";
    ok: true;
    code: "ok" | "exists";
    hold: Hold;
    capture: Transfer;
    receipt: Receipt;
  }
  | {
    operation: "refund";
    ok: true;
    code: "ok" | "exists";
    refund: Transfer;
    original: Transfer;
    reversedMinor: bigint;
    receipt: Receipt;
  }
  | { operation: "history"; ok: true; items: HistoryItem[]; nextBeforeEntry: bigint | null }
  | { operation: "update_contact"; ok: true; changed: ContactField[] }
  | { operation: "enrol"; ok: true; keyId: string }
  | { operation: "rotate_key"; ok: true; keyId: string; revokedKeyId: string }
  | Failure;

/** A refused request. `operation` is null when the request named no operation we know. */
export interface Failure {
  operation: Operation | null;
  ok: false;
  code: ErrorCode;
  message: string;
  /** With `rate_limited`: whole seconds until the identity's budget has room again. */
  retryAfterS?: number;
}

/**
 * The session a request arrives on: the key it authenticated with (an invite's key may only enrol), its
 * transcript hash (what key changes sign), and the identity directory and crypto key changes need.
 */
export interface SessionKey {
  keyId: string;
  kind: KeyKind;
  publicKey: Uint8Array;
  transcript: Uint8Array;
  identities: IdentityDirectory;
  crypto: HandshakeCrypto;
}

/**
 * Everything a handler may use: who asks, on which session, the ledger, and the bank's key that signs
 * receipts. Handlers never see a database.
 */
export interface HandlerContext {
  identity: string;
  ledger: Ledger;
  session: SessionKey;
  bank: Signer;
}

export type Handler<R extends BankRequest> = (request: R, context: HandlerContext) => Promise<Outcome>;
