/**
 * Holds, captures, voids, expiry, reversals and refunds in the behaviour suite every store passes, and a
 * seeded random run of all of them (transfers too) that checks the ledger's invariants after every step:
 * all balances add up to zero, available = balance - active holds and is never below zero, and the journal
 * and its chain verify.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { assert } from "../../lib/assert.ts";
import { seededRandom } from "../../lib/random.ts";
import { BANK_OWNER } from "./ledger.ts";
import type { BankStore, Hold, HoldInput } from "./ledger.ts";
import type { LedgerCase, TestClock } from "./_ledger_cases.ts";

const DEPOSIT = 10_000n;

async function openPair(ledger: BankStore): Promise<void> {
  for (const [owner, id] of [["alice", "A1"], ["bob", "B1"]] as const) {
    assertEquals((await ledger.openAccount({ owner, id, depositMinor: DEPOSIT })).code, "ok");
  }
}

function hold(amountMinor: bigint, key: string, fields: Partial<HoldInput> = {}): HoldInput {
  return {
    identity: "alice",
    targetAccountId: "B1",
    amountMinor,
    idempotencyKey: key,
    expiresInS: 3600,
    ...fields,
  };
}

async function placed(ledger: BankStore, input: HoldInput): Promise<Hold> {
  const result = await ledger.hold(input);
  assert(result.code === "ok", `hold ${input.idempotencyKey} is placed, got ${result.code}`);
  return result.hold;
}

async function account(ledger: BankStore, owner: string) {
  const [only] = await ledger.accountsOf(owner);
  assert(only !== undefined, `${owner} has an account`);
  return { balance: only.balanceMinor, held: only.heldMinor, available: only.balanceMinor - only.heldMinor };
}

async function assertVerified(ledger: BankStore): Promise<void> {
  const report = await ledger.verify();
  assertEquals(report.problems, []);
  assertEquals(report.chain.links, report.entries, "every entry is linked");
}

export const HOLD_CASES: readonly LedgerCase[] = [
  {
    name:
      "a hold reserves money: available drops, the balance does not, and transfers see only what is available",
    async fn({ ledger }) {
      await openPair(ledger);
      const first = await placed(ledger, hold(7_000n, "h1"));
      assertEquals(first.status, "pending");
      assertEquals(await account(ledger, "alice"), { balance: DEPOSIT, held: 7_000n, available: 3_000n });
      const transfer = { identity: "alice", targetAccountId: "B1", idempotencyKey: "t1" };
      assertEquals((await ledger.transfer({ ...transfer, amountMinor: 3_001n })).code, "insufficient_funds");
      assertEquals((await ledger.hold(hold(3_001n, "h2"))).code, "insufficient_funds", "a new hold too");
      assertEquals((await ledger.transfer({ ...transfer, amountMinor: 3_000n })).code, "ok");
      const replay = await ledger.hold(hold(7_000n, "h1"));
      assertEquals([replay.code, replay.code === "exists" && replay.hold.id], ["exists", first.id]);
      assertEquals((await ledger.hold(hold(6_000n, "h1"))).code, "key_reused_with_other_fields");
      assertEquals(
        (await ledger.hold(hold(1n, "h3", { targetAccountId: "NOPE" }))).code,
        "account_not_found",
      );
      assertEquals((await ledger.hold(hold(0n, "h4"))).code, "amount_must_be_positive");
      await assertVerified(ledger);
    },
  },
  {
    name:
      "a capture moves the whole hold or less, once; a replay answers the same entry; the rest is released",
    async fn({ ledger }) {
      await openPair(ledger);
      const held = await placed(ledger, hold(5_000n, "h1"));
      assertEquals((await ledger.captureHold({ identity: "bob", holdId: held.id })).code, "hold_not_found");
      assertEquals((await ledger.captureHold({ identity: "alice", holdId: "nope" })).code, "hold_not_found");
      assertEquals(
        (await ledger.captureHold({ identity: "alice", holdId: held.id, amountMinor: 5_001n })).code,
        "capture_exceeds_hold",
      );
      const capture = await ledger.captureHold({ identity: "alice", holdId: held.id, amountMinor: 4_000n });
      assert(capture.code === "ok", `capture is accepted, got ${capture.code}`);
      assertEquals([capture.hold.status, capture.hold.captureEntry], ["captured", capture.link.entry]);
      assertEquals(await account(ledger, "alice"), { balance: 6_000n, held: 0n, available: 6_000n });
      assertEquals((await account(ledger, "bob")).balance, DEPOSIT + 4_000n);
      const replay = await ledger.captureHold({ identity: "alice", holdId: held.id, amountMinor: 4_000n });
      assert(replay.code === "exists", `a replay is answered as one, got ${replay.code}`);
      assertEquals([replay.capture.id, replay.link], [capture.capture.id, capture.link]);
      assertEquals(
        (await ledger.captureHold({ identity: "alice", holdId: held.id })).code,
        "hold_already_captured",
      );
      assertEquals(
        (await ledger.voidHold({ identity: "alice", holdId: held.id })).code,
        "hold_already_captured",
      );
      await assertVerified(ledger);
    },
  },
  {
    name: "a void releases a hold; voiding again is a replay; a voided hold cannot be captured",
    async fn({ ledger }) {
      await openPair(ledger);
      const held = await placed(ledger, hold(5_000n, "h1"));
      const voided = await ledger.voidHold({ identity: "alice", holdId: held.id });
      assertEquals([voided.code, voided.code === "ok" && voided.hold.status], ["ok", "voided"]);
      assertEquals(await account(ledger, "alice"), { balance: DEPOSIT, held: 0n, available: DEPOSIT });
      assertEquals((await ledger.voidHold({ identity: "alice", holdId: held.id })).code, "exists");
      assertEquals(
        (await ledger.captureHold({ identity: "alice", holdId: held.id })).code,
        "hold_already_voided",
      );
      assertEquals((await ledger.voidHold({ identity: "bob", holdId: held.id })).code, "hold_not_found");
      await assertVerified(ledger);
    },
  },
  {
    name: "a hold expires by the ledger's clock: it reserves nothing after, and cannot be captured or voided",
    async fn({ ledger, clock }) {
      await openPair(ledger);
      const held = await placed(ledger, hold(5_000n, "h1", { expiresInS: 60 }));
      clock.advance(55_000);
      assertEquals((await account(ledger, "alice")).held, 5_000n, "still reserved a few seconds before");
      clock.advance(5_000);
      assertEquals(await account(ledger, "alice"), { balance: DEPOSIT, held: 0n, available: DEPOSIT });
      assertEquals((await ledger.captureHold({ identity: "alice", holdId: held.id })).code, "hold_expired");
      assertEquals((await ledger.voidHold({ identity: "alice", holdId: held.id })).code, "hold_expired");
      assertEquals(
        (await ledger.transfer({
          identity: "alice",
          targetAccountId: "B1",
          amountMinor: DEPOSIT,
          idempotencyKey: "t1",
        })).code,
        "ok",
        "the whole balance is spendable again",
      );
      await assertVerified(ledger);
    },
  },
  {
    name: "reversals and refunds are new entries linked to the original, never more than it, idempotent",
    async fn({ ledger }) {
      await openPair(ledger);
      const sent = await ledger.transfer({
        identity: "alice",
        targetAccountId: "B1",
        amountMinor: 3_000n,
        idempotencyKey: "t1",
      });
      assert(sent.code === "ok", "the transfer is accepted");
      const transferId = sent.transfer.id;
      const refund = { kind: "refund" as const, identity: "bob", transferId, idempotencyKey: "r1" };
      assertEquals((await ledger.reverse({ ...refund, identity: "alice" })).code, "transfer_not_found");
      assertEquals((await ledger.reverse({ ...refund, transferId: "nope" })).code, "transfer_not_found");
      const part = await ledger.reverse({ ...refund, amountMinor: 1_000n });
      assert(part.code === "ok", `a partial refund is accepted, got ${part.code}`);
      assertEquals([part.reversal.sourceAccountId, part.reversal.targetAccountId, part.reversedMinor], [
        "B1",
        "A1",
        1_000n,
      ]);
      const replay = await ledger.reverse({ ...refund, amountMinor: 1_000n });
      assert(replay.code === "exists", `a replay is answered as one, got ${replay.code}`);
      assertEquals([replay.reversal.id, replay.link], [part.reversal.id, part.link]);
      assertEquals(
        (await ledger.reverse({ ...refund, amountMinor: 999n })).code,
        "key_reused_with_other_fields",
      );
      const operator = {
        kind: "reversal" as const,
        identity: BANK_OWNER,
        transferId,
        reason: "duplicate charge",
      };
      assertEquals(
        (await ledger.reverse({ ...operator, idempotencyKey: "o1", amountMinor: 2_001n })).code,
        "reversal_exceeds_transfer",
      );
      const rest = await ledger.reverse({ ...operator, idempotencyKey: "o2" });
      assert(rest.code === "ok", `the rest is reversed, got ${rest.code}`);
      assertEquals([rest.reversal.amountMinor, rest.reversedMinor], [2_000n, 3_000n]);
      assertEquals((await ledger.reverse({ ...operator, idempotencyKey: "o3" })).code, "already_reversed");
      assertEquals(
        (await ledger.reverse({ ...operator, idempotencyKey: "o4", transferId: rest.reversal.id })).code,
        "not_reversible",
      );
      assertEquals(await account(ledger, "alice"), { balance: DEPOSIT, held: 0n, available: DEPOSIT });
      const history = await ledger.history("alice", { limit: 10 });
      assert(history.code === "ok", "alice's history reads");
      assertEquals(history.items.map((item) => [item.kind, item.amountMinor]), [
        ["reversal", 2_000n],
        ["refund", 1_000n],
        ["transfer", -3_000n],
        ["deposit", DEPOSIT],
      ]);
      await assertVerified(ledger);
    },
  },
  {
    name: "a refund never spends money a hold reserves, and a capture can be refunded",
    async fn({ ledger }) {
      await openPair(ledger);
      const held = await placed(ledger, hold(4_000n, "h1"));
      const capture = await ledger.captureHold({ identity: "alice", holdId: held.id });
      assert(capture.code === "ok", "captured");
      await placed(ledger, hold(DEPOSIT + 1_000n, "hb", { identity: "bob", targetAccountId: "A1" }));
      const refund = {
        kind: "refund" as const,
        identity: "bob",
        transferId: capture.capture.id,
        idempotencyKey: "r1",
      };
      assertEquals((await ledger.reverse(refund)).code, "insufficient_funds", "bob's money is held");
      assertEquals((await ledger.reverse({ ...refund, amountMinor: 3_000n })).code, "ok");
      await assertVerified(ledger);
    },
  },
  {
    name:
      "a seeded random run of transfers, holds, captures, voids, expiry and refunds keeps every invariant",
    async fn({ ledger, clock }) {
      const run: RandomRun = {
        ledger,
        clock,
        random: seededRandom(20261201),
        owners: ["alice", "bob", "carol"],
        holds: [],
        transfers: [],
        done: new Map(),
      };
      for (const [index, owner] of run.owners.entries()) {
        assertEquals(
          (await ledger.openAccount({ owner, id: `R${index}`, depositMinor: DEPOSIT })).code,
          "ok",
        );
      }
      for (let step = 0; step < 80; step++) {
        await randomStep(run, `k${step}`);
        await assertInvariants(ledger, run.owners, `step ${step}`);
      }
      for (const what of ["transfer", "hold", "capture", "void", "refund"]) {
        assert((run.done.get(what) ?? 0) >= 1, `the run made at least one ${what} (${[...run.done]})`);
      }
    },
  },
];

/** The state of a seeded random run: what it placed and journaled, and how many of each succeeded. */
interface RandomRun {
  ledger: BankStore;
  clock: TestClock;
  random: () => number;
  owners: readonly string[];
  holds: Hold[];
  transfers: { id: string; recipient: string }[];
  done: Map<string, number>;
}

/** One random step: a transfer, hold, capture, void or refund by a random owner, or time passing. */
async function randomStep(run: RandomRun, key: string): Promise<void> {
  const { ledger, random, owners } = run;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const amountMinor = BigInt(1 + Math.floor(random() * 4_000));
  const count = (what: string, code: string) => {
    if (code === "ok") run.done.set(what, (run.done.get(what) ?? 0) + 1);
  };
  const identity = pick(owners);
  const targetIndex = (owners.indexOf(identity) + 1 + Math.floor(random() * 2)) % owners.length;
  const targetAccountId = `R${targetIndex}`;
  const roll = random();
  if (roll < 0.25) {
    const result = await ledger.transfer({ identity, targetAccountId, amountMinor, idempotencyKey: key });
    count("transfer", result.code);
    if (result.code === "ok") run.transfers.push({ id: result.transfer.id, recipient: owners[targetIndex]! });
  } else if (roll < 0.5) {
    const expiresInS = 1 + Math.floor(random() * 600);
    const result = await ledger.hold({
      identity,
      targetAccountId,
      amountMinor,
      idempotencyKey: key,
      expiresInS,
    });
    count("hold", result.code);
    if (result.code === "ok") run.holds.push(result.hold);
  } else if (roll < 0.65 && run.holds.length > 0) {
    const chosen = pick(run.holds);
    const part = BigInt(1 + Math.floor(random() * Number(chosen.amountMinor)));
    const result = await ledger.captureHold({
      identity: chosen.identity,
      holdId: chosen.id,
      amountMinor: part,
    });
    count("capture", result.code);
    const recipient = owners[Number(chosen.targetAccountId.slice(1))]!;
    if (result.code === "ok") run.transfers.push({ id: result.capture.id, recipient });
  } else if (roll < 0.75 && run.holds.length > 0) {
    const chosen = pick(run.holds);
    count("void", (await ledger.voidHold({ identity: chosen.identity, holdId: chosen.id })).code);
  } else if (roll < 0.9 && run.transfers.length > 0) {
    const chosen = pick(run.transfers);
    const refund = { kind: "refund" as const, identity: chosen.recipient, transferId: chosen.id };
    count("refund", (await ledger.reverse({ ...refund, amountMinor, idempotencyKey: key })).code);
  } else {
    run.clock.advance(Math.floor(random() * 120_000));
  }
}

async function assertInvariants(ledger: BankStore, owners: readonly string[], when: string): Promise<void> {
  let total = 0n;
  for (const owner of owners) {
    for (const account of await ledger.accountsOf(owner)) {
      assert(account.heldMinor >= 0n, `${when}: ${account.id} holds a negative amount`);
      assert(
        account.balanceMinor - account.heldMinor >= 0n,
        `${when}: ${account.id} is available below zero`,
      );
      total += account.balanceMinor;
    }
  }
  assertEquals(total, BigInt(owners.length) * DEPOSIT, `${when}: customer money is neither made nor lost`);
  const report = await ledger.verify();
  assertEquals(report.problems, [], when);
  assertEquals([report.totalMinor, report.chain.links], [0n, report.entries], when);
}
