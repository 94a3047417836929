/**
 * The opening deposit an operator types (`--deposit $500`), read by the money rules every amount follows
 * and bounded by the bank's issuance cap: shared by `accounts open` and `clients invite`.
 *
 * @module
 */
import { UsageError } from "../lib/options.ts";
import { parseDollars } from "../protocol/money.ts";
import { ISSUANCE_MINOR_MAX } from "./ledger/limits.ts";

/** `--deposit` in minor units; `fallbackMinor` when it is absent. `$0` opens an empty account. */
export function parseDeposit(text: string | undefined, fallbackMinor: bigint): bigint {
  if (text === undefined) return fallbackMinor;
  if (text === "$0") return 0n;
  const amount = parseDollars(text, ISSUANCE_MINOR_MAX);
  if (!amount.ok) {
    throw new UsageError(`--deposit must be a dollar amount like $500 or $12.34 (${amount.code})`);
  }
  return amount.amountMinor;
}
