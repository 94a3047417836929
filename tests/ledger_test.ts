/**
 * The durable ledger through the real server: money survives restarts and crashes, every acknowledged
 * transfer is journaled exactly once, retries never double-spend, and the invariants hold under
 * contention, on SQLite and (when DATABASE_URL is set) on PostgreSQL with one or two servers.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import type { Ledger } from "../server/ledger/ledger.ts";
import { PostgresLedger } from "../server/ledger/postgres.ts";
import { SqliteLedger } from "../server/ledger/sqlite.ts";
import {
  createTestDatabase,
  databaseUrlForTests,
  executeSqlite,
  SQLITE_JOURNAL_BEFORE_V7,
} from "../server/ledger/testing.ts";
import { connectAs, runAdmin, runClient, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";
import { acknowledged, runTransferLoad, send } from "./_load.ts";
import type { SentTransfer } from "./_load.ts";
import postgres from "postgres";

/** The auditor's attack on entry `target` (a SQL subquery): $100 becomes $10 in the journal, its postings and both balances. */
function consistentRewrite(target: string): string[] {
  return [
    `UPDATE journal SET amount_minor = 1000 WHERE entry = ${target}`,
    `UPDATE postings SET amount_minor = CASE WHEN amount_minor < 0 THEN -1000 ELSE 1000 END WHERE entry = ${target}`,
    "UPDATE accounts SET balance_minor = balance_minor + 9000 WHERE id = 'ACC-0001'",
    "UPDATE accounts SET balance_minor = balance_minor - 9000 WHERE id = 'XYZ'",
  ];
}

const CSV_HEADER = "position,entry,hash,kind,transfer_id,identity,idempotency_key,from,to,amount_minor," +
  "created_at,hold_id,original_entry,reason";

const DEMO_CLIENTS = 12;
const DEMO_TOTAL_MINOR = BigInt(DEMO_CLIENTS) * 50_000n;
const SHARED_TARGETS = ["ACC-0001", "ACC-0002", "ACC-0003", "XYZ"];

/** Where one test's ledger lives: a data directory, plus a fresh PostgreSQL database when asked. */
interface Store extends AsyncDisposable {
  name: string;
  dataDir: string;
  databaseUrl?: string;
  serverArgs: string[];
  open(): Promise<Ledger>;
  /** Runs raw SQL on the store, bypassing the ledger. */
  execute(sql: string): Promise<void>;
}

async function sqliteStore(): Promise<Store> {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-ledger-" });
  const path = `${dataDir}/bank.db`;
  return {
    name: "sqlite",
    dataDir,
    serverArgs: ["--demo-clients", String(DEMO_CLIENTS)],
    open: () => Promise.resolve(SqliteLedger.open(path)),
    execute: (sql) => executeSqlite(path, sql),
    [Symbol.asyncDispose]: () => Deno.remove(dataDir, { recursive: true }),
  };
}

async function postgresStore(adminUrl: string): Promise<Store> {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-ledger-" });
  const database = await createTestDatabase(adminUrl);
  return {
    name: "postgres",
    dataDir,
    databaseUrl: database.url,
    serverArgs: ["--demo-clients", String(DEMO_CLIENTS), "--database", database.url],
    open: () => PostgresLedger.open(database.url),
    execute: async (sql) => {
      const raw = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        await raw.unsafe(sql);
      } finally {
        await raw.end();
      }
    },
    async [Symbol.asyncDispose]() {
      await database[Symbol.asyncDispose]();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

const adminUrl = databaseUrlForTests();
const STORES: { name: string; make: () => Promise<Store> }[] = [{ name: "sqlite", make: sqliteStore }];
if (adminUrl !== undefined) STORES.push({ name: "postgres", make: () => postgresStore(adminUrl) });
else {
  console.warn("PostgreSQL end-to-end ledger tests SKIPPED: DATABASE_URL is not set");
  Deno.test({
    name: "ledger end to end on PostgreSQL: SKIPPED because DATABASE_URL is not set",
    ignore: true,
    fn() {},
  });
}

/** Checks every invariant on the store and returns the number of customer transfers journaled. */
async function assertInvariants(store: Store, sent: SentTransfer[]): Promise<void> {
  await using ledger = await store.open();
  const report = await ledger.verify();
  assertEquals(report.problems, [], `${store.name}: ledger verify`);
  assertEquals(report.totalMinor, 0n);
  const customers = await ledger.listAccounts({ limit: 1_000 });
  const held = customers.filter((account) => account.kind === "customer");
  assertEquals(
    held.reduce((sum, account) => sum + account.balanceMinor, 0n),
    DEMO_TOTAL_MINOR,
    "money conserved",
  );
  for (const account of held) assert(account.balanceMinor >= 0n, `${account.id} is negative`);
  for (const transfer of acknowledged(sent)) {
    const found = await ledger.findTransfer(transfer.identity, transfer.key);
    assertEquals(found?.id, transfer.outcome.transferId, `acknowledged ${transfer.key} is journaled`);
    assertEquals(found?.amountMinor, transfer.amountMinor);
  }
  const admin = await runAdmin(["ledger", "verify"], store);
  assertEquals(admin.code, 0, admin.stdout + admin.stderr);
}

/**
 * Resends every transfer with its original key, as clients do after a lost answer: each acknowledged one
 * must come back as the same transfer (`exists`), and nothing may move twice.
 */
async function retryEverything(server: ServerHandle, sent: SentTransfer[]): Promise<void> {
  for (const [identity, transfers] of Map.groupBy(sent, (transfer) => transfer.identity)) {
    const connection = await connectAs(server, identity);
    for (const transfer of transfers) {
      const retried = await send(connection, transfer, "retry");
      if (transfer.outcome !== null && "transferId" in transfer.outcome) {
        assertEquals(retried, { status: "exists", transferId: transfer.outcome.transferId }, transfer.key);
      }
      if ("transferId" in retried) transfer.outcome = retried;
    }
    await connection.close();
  }
}

for (const variant of STORES) {
  Deno.test(`ledger on ${variant.name}: a transfer survives a restart and is journaled exactly once`, async () => {
    await using store = await variant.make();
    const first = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const transfer = await runClient(first, ["--task", "Transfer $100 to Account XYZ"]);
    assertEquals(transfer.lines.at(-1), "Client 1: Server response: Transaction Successful");
    assertEquals(await first.stop(), 0);
    await using second = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const balance = await runClient(second, ["--task", "Check Balance"]);
    assertEquals(balance.lines.at(-1), "Client 1: Server response: Balance: $400");
    await using ledger = await store.open();
    const history = await ledger.history("client-1", { limit: 10 });
    const transfers = history.code === "ok" ? history.items.filter((item) => item.kind === "transfer") : [];
    assertEquals(transfers.map((item) => [item.amountMinor, item.counterpartyAccountId]), [[
      -10_000n,
      "XYZ",
    ]]);
    await assertInvariants(store, []);
  });

  Deno.test(`ledger on ${variant.name}: admin commands open, list, freeze and verify; verify catches tampering`, async () => {
    await using store = await variant.make();
    const open = await runAdmin([
      "accounts",
      "open",
      "--owner",
      "ada",
      "--deposit",
      "$1,234.56",
      "--id",
      "ADA-1",
    ], store);
    assertEquals(open.code, 0, open.stderr);
    assertMatch(open.stdout, /^ADA-1\s+ada\s+customer\s+open\s+\$1,234\.56$/m);
    assertEquals((await runAdmin(["accounts", "open", "--owner", "ada", "--id", "ADA-1"], store)).code, 1);
    assertEquals((await runAdmin(["accounts", "open", "--owner", "ada", "--deposit", "12"], store)).code, 2);
    assertEquals((await runAdmin(["accounts", "freeze", "ADA-1"], store)).code, 0);
    const list = await runAdmin(["accounts", "list", "--owner", "ada"], store);
    assertMatch(list.stdout, /^ADA-1\s+ada\s+customer\s+frozen\s+\$1,234\.56$/m);
    assertEquals((await runAdmin(["accounts", "unfreeze", "ADA-1"], store)).code, 0);
    assertEquals((await runAdmin(["accounts", "freeze", "NOPE"], store)).code, 1);
    const verified = await runAdmin(["ledger", "verify"], store);
    assertEquals(verified.code, 0);
    assertMatch(verified.stdout, /Ledger verified/);
    await store.execute("UPDATE accounts SET balance_minor = balance_minor + 1 WHERE id = 'ADA-1'");
    const tampered = await runAdmin(["ledger", "verify"], store);
    assertEquals(tampered.code, 1);
    assertMatch(tampered.stdout, /PROBLEM Account ADA-1: balance 123457, postings add up to 123456/);
    assertMatch(tampered.stdout, /Ledger verification FAILED/);
  });

  Deno.test(`ledger on ${variant.name}: a consistent rewrite of an old transfer is named by ledger verify`, async () => {
    await using store = await variant.make();
    {
      await using server = await startServer({
        dataDir: store.dataDir,
        args: store.serverArgs,
      });
      const run = await runClient(server, ["--clients", "3"]);
      assertEquals(run.code, 0, run.stdout);
      // /status and /metrics follow the chain's head within a second or two.
      const shown = await waitForHead(server, (await runAdmin(["ledger", "head"], store)).stdout.trim());
      const metrics = await (await fetch(`http://127.0.0.1:${server.monitorPort}/metrics`)).text();
      assertMatch(metrics, new RegExp(`^bank_ledger_head_entry ${shown.entry}$`, "m"));
    }
    const head = await runAdmin(["ledger", "head"], store);
    assertMatch(head.stdout, /^entry \d+ [0-9a-f]{64}$/m);
    const verified = await runAdmin(["ledger", "verify"], store);
    assertEquals(verified.code, 0, verified.stdout);
    assertMatch(verified.stdout, /\d+ chain links verified \(head entry \d+ [0-9a-f]{64}\)/);
    // The auditor's attack: client-1's $100 becomes $10, in the journal, its postings and both balances.
    const target = "(SELECT entry FROM journal WHERE identity = 'client-1' AND kind = 'transfer')";
    for (const statement of consistentRewrite(target)) await store.execute(statement);
    const tampered = await runAdmin(["ledger", "verify"], store);
    assertEquals(tampered.code, 1, tampered.stdout);
    assertMatch(tampered.stdout, /^PROBLEM Entry \d+: its hash does not match the chain/m);
    assertEquals(tampered.stdout.split("\n").filter((line) => line.startsWith("PROBLEM")).length, 1);
  });

  Deno.test(`ledger on ${variant.name}: receipts catch a rewrite that recomputed the whole chain`, async () => {
    await using store = await variant.make();
    const receipts = `${store.dataDir}/receipts`;
    {
      await using server = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
      for (const amount of ["$100", "$1", "$2"]) {
        const sent = await runClient(server, [
          "transfer",
          "--to",
          "XYZ",
          "--amount",
          amount,
          "--receipts",
          receipts,
        ]);
        assertEquals(sent.code, 0, sent.stderr);
        assertMatch(sent.stdout, /^Receipt for entry \d+ saved in /m);
      }
      const files = [...Deno.readDirSync(receipts)].map((item) => `${receipts}/${item.name}`).sort();
      assertEquals(files.length, 3);
      const checked = await runClient(server, ["receipt", "verify", files[0]!]);
      assertEquals(checked.code, 0, checked.stderr);
      assertMatch(checked.stdout, /^Receipt .* verified: entry \d+ \(transfer /m);
      const forged = `${receipts}/forged.json`;
      const receipt = JSON.parse(await Deno.readTextFile(files[0]!));
      await Deno.writeTextFile(forged, JSON.stringify({ ...receipt, amount_minor: "1" }));
      const refused = await runClient(server, ["receipt", "verify", forged]);
      assertEquals(refused.code, 1, refused.stdout);
      assertMatch(refused.stderr, /NOT signed by the bank key/);
      await Deno.remove(forged);
    }
    assertEquals((await runAdmin(["ledger", "verify", "--receipts", receipts], store)).code, 0);
    // The attack: client-1's first $100 becomes $10 (journal, postings, balances), then the chain is dropped
    // and rebuilt from the rewritten journal by the bank's own code (migration 4 runs again on open, on a
    // SQLite journal put back in the text form it had then).
    const target = "(SELECT MIN(entry) FROM journal WHERE identity = 'client-1' AND kind = 'transfer')";
    for (
      const statement of [
        ...consistentRewrite(target),
        ...(variant.name === "sqlite" ? [SQLITE_JOURNAL_BEFORE_V7] : []),
        "DROP TABLE journal_chain",
        "DELETE FROM schema_migrations WHERE version = 4",
      ]
    ) await store.execute(statement);
    const plain = await runAdmin(["ledger", "verify"], store);
    assertEquals(plain.code, 0, `the recomputed chain fools the chain alone: ${plain.stdout}`);
    const caught = await runAdmin(["ledger", "verify", "--receipts", receipts], store);
    assertEquals(caught.code, 1, caught.stdout);
    const problems = caught.stdout.split("\n").filter((line) => line.startsWith("PROBLEM"));
    assertEquals(problems.length, 3, caught.stdout);
    assertMatch(
      problems[0]!,
      /^PROBLEM Receipt .*\.json: entry \d+ is not what the bank signed \(the journal says transfer .*, \$10 from ACC-0001 to XYZ\)/,
    );
    assertMatch(
      problems[1]!,
      /^PROBLEM Receipt .*\.json: entry \d+'s chain hash is [0-9a-f]{64}, the bank signed [0-9a-f]{64}: history up to it was rewritten$/,
    );
    assertMatch(caught.stdout, /^3 receipts checked, 3 do not match the journal$/m);
  });

  Deno.test(`ledger on ${variant.name}: holds, captures, voids, refunds and reversals through the real CLIs`, async () => {
    await using store = await variant.make();
    const receipts = `${store.dataDir}/receipts`;
    await using server = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const client = async (args: string[], code = 0) => {
      const run = await runClient(server, args);
      assertEquals(run.code, code, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
      return run;
    };
    const placed = await client(["hold", "--to", "XYZ", "--amount", "$100", "--key", "h-1"]);
    const holdId = firstGroup(placed.stdout, /^Done: hold (\S+), \$100 for XYZ until /m);
    assertMatch(
      (await client(["hold", "--to", "XYZ", "--amount", "$100", "--key", "h-1"])).stdout,
      new RegExp(`^Already done: hold ${holdId},`, "m"),
    );
    assertMatch(
      (await client(["--task", "Check Balance"])).stdout,
      /^Client 1: Server response: Balance: \$400 available \(\$500 in the ledger\)$/m,
    );
    assertMatch(
      (await client(["transfer", "--to", "XYZ", "--amount", "$400.01"], 1)).stderr,
      /refused \(insufficient_funds\)/,
    );
    const captured = await client(["capture", holdId, "--amount", "$60", "--receipts", receipts]);
    const captureId = firstGroup(captured.stdout, /^Done: captured \$60 of hold \S+ \(transfer (\S+)\)$/m);
    assertMatch(
      (await client(["capture", holdId, "--amount", "$60"])).stdout,
      /^Already done: captured \$60/m,
    );
    assertMatch((await client(["void", holdId], 1)).stderr, /refused \(hold_already_captured\)/);
    assertMatch(
      (await client(["--task", "Check Balance"])).stdout,
      /^Client 1: Server response: Balance: \$440$/m,
    );
    // client-2 refunds part of a payment it received; then an operator reverses the capture in two steps.
    const paid = await client(["transfer", "--to", "ACC-0002", "--amount", "$50", "--receipts", receipts]);
    const paidId = firstGroup(paid.stdout, /^Done: transfer (\S+),/m);
    const asClient2 = ["--credential", `${server.dataDir}/clients/client-2.json`];
    assertMatch(
      (await client([
        "refund",
        paidId,
        "--amount",
        "$20",
        "--key",
        "r-1",
        ...asClient2,
        "--receipts",
        receipts,
      ])).stdout,
      /^Done: refund \S+, \$20 of /m,
    );
    assertMatch(
      (await client(["refund", paidId, "--amount", "$20", "--key", "r-1", ...asClient2])).stdout,
      /^Already done: refund/m,
    );
    assertMatch((await client(["refund", paidId], 1)).stderr, /refused \(transfer_not_found\)/);
    const reverse = (args: string[]) =>
      runAdmin([
        "ledger",
        "reverse",
        captureId,
        "--reason",
        "duplicate charge",
        "--receipts",
        receipts,
        ...args,
      ], store);
    const part = await reverse(["--amount", "$10", "--key", "o-1"]);
    assertEquals(part.code, 0, part.stderr);
    assertMatch(part.stdout, /^Reversed \$10 of \S+ \(\$10 of \$60 in all\): entry \d+/m);
    assertMatch(
      (await reverse(["--amount", "$10", "--key", "o-1"])).stdout,
      /^Already reversed under key o-1:/m,
    );
    assertMatch((await reverse([])).stdout, /^Reversed \$50 of \S+ \(\$60 of \$60 in all\)/m);
    const again = await reverse([]);
    assertEquals([again.code, again.stderr.trim()], [1, `Cannot reverse ${captureId}: already_reversed`]);
    assertMatch(
      (await client(["--task", "Check Balance"])).stdout,
      /^Client 1: Server response: Balance: \$470$/m,
    );
    // The statement: newest first, each entry with the balance after it; then as of the first reversal.
    const statement = (await client(["history", "--limit", "3"])).stdout;
    assertMatch(statement, /^ENTRY +TIME +KIND +ACCOUNT +AMOUNT +BALANCE AFTER +COUNTERPARTY$/m);
    const [newest, older] = [...statement.matchAll(/^(\d+) +\S+ +reversal +\S+ +(\$\S+) +(\$\S+) +XYZ$/gm)];
    assertEquals([newest?.slice(2), older?.slice(2)], [["$50.00", "$470.00"], ["$10.00", "$420.00"]]);
    assertMatch(statement, /^More: --before \d+$/m);
    const asOf = await client(["history", "--limit", "1", "--as-of", older![1]!, "--json"]);
    const [first] = JSON.parse(asOf.stdout).items;
    assertEquals([first.kind, first.balanceAfterMinor], ["reversal", "42000"]);
    assertMatch(
      (await client(["history", "--as-of", "yesterday"], 2)).stderr,
      /--as-of yesterday: an entry number, a date/,
    );
    await server.stop();
    const verified = await runAdmin(["ledger", "verify", "--receipts", receipts], store);
    assertEquals(verified.code, 0, verified.stdout);
    // The capture's, the transfer's, the refund's, and the operator's two reversals'.
    assertMatch(verified.stdout, /^5 receipts checked, 0 do not match the journal$/m);
  });

  Deno.test(`ledger on ${variant.name}: ledger export streams the journal in commit order, filtered, as JSON or CSV`, async () => {
    await using store = await variant.make();
    await using server = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const paid = await runClient(server, ["transfer", "--to", "XYZ", "--amount", "$2.50"]);
    const paidId = firstGroup(paid.stdout, /^Done: transfer (\S+),/m);
    await runClient(server, ["transfer", "--to", "XYZ", "--amount", "$1"]);
    await server.stop();
    const reason = `=HYPERLINK("x"), then, a "quote"`;
    assertEquals((await runAdmin(["ledger", "reverse", paidId, "--reason", reason], store)).code, 0);
    const head = firstGroup(
      (await runAdmin(["ledger", "head"], store)).stdout,
      /^entry (\d+) [0-9a-f]{64}$/m,
    );
    const path = `${store.dataDir}/export.jsonl`;
    const json = await runAdmin(["ledger", "export", "--output", path], store);
    assertEquals(json.code, 0, json.stderr);
    assertMatch(
      json.stderr,
      new RegExp(`^Exported ${head} entries \\(json\\) of ${head} in the chain to `, "m"),
    );
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((line) => JSON.parse(line));
    assertEquals(
      lines.map((line) => line.position),
      Array.from({ length: Number(head) }, (_, i) => `${i + 1}`),
    );
    const last = lines.at(-1);
    assertEquals([last.kind, last.reason, last.postings.length], ["reversal", reason, 2]);
    assertEquals(last.hash, firstGroup((await runAdmin(["ledger", "head"], store)).stdout, /([0-9a-f]{64})/));
    // A range by entry number, and by time: today's entries are all of them, tomorrow's none.
    const one = await runAdmin(["ledger", "export", "--from", last.entry, "--to", last.entry], store);
    assertEquals(one.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).entry), [last.entry]);
    const today = last.created_at.slice(0, 10);
    const byDay = await runAdmin(["ledger", "export", "--from", today, "--to", today], store);
    assertEquals(byDay.stdout.trimEnd().split("\n").length, Number(head));
    const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);
    assertEquals((await runAdmin(["ledger", "export", "--from", tomorrow], store)).stdout, "");
    // CSV: quoted where it must be, and a formula a spreadsheet would run is defused.
    const csv = await runAdmin(["ledger", "export", "--format", "csv", "--from", last.entry], store);
    assertEquals(csv.stdout.split("\r\n")[0], CSV_HEADER);
    assertEquals(csv.stdout.split("\r\n")[1]?.endsWith(`,"'=HYPERLINK(""x""), then, a ""quote"""`), true);
    // A file that cannot be written leaves nothing behind: no partial copy of the journal.
    await Deno.mkdir(`${store.dataDir}/taken`);
    const blocked = await runAdmin(["ledger", "export", "--output", `${store.dataDir}/taken`], store);
    assertEquals(blocked.code, 1, blocked.stderr);
    assertMatch(blocked.stderr, /taken/);
    const left = [...Deno.readDirSync(store.dataDir)].filter((item) => item.name.includes(".tmp-"));
    assertEquals(left, []);
    for (
      const [args, message] of [
        [["--format", "xml"], /--format xml: csv or json/],
        [["--to", "12-01-2026"], /--to 12-01-2026: an entry number, a date/],
        [["--from", "9", "--to", "3"], /--from is after --to/],
        [["--from", "last week"], /--from last week: an entry number, a date/],
        [["--to", "2026-02-30"], /--to 2026-02-30: an entry number, a date/],
      ] as const
    ) {
      const refused = await runAdmin(["ledger", "export", ...args], store);
      assertEquals(refused.code, 2, refused.stderr);
      assertMatch(refused.stderr, message);
    }
  });

  Deno.test(`ledger on ${variant.name}: invariants hold with many clients transferring among shared accounts`, async () => {
    await using store = await variant.make();
    await using server = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const clients = Array.from({ length: DEMO_CLIENTS }, (_, index) => index + 1);
    const sent = await runTransferLoad({
      servers: [server],
      clients,
      targets: SHARED_TARGETS,
      requestsPerClient: 25,
      seed: 1,
    });
    assertEquals(sent.length, clients.length * 25);
    assert(acknowledged(sent).length > 100, `only ${acknowledged(sent).length} acknowledged`);
    assertEquals(sent.filter((transfer) => transfer.outcome === null), [], "every transfer was answered");
    await server.stop();
    await assertInvariants(store, sent);
  });

  Deno.test(`ledger on ${variant.name}: two serving threads on one port keep the invariants and agree on /status`, async () => {
    await using store = await variant.make();
    await using server = await startServer({
      dataDir: store.dataDir,
      args: [...store.serverArgs, "--workers", "2"],
    });
    const sent = await runTransferLoad({
      servers: [server],
      clients: Array.from({ length: DEMO_CLIENTS }, (_, index) => index + 1),
      targets: SHARED_TARGETS,
      requestsPerClient: 25,
      seed: 5,
    });
    assertEquals(sent.filter((transfer) => transfer.outcome === null), []);
    const deadline = Date.now() + 5_000;
    let status = await server.status();
    while ((status.tasks_processed !== sent.length || status.connections !== 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await server.status();
    }
    assertEquals(status.tasks_processed, sent.length, "both threads' requests are counted");
    assertEquals(status.connections_total, DEMO_CLIENTS);
    assertEquals(status.connections, 0);
    await server.stop();
    await assertInvariants(store, sent);
  });

  Deno.test(`ledger on ${variant.name}: SIGKILL mid-load loses nothing acknowledged and retries never double-spend`, async () => {
    await using store = await variant.make();
    const victim = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const killed = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await victim.stop("SIGKILL");
    })();
    const sent = await runTransferLoad({
      servers: [victim],
      clients: Array.from({ length: DEMO_CLIENTS }, (_, index) => index + 1),
      targets: SHARED_TARGETS,
      requestsPerClient: 1_000,
      seed: 2,
      stop: killed,
    });
    await killed;
    assert(acknowledged(sent).length > 0, "some transfers were acknowledged before the kill");
    assert(sent.length < DEMO_CLIENTS * 1_000, "the kill interrupted the load");
    await assertInvariants(store, sent);

    await using restarted = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    await retryEverything(restarted, sent);
    await restarted.stop();
    await assertInvariants(store, sent);
  });
}

if (adminUrl !== undefined) {
  Deno.test("ledger on postgres: one of two servers killed mid-load; retries on the other never double-spend", async () => {
    await using store = await postgresStore(adminUrl);
    await using survivor = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const victim = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const killed = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await victim.stop("SIGKILL");
    })();
    const clients = Array.from({ length: DEMO_CLIENTS }, (_, index) => index + 1);
    const sent = await runTransferLoad({
      servers: [victim, survivor],
      clients,
      targets: SHARED_TARGETS,
      requestsPerClient: 200,
      seed: 4,
      stop: killed,
    });
    await killed;
    const unanswered = sent.filter((transfer) => transfer.outcome === null);
    assert(unanswered.length > 0, "the kill left transfers unanswered");
    await assertInvariants(store, sent);
    await retryEverything(survivor, sent);
    await survivor.stop();
    await assertInvariants(store, sent);
  });

  Deno.test("ledger on postgres: two servers on one database behave as one bank under contention", async () => {
    await using store = await postgresStore(adminUrl);
    await using one = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    await using two = await startServer({ dataDir: store.dataDir, args: store.serverArgs });
    const sent = await runTransferLoad({
      servers: [one, two],
      clients: Array.from({ length: DEMO_CLIENTS }, (_, index) => index + 1),
      targets: SHARED_TARGETS,
      requestsPerClient: 25,
      seed: 3,
    });
    assertEquals(sent.filter((transfer) => transfer.outcome === null), []);
    assert(acknowledged(sent).length > 100);
    const both = new Set(sent.map((transfer) => transfer.identity));
    assertEquals(both.size, DEMO_CLIENTS);
    await one.stop();
    await two.stop();
    await assertInvariants(store, sent);
  });
}

/** Polls /status until its ledger head is `expected` (`entry N HASH`), at most 5 s. */
async function waitForHead(server: ServerHandle, expected: string): Promise<{ entry: number; hash: string }> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const status = await server.status() as unknown as {
      ledger_head: { entry: number; hash: string } | null;
    };
    const head = status.ledger_head;
    if (head !== null && `entry ${head.entry} ${head.hash}` === expected) return head;
    if (Date.now() > deadline) throw new Error(`/status shows ${JSON.stringify(head)}, not ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The first group of `pattern` in `text`; fails the test when it does not match. */
function firstGroup(text: string, pattern: RegExp): string {
  const found = text.match(pattern)?.[1];
  if (found === undefined) throw new Error(`${pattern} does not match: ${text}`);
  return found;
}
