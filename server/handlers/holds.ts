/**
 * Holds (reserve, then capture or void) and refunds, each over one ledger call that is idempotent: a
 * replay answers `exists` with what the first request did.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { describeCode } from "../../protocol/codes.ts";
import { isExpired } from "../ledger/operations.ts";
import { receiptOf } from "./receipts.ts";
import type { BankRequest, HandlerContext, Outcome } from "./types.ts";

/** Reserves money in an account the caller owns for any existing account, until captured, voided or expired. */
export async function handleHold(
  request: Extract<BankRequest, { operation: "hold" }>,
  context: HandlerContext,
): Promise<Outcome> {
  assert(request.amountMinor > 0n, "Handlers receive only positive amounts");
  const { operation: _operation, ...input } = request;
  const result = await context.ledger.hold({ identity: context.identity, ...input });
  if (result.code !== "ok" && result.code !== "exists") return refused("hold", result.code);
  assert(result.hold.identity === context.identity, "A hold belongs to its caller");
  return {
    operation: "hold",
    ok: true,
    code: result.code,
    hold: result.hold,
    expired: isExpired(result.hold, new Date()),
  };
}

/** Captures the whole or part of one of the caller's holds, once; the answer carries the receipt. */
export async function handleCapture(
  request: Extract<BankRequest, { operation: "capture" }>,
  context: HandlerContext,
): Promise<Outcome> {
  const input = { identity: context.identity, holdId: request.holdId };
  const result = await context.ledger.captureHold(
    request.amountMinor === undefined ? input : { ...input, amountMinor: request.amountMinor },
  );
  if (result.code !== "ok" && result.code !== "exists") return refused("capture", result.code);
  const receipt = await receiptOf(context.bank, {
    kind: "capture",
    transfer: result.capture,
    link: result.link,
  });
  return {
    operation: "capture",
    ok: true,
    code: result.code,
    hold: result.hold,
    capture: result.capture,
    receipt,
  };
}

/** Releases one of the caller's pending holds. */
export async function handleVoid(
  request: Extract<BankRequest, { operation: "void" }>,
  context: HandlerContext,
): Promise<Outcome> {
  const result = await context.ledger.voidHold({ identity: context.identity, holdId: request.holdId });
  if (result.code !== "ok" && result.code !== "exists") return refused("void", result.code);
  return { operation: "void", ok: true, code: result.code, hold: result.hold, expired: false };
}

/** Returns money of a transfer the caller received, whole or in part, never more than it. */
export async function handleRefund(
  request: Extract<BankRequest, { operation: "refund" }>,
  context: HandlerContext,
): Promise<Outcome> {
  const { operation: _operation, ...input } = request;
  const result = await context.ledger.reverse({ kind: "refund", identity: context.identity, ...input });
  if (result.code !== "ok" && result.code !== "exists") return refused("refund", result.code);
  const receipt = await receiptOf(context.bank, {
    kind: "refund",
    transfer: result.reversal,
    link: result.link,
  });
  return {
    operation: "refund",
    ok: true,
    code: result.code,
    refund: result.reversal,
    original: result.original,
    reversedMinor: result.reversedMinor,
    receipt,
  };
}

function refused(
  operation: "hold" | "capture" | "void" | "refund",
  code: Parameters<typeof describeCode>[0],
): Outcome {
  return { operation, ok: false, code, message: describeCode(code) };
}
