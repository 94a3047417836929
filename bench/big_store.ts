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
import type { SQLInputValue, StatementSync } from "node:sqlite";
import { assert } from "../lib/assert.ts";
import { runBench } from "../client/bench/run.ts";
import type { BenchOptions } from "../client/bench/types.ts";
import { CONNECTIONS, loadTransfers } from "./ledger_cost.ts";
import { FAST_AEAD } from "../protocol/node_crypto.ts";
import { chainEntryOf, chainHash, headFromRow } from "../server/ledger/chain.ts";
import { sqliteTime, sqliteTransferId } from "../server/ledger/columns.ts";
import type { ChainEntry } from "../server/ledger/chain.ts";
import type { Transfer } from "../server/ledger/ledger.ts";
import { SqliteLedger } from "../server/ledger/sqlite.ts";
import { newTransferId } from "../server/ledger/rules.ts";
import { demoCredentials, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";
import { growthLine } from "./report.ts";

const ACCOUNTS = 1_000;
const DEPOSIT_MINOR = 1_000_000_000n;
/** Amounts cycle through 1 to this many minor units. */
const AMOUNTS = 100;
/**
 * Entries per multi-row INSERT of each table: one statement's call, bind and reset per 250 rows instead of
 * one per row (the journal's 8 variables a row stay far below SQLite's 32,766).
 */
const ENTRIES_PER_STATEMENT = 250;
/** Entries per transaction: the build's page cache stays warm across commits (the lock is exclusive). */
const ENTRIES_PER_COMMIT = 500_000;
/**
 * The build's page cache, in KiB (the pages of the idempotency-key index, which grows at random places, stay
 * in memory rather than being read back from the file for every insert). SQLite allocates it only as the
 * store grows.
 */
const BUILD_CACHE_KIB = 2 * 1024 * 1024;
assert(ENTRIES_PER_COMMIT % ENTRIES_PER_STATEMENT === 0, "A transaction holds whole statements");
assert(8 * ENTRIES_PER_STATEMENT <= 32_766, "A journal statement's variables fit SQLite's limit");

export interface GrowthResult {
  entries: number;
  /** Means of the rounds. */
  transfersPerSecond: number;
  balancesPerSecond: number;
  rounds: GrowthRound[];
  bytesPerEntry: number;
  verifyEntriesPerSecond: number;
  buildSeconds: number;
}

/**
 * Fills `path` with `entries` transfers among {@link ACCOUNTS} accounts, each journaled, posted and linked
 * into the chain exactly as the ledger would (chain.ts makes every hash, and every row is written from the
 * entry it hashed), without fsync or a rollback journal on disk, under an exclusive lock: a fixture, not a
 * bank. Each table and index receives its rows in the same order as one entry at a time would give it, so
 * the file's pages are laid out as before; the store ends in WAL mode, as the server runs it.
 */
export async function buildStore(path: string, entries: number): Promise<void> {
  assert(Number.isSafeInteger(entries) && entries >= 0, `Cannot build a store of ${entries} entries`);
  await openFixtureAccounts(path);
  const db = new DatabaseSync(path);
  try {
    enterBuildMode(db);
    const writer = new FixtureWriter(db, entries);
    db.exec("BEGIN");
    for (let index = 0; index < entries; index++) {
      writer.add(index);
      if ((index + 1) % ENTRIES_PER_COMMIT === 0) db.exec("COMMIT; BEGIN");
    }
    writer.finish();
    db.exec("COMMIT");
    leaveBuildMode(db);
  } finally {
    db.close();
  }
}

/**
 * Pragmas for the build only (none persists but the journal mode, set back by {@link leaveBuildMode}): the
 * rollback journal in memory (SQLite journals only pages that existed when a transaction began, so little),
 * no fsync, one connection holding the file's lock for the whole build, a large page cache, and foreign
 * keys checked as the server checks them.
 */
function enterBuildMode(db: DatabaseSync): void {
  const mode = db.prepare("PRAGMA journal_mode = MEMORY").get()?.journal_mode;
  assert(mode === "memory", `Cannot build the fixture: the journal mode stayed ${String(mode)}`);
  const locking = db.prepare("PRAGMA locking_mode = EXCLUSIVE").get()?.locking_mode;
  assert(locking === "exclusive", `Cannot build the fixture: the locking mode stayed ${String(locking)}`);
  db.exec(`PRAGMA synchronous = OFF; PRAGMA cache_size = -${BUILD_CACHE_KIB}; PRAGMA foreign_keys = ON`);
}

/** Back to WAL, the mode the server expects to find (it is kept in the file's header). */
function leaveBuildMode(db: DatabaseSync): void {
  const mode = db.prepare("PRAGMA journal_mode = WAL").get()?.journal_mode;
  assert(mode === "wal", `Cannot leave the fixture in WAL mode: the journal mode stayed ${String(mode)}`);
}

/** A multi-row `INSERT` of `rows` rows, each `row`'s placeholders. */
function insertSql(into: string, row: string, rows: number): string {
  return `${into} VALUES ${Array.from({ length: rows }, () => row).join(", ")}`;
}

const JOURNAL_INTO = `INSERT INTO journal (entry, transfer_id, kind, identity, idempotency_key,
  source_account_id, target_account_id, amount_minor, created_at)`;
const JOURNAL_ROW = "(?, ?, 'transfer', ?, ?, ?, ?, ?, ?)";
const POSTINGS_INTO = "INSERT INTO postings (entry, account_id, amount_minor)";
const POSTINGS_ROWS = "(?, ?, ?), (?, ?, ?)";
const CHAIN_INTO = "INSERT INTO journal_chain (position, entry, hash)";
const CHAIN_ROW = "(?, ?, ?)";

/** The three inserts of a batch of entries, prepared once per batch size. */
interface BatchStatements {
  journal: StatementSync;
  postings: StatementSync;
  chain: StatementSync;
}

/**
 * The entries of the fixture, in order, into the journal, postings and chain: a batch of entries at a time,
 * one statement per table (journal rows, then their postings, then their links), and the balances moved in
 * memory, written once at the end.
 */
class FixtureWriter {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<number, BatchStatements>();
  readonly #accountIds = Array.from({ length: ACCOUNTS }, (_, index) => `BIG-${index}`);
  readonly #identities = Array.from({ length: ACCOUNTS }, (_, index) => `big-${index}`);
  readonly #amounts = Array.from({ length: AMOUNTS }, (_, index) => BigInt(1 + index));
  readonly #balances = new Map<string, bigint>();
  readonly #totalMinor: bigint;
  /** Milliseconds since the epoch of the first entry: one entry per millisecond, ending about now. */
  readonly #startMs: number;
  /** One transfer, refilled for each entry (chainEntryOf copies what it needs). */
  readonly #transfer: Transfer;
  #journal: SQLInputValue[] = [];
  #postings: SQLInputValue[] = [];
  #chain: SQLInputValue[] = [];
  #batch = 0;
  #entry: bigint;
  #position: bigint;
  #hash: Uint8Array;

  constructor(db: DatabaseSync, entries: number) {
    this.#db = db;
    this.#startMs = Date.now() - entries;
    const head = headFromRow(
      db.prepare("SELECT position, entry, hash FROM journal_chain ORDER BY position DESC LIMIT 1").get(),
    );
    this.#position = head.position;
    this.#hash = head.hash;
    this.#entry = BigInt(db.prepare("SELECT MAX(entry) AS entry FROM journal").get()!.entry as number);
    assert(this.#entry === head.entry, "The chain's head links the newest entry");
    let totalMinor = 0n;
    for (const row of db.prepare("SELECT id, balance_minor FROM accounts").all()) {
      this.#balances.set(String(row.id), BigInt(row.balance_minor as number));
      totalMinor += BigInt(row.balance_minor as number);
    }
    this.#totalMinor = totalMinor;
    this.#transfer = {
      id: "",
      identity: "",
      idempotencyKey: "",
      sourceAccountId: "",
      targetAccountId: "",
      amountMinor: 0n,
      createdAt: new Date(this.#startMs),
    };
  }

  /** Entry `index` of the fixture (0 first): journaled, posted and linked with the next batch. */
  add(index: number): void {
    const sourceIndex = index % ACCOUNTS;
    const targetIndex = (index * 7 + 1) % ACCOUNTS === sourceIndex
      ? (index + 1) % ACCOUNTS
      : (index * 7 + 1) % ACCOUNTS;
    const transfer = this.#transfer;
    transfer.id = newTransferId();
    transfer.identity = this.#identities[sourceIndex]!;
    transfer.idempotencyKey = `fixture-${index}`;
    transfer.sourceAccountId = this.#accountIds[sourceIndex]!;
    transfer.targetAccountId = this.#accountIds[targetIndex]!;
    transfer.amountMinor = this.#amounts[index % AMOUNTS]!;
    transfer.createdAt.setTime(this.#startMs + index);
    this.#entry += 1n;
    this.#position += 1n;
    const entry = chainEntryOf(this.#entry, { kind: "transfer", transfer });
    this.#hash = chainHash(this.#hash, entry);
    this.#queue(entry, this.#hash);
    this.#move(entry.sourceAccountId, -entry.amountMinor);
    this.#move(entry.targetAccountId, entry.amountMinor);
    if (this.#batch === ENTRIES_PER_STATEMENT) this.#flush();
  }

  /** Writes the last batch and the balances. */
  finish(): void {
    this.#flush();
    let totalMinor = 0n;
    const update = this.#db.prepare("UPDATE accounts SET balance_minor = ? WHERE id = ?");
    for (const [id, balanceMinor] of this.#balances) {
      assert(Number(update.run(balanceMinor, id).changes) === 1, `Account ${id} gets its balance`);
      totalMinor += balanceMinor;
    }
    assert(totalMinor === this.#totalMinor, `The fixture's balances add up to ${this.#totalMinor}`);
  }

  /** The entry's journal row, postings and link, from the entry as it was hashed. */
  #queue(entry: ChainEntry, hash: Uint8Array): void {
    assert(entry.postings.length === 2, `Entry ${entry.entry} has two postings`);
    const [debit, credit] = entry.postings as [ChainEntry["postings"][0], ChainEntry["postings"][0]];
    this.#journal.push(
      entry.entry,
      sqliteTransferId(entry.transferId),
      entry.identity,
      entry.idempotencyKey,
      entry.sourceAccountId,
      entry.targetAccountId,
      entry.amountMinor,
      sqliteTime(new Date(entry.createdAt)),
    );
    this.#postings.push(
      entry.entry,
      debit.accountId,
      debit.amountMinor,
      entry.entry,
      credit.accountId,
      credit.amountMinor,
    );
    this.#chain.push(this.#position, entry.entry, hash);
    this.#batch += 1;
  }

  #move(accountId: string, amountMinor: bigint): void {
    const balanceMinor = this.#balances.get(accountId);
    assert(balanceMinor !== undefined, `Fixture account ${accountId} exists`);
    this.#balances.set(accountId, balanceMinor + amountMinor);
  }

  /** The queued entries into the store, one statement per table. */
  #flush(): void {
    if (this.#batch === 0) return;
    const statements = this.#statementsFor(this.#batch);
    assert(Number(statements.journal.run(...this.#journal).changes) === this.#batch, "Every entry journaled");
    assert(
      Number(statements.postings.run(...this.#postings).changes) === 2 * this.#batch,
      "Two postings each",
    );
    assert(Number(statements.chain.run(...this.#chain).changes) === this.#batch, "Every entry linked");
    this.#journal = [];
    this.#postings = [];
    this.#chain = [];
    this.#batch = 0;
  }

  #statementsFor(rows: number): BatchStatements {
    let statements = this.#statements.get(rows);
    if (statements === undefined) {
      statements = {
        journal: this.#db.prepare(insertSql(JOURNAL_INTO, JOURNAL_ROW, rows)),
        postings: this.#db.prepare(insertSql(POSTINGS_INTO, POSTINGS_ROWS, rows)),
        chain: this.#db.prepare(insertSql(CHAIN_INTO, CHAIN_ROW, rows)),
      };
      this.#statements.set(rows, statements);
    }
    return statements;
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
    credentials: await demoCredentials(server, CONNECTIONS),
    clients: CONNECTIONS,
    durationMs: window.durationMs,
    warmupMs: window.warmupMs,
    mix: { balance: 1, transfer: 0, contact: 0 },
    aead: FAST_AEAD,
  });
  assert(report.totals.errors === 0, "Every balance check succeeds");
  return report.measured.requests_per_second;
}

/** A store of the run: where it lives, how deep it was built and how long that took. */
interface BuiltStore {
  dataDir: string;
  entries: number;
  buildSeconds: number;
}

/** What one round measured on one store. */
export interface GrowthRound {
  transfersPerSecond: number;
  balancesPerSecond: number;
}

/** Durable transfers, then balance checks, against the real server on one store. */
async function measureRound(
  store: BuiltStore,
  options: { durationMs: number; warmupMs: number },
): Promise<GrowthRound> {
  await using server = await startServer({
    dataDir: store.dataDir,
    args: ["--demo-clients", String(CONNECTIONS)],
  });
  const report = await loadTransfers(
    server,
    { runBench: (settings) => runBench(settings as unknown as BenchOptions), aead: FAST_AEAD },
    options,
  );
  assert(report.totals.errors === 0, "Every transfer succeeds");
  return {
    transfersPerSecond: report.measured.requests_per_second,
    balancesPerSecond: await balanceChecks(server, options),
  };
}

/** `ledger verify` over the store and its size on disk, once every round is done. */
async function finishStore(store: BuiltStore, rounds: GrowthRound[]): Promise<GrowthResult> {
  await using ledger = SqliteLedger.open(`${store.dataDir}/bank.db`);
  const verifyStartedMs = performance.now();
  const verified = await ledger.verify();
  const verifySeconds = (performance.now() - verifyStartedMs) / 1000;
  assert(verified.ok, `The ${store.entries}-entry store verifies: ${verified.problems.join("; ")}`);
  let bytes = 0;
  for (const suffix of ["", "-wal"]) {
    bytes += await Deno.stat(`${store.dataDir}/bank.db${suffix}`).then((s) => s.size, () => 0);
  }
  const mean = (figure: (round: GrowthRound) => number) =>
    rounds.reduce((sum, round) => sum + figure(round), 0) / rounds.length;
  return {
    entries: verified.entries,
    transfersPerSecond: mean((round) => round.transfersPerSecond),
    balancesPerSecond: mean((round) => round.balancesPerSecond),
    rounds,
    bytesPerEntry: bytes / verified.entries,
    verifyEntriesPerSecond: verified.entries / verifySeconds,
    buildSeconds: store.buildSeconds,
  };
}

/**
 * A fresh store and one store of each depth in `sizes` (ascending), all built first, then measured in two
 * rounds in mirrored order (fresh to deepest, deepest to fresh), so that a machine that speeds up or slows
 * down over the run tilts no ratio; each figure is the mean of its two rounds. Then each store is verified.
 * The stores are on disk together: some 250 bytes per entry, 3 GB for 2,000,000 and 10,000,000 entries.
 */
export async function measureGrowth(
  sizes: readonly number[],
  options: { durationMs: number; warmupMs: number },
): Promise<GrowthResult[]> {
  assert(sizes.every((entries, index) => index === 0 || entries > sizes[index - 1]!), "Sizes ascend");
  const stores: BuiltStore[] = [];
  try {
    for (const entries of [0, ...sizes]) {
      const dataDir = await Deno.makeTempDir({ prefix: "bank-big-" });
      stores.push({ dataDir, entries, buildSeconds: 0 });
      const startedMs = performance.now();
      if (entries > 0) await buildStore(`${dataDir}/bank.db`, entries);
      stores.at(-1)!.buildSeconds = (performance.now() - startedMs) / 1000;
    }
    const rounds = stores.map((): GrowthRound[] => []);
    for (const order of [stores.keys(), [...stores.keys()].reverse()]) {
      for (const index of order) rounds[index]!.push(await measureRound(stores[index]!, options));
    }
    const results: GrowthResult[] = [];
    for (const [index, store] of stores.entries()) results.push(await finishStore(store, rounds[index]!));
    return results;
  } finally {
    for (const store of stores) await Deno.remove(store.dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const sizes = Deno.args.map(Number).sort((left, right) => left - right);
  for (const result of await measureGrowth(sizes, { durationMs: 5_000, warmupMs: 1_000 })) {
    console.log(`store ${growthLine(result)}`);
  }
}
