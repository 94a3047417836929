import { assert } from "../../lib/assert.ts";
import type { BankRequest, HandlerContext, Outcome } from "./types.ts";

/** Reports the balances of the caller's own accounts, and no one else's. */
export async function handleBalance(
  _request: Extract<BankRequest, { operation: "balance" }>,
  context: HandlerContext,
): Promise<Outcome> {
  const accounts = await context.ledger.accountsOf(context.identity);
  for (const account of accounts) {
    assert(account.owner === context.identity, `Ledger returned account ${account.id} of another owner`);
    assert(account.balanceMinor >= 0n, `Account ${account.id} has a negative balance`);
  }
  return { operation: "balance", ok: true, accounts };
}
