/**
 * Structured requests (JSON) to typed requests, and typed outcomes back to structured responses.
 *
 * @module
 */
import { describeCode } from "../protocol/codes.ts";
import { parseAmountMinor } from "../protocol/money.ts";
import type { StructuredRequest, StructuredResponse } from "../protocol/messages.ts";
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
      const { op: _op, id: _id, ...query } = request;
      return { operation: "history", ...query };
    }
    case "enrol":
      return { operation: "enrol", publicKey: request.publicKey, signature: request.signature };
    case "rotate_key": {
      const { publicKey, newKeySignature, oldKeySignature } = request;
      return { operation: "rotate_key", publicKey, newKeySignature, oldKeySignature };
    }
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
        },
      };
    }
    case "history": {
      const items = outcome.items.map((item) => ({
        entry: item.entry,
        transferId: item.transferId,
        kind: item.kind,
        accountId: item.accountId,
        counterpartyAccountId: item.counterpartyAccountId,
        amountMinor: item.amountMinor,
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
