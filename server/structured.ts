/**
 * Structured requests (JSON) to typed requests, and typed outcomes back to structured responses.
 *
 * @module
 */
import { describeCode } from "../protocol/codes.ts";
import { parseAmountMinor } from "../protocol/money.ts";
import type { StructuredRequest, StructuredResponse, StructuredResult } from "../protocol/messages.ts";
import type { HoldView } from "../protocol/ledger_messages.ts";
import type { AmountCode } from "../protocol/money.ts";
import type { Hold } from "./ledger/ledger.ts";
import type { BankRequest, Failure, Outcome } from "./handlers/types.ts";

/** Turns a shape-checked structured request into a typed request, checking its values. */
export function fromStructured(
  request: StructuredRequest,
  options: { transferLimitMinor: bigint },
): BankRequest | Failure {
  switch (request.op) {
    case "balance":
      return { operation: "balance" };
    case "update_contact":
      return { operation: "update_contact", details: request.details };
    case "history": {
      const { op: _op, id: _id, asOf, ...query } = request;
      if (asOf === undefined) return { operation: "history", ...query };
      return { operation: "history", ...query, asOf: "entry" in asOf ? asOf : { time: new Date(asOf.time) } };
    }
    case "enrol":
      return { operation: "enrol", publicKey: request.publicKey, signature: request.signature };
    case "rotate_key": {
      const { publicKey, newKeySignature, oldKeySignature } = request;
      return { operation: "rotate_key", publicKey, newKeySignature, oldKeySignature };
    }
    case "hold": {
      const amount = parseAmountMinor(request.amountMinorText, options.transferLimitMinor);
      if (!amount.ok) return refused("hold", amount.code);
      const { op: _op, id: _id, amountMinorText: _text, ...fields } = request;
      return { operation: "hold", ...fields, amountMinor: amount.amountMinor };
    }
    case "capture":
    case "refund": {
      const { op, id: _id, amountMinorText, ...fields } = request;
      if (amountMinorText === undefined) return { operation: op, ...fields } as BankRequest;
      const amount = parseAmountMinor(amountMinorText, options.transferLimitMinor);
      if (!amount.ok) return refused(op, amount.code);
      return { operation: op, ...fields, amountMinor: amount.amountMinor } as BankRequest;
    }
    case "void":
      return { operation: "void", holdId: request.holdId };
    case "transfer": {
      const amount = parseAmountMinor(request.amountMinorText, options.transferLimitMinor);
      if (!amount.ok) {
        return { operation: "transfer", ok: false, code: amount.code, message: describeCode(amount.code) };
      }
      const typed = {
        operation: "transfer" as const,
        targetAccountId: request.targetAccountId,
        amountMinor: amount.amountMinor,
        idempotencyKey: request.idempotencyKey,
      };
      return request.sourceAccountId === undefined
        ? typed
        : { ...typed, sourceAccountId: request.sourceAccountId };
    }
  }
}

/** Turns an outcome into the structured answer to request `id` (encoded by `encodeResponse`). */
export function toStructured(id: string | null, outcome: Outcome): StructuredResponse {
  if (!outcome.ok) {
    const { code, message, retryAfterS } = outcome;
    return { id, ok: false, error: { code, message, ...(retryAfterS === undefined ? {} : { retryAfterS }) } };
  }
  switch (outcome.operation) {
    case "balance": {
      const accounts = outcome.accounts.map((account) => ({
        accountId: account.id,
        currency: account.currency,
        balanceMinor: account.balanceMinor,
        availableMinor: account.balanceMinor - account.heldMinor,
        status: account.status,
      }));
      return { id, ok: true, result: { op: "balance", accounts } };
    }
    case "transfer": {
      const { transfer } = outcome;
      return {
        id,
        ok: true,
        result: {
          op: "transfer",
          status: outcome.code === "ok" ? "created" : "exists",
          transferId: transfer.id,
          sourceAccountId: transfer.sourceAccountId,
          targetAccountId: transfer.targetAccountId,
          amountMinor: transfer.amountMinor,
          idempotencyKey: transfer.idempotencyKey,
          createdAt: transfer.createdAt.toISOString(),
          receipt: outcome.receipt,
        },
      };
    }
    case "hold":
    case "void":
    case "capture":
    case "refund":
      return { id, ok: true, result: ledgerResultOf(outcome) };
    case "history": {
      const items = outcome.items.map((item) => ({
        entry: item.entry,
        transferId: item.transferId,
        kind: item.kind,
        accountId: item.accountId,
        counterpartyAccountId: item.counterpartyAccountId,
        amountMinor: item.amountMinor,
        balanceAfterMinor: item.balanceAfterMinor,
        createdAt: item.createdAt.toISOString(),
      }));
      return { id, ok: true, result: { op: "history", items, nextBefore: outcome.nextBeforeEntry } };
    }
    case "update_contact":
      return { id, ok: true, result: { op: "update_contact", changed: outcome.changed } };
    case "enrol":
      return { id, ok: true, result: { op: "enrol", keyId: outcome.keyId } };
    case "rotate_key":
      return {
        id,
        ok: true,
        result: { op: "rotate_key", keyId: outcome.keyId, revokedKeyId: outcome.revokedKeyId },
      };
  }
}

function refused(operation: "hold" | "capture" | "refund", code: AmountCode): Failure {
  return { operation, ok: false, code, message: describeCode(code) };
}

/** A hold as its answers show it. */
function holdView(outcome: { code: "ok" | "exists"; hold: Hold; expired: boolean }): HoldView {
  const { hold } = outcome;
  return {
    status: outcome.code === "ok" ? "created" : "exists",
    holdId: hold.id,
    sourceAccountId: hold.sourceAccountId,
    targetAccountId: hold.targetAccountId,
    amountMinor: hold.amountMinor,
    holdStatus: outcome.expired ? "expired" : hold.status,
    expiresAt: hold.expiresAt.toISOString(),
    createdAt: hold.createdAt.toISOString(),
  };
}

/** The result of a hold, void, capture or refund. */
function ledgerResultOf(
  outcome: Extract<Outcome, { ok: true; operation: "hold" | "void" | "capture" | "refund" }>,
): StructuredResult {
  switch (outcome.operation) {
    case "hold":
    case "void":
      return { op: outcome.operation, ...holdView(outcome) };
    case "capture":
      return {
        op: "capture",
        ...holdView({ ...outcome, expired: false }),
        captureTransferId: outcome.capture.id,
        capturedMinor: outcome.capture.amountMinor,
        receipt: outcome.receipt,
      };
    case "refund": {
      const { refund } = outcome;
      return {
        op: "refund",
        status: outcome.code === "ok" ? "created" : "exists",
        transferId: refund.id,
        originalTransferId: outcome.original.id,
        sourceAccountId: refund.sourceAccountId,
        targetAccountId: refund.targetAccountId,
        amountMinor: refund.amountMinor,
        reversedMinor: outcome.reversedMinor,
        createdAt: refund.createdAt.toISOString(),
        receipt: outcome.receipt,
      };
    }
  }
}
