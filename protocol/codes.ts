/**
 * Every result code a structured response can carry. Codes are part of the wire protocol: once shipped,
 * never renamed or reused. docs/PROTOCOL.md lists what each one means.
 *
 * @module
 */
import type { AmountCode } from "./money.ts";

/** The request itself could not be understood. */
export type RequestErrorCode =
  | "malformed_request"
  | "unsupported_version"
  | "unknown_operation"
  | "invalid_field";

/** A transfer was refused; nothing moved. */
export type TransferFailureCode =
  | AmountCode
  | "key_reused_with_other_fields"
  | "accounts_must_differ"
  | "account_not_found"
  | "account_frozen"
  | "insufficient_funds";

/** A hold was refused: the same checks as a transfer, against the available balance; nothing was reserved. */
export type HoldFailureCode = TransferFailureCode;

/** Why a hold cannot be captured or voided: the caller holds no such hold, or it is settled or expired. */
export type HoldStateCode =
  | "hold_not_found"
  | "hold_already_captured"
  | "hold_already_voided"
  | "hold_expired";

/** A capture was refused; nothing moved and the hold is as it was. */
export type CaptureFailureCode = AmountCode | HoldStateCode | "capture_exceeds_hold" | "account_frozen";

/** A void was refused; the hold is as it was (a void of a voided hold answers as a replay). */
export type VoidFailureCode = Exclude<HoldStateCode, "hold_already_voided">;

/**
 * A reversal or refund was refused; nothing moved. `transfer_not_found` also answers a refund of a
 * transfer the caller did not receive; `not_reversible` a deposit or a reversal.
 */
export type ReversalFailureCode =
  | AmountCode
  | "key_reused_with_other_fields"
  | "transfer_not_found"
  | "not_reversible"
  | "already_reversed"
  | "reversal_exceeds_transfer"
  | "account_frozen"
  | "insufficient_funds";

/** Contact details were refused; nothing changed. */
export type ContactFailureCode = "contact_invalid";

/** History was refused. */
export type HistoryFailureCode = "account_not_found";

/**
 * A key was refused (enrolment and rotation): the key or a signature is not valid, the key is already
 * registered, the identity holds its most keys, or the session may not do this (an enrolment session only
 * enrols; only a device's session rotates).
 */
export type KeyFailureCode = "key_invalid" | "key_exists" | "key_limit" | "not_allowed";

/**
 * The bank did not complete the request: its store failed (`unavailable`; a transfer may be retried with
 * its key), or the identity sent more requests than its budget allows (`rate_limited`; nothing was done).
 */
export type ServiceErrorCode = "unavailable" | "rate_limited";

/** Every error code a structured response may carry. */
export type ErrorCode =
  | RequestErrorCode
  | TransferFailureCode
  | CaptureFailureCode
  | ReversalFailureCode
  | ContactFailureCode
  | HistoryFailureCode
  | KeyFailureCode
  | ServiceErrorCode;

/** The operations a structured request may name. */
export type Operation =
  | "balance"
  | "transfer"
  | "hold"
  | "capture"
  | "void"
  | "refund"
  | "history"
  | "update_contact"
  | "enrol"
  | "rotate_key";

export const OPERATIONS: readonly Operation[] = [
  "balance",
  "transfer",
  "hold",
  "capture",
  "void",
  "refund",
  "history",
  "update_contact",
  "enrol",
  "rotate_key",
];

const CODE_MESSAGES: Record<ErrorCode, string> = {
  malformed_request: "the request could not be read",
  unsupported_version: "unsupported message version",
  unknown_operation: "unknown operation",
  invalid_field: "a field is missing or invalid",
  amount_malformed: "the amount is not a valid amount",
  amount_must_be_positive: "the amount must be positive",
  amount_over_limit: "the amount is over the transfer limit",
  key_reused_with_other_fields: "this idempotency key was already used for a different transfer",
  accounts_must_differ: "source and target accounts must differ",
  account_not_found: "account not found",
  account_frozen: "account is frozen",
  insufficient_funds: "insufficient funds",
  hold_not_found: "hold not found",
  hold_already_captured: "the hold was already captured",
  hold_already_voided: "the hold was voided",
  hold_expired: "the hold has expired",
  capture_exceeds_hold: "the capture is larger than the hold",
  transfer_not_found: "transfer not found",
  not_reversible: "only a transfer or a capture can be reversed",
  already_reversed: "the transfer was already reversed in full",
  reversal_exceeds_transfer: "the reversal is larger than what is left of the transfer",
  contact_invalid: "the contact details are not valid",
  key_invalid: "the key or a signature is not valid",
  key_exists: "this key is already registered",
  key_limit: "the identity holds as many keys as it may",
  not_allowed: "this session may not do that",
  unavailable:
    "the bank could not complete the request; try again (a transfer with the same idempotency key)",
  rate_limited: "rate limited, retry later",
};

/** Tells whether text is one of the codes above (what a client checks an answer's code against). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(CODE_MESSAGES, code);
}

/** A short, stable explanation of a code, safe to show to any client. */
export function describeCode(code: ErrorCode): string {
  return CODE_MESSAGES[code];
}
