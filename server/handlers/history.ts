import { assert } from "../../lib/assert.ts";
import { describeCode } from "../../protocol/codes.ts";
import { HISTORY_PAGE_MAX } from "../../protocol/limits.ts";
import type { BankRequest, HandlerContext, Outcome } from "./types.ts";

/** Lists the caller's own postings, newest first, one page at a time, never splitting an entry. */
export async function handleHistory(
  request: Extract<BankRequest, { operation: "history" }>,
  context: HandlerContext,
): Promise<Outcome> {
  assert(
    request.limit >= 1 && request.limit <= HISTORY_PAGE_MAX,
    `History page ${request.limit} is out of range`,
  );
  const { operation: _, ...query } = request;
  const result = await context.ledger.history(context.identity, query);
  if (result.code !== "ok") {
    return { operation: "history", ok: false, code: result.code, message: describeCode(result.code) };
  }
  // One more than the limit when the last entry's two postings are both the caller's (statements.ts).
  assert(result.items.length <= request.limit + 1, "A history page must not exceed its limit");
  const last = result.items.at(-1);
  const nextBeforeEntry = result.items.length >= request.limit && last !== undefined ? last.entry : null;
  return { operation: "history", ok: true, items: result.items, nextBeforeEntry };
}
