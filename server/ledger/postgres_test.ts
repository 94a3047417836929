import postgres from "postgres";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { CHAIN_CASES } from "./_chain_cases.ts";
import { LEDGER_CASES, TestClock } from "./_ledger_cases.ts";
import { HOLD_CASES } from "./_hold_cases.ts";
import { STATEMENT_CASES } from "./_statement_cases.ts";
import type { TransferInput, TransferResult } from "./ledger.ts";
import { PostgresLedger } from "./postgres.ts";
import { MIGRATIONS } from "./schema.ts";
import { seededRandom } from "../../lib/random.ts";
import { createTestDatabase, databaseUrlForTests } from "./testing.ts";

const adminUrl = databaseUrlForTests();

/** Runs `work` with a raw connection to `url`, beside the ledger's own pool. */
async function withRaw<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (adminUrl === undefined) {
  console.warn(
    "\n!!! PostgreSQL ledger tests SKIPPED: DATABASE_URL is not set. " +
      "Set DATABASE_URL=postgres://user@host:5432/db to run them. !!!\n",
  );
  Deno.test({
    name: "PostgresLedger: SKIPPED because DATABASE_URL is not set",
    ignore: true,
    fn() {},
  });
} else {
  registerTests(adminUrl);
}

function registerTests(adminUrl: string): void {
  for (const ledgerCase of [...LEDGER_CASES, ...CHAIN_CASES, ...HOLD_CASES, ...STATEMENT_CASES]) {
    Deno.test(`PostgresLedger: ${ledgerCase.name}`, async () => {
      await using database = await createTestDatabase(adminUrl);
      const clock = new TestClock();
      await using ledger = await PostgresLedger.open(database.url, { now: () => clock.now() });
      await withRaw(database.url, (raw) =>
        ledgerCase.fn({
          ledger,
          clock,
          execute: async (sql) => {
            await raw.unsafe(sql);
          },
          dialect: "postgres",
          [Symbol.asyncDispose]: () => ledger.close(),
        }));
    });
  }

  Deno.test("PostgresLedger.open() refuses a store written by a newer program, with a message saying so", async () => {
    await using database = await createTestDatabase(adminUrl);
    await (await PostgresLedger.open(database.url)).close();
    await withRaw(
      database.url,
      (raw) =>
        raw`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', now())`,
    );
    const error = await assertRejects(() => PostgresLedger.open(database.url), Error);
    assertStringIncludes(error.message, "PostgreSQL ledger has schema version 99, newer than this program's");
  });

  Deno.test("PostgresLedger: two processes' pools transfer concurrently, exactly once per key", async () => {
    await using database = await createTestDatabase(adminUrl);
    await using first = await PostgresLedger.open(database.url);
    await using second = await PostgresLedger.open(database.url);
    await checkTwoProcesses([first, second]);
  });

  Deno.test("PostgresLedger: twins with other fields on disjoint accounts get key_reused, not an error", async () => {
    await using database = await createTestDatabase(adminUrl);
    await using first = await PostgresLedger.open(database.url);
    await using second = await PostgresLedger.open(database.url);
    for (const [owner, id] of [["ann", "A1"], ["ann", "A2"], ["ben", "B1"], ["cat", "C1"]] as const) {
      assertEquals((await first.openAccount({ owner, id, depositMinor: 1_000n })).code, "ok");
    }
    for (let round = 0; round < 10; round++) {
      const key = `twin-${round}`;
      const results = await Promise.all([
        first.transfer({
          identity: "ann",
          sourceAccountId: "A1",
          targetAccountId: "B1",
          amountMinor: 5n,
          idempotencyKey: key,
        }),
        second.transfer({
          identity: "ann",
          sourceAccountId: "A2",
          targetAccountId: "C1",
          amountMinor: 5n,
          idempotencyKey: key,
        }),
      ]);
      assertEquals(results.map((result) => result.code).sort(), ["key_reused_with_other_fields", "ok"], key);
    }
    assertEquals((await first.verify()).ok, true);
  });

  Deno.test("PostgresLedger.transfer() judges a batch in order: balances chain, a key reused is a replay", async () => {
    await using database = await createTestDatabase(adminUrl);
    await using ledger = await PostgresLedger.open(database.url);
    await ledger.openAccount({ owner: "alice", id: "A1", depositMinor: 1_000n });
    await ledger.openAccount({ owner: "bob", id: "B1", depositMinor: 0n });
    const before = ledger.groupCommitStats;
    // Every index is sent twice: 400 requests for 200 keys, all submitted at once.
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, index) =>
        ledger.transfer({
          identity: "alice",
          targetAccountId: "B1",
          amountMinor: 7n,
          idempotencyKey: `g${index % 200}`,
        })),
    );
    const codes = (code: string) => results.filter((result) => result.code === code).length;
    assertEquals(codes("ok"), 142, "1000 / 7 transfers fit");
    assertEquals(codes("exists"), 142, "each accepted key, sent again, is a replay of the same transfer");
    assertEquals(codes("insufficient_funds"), 116, "the rest are refused, twice each");
    for (let index = 0; index < 200; index++) {
      const [first, second] = [results[index]!, results[index + 200]!];
      if (first.code !== "ok" && first.code !== "exists") {
        assertEquals(second.code, first.code, `g${index} answers alike`);
        continue;
      }
      if (second.code !== "ok" && second.code !== "exists") throw new Error(`g${index}: ${second.code}`);
      assertEquals(second.transfer.id, first.transfer.id, `g${index} names one transfer`);
    }
    const after = ledger.groupCommitStats;
    assertEquals(after.writes - before.writes, 400);
    assert(
      after.batches - before.batches < 40,
      `${after.batches - before.batches} commits for 400 transfers`,
    );
    assertEquals((await ledger.accountsOf("bob"))[0]?.balanceMinor, 142n * 7n);
    const report = await ledger.verify();
    assertEquals(report.problems, []);
    assertEquals(report.entries, 1 + 142, "the one deposit and the accepted transfers");
  });

  Deno.test("PostgresLedger.open() applies migrations once when ledgers open concurrently", async () => {
    await using database = await createTestDatabase(adminUrl);
    const ledgers = await Promise.all(
      Array.from({ length: 4 }, () => PostgresLedger.open(database.url, { poolMax: 2 })),
    );
    try {
      await withRaw(database.url, async (raw) => {
        const versions = await raw`SELECT version FROM schema_migrations ORDER BY version`;
        assertEquals(versions.map((row) => row.version), MIGRATIONS.map((migration) => migration.version));
        const [external] = await raw`SELECT COUNT(*)::int AS n FROM accounts WHERE id = 'EXTERNAL'`;
        assertEquals(external?.n, 1);
      });
      for (const ledger of ledgers) assertEquals((await ledger.verify()).ok, true);
    } finally {
      await Promise.all(ledgers.map((ledger) => ledger.close()));
    }
  });

  Deno.test("PostgresLedger.open() keeps data across reopening and names its connections", async () => {
    await using database = await createTestDatabase(adminUrl);
    const at = new Date("2026-01-02T03:04:05.678Z");
    const first = await PostgresLedger.open(database.url, { now: () => at, poolMax: 1 });
    await first.openAccount({ owner: "alice", id: "A1", depositMinor: 2n ** 40n });
    await first.close();
    await first.close();
    await using second = await PostgresLedger.open(database.url);
    const [alice] = await second.accountsOf("alice");
    assertEquals(alice?.balanceMinor, 2n ** 40n, "a balance above 2^32 survives as a bigint");
    assertEquals(alice?.createdAt, at);
    assertEquals((await second.verify()).ok, true);
    await withRaw(database.url, async (raw) => {
      const rows = await raw`
        SELECT application_name FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`;
      assert(rows.length >= 1, "the ledger holds a connection");
      for (const row of rows) assertEquals(row.application_name, "bank-server");
    });
  });

  Deno.test("PostgresLedger.open() names the database but never the password when it fails", async () => {
    const cases: [url: string, expected: string][] = [
      [
        "postgres://bank:hunter2-secret@127.0.0.1:1/bank",
        "Cannot open ledger at postgres://127.0.0.1:1/bank: ",
      ],
      [
        "postgres://bank:hunter2-secret@127.0.0.1:99999/bank",
        "Cannot open ledger at an invalid PostgreSQL URL",
      ],
      ["mysql://bank:hunter2-secret@127.0.0.1/bank", "Cannot open ledger at an invalid PostgreSQL URL"],
    ];
    for (const [url, expected] of cases) {
      const error = await assertRejects(() => PostgresLedger.open(url));
      assert(error instanceof Error);
      assertStringIncludes(error.message, expected);
      assert(!Deno.inspect(error).includes("hunter2"), `password leaked: ${Deno.inspect(error)}`);
    }
    const wrongPassword = new URL(adminUrl);
    wrongPassword.pathname = "/no_such_database_for_bank_tests";
    wrongPassword.password = "hunter2-secret";
    const error = await assertRejects(() => PostgresLedger.open(wrongPassword.href));
    assert(error instanceof Error);
    assert(!Deno.inspect(error).includes("hunter2"), `password leaked: ${Deno.inspect(error)}`);
  });
}

const SPECS = 80;
const REQUESTS = 200;
const OWNERS = ["alice", "bob", "carol"];
const DEPOSIT = 1_000_000n;

/** 200 requests for 80 distinct transfers, each sent two or three times, alternating between the ledgers. */
async function checkTwoProcesses(ledgers: [PostgresLedger, PostgresLedger]): Promise<void> {
  for (const [index, owner] of OWNERS.entries()) {
    assertEquals(
      (await ledgers[0].openAccount({ owner, id: `P${index}`, depositMinor: DEPOSIT })).code,
      "ok",
    );
  }
  const random = seededRandom(42);
  const specs: TransferInput[] = Array.from({ length: SPECS }, (_, index) => {
    const from = index % OWNERS.length;
    const to = (from + 1 + Math.floor(random() * (OWNERS.length - 1))) % OWNERS.length;
    const amountMinor = BigInt(1 + Math.floor(random() * 500));
    return {
      identity: OWNERS[from]!,
      targetAccountId: `P${to}`,
      amountMinor,
      idempotencyKey: `twin-${index}`,
    };
  });
  const requests = Array.from({ length: REQUESTS }, (_, index) => index);
  for (let index = requests.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [requests[index], requests[other]] = [requests[other]!, requests[index]!];
  }
  const results = await Promise.all(requests.map((request) => {
    const ledger = ledgers[Math.floor(request / SPECS) % 2]!;
    return ledger.transfer(specs[request % SPECS]!).then((result) => ({ request, result }));
  }));
  const bySpec = new Map<number, TransferResult[]>();
  for (const { request, result } of results) {
    bySpec.set(request % SPECS, [...bySpec.get(request % SPECS) ?? [], result]);
  }
  for (const [index, answers] of bySpec) await checkTwins(ledgers[1], specs[index]!, answers);
  const accounts = await Promise.all(OWNERS.map((owner) => ledgers[1].accountsOf(owner)));
  const total = accounts.flat().reduce((sum, account) => sum + account.balanceMinor, 0n);
  assertEquals(total, BigInt(OWNERS.length) * DEPOSIT, "money is conserved");
  for (const ledger of ledgers) {
    const report = await ledger.verify();
    assertEquals(report.problems, []);
    assertEquals(report.entries, OWNERS.length + SPECS, "one entry per deposit and per distinct transfer");
  }
}

/** Exactly one answer is `ok`; every twin answers `exists` with the same transfer, journaled once. */
async function checkTwins(
  ledger: PostgresLedger,
  spec: TransferInput,
  answers: TransferResult[],
): Promise<void> {
  assert(answers.length >= 2, `${spec.idempotencyKey} was sent at least twice`);
  const codes = answers.map((answer) => answer.code).sort();
  assertEquals(
    codes,
    ["exists", ...Array(answers.length - 2).fill("exists"), "ok"].sort(),
    spec.idempotencyKey,
  );
  const found = await ledger.findTransfer(spec.identity, spec.idempotencyKey);
  if (found === null) throw new Error(`${spec.idempotencyKey} must be journaled`);
  assertEquals(found.amountMinor, spec.amountMinor);
  for (const answer of answers) {
    if (answer.code !== "ok" && answer.code !== "exists") throw new Error(answer.code);
    assertEquals(answer.transfer.id, found.id, `${spec.idempotencyKey} names one transfer`);
  }
}
