/**
 * The verdict sees each kind of anomaly it names: a history and a final state are built by hand, then
 * broken one way at a time.
 */
import { assertEquals } from "@std/assert";
import type { ChainEntry } from "../../server/ledger/chain.ts";
import type { Account } from "../../server/ledger/ledger.ts";
import { judge } from "./verdict.ts";
import type { StoreState } from "./verdict.ts";
import type { Operation } from "./workload.ts";

const AT = new Date("2026-12-01T00:00:00.000Z");

function account(id: string, balanceMinor: bigint, kind: "customer" | "system" = "customer"): Account {
  return {
    id,
    owner: id,
    kind,
    currency: "USD",
    balanceMinor,
    heldMinor: 0n,
    status: "open",
    createdAt: AT,
  };
}

function entry(
  number: bigint,
  fields: Partial<ChainEntry> & { from: string; to: string; amount: bigint },
): ChainEntry {
  return {
    entry: number,
    transferId: `T${number}`,
    kind: "transfer",
    identity: "client-1",
    idempotencyKey: `k${number}`,
    sourceAccountId: fields.from,
    targetAccountId: fields.to,
    amountMinor: fields.amount,
    createdAt: AT.toISOString(),
    postings: [{ accountId: fields.from, amountMinor: -fields.amount }, {
      accountId: fields.to,
      amountMinor: fields.amount,
    }],
    holdId: null,
    originalEntry: null,
    reason: null,
    ...fields,
  };
}

function operation(fields: Partial<Operation>): Operation {
  return {
    id: 0,
    client: 1,
    identity: "client-1",
    kind: "transfer",
    key: "k",
    to: "B",
    amountMinor: 5n,
    attempts: 1,
    outcome: "ok",
    transferId: "T3",
    startedMs: 0,
    endedMs: 1,
    ...fields,
  };
}

/** A consistent run: two deposits, then client-1 pays 5 to B, acknowledged as T3. */
function healthy(): { operations: Operation[]; state: StoreState } {
  const entries = [
    entry(1n, { kind: "deposit", identity: "bank", from: "EXT", to: "A", amount: 100n }),
    entry(2n, { kind: "deposit", identity: "bank", from: "EXT", to: "B", amount: 100n }),
    entry(3n, { from: "A", to: "B", amount: 5n }),
  ];
  return {
    operations: [operation({})],
    state: {
      accounts: [account("EXT", -200n, "system"), account("A", 95n), account("B", 105n)],
      entries,
      verify: {
        ok: true,
        accounts: 3,
        entries: 3,
        totalMinor: 0n,
        problems: [],
        chain: { links: 3, head: null },
      } as never,
    },
  };
}

const CONTEXT = { clientAccounts: ["A", "B"], initialCustomerMinor: 200n, served: new Map([["A", 95n]]) };

function kinds(operations: Operation[], state: StoreState, context = CONTEXT): string[] {
  return [...new Set(judge(operations, state, context).anomalies.map((anomaly) => anomaly.kind))].sort();
}

Deno.test("judge() passes a consistent run and counts its outcomes", () => {
  const { operations, state } = healthy();
  const verdict = judge(operations, state, CONTEXT);
  assertEquals(verdict.anomalies, []);
  assertEquals(verdict.outcomes, { "transfer acknowledged": 1 });
});

Deno.test("judge() names a lost acknowledged write, a double application and a refused write applied", () => {
  const { operations, state } = healthy();
  assertEquals(kinds([operation({ transferId: "T9", amountMinor: 6n })], state), [
    "lost_acknowledged",
    "unexplained_entry",
  ]);
  const twice = { ...state, entries: [...state.entries, entry(4n, { from: "A", to: "B", amount: 5n })] };
  twice.accounts = [account("EXT", -200n, "system"), account("A", 90n), account("B", 110n)];
  assertEquals(kinds(operations, twice, { ...CONTEXT, served: new Map() }), ["applied_twice"]);
  assertEquals(kinds([operation({ outcome: "refused", code: "insufficient_funds" })], state), [
    "refused_but_applied",
  ]);
  assertEquals(kinds([operation({ outcome: "unknown" })], state), []);
});

Deno.test("judge() names money made, a negative balance, a replay that disagrees, a server that disagrees", () => {
  const { operations, state } = healthy();
  const made = {
    ...state,
    accounts: [account("EXT", -200n, "system"), account("A", 96n), account("B", 105n)],
  };
  assertEquals(kinds(operations, made, { ...CONTEXT, served: new Map() }), [
    "money_changed",
    "replay_mismatch",
    "total_not_zero",
  ]);
  const overdrawn = {
    ...state,
    entries: [...state.entries, entry(4n, { identity: "client-9", from: "A", to: "B", amount: 200n })],
  };
  overdrawn.accounts = [account("EXT", -200n, "system"), account("A", -105n), account("B", 305n)];
  assertEquals(kinds(operations, overdrawn, { ...CONTEXT, served: new Map() }), [
    "negative_balance",
    "negative_during_replay",
  ]);
  assertEquals(kinds(operations, state, { ...CONTEXT, served: new Map([["A", 94n]]) }), ["server_disagrees"]);
  const unverified = {
    ...state,
    verify: { ...state.verify, ok: false, problems: ["Entry 3: its hash does not match"] },
  };
  assertEquals(kinds(operations, unverified), ["verify_failed"]);
});
