/**
 * What handlers take and give: typed requests decoded from either text commands or structured messages,
 * and typed outcomes that either wire format can render.
 *
 * @module
 */
import type { ErrorCode, Operation } from "../../protocol/codes.ts";
import type {
  Account,
  ContactDetails,
  ContactField,
  HistoryItem,
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
  | { operation: "history"; accountId?: string; limit: number; beforeEntry?: bigint }
  | { operation: "update_contact"; details: ContactDetails };

export type Outcome =
  | { operation: "balance"; ok: true; accounts: Account[] }
  | { operation: "transfer"; ok: true; code: "ok" | "exists"; transfer: Transfer }
  | { operation: "history"; ok: true; items: HistoryItem[]; nextBeforeEntry: bigint | null }
  | { operation: "update_contact"; ok: true; changed: ContactField[] }
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

/** Everything a handler may use: who asks, and the ledger. Handlers never see a database. */
export interface HandlerContext {
  identity: string;
  ledger: Ledger;
}

export type Handler<R extends BankRequest> = (request: R, context: HandlerContext) => Promise<Outcome>;
