/**
 * The original design's text commands, accepted verbatim and answered in its words:
 *
 * | command                                   | answer                                            |
 * | ----------------------------------------- | ------------------------------------------------- |
 * | `Check Balance`                           | `Balance: $500` (`$400 available ($500 in the ledger)` with holds) |
 * | `Transfer $100 to Account XYZ`            | `Transaction Successful` / `Transaction Failed: …` |
 * | `Update Contact Information`              | `Contact Information Updated`                     |
 * | `Update Contact Information: email=…; …`  | `Contact Information Updated` / `… Failed: …`     |
 * | anything else                             | `Invalid Request`                                 |
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { describeCode } from "../protocol/codes.ts";
import { isAccountId } from "../protocol/messages.ts";
import { formatDollars, parseDollars } from "../protocol/money.ts";
import {
  CHECK_BALANCE,
  CONTACT_FAILED_PREFIX,
  CONTACT_UPDATED,
  INVALID_REQUEST,
  rateLimitedAnswer,
  SERVICE_UNAVAILABLE,
  TRANSACTION_FAILED_PREFIX,
  TRANSACTION_SUCCESSFUL,
  TRANSACTION_UNKNOWN,
  UPDATE_CONTACT,
} from "../protocol/text.ts";
import type { ContactDetails, ContactField } from "./ledger/ledger.ts";
import { CONTACT_FIELDS } from "./ledger/rules.ts";
import type { BankRequest, Failure, Outcome } from "./handlers/types.ts";

const TRANSFER_PATTERN = /^Transfer (\S+) to Account (\S+)$/;

/** Turns a text command into a request, or into the failure that answers it. */
export function parseTextCommand(
  text: string,
  options: { transferLimitMinor: bigint },
): BankRequest | Failure {
  if (text === CHECK_BALANCE) return { operation: "balance" };
  if (text === UPDATE_CONTACT) return { operation: "update_contact", details: {} };
  if (text.startsWith(`${UPDATE_CONTACT}:`)) return parseContact(text.slice(UPDATE_CONTACT.length + 1));
  if (text.startsWith("Transfer ")) return parseTransfer(text, options.transferLimitMinor);
  return { operation: null, ok: false, code: "unknown_operation", message: "unknown command" };
}

function parseTransfer(text: string, transferLimitMinor: bigint): BankRequest | Failure {
  const match = TRANSFER_PATTERN.exec(text);
  if (match === null) {
    const message = "expected: Transfer $AMOUNT to Account ID";
    return { operation: "transfer", ok: false, code: "malformed_request", message };
  }
  const amount = parseDollars(match[1]!, transferLimitMinor);
  if (!amount.ok) {
    return { operation: "transfer", ok: false, code: amount.code, message: describeCode(amount.code) };
  }
  const targetAccountId = match[2]!;
  if (!isAccountId(targetAccountId)) {
    return {
      operation: "transfer",
      ok: false,
      code: "account_not_found",
      message: describeCode("account_not_found"),
    };
  }
  const idempotencyKey = `text-${crypto.randomUUID()}`;
  return { operation: "transfer", targetAccountId, amountMinor: amount.amountMinor, idempotencyKey };
}

/** Reads `email=…; phone=…; address=…` (any subset, each once). */
function parseContact(text: string): BankRequest | Failure {
  const details: ContactDetails = {};
  for (const part of text.split(";")) {
    const separator = part.indexOf("=");
    const name = part.slice(0, Math.max(separator, 0)).trim() as ContactField;
    if (separator < 0 || !CONTACT_FIELDS.includes(name) || details[name] !== undefined) {
      const message = "expected: Update Contact Information: email=…; phone=…; address=…";
      return { operation: "update_contact", ok: false, code: "contact_invalid", message };
    }
    details[name] = part.slice(separator + 1).trim();
  }
  return { operation: "update_contact", details };
}

/** Renders an outcome as the original design's answer text. */
export function formatTextOutcome(outcome: Outcome): string {
  if (!outcome.ok) {
    if (outcome.code === "rate_limited") return rateLimitedAnswer(outcome.retryAfterS ?? 1);
    if (outcome.code === "unavailable") {
      return outcome.operation === "transfer" ? TRANSACTION_UNKNOWN : SERVICE_UNAVAILABLE;
    }
    if (outcome.operation === "transfer") return `${TRANSACTION_FAILED_PREFIX}${outcome.message}`;
    if (outcome.operation === "update_contact") return `${CONTACT_FAILED_PREFIX}${outcome.message}`;
    return INVALID_REQUEST;
  }
  switch (outcome.operation) {
    case "balance": {
      const [only] = outcome.accounts;
      if (only === undefined) return "Balance: no account";
      if (outcome.accounts.length === 1) return `Balance: ${balanceText(only)}`;
      const parts = outcome.accounts.map((account) => `${balanceText(account)} (${account.id})`);
      return `Balance: ${parts.join(", ")}`;
    }
    case "transfer":
      assert(outcome.code === "ok" || outcome.code === "exists", "A successful transfer is new or replayed");
      return TRANSACTION_SUCCESSFUL;
    case "update_contact":
      return CONTACT_UPDATED;
    case "history":
    case "hold":
    case "capture":
    case "void":
    case "refund":
    case "enrol":
    case "rotate_key":
      return INVALID_REQUEST;
  }
}

/** An account's balance: what may be spent, and the ledger balance too when holds reserve part of it. */
function balanceText(account: { balanceMinor: bigint; heldMinor: bigint }): string {
  if (account.heldMinor === 0n) return formatDollars(account.balanceMinor);
  const available = formatDollars(account.balanceMinor - account.heldMinor);
  return `${available} available (${formatDollars(account.balanceMinor)} in the ledger)`;
}
