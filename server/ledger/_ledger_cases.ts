/**
 * The ledger's behaviour suite: every store must pass every case. `sqlite_test.ts` runs it always,
 * `postgres_test.ts` whenever `DATABASE_URL` is set.
 *
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { ACCOUNTS_PER_OWNER_MAX, IDENTITY_KEYS_MAX, ISSUANCE_MINOR_MAX } from "./limits.ts";
import { EXTERNAL_ACCOUNT_ID } from "./ledger.ts";
import type { BankStore, Ledger, NewKey, TransferInput, TransferResult } from "./ledger.ts";
import { seededRandom } from "../../lib/random.ts";

/** A fresh, empty ledger for one case, and a way to run raw SQL against its database. */
export interface LedgerUnderTest extends AsyncDisposable {
  ledger: BankStore;
  /** Runs one statement directly on the database, bypassing the ledger (to simulate tampering). */
  execute(sql: string): Promise<void>;
  /** Which SQL `execute` speaks. */
  dialect: "sqlite" | "postgres";
  /** The ledger's clock: the real time, moved forward when a case says so. */
  clock: TestClock;
}

/** The real clock plus whatever a case moved it forward by, injected as the ledger's `now`. */
export class TestClock {
  #offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }
  advance(milliseconds: number): void {
    this.#offsetMs += milliseconds;
  }
}

export interface LedgerCase {
  name: string;
  fn: (subject: LedgerUnderTest) => Promise<void>;
}

const DEPOSIT = 50_000n;

/** A made-up public key and its id: the store checks neither against the other, the server does. */
function publicKeyOf(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

function keyIdOf(n: number): string {
  return n.toString(16).padStart(2, "0").repeat(16);
}

function deviceKey(n: number): NewKey {
  return { kind: "device", keyId: keyIdOf(n), publicKey: publicKeyOf(n) };
}

async function openPair(ledger: Ledger): Promise<void> {
  for (const [owner, id] of [["alice", "A1"], ["bob", "B1"]]) {
    const opened = await ledger.openAccount({ owner: owner!, id: id!, depositMinor: DEPOSIT });
    assertEquals(opened.code, "ok");
  }
}

function transfer(amountMinor: bigint, key: string, fields: Partial<TransferInput> = {}): TransferInput {
  return { identity: "alice", targetAccountId: "B1", amountMinor, idempotencyKey: key, ...fields };
}

async function balances(ledger: Ledger, owners: string[]): Promise<bigint[]> {
  const result: bigint[] = [];
  for (const owner of owners) result.push(...(await ledger.accountsOf(owner)).map((a) => a.balanceMinor));
  return result;
}

/**
 * Makes the database itself refuse new rows of `table` whose `column` holds `value`: a rule the shared
 * judgement does not know, so a batch's planned write fails and only the database can tell which row.
 */
async function poison(subject: LedgerUnderTest, table: string, column: string, value: string): Promise<void> {
  await subject.execute(
    subject.dialect === "postgres"
      ? `ALTER TABLE ${table} ADD CONSTRAINT test_poison CHECK (${column} IS DISTINCT FROM '${value}')`
      : `CREATE TRIGGER test_poison BEFORE INSERT ON ${table} WHEN NEW.${column} = '${value}' ` +
        "BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
  );
}

async function assertVerified(ledger: Ledger): Promise<void> {
  const report = await ledger.verify();
  assertEquals(report.problems, []);
  assertEquals(report.ok, true);
  assertEquals(report.totalMinor, 0n, "all balances, EXTERNAL included, add up to zero");
}

export const LEDGER_CASES: readonly LedgerCase[] = [
  {
    name: "openAccount() journals the deposit from EXTERNAL and refuses a duplicate id",
    async fn({ ledger }) {
      await openPair(ledger);
      assertEquals(
        (await ledger.openAccount({ owner: "carol", id: "A1", depositMinor: 1n })).code,
        "account_exists",
      );
      const [alice] = await ledger.accountsOf("alice");
      assertEquals(alice?.balanceMinor, DEPOSIT);
      assertEquals(alice?.kind, "customer");
      const generated = await ledger.openAccount({ owner: "alice", depositMinor: 0n });
      assertEquals(generated.code, "ok");
      assertEquals((await ledger.accountsOf("alice")).map((a) => a.id), [
        "A1",
        generated.code === "ok" ? generated.account.id : "",
      ]);
      const external = await ledger.listAccounts({ owner: "bank", limit: 10 });
      assertEquals(external.map((a) => [a.id, a.balanceMinor]), [[EXTERNAL_ACCOUNT_ID, -2n * DEPOSIT]]);
      const report = await ledger.verify();
      assertEquals(report.entries, 2);
      await assertVerified(ledger);
    },
  },
  {
    name: "transfer() moves exactly the amount and journals one entry with two postings",
    async fn({ ledger }) {
      await openPair(ledger);
      const result = await ledger.transfer(transfer(1_234n, "k1"));
      assertEquals(result.code, "ok");
      assertEquals(await balances(ledger, ["alice", "bob"]), [DEPOSIT - 1_234n, DEPOSIT + 1_234n]);
      const found = await ledger.findTransfer("alice", "k1");
      assertEquals(found?.amountMinor, 1_234n);
      assertEquals(found?.sourceAccountId, "A1");
      assertEquals(found?.id, result.code === "ok" ? result.transfer.id : "");
      assertEquals(await ledger.findTransfer("bob", "k1"), null, "keys belong to their caller");
      await assertVerified(ledger);
    },
  },
  {
    name: "transfer() is exactly once per idempotency key",
    async fn({ ledger }) {
      await openPair(ledger);
      const first = await ledger.transfer(transfer(100n, "same"));
      const again = await ledger.transfer(transfer(100n, "same"));
      assertEquals(again.code, "exists");
      assertEquals(again.code === "exists" && again.transfer.id, first.code === "ok" && first.transfer.id);
      assertEquals((await ledger.transfer(transfer(101n, "same"))).code, "key_reused_with_other_fields");
      const otherTarget = await ledger.transfer(
        transfer(100n, "same", { targetAccountId: EXTERNAL_ACCOUNT_ID }),
      );
      assertEquals(otherTarget.code, "key_reused_with_other_fields");
      assertEquals(await balances(ledger, ["alice", "bob"]), [DEPOSIT - 100n, DEPOSIT + 100n]);
      const bob = await ledger.transfer({ ...transfer(7n, "same"), identity: "bob", targetAccountId: "A1" });
      assertEquals(bob.code, "ok", "another caller's key is another transfer");
      assertEquals((await ledger.transfer(transfer(DEPOSIT - 100n + 7n, "drain"))).code, "ok");
      const afterDrain = await ledger.transfer(transfer(100n, "same"));
      assertEquals(afterDrain.code, "exists", "a replay is a replay even when it could not be paid again");
      assertEquals(
        afterDrain.code === "exists" && afterDrain.transfer.id,
        first.code === "ok" && first.transfer.id,
      );
      await assertVerified(ledger);
    },
  },
  {
    name: "transfer() refuses, in order, with a code for each problem and moves nothing",
    async fn({ ledger }) {
      await openPair(ledger);
      await ledger.openAccount({ owner: "alice", id: "A2", depositMinor: 0n });
      await ledger.openAccount({ owner: "carol", id: "C1", depositMinor: 10n });
      await ledger.setAccountStatus("C1", "frozen");
      const cases: [TransferInput, TransferResult["code"]][] = [
        [transfer(0n, "z"), "amount_must_be_positive"],
        [transfer(-5n, "n"), "amount_must_be_positive"],
        [transfer(10n ** 12n, "big"), "amount_over_limit"],
        [transfer(DEPOSIT + 1n, "over"), "insufficient_funds"],
        [transfer(1n, "self", { targetAccountId: "A1" }), "accounts_must_differ"],
        [transfer(1n, "self2", { sourceAccountId: "A1", targetAccountId: "A1" }), "accounts_must_differ"],
        [transfer(1n, "nobody", { targetAccountId: "NOPE" }), "account_not_found"],
        [transfer(1n, "theirs", { sourceAccountId: "B1", targetAccountId: "A1" }), "account_not_found"],
        [transfer(1n, "system", { targetAccountId: EXTERNAL_ACCOUNT_ID }), "account_not_found"],
        [transfer(1n, "empty", { sourceAccountId: "A2" }), "insufficient_funds"],
        [transfer(1n, "frozen", { targetAccountId: "C1" }), "account_frozen"],
        [{ ...transfer(1n, "frozen-src"), identity: "carol", targetAccountId: "A1" }, "account_frozen"],
        [{ ...transfer(1n, "stranger"), identity: "mallory" }, "account_not_found"],
      ];
      for (const [input, code] of cases) {
        assertEquals((await ledger.transfer(input)).code, code, input.idempotencyKey);
        assertEquals(
          await ledger.findTransfer(input.identity, input.idempotencyKey),
          null,
          "refusals are not kept",
        );
      }
      assertEquals(await balances(ledger, ["alice", "bob", "carol"]), [DEPOSIT, 0n, DEPOSIT, 10n]);
      await ledger.setAccountStatus("C1", "open");
      const unfrozen = await ledger.transfer(transfer(1n, "frozen", { targetAccountId: "C1" }));
      assertEquals(unfrozen.code, "ok", "a refused key may be retried and judged afresh");
      assertEquals((await ledger.setAccountStatus("NOPE", "frozen")).code, "account_not_found");
      assertEquals((await ledger.setAccountStatus(EXTERNAL_ACCOUNT_ID, "frozen")).code, "account_not_found");
      await assertVerified(ledger);
    },
  },
  {
    name: "history() pages the caller's postings newest first and hides other accounts",
    async fn({ ledger }) {
      await openPair(ledger);
      for (let index = 1; index <= 5; index++) await ledger.transfer(transfer(BigInt(index), `h${index}`));
      const first = await ledger.history("alice", { limit: 2 });
      if (first.code !== "ok") throw new Error(first.code);
      assertEquals(first.items.map((item) => item.amountMinor), [-5n, -4n]);
      assertEquals(first.items[0]?.counterpartyAccountId, "B1");
      const next = await ledger.history("alice", { limit: 10, beforeEntry: first.items[1]!.entry });
      if (next.code !== "ok") throw new Error(next.code);
      assertEquals(next.items.map((item) => [item.kind, item.amountMinor]), [
        ["transfer", -3n],
        ["transfer", -2n],
        ["transfer", -1n],
        ["deposit", DEPOSIT],
      ]);
      const bob = await ledger.history("bob", { limit: 1, accountId: "B1" });
      assertEquals(bob.code === "ok" && bob.items.map((item) => item.amountMinor), [5n]);
      assertEquals((await ledger.history("alice", { limit: 5, accountId: "B1" })).code, "account_not_found");
      assertEquals(await ledger.history("mallory", { limit: 5 }), { code: "ok", items: [] });
    },
  },
  {
    name: "updateContact() reports changed fields and keeps the history of real changes only",
    async fn({ ledger }) {
      assertEquals(await ledger.updateContact("alice", {}), { code: "ok", changed: [] });
      assertEquals(await ledger.updateContact("alice", { email: "a@example.com", phone: "+1 555 0100" }), {
        code: "ok",
        changed: ["email", "phone"],
      });
      assertEquals(await ledger.updateContact("alice", { email: "a@example.com", address: "1 Main St" }), {
        code: "ok",
        changed: ["address"],
      });
      const history = await ledger.contactHistory("alice", { limit: 10 });
      assertEquals(
        history.map((change) => change.changed),
        [["address"], ["email", "phone"]],
        "no-ops are not kept",
      );
      assertEquals(await ledger.contactHistory("bob", { limit: 10 }), []);
    },
  },
  {
    name: "updateContact() sent together are group-committed in the order they were sent",
    async fn({ ledger }) {
      const results = await Promise.all([
        ledger.updateContact("alice", { email: "a@example.com" }),
        ledger.updateContact("alice", { email: "a@example.com" }),
        ledger.updateContact("alice", { email: "b@example.com" }),
        ledger.updateContact("alice", { phone: "+1 555 0100" }),
        ledger.updateContact("bob", { address: "1 Main St" }),
      ]);
      assertEquals(results.map((result) => result.changed), [["email"], [], ["email"], ["phone"], [
        "address",
      ]]);
      const history = await ledger.contactHistory("alice", { limit: 10 });
      assertEquals(history.map((change) => change.changed), [["phone"], ["email"], ["email"]]);
      const again = await ledger.updateContact("alice", { email: "b@example.com", phone: "+1 555 0100" });
      assertEquals(again.changed, [], "the last values sent are the ones kept");
    },
  },
  {
    name: "transfer(): a transfer the database refuses fails alone, not its batch",
    async fn(subject) {
      const { ledger } = subject;
      await openPair(ledger);
      await poison(subject, "journal", "idempotency_key", "poison");
      const keys = ["k1", "k2", "poison", "k3", "k4"];
      const results = await Promise.allSettled(keys.map((key) => ledger.transfer(transfer(10n, key))));
      assertEquals(
        results.map((result) => result.status === "fulfilled" ? result.value.code : "error"),
        ["ok", "ok", "error", "ok", "ok"],
      );
      assertEquals(await balances(ledger, ["bob"]), [DEPOSIT + 40n]);
      assertEquals(await ledger.findTransfer("alice", "poison"), null);
      await assertVerified(ledger);
    },
  },
  {
    name: "updateContact(): an update the database refuses fails alone, not its batch",
    async fn(subject) {
      const { ledger } = subject;
      await poison(subject, "contacts", "address", "poison");
      const results = await Promise.allSettled([
        ledger.updateContact("alice", { email: "a@example.com" }),
        ledger.updateContact("bob", { address: "poison" }),
        ledger.updateContact("carol", { phone: "+1 555 0100" }),
      ]);
      assertEquals(
        results.map((result) => result.status === "fulfilled" ? result.value.changed : "error"),
        [["email"], "error", ["phone"]],
      );
      assertEquals(await ledger.contactHistory("bob", { limit: 10 }), []);
      assertEquals((await ledger.contactHistory("carol", { limit: 10 })).length, 1);
    },
  },
  {
    name: "listAccounts() pages by id and filters by owner",
    async fn({ ledger }) {
      await openPair(ledger);
      await ledger.openAccount({ owner: "alice", id: "A0", depositMinor: 0n });
      const page = await ledger.listAccounts({ limit: 2 });
      assertEquals(page.map((a) => a.id), ["A0", "A1"]);
      const rest = await ledger.listAccounts({ limit: 10, after: "A1" });
      assertEquals(rest.map((a) => a.id), ["B1", EXTERNAL_ACCOUNT_ID]);
      assertEquals((await ledger.listAccounts({ owner: "alice", limit: 10 })).map((a) => a.id), ["A0", "A1"]);
      assertEquals(
        (await ledger.accountsOf("alice")).map((a) => a.id),
        ["A1", "A0"],
        "accountsOf is oldest first",
      );
    },
  },
  {
    name: "a seeded run of random transfers keeps every invariant after every step",
    async fn({ ledger }) {
      const owners = ["alice", "bob", "carol", "dave"];
      const model = new Map<string, bigint>();
      for (const [index, owner] of owners.entries()) {
        await ledger.openAccount({ owner, id: `R${index}`, depositMinor: 1_000n });
        model.set(`R${index}`, 1_000n);
      }
      const random = seededRandom(20261127);
      for (let step = 0; step < 120; step++) {
        const from = Math.floor(random() * owners.length);
        const to = Math.floor(random() * owners.length);
        const amountMinor = BigInt(Math.floor(random() * 700));
        const key = `step-${Math.floor(random() * 100)}`;
        const input = {
          identity: owners[from]!,
          targetAccountId: `R${to}`,
          amountMinor,
          idempotencyKey: key,
        };
        const result = await ledger.transfer(input);
        if (result.code === "ok") {
          model.set(`R${from}`, model.get(`R${from}`)! - amountMinor);
          model.set(`R${to}`, model.get(`R${to}`)! + amountMinor);
        }
        const seen = await balances(ledger, owners);
        assertEquals(seen, [...model.values()], `step ${step}: ${result.code}`);
        await assertVerified(ledger);
      }
    },
  },
  {
    name: "concurrent transfers on shared accounts neither lose updates nor apply twice",
    async fn({ ledger }) {
      const owners = ["alice", "bob", "carol"];
      for (const [index, owner] of owners.entries()) {
        await ledger.openAccount({ owner, id: `S${index}`, depositMinor: 300n });
      }
      const random = seededRandom(7);
      const inputs = Array.from({ length: 150 }, (_, index) => {
        const from = index % owners.length;
        const to = (from + 1 + Math.floor(random() * (owners.length - 1))) % owners.length;
        return {
          identity: owners[from]!,
          targetAccountId: `S${to}`,
          amountMinor: 7n,
          idempotencyKey: `c${index % 100}`,
        };
      });
      const results = await Promise.all(inputs.map((input) => ledger.transfer(input)));
      const accepted = results.filter((result) => result.code === "ok");
      assert(accepted.length > 0, "Some transfers go through");
      for (const result of results) assertNotEquals(result.code, "amount_must_be_positive");
      const ids = new Set(accepted.map((result) => result.code === "ok" ? result.transfer.id : ""));
      assertEquals(ids.size, accepted.length, "every accepted transfer is its own entry");
      for (const result of accepted) {
        if (result.code !== "ok") continue;
        const found = await ledger.findTransfer(result.transfer.identity, result.transfer.idempotencyKey);
        assertEquals(found?.id, result.transfer.id, "accepted transfers are journaled exactly once");
      }
      const total = (await balances(ledger, owners)).reduce((sum, value) => sum + value, 0n);
      assertEquals(total, 900n);
      const report = await ledger.verify();
      assertEquals(report.entries, 3 + accepted.length);
      await assertVerified(ledger);
    },
  },
  {
    name: "verify() fails on a database altered by hand",
    async fn({ ledger, execute }) {
      await openPair(ledger);
      await ledger.transfer(transfer(10n, "t"));
      await assertVerified(ledger);
      await execute("UPDATE accounts SET balance_minor = balance_minor + 1 WHERE id = 'B1'");
      const report = await ledger.verify();
      assertEquals(report.ok, false);
      assert(
        report.problems.some((problem) => problem.startsWith("Account B1: balance")),
        report.problems.join("\n"),
      );
      assert(
        report.problems.some((problem) => problem.startsWith("All balances add up to 1")),
        report.problems.join("\n"),
      );
    },
  },
  {
    name: "identities: add, list and revoke, each change numbered in order",
    async fn({ ledger }) {
      assertEquals(await ledger.addIdentity("client-1"), "ok");
      assertEquals(await ledger.addIdentity("client-1"), "exists");
      assertEquals(await ledger.addIdentity("client-2"), "ok");
      const start = await ledger.identityChangesSince(0, { limit: 10 });
      assertEquals(start.changes.map((change) => change.name), ["client-1", "client-2"]);
      assertEquals(await ledger.addKey("client-1", deviceKey(1)), "ok");
      assertEquals(await ledger.revokeIdentity("client-2"), "ok");
      assertEquals(await ledger.addKey("client-2", deviceKey(2)), "not_found", "revocation is final");
      assertEquals(await ledger.revokeIdentity("nobody"), "not_found");
      const later = await ledger.identityChangesSince(start.cursor, { limit: 10 });
      assertEquals(later.changes, [
        { name: "client-1", status: "active", generation: 2 },
        { name: "client-2", status: "revoked", generation: 2 },
      ]);
      assertEquals((await ledger.identityChangesSince(start.cursor, { limit: 1 })).changes.length, 1);
      assertEquals((await ledger.identityChangesSince(later.cursor, { limit: 10 })).changes, []);
      assertEquals(await ledger.countIdentities(), 2);
      const listed = await ledger.listIdentities({ limit: 10 });
      assertEquals(listed.map((record) => [record.name, record.status, record.generation]), [
        ["client-1", "active", 2],
        ["client-2", "revoked", 2],
      ]);
      const after = await ledger.listIdentities({ limit: 10, after: "client-1" });
      assertEquals(after.map((record) => record.name), ["client-2"]);
    },
  },
  {
    name: "identity keys: only public halves, looked up by id, revoked and replaced in one commit",
    async fn({ ledger }) {
      assertEquals(await ledger.addKey("client-1", deviceKey(1)), "not_found", "no such identity");
      await ledger.addIdentity("client-1");
      await ledger.addIdentity("client-2");
      assertEquals(await ledger.addKey("client-1", deviceKey(1)), "ok");
      assertEquals(await ledger.addKey("client-1", deviceKey(1)), "key_exists");
      assertEquals(await ledger.addKey("client-2", deviceKey(1)), "key_exists", "one key, one identity");
      const found = await ledger.lookupKey("client-1", keyIdOf(1));
      assertEquals(found?.key.publicKey, publicKeyOf(1));
      assertEquals([found?.key.kind, found?.key.status, found?.generation], ["device", "active", 2]);
      assertEquals(await ledger.lookupKey("client-2", keyIdOf(1)), null, "a key of another identity");
      assertEquals(await ledger.lookupKey("client-1", keyIdOf(7)), null);

      assertEquals(await ledger.replaceKey("client-1", { oldKeyId: keyIdOf(1), key: deviceKey(3) }), "ok");
      assertEquals(await ledger.lookupKey("client-1", keyIdOf(1)), null, "the old key is revoked");
      assertEquals((await ledger.lookupKey("client-1", keyIdOf(3)))?.generation, 3);
      assertEquals(
        await ledger.replaceKey("client-1", { oldKeyId: keyIdOf(1), key: deviceKey(4) }),
        "not_found",
      );
      assertEquals(await ledger.revokeKey("client-1", keyIdOf(3)), "ok");
      assertEquals(await ledger.revokeKey("client-1", keyIdOf(3)), "not_found");
      const keys = await ledger.listKeys("client-1", { limit: 10 });
      assertEquals(keys.map((key) => [key.keyId, key.status]), [[keyIdOf(3), "revoked"], [
        keyIdOf(1),
        "revoked",
      ]]);

      await ledger.addKey("client-2", deviceKey(5));
      assertEquals(await ledger.revokeIdentity("client-2"), "ok");
      assertEquals(
        await ledger.lookupKey("client-2", keyIdOf(5)),
        null,
        "a revoked identity's keys are dead",
      );
    },
  },
  {
    name: "identity keys: an invite works before its deadline and while it has attempts; keys are capped",
    async fn({ ledger }) {
      await ledger.addIdentity("client-1");
      const deadline = new Date(Date.now() + 3_600_000);
      const invite = {
        kind: "invite" as const,
        keyId: keyIdOf(1),
        publicKey: publicKeyOf(1),
        expiresAt: deadline,
      };
      assertEquals(await ledger.addKey("client-1", { ...invite, attemptsLeft: 2 }), "ok");
      assertEquals((await ledger.lookupKey("client-1", keyIdOf(1)))?.key.attemptsLeft, 2);
      await ledger.spendInviteAttempt("client-1");
      assertEquals((await ledger.lookupKey("client-1", keyIdOf(1)))?.key.attemptsLeft, 1);
      await ledger.spendInviteAttempt("client-1");
      assertEquals(await ledger.lookupKey("client-1", keyIdOf(1)), null, "no attempts left");
      await ledger.spendInviteAttempt("client-1");
      assertEquals(
        (await ledger.listKeys("client-1", { limit: 10 }))[0]?.attemptsLeft,
        0,
        "never below zero",
      );

      const past = { kind: "invite" as const, keyId: keyIdOf(2), publicKey: publicKeyOf(2), attemptsLeft: 3 };
      assertEquals(
        await ledger.addKey("client-1", { ...past, expiresAt: new Date(Date.now() - 1_000) }),
        "ok",
      );
      assertEquals(await ledger.lookupKey("client-1", keyIdOf(2)), null, "past its deadline");
      assertEquals(
        await ledger.replaceKey("client-1", { oldKeyId: keyIdOf(2), key: deviceKey(3) }),
        "not_found",
      );

      const fresh = {
        kind: "invite" as const,
        keyId: keyIdOf(4),
        publicKey: publicKeyOf(4),
        attemptsLeft: 3,
      };
      assertEquals(await ledger.addKey("client-1", { ...fresh, expiresAt: deadline }), "ok");
      assertEquals(await ledger.replaceKey("client-1", { oldKeyId: keyIdOf(4), key: deviceKey(5) }), "ok");
      assertEquals(await ledger.lookupKey("client-1", keyIdOf(4)), null, "an invite enrols once");
      assertEquals((await ledger.lookupKey("client-1", keyIdOf(5)))?.key.kind, "device");

      for (let n = 6; n < 6 + IDENTITY_KEYS_MAX - 1; n++) {
        assertEquals(await ledger.addKey("client-1", deviceKey(n)), "ok");
      }
      assertEquals(await ledger.addKey("client-1", deviceKey(50)), "key_limit");
      assertEquals(
        await ledger.replaceKey("client-1", { oldKeyId: keyIdOf(5), key: deviceKey(51) }),
        "ok",
        "a swap keeps the count",
      );
    },
  },
  {
    name: "openAccount() refuses past the accounts-per-owner and issuance caps",
    async fn({ ledger }) {
      for (let index = 0; index < ACCOUNTS_PER_OWNER_MAX; index++) {
        assertEquals(
          (await ledger.openAccount({ owner: "many", id: `M${index}`, depositMinor: 0n })).code,
          "ok",
        );
      }
      assertEquals(
        (await ledger.openAccount({ owner: "many", depositMinor: 0n })).code,
        "owner_account_limit",
      );
      const big = await ledger.openAccount({
        owner: "rich",
        id: "R1",
        depositMinor: ISSUANCE_MINOR_MAX - 1n,
      });
      assertEquals(big.code, "ok");
      assertEquals(
        (await ledger.openAccount({ owner: "rich", id: "R2", depositMinor: 2n })).code,
        "issuance_over_limit",
      );
      assertEquals((await ledger.openAccount({ owner: "rich", id: "R3", depositMinor: 1n })).code, "ok");
      const all = await ledger.transfer({
        identity: "rich",
        targetAccountId: "R3",
        amountMinor: 100n,
        idempotencyKey: "r",
      });
      assertEquals(all.code, "ok", "a balance can hold all the money there is");
      await assertVerified(ledger);
    },
  },
];
