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
  | ContactFailureCode
  | HistoryFailureCode
  | KeyFailureCode
  | ServiceErrorCode;

/** The operations a structured request may name. */
export type Operation = "balance" | "transfer" | "history" | "update_contact" | "enrol" | "rotate_key";

export const OPERATIONS: readonly Operation[] = [
  "balance",
  "transfer",
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
