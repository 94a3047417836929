/**
 * Demo accounts: the destination account `XYZ` of the original design, and one account holding $500.00
 * for each demo identity. Opening is idempotent, so a durable ledger keeps its balances across restarts.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { DEMO_TARGET_ACCOUNT_ID, demoAccountId } from "../protocol/demo.ts";
import { DEMO_DEPOSIT_MINOR } from "./limits.ts";
import { BANK_OWNER } from "./ledger/ledger.ts";
import type { Ledger } from "./ledger/ledger.ts";

/** Opens the demo accounts that do not exist yet; returns how many were opened. */
export async function openDemoAccounts(ledger: Ledger, identities: readonly string[]): Promise<number> {
  let opened = 0;
  const target = await ledger.openAccount({
    owner: BANK_OWNER,
    id: DEMO_TARGET_ACCOUNT_ID,
    depositMinor: 0n,
  });
  if (target.code === "ok") opened += 1;
  for (const identity of identities) {
    const id = demoAccountId(identity);
    if (id === null) continue;
    const result = await ledger.openAccount({ owner: identity, id, depositMinor: DEMO_DEPOSIT_MINOR });
    if (result.code === "ok") opened += 1;
  }
  assert(opened <= identities.length + 1, "Cannot open more accounts than identities plus the target");
  return opened;
}
