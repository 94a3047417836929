import { assert } from "../../lib/assert.ts";
import { describeCode } from "../../protocol/codes.ts";
import { receiptOf } from "./receipts.ts";
import type { BankRequest, HandlerContext, Outcome } from "./types.ts";

/** Moves money from an account the caller owns to any existing account, exactly once per idempotency key. */
export async function handleTransfer(
  request: Extract<BankRequest, { operation: "transfer" }>,
  context: HandlerContext,
): Promise<Outcome> {
  assert(request.amountMinor > 0n, "Handlers receive only positive amounts");
  const result = await context.ledger.transfer({ identity: context.identity, ...request });
  if (result.code === "ok" || result.code === "exists") {
    assert(result.transfer.identity === context.identity, "A transfer must belong to its caller");
    assert(result.transfer.amountMinor === request.amountMinor, "A transfer must move the amount asked");
    const receipt = await receiptOf(context.bank, {
      kind: "transfer",
      transfer: result.transfer,
      link: result.link,
    });
    return { operation: "transfer", ok: true, code: result.code, transfer: result.transfer, receipt };
  }
  return { operation: "transfer", ok: false, code: result.code, message: describeCode(result.code) };
}
