/**
 * The ledger as it grows, in one run: a SQLite store already holding N journal entries (made quickly here,
 * with balances and a hash chain that verify) beside a fresh one, each served by the real server and loaded
 * with durable transfers at 50 connections. Reported: transfers/s against the fresh store's, bytes per entry
 * on disk, and `ledger verify` entries/s.
 *
 * ```sh
 * deno run -A bench/big_store.ts 2000000     # entries in the big store
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { assert } from "../lib/assert.ts";
import { runBench } from "../client/bench/run.ts";
import type { BenchOptions } from "../client/bench/types.ts";
import { CONNECTIONS, loadTransfers } from "./ledger_cost.ts";
import { FAST_AEAD } from "../protocol/node_crypto.ts";
import { chainEntryOf, chainHash, formatHash } from "../server/ledger/chain.ts";
import { SqliteLedger } from "../server/ledger/sqlite.ts";
import { startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const ACCOUNTS = 1_000;
const DEPOSIT_MINOR = 1_000_000_000n;
const ROWS_PER_COMMIT = 50_000;

export interface GrowthResult {
  entries: number;
  transfersPerSecond: number;
  balancesPerSecond: number;
  bytesPerEntry: number;
  verifyEntriesPerSecond: number;
  buildSeconds: number;
}

/**
 * Fills `path` with `entries` transfers among {@link ACCOUNTS} accounts, each journaled, posted and linked
 * into the chain exactly as the ledger would (chain.ts makes every hash), in large transactions without
 * fsync: a fixture, not a bank.
 */
export async function buildStore(path: string, entries: number): Promise<void> {
  await openFixtureAccounts(path);
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON");
    const head = db.prepare("SELECT position, entry, hash FROM journal_chain ORDER BY position DESC LIMIT 1")
      .get()!;
    let position = BigInt(head.position as number);
    let hash: Uint8Array = Uint8Array.fromHex(String(head.hash));
    let entry = BigInt(db.prepare("SELECT MAX(entry) AS entry FROM journal").get()!.entry as number);
    const balances = new Map<string, bigint>();
    for (const row of db.prepare("SELECT id, balance_minor FROM accounts").all()) {
      balances.set(String(row.id), BigInt(row.balance_minor as number));
    }
    const journal = db.prepare(`INSERT INTO journal (entry, transfer_id, kind, identity, idempotency_key,
      source_account_id, target_account_id, amount_minor, created_at) VALUES (?, ?, 'transfer', ?, ?, ?, ?, ?, ?)`);
    const postings = db.prepare(
      "INSERT INTO postings (entry, account_id, amount_minor) VALUES (?1, ?2, ?3), (?1, ?4, ?5)",
    );
    const chain = db.prepare("INSERT INTO journal_chain (position, entry, hash) VALUES (?, ?, ?)");
    const at = Date.now() - entries;
    db.exec("BEGIN");
    for (let index = 0; index < entries; index++) {
      const source = `BIG-${index % ACCOUNTS}`;
      const target = `BIG-${(index * 7 + 1) % ACCOUNTS}` === source
        ? `BIG-${(index + 1) % ACCOUNTS}`
        : `BIG-${(index * 7 + 1) % ACCOUNTS}`;
      const amountMinor = BigInt(1 + (index % 100));
      const identity = `big-${index % ACCOUNTS}`;
      const transfer = {
        id: crypto.randomUUID(),
        identity,
        idempotencyKey: `fixture-${index}`,
        sourceAccountId: source,
        targetAccountId: target,
        amountMinor,
        createdAt: new Date(at + index),
      };
      entry += 1n;
      position += 1n;
      journal.run(
        entry,
        transfer.id,
        identity,
        transfer.idempotencyKey,
        source,
        target,
        amountMinor,
        transfer.createdAt.toISOString(),
      );
      postings.run(entry, source, -amountMinor, target, amountMinor);
      hash = chainHash(hash, chainEntryOf(entry, { kind: "transfer", transfer }));
      chain.run(position, entry, formatHash(hash));
      balances.set(source, balances.get(source)! - amountMinor);
      balances.set(target, balances.get(target)! + amountMinor);
      if ((index + 1) % ROWS_PER_COMMIT === 0) db.exec("COMMIT; BEGIN");
    }
    const update = db.prepare("UPDATE accounts SET balance_minor = ? WHERE id = ?");
    for (const [id, balance] of balances) update.run(balance, id);
    db.exec("COMMIT");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** The fixture's accounts, opened through the ledger itself (their deposits are real, chained entries). */
async function openFixtureAccounts(path: string): Promise<void> {
  await using ledger = SqliteLedger.open(path);
  for (let index = 0; index < ACCOUNTS; index++) {
    const opened = await ledger.openAccount({
      owner: `big-${index}`,
      id: `BIG-${index}`,
      depositMinor: DEPOSIT_MINOR,
    });
    assert(opened.code === "ok", "A fixture account opens");
  }
}

/** Balance checks at {@link CONNECTIONS} connections, one in flight each, against the big store's server. */
async function balanceChecks(
  server: ServerHandle,
  window: { durationMs: number; warmupMs: number },
): Promise<number> {
  const report = await runBench({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credentials: await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, index) => server.credential(`client-${index + 1}`)),
    ),
    clients: CONNECTIONS,
    durationMs: window.durationMs,
    warmupMs: window.warmupMs,
    mix: { balance: 1, transfer: 0, contact: 0 },
    aead: FAST_AEAD,
  });
  assert(report.totals.errors === 0, "Every balance check succeeds");
  return report.measured.requests_per_second;
}

/** One store, `entries` deep: built, served, loaded, measured, verified. */
export async function measureGrowth(
  entries: number,
  options: { durationMs: number; warmupMs: number },
): Promise<GrowthResult> {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-big-" });
  try {
    const startedMs = performance.now();
    if (entries > 0) await buildStore(`${dataDir}/bank.db`, entries);
    const buildSeconds = (performance.now() - startedMs) / 1000;
    let transfersPerSecond: number;
    let balancesPerSecond: number;
    {
      await using server = await startServer({ dataDir, args: ["--demo-clients", String(CONNECTIONS)] });
      const report = await loadTransfers(
        server,
        { runBench: (settings) => runBench(settings as unknown as BenchOptions), aead: FAST_AEAD },
        options,
      );
      assert(report.totals.errors === 0, "Every transfer succeeds");
      transfersPerSecond = report.measured.requests_per_second;
      balancesPerSecond = await balanceChecks(server, options);
    }
    await using ledger = SqliteLedger.open(`${dataDir}/bank.db`);
    const verifyStartedMs = performance.now();
    const verified = await ledger.verify();
    const verifySeconds = (performance.now() - verifyStartedMs) / 1000;
    assert(verified.ok, `The ${entries}-entry store verifies: ${verified.problems.join("; ")}`);
    let bytes = 0;
    for (const suffix of ["", "-wal"]) {
      bytes += await Deno.stat(`${dataDir}/bank.db${suffix}`).then((s) => s.size, () => 0);
    }
    return {
      entries: verified.entries,
      transfersPerSecond,
      balancesPerSecond,
      bytesPerEntry: bytes / verified.entries,
      verifyEntriesPerSecond: verified.entries / verifySeconds,
      buildSeconds,
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  for (const entries of [0, ...Deno.args.map(Number)]) {
    const result = await measureGrowth(entries, { durationMs: 5_000, warmupMs: 1_000 });
    console.log(
      `store ${String(result.entries).padStart(9)} entries (built in ${result.buildSeconds.toFixed(0)} s): ` +
        `${result.transfersPerSecond.toFixed(0)} transfers/s, ${
          result.balancesPerSecond.toFixed(0)
        } balances/s, ${result.bytesPerEntry.toFixed(0)} bytes per entry, ` +
        `verify ${result.verifyEntriesPerSecond.toFixed(0)} entries/s`,
    );
  }
}
