import { assert, assertEquals, assertThrows } from "@std/assert";
import { AssertionFailure } from "../../lib/assert.ts";
import { seededRandom } from "../../lib/random.ts";
import { TRANSFER_MINOR_MAX } from "../../protocol/limits.ts";
import type { Account, Transfer, TransferInput } from "./ledger.ts";
import { ACCOUNTS_PER_OWNER_MAX, ISSUANCE_MINOR_MAX } from "./limits.ts";
import { checkPage, judgeContactUpdate, planOpening, planTransfers } from "./rules.ts";

const SEED = 20261201;
const BATCHES = 400;
const BATCH_SIZE_MAX = 25;
const IDENTITIES = ["alice", "bob", "carol"];
const EPOCH = new Date(0);

/** Three customers with two accounts each, one frozen account, one system account. */
function openingAccounts(random: () => number): Account[] {
  const accounts: Account[] = IDENTITIES.flatMap((owner, index) =>
    [0, 1].map((n) => ({
      id: `ACC-${index}${n}`,
      owner,
      kind: "customer" as const,
      currency: "USD" as const,
      balanceMinor: BigInt(Math.floor(random() * 50_000)),
      heldMinor: 0n,
      status: "open" as const,
      createdAt: EPOCH,
    }))
  );
  accounts.push({ ...accounts[5]!, id: "ACC-FROZEN", status: "frozen" });
  accounts.push({ ...accounts[0]!, id: "EXTERNAL", owner: "bank", kind: "system" });
  return accounts;
}

/**
 * The model: each transfer alone, in order, against plain balances. What `planTransfers` must agree
 * with for any batch.
 */
function model(inputs: readonly TransferInput[], accounts: readonly Account[]): string[] {
  const byId = new Map(accounts.map((account) => [account.id, { ...account }]));
  const seen = new Map<string, TransferInput & { sourceAccountId: string }>();
  return inputs.map((input) => {
    const previous = seen.get(`${input.identity}/${input.idempotencyKey}`);
    if (previous !== undefined) {
      const same = (input.sourceAccountId ?? previous.sourceAccountId) === previous.sourceAccountId &&
        input.targetAccountId === previous.targetAccountId && input.amountMinor === previous.amountMinor;
      return same ? "exists" : "key_reused_with_other_fields";
    }
    if (input.amountMinor <= 0n) return "amount_must_be_positive";
    if (input.amountMinor > TRANSFER_MINOR_MAX) return "amount_over_limit";
    if (input.sourceAccountId === input.targetAccountId) return "accounts_must_differ";
    const source = byId.get(input.sourceAccountId ?? `ACC-${IDENTITIES.indexOf(input.identity)}0`);
    const target = byId.get(input.targetAccountId);
    if (source?.owner !== input.identity || source.kind !== "customer") return "account_not_found";
    if (source.id === input.targetAccountId) return "accounts_must_differ";
    if (target?.kind !== "customer") return "account_not_found";
    if (source.status === "frozen" || target.status === "frozen") return "account_frozen";
    if (source.balanceMinor < input.amountMinor) return "insufficient_funds";
    source.balanceMinor -= input.amountMinor;
    target.balanceMinor += input.amountMinor;
    seen.set(`${input.identity}/${input.idempotencyKey}`, { ...input, sourceAccountId: source.id });
    return "ok";
  });
}

function randomInput(random: () => number, accountIds: readonly string[]): TransferInput {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const amounts = [0n, -1n, 1n, 100n, 5_000n, 30_000n, TRANSFER_MINOR_MAX + 1n];
  const input: TransferInput = {
    identity: pick(IDENTITIES),
    targetAccountId: pick([...accountIds, "ACC-MISSING"]),
    amountMinor: random() < 0.8 ? BigInt(1 + Math.floor(random() * 20_000)) : pick(amounts),
    idempotencyKey: `key-${Math.floor(random() * 12)}`,
  };
  return random() < 0.3 ? input : { ...input, sourceAccountId: pick(accountIds) };
}

function total(accounts: Iterable<Account>): bigint {
  let sum = 0n;
  for (const account of accounts) sum += account.balanceMinor;
  return sum;
}

Deno.test("planTransfers() agrees with a transfer-at-a-time model on thousands of seeded random transfers", () => {
  const random = seededRandom(SEED);
  let checked = 0;
  const codes = new Set<string>();
  for (let batch = 0; batch < BATCHES; batch++) {
    const accounts = openingAccounts(random);
    const ids = accounts.map((account) => account.id);
    const inputs: TransferInput[] = [];
    for (let n = 1 + Math.floor(random() * BATCH_SIZE_MAX); n > 0; n--) {
      // Now and then a retry: an earlier transfer of the batch sent again as it was.
      const retry = inputs.length > 0 && random() < 0.15;
      inputs.push(retry ? inputs[Math.floor(random() * inputs.length)]! : randomInput(random, ids));
    }
    const oldestAccountOf = new Map(IDENTITIES.map((identity, index) => [identity, `ACC-${index}0`]));
    let nextId = 0;
    const plan = planTransfers(inputs, {
      accounts: new Map(accounts.map((account) => [account.id, account])),
      oldestAccountOf,
      previous: [],
    }, { now: () => EPOCH, newId: () => `T${nextId++}` });
    const context = `seed ${SEED}, batch ${batch}`;
    assertEquals(plan.results.map((result) => result.code), model(inputs, accounts), context);
    const after = new Map(accounts.map((account) => [account.id, account.balanceMinor]));
    for (const [id, balance] of plan.balances) after.set(id, balance);
    const values = [...after.values()];
    assertEquals(
      values.reduce((sum, value) => sum + value, 0n),
      total(accounts),
      `${context}: money is conserved`,
    );
    assert(values.every((value) => value >= 0n), `${context}: no balance goes negative`);
    assertEquals(plan.accepted.length, plan.results.filter((result) => result.code === "ok").length, context);
    checked += inputs.length;
    for (const result of plan.results) codes.add(result.code);
  }
  assert(checked > 4_000, `only ${checked} transfers checked`);
  assertEquals([...codes].sort(), [
    "account_frozen",
    "account_not_found",
    "accounts_must_differ",
    "amount_must_be_positive",
    "amount_over_limit",
    "exists",
    "insufficient_funds",
    "key_reused_with_other_fields",
    "ok",
  ], "the random transfers reach every answer");
});

Deno.test("planTransfers() answers a key already journaled as a replay, or as reused with other fields", () => {
  const random = seededRandom(SEED);
  const accounts = openingAccounts(random);
  const previous: Transfer = {
    id: "T-old",
    identity: "alice",
    idempotencyKey: "k",
    sourceAccountId: "ACC-00",
    targetAccountId: "ACC-10",
    amountMinor: 5n,
    createdAt: EPOCH,
  };
  const state = {
    accounts: new Map(accounts.map((account) => [account.id, account])),
    oldestAccountOf: new Map([["alice", "ACC-00"]]),
    previous: [previous],
  };
  const again = { identity: "alice", targetAccountId: "ACC-10", amountMinor: 5n, idempotencyKey: "k" };
  const plan = planTransfers(
    [again, { ...again, amountMinor: 6n }, { ...again, sourceAccountId: "ACC-01" }],
    state,
    {
      now: () => EPOCH,
      newId: () => "T-new",
    },
  );
  assertEquals(plan.results.map((result) => result.code), [
    "exists",
    "key_reused_with_other_fields",
    "key_reused_with_other_fields",
  ]);
  assertEquals(plan.results[0], { code: "exists", transfer: previous });
  assertEquals(plan.accepted, []);
  assertEquals(plan.balances.size, 0);
});

Deno.test("planOpening() refuses over the caps and deposits from EXTERNAL under the key open:ID", () => {
  const opening = { accountId: "ACC-NEW", ownerAccounts: 0, issuedMinor: 0n, depositMinor: 500n };
  const planned = planOpening(opening);
  assertEquals(planned.ok && planned.deposit, {
    kind: "deposit",
    identity: "bank",
    idempotencyKey: "open:ACC-NEW",
    sourceAccountId: "EXTERNAL",
    targetAccountId: "ACC-NEW",
    amountMinor: 500n,
  });
  assertEquals(planOpening({ ...opening, depositMinor: 0n }), { ok: true, deposit: null });
  assertEquals(planOpening({ ...opening, ownerAccounts: ACCOUNTS_PER_OWNER_MAX }), {
    ok: false,
    code: "owner_account_limit",
  });
  assertEquals(planOpening({ ...opening, issuedMinor: ISSUANCE_MINOR_MAX }), {
    ok: false,
    code: "issuance_over_limit",
  });
  assertEquals(
    planOpening({ ...opening, issuedMinor: ISSUANCE_MINOR_MAX - 500n }).ok,
    true,
    "up to the cap exactly",
  );
});

Deno.test("judgeContactUpdate() changes only the fields that differ, and keeps only those in the history", () => {
  const current = { email: "a@example.com", phone: null, address: "1 Main St" };
  assertEquals(judgeContactUpdate(current, { email: "a@example.com" }), {
    changed: [],
    after: current,
    history: null,
  });
  assertEquals(judgeContactUpdate(current, { phone: "+1 555 0100", email: "a@example.com" }), {
    changed: ["phone"],
    after: { ...current, phone: "+1 555 0100" },
    history: { email: null, phone: "+1 555 0100", address: null },
  });
  assertEquals(judgeContactUpdate(undefined, { address: "2 Elm St" }).after, {
    email: null,
    phone: null,
    address: "2 Elm St",
  });
});

Deno.test("checkPage() takes a whole number from 1 to the maximum", () => {
  checkPage(1, { max: 100, what: "History" });
  checkPage(100, { max: 100, what: "History" });
  for (const limit of [0, 101, 1.5, Number.NaN]) {
    assertThrows(() => checkPage(limit, { max: 100, what: "History" }), AssertionFailure);
  }
});
