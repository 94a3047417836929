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

/** Renders an outcome as a structured response; amounts become digit strings. */
export function toStructured(id: string | null, outcome: Outcome): StructuredResponse {
  if (!outcome.ok) {
    const error = { code: outcome.code, message: outcome.message };
    const retry = outcome.retryAfterS === undefined ? {} : { retry_after_s: outcome.retryAfterS };
    return { v: 1, id, ok: false, error: { ...error, ...retry } };
  }
  switch (outcome.operation) {
    case "balance": {
      const accounts = outcome.accounts.map((account) => ({
        account_id: account.id,
        currency: account.currency,
        balance_minor: account.balanceMinor.toString(),
        status: account.status,
      }));
      return { v: 1, id, ok: true, result: { accounts } };
    }
    case "transfer": {
      const { transfer } = outcome;
      const result = {
        status: outcome.code === "ok" ? "created" : "exists",
        transfer_id: transfer.id,
        from: transfer.sourceAccountId,
        to: transfer.targetAccountId,
        amount_minor: transfer.amountMinor.toString(),
        idempotency_key: transfer.idempotencyKey,
        created_at: transfer.createdAt.toISOString(),
      };
      return { v: 1, id, ok: true, result };
    }
    case "history": {
      const items = outcome.items.map((item) => ({
        entry: item.entry.toString(),
        transfer_id: item.transferId,
        kind: item.kind,
        account_id: item.accountId,
        counterparty_account_id: item.counterpartyAccountId,
        amount_minor: item.amountMinor.toString(),
        created_at: item.createdAt.toISOString(),
      }));
      const next = outcome.nextBeforeEntry === null ? null : outcome.nextBeforeEntry.toString();
      return { v: 1, id, ok: true, result: { items, next_before: next } };
    }
    case "update_contact":
      return { v: 1, id, ok: true, result: { changed: outcome.changed } };
  }
}
