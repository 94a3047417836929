/**
 * What the page tells a customer for each error code the bank can answer (every code has a sentence: the
 * type makes a missing one a compile error), and for the failures of reaching the bank at all.
 *
 * @module
 */
import type { ErrorCode } from "../../protocol/codes.ts";

const CUSTOMER_MESSAGES: Record<ErrorCode, string> = {
  malformed_request: "The bank could not read that request. Reload the page and try again.",
  unsupported_version: "This page is older than the bank. Reload it to get the current version.",
  unknown_operation: "The bank does not know that operation. Reload the page to get the current version.",
  invalid_field: "Something in the form is missing or not valid. Check it and try again.",
  amount_malformed: "Enter an amount like 12.34 or $1,250 (at most two decimals).",
  amount_must_be_positive: "The amount must be more than zero.",
  amount_over_limit: "That amount is over the bank's limit for one transfer.",
  key_reused_with_other_fields: "This transfer's reference was already used for a different transfer.",
  accounts_must_differ: "Choose a different account to send to: it is the account the money comes from.",
  account_not_found: "There is no such account, or it is not one you may use.",
  account_frozen: "One of the accounts is frozen: the transfer cannot be made. Contact the bank.",
  insufficient_funds: "There is not enough money in the account for this transfer.",
  hold_not_found: "No such hold was found.",
  hold_already_captured: "That hold was already captured.",
  hold_already_voided: "That hold was released.",
  hold_expired: "That hold has expired.",
  capture_exceeds_hold: "The capture is larger than the hold.",
  transfer_not_found: "No such transfer was found.",
  not_reversible: "Only a transfer can be refunded.",
  already_reversed: "That transfer was already refunded in full.",
  reversal_exceeds_transfer: "The refund is larger than what is left of the transfer.",
  contact_invalid: "Those contact details are not valid.",
  key_invalid: "The bank refused the new key. Try again.",
  key_exists: "That key is already registered.",
  key_limit: "This identity already has as many keys as it may. Ask the bank to revoke an old one.",
  not_allowed: "This session may not do that.",
  unavailable: "The bank could not complete the request just now. Try again in a moment.",
  rate_limited: "Too many requests just now. Wait a few seconds and try again.",
};

/** A customer's sentence for a code the bank answered. */
export function messageFor(code: ErrorCode, detail?: string): string {
  const base = CUSTOMER_MESSAGES[code];
  return code === "contact_invalid" && detail !== undefined ? `${base} (${detail})` : base;
}

export const CANNOT_REACH = "The bank cannot be reached. Check your connection; the page keeps trying.";
export const KEY_REFUSED = "The bank no longer accepts this browser's key: it was revoked or replaced. " +
  "Sign out, then enrol again with a new code from the bank.";
export const CODE_REFUSED = "The bank refused the code: it is wrong, already used, expired or out of " +
  "attempts. Check it, or ask the bank for a new one.";
export const OUTCOME_UNKNOWN = "The bank did not confirm this transfer: it may or may not have been made. " +
  "Checking again resends it with the same reference, which can never pay twice.";
