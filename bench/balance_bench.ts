/**
 * One SQLite balance check in the ledger, without the session or the socket: answered from the accounts the
 * connection keeps (nothing was committed since) and read from the store (the owner is not kept: more owners
 * take turns than the cache holds). Run with `deno task bench:micro`.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { ACCOUNTS_CACHE_ACCOUNTS_MAX } from "../server/ledger/limits.ts";
import { SqliteLedger } from "../server/ledger/sqlite.ts";

const OWNERS = ACCOUNTS_CACHE_ACCOUNTS_MAX + 1;
const FEW_OWNERS = 50;

const ledger = SqliteLedger.open(":memory:");
for (let index = 0; index < OWNERS; index++) {
  const opened = await ledger.openAccount({ owner: `owner-${index}`, depositMinor: 1_000n });
  assert(opened.code === "ok", "A bench account opens");
}

let kept = 0;
Deno.bench("balance check, kept since the last read", { group: "balance", baseline: true }, async () => {
  kept = (kept + 1) % FEW_OWNERS;
  const accounts = await ledger.accountsOf(`owner-${kept}`);
  assert(accounts.length === 1, "One account");
});

let read = 0;
Deno.bench("balance check, read from the store", { group: "balance" }, async () => {
  read = (read + 1) % OWNERS;
  const accounts = await ledger.accountsOf(`owner-${read}`);
  assert(accounts.length === 1, "One account");
});
