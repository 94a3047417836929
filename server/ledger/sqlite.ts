/**
 * The embedded ledger: one SQLite file through Deno's built-in `node:sqlite`, in WAL mode with
 * `synchronous=FULL`, so a method resolves only after its commit is on disk. Writes take the database's
 * write lock up front (`BEGIN IMMEDIATE`), so several processes may share the file safely.
 *
 * @module
 */
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import { HISTORY_PAGE_MAX } from "../../protocol/limits.ts";
import {
  ACCOUNTS_CACHE_ACCOUNTS_MAX,
  ACCOUNTS_PAGE_MAX,
  ACCOUNTS_PER_OWNER_MAX,
  CONTACT_HISTORY_PAGE_MAX,
  GROUP_COMMIT_DEADLINE_MS,
  SQLITE_VERIFY_CACHE_MIB,
} from "./limits.ts";
import { EXTERNAL_ACCOUNT_ID } from "./ledger.ts";
import type {
  Account,
  AccountStatus,
  BankStore,
  CaptureInput,
  CaptureResult,
  ContactChange,
  ContactDetails,
  ContactResult,
  EntryLink,
  HistoryQuery,
  HistoryResult,
  HoldInput,
  HoldResult,
  IdentityChanges,
  IdentityKey,
  IdentityRecord,
  KeyChangeResult,
  NewKey,
  OpenAccountInput,
  OpenAccountResult,
  ReversalInput,
  ReversalResult,
  StatusResult,
  Transfer,
  TransferInput,
  TransferResult,
  VerifyReport,
  VoidInput,
  VoidResult,
} from "./ledger.ts";
import {
  checkPage,
  judgeContactUpdate,
  linkResults,
  newAccountId,
  newTransferId,
  planOpening,
  planTransfers,
  reportFromFacts,
} from "./rules.ts";
import { judgeCapture, judgeHold, judgeReversal, judgeVoid } from "./operations.ts";
import type { JournaledEntry, Judged, Makers } from "./operations.ts";
import {
  applySqlitePlan,
  insertSqliteEntry,
  sqliteAccount,
  sqliteAccountPage,
  sqliteAccountsOf,
  sqliteCaptureState,
  sqliteEntryAt,
  sqliteEntryByKey,
  sqliteHold,
  sqliteHoldState,
  sqliteReversalState,
  writeSqliteEntry,
} from "./sqlite_operations.ts";
import type { JournalEntry } from "./rules.ts";
import type { BatchState, ContactRecord } from "./rules.ts";
import { contactChangeFromRow, toTransfer as transferFromRow } from "./rows.ts";
import type { JournalRow } from "./rows.ts";
import { CHAIN_MIGRATION, MIGRATIONS_TABLE, planMigrations } from "./schema.ts";
import type { Migration } from "./schema.ts";
import { sqliteHistory } from "./sqlite_history.ts";
import { collectVerifyRows, factsFromRows } from "./verify.ts";
import {
  appendSqliteChain,
  backfillSqliteChain,
  checkSqliteChain,
  readSqliteChainPage,
  sqliteChainHead,
} from "./sqlite_chain.ts";
import { chainEntryOf } from "./chain.ts";
import type { ChainHead, ChainPage } from "./chain.ts";
import { checkDeadline, GROUP_COMMIT_DEFAULTS, GroupCommit } from "./group_commit.ts";
import { SqliteDatabase } from "./sqlite_database.ts";
import { AccountsCache, CachedAccounts } from "./accounts_cache.ts";
import { SqliteIdentities } from "./sqlite_identities.ts";
import type { Row } from "./sqlite_database.ts";
import type { ThreadWriteLock } from "./write_lock.ts";
import type { GroupCommitOptions, Settled } from "./group_commit.ts";

/** A contact update waiting for its group commit. */
interface ContactUpdate {
  owner: string;
  details: ContactDetails;
}

export class SqliteLedger implements BankStore {
  readonly store = "sqlite";
  readonly #db: SqliteDatabase;
  readonly #now: () => Date;
  readonly #identities: SqliteIdentities;
  readonly #group: GroupCommit<TransferInput, TransferResult>;
  readonly #contactGroup: GroupCommit<ContactUpdate, ContactResult>;
  /** What balance checks read, kept until the store changes. */
  readonly #accounts: CachedAccounts;

  private constructor(db: SqliteDatabase, options: { now: () => Date; groupCommit: GroupCommitOptions }) {
    this.#db = db;
    this.#now = options.now;
    this.#identities = new SqliteIdentities(db, options.now);
    this.#accounts = new CachedAccounts({
      db,
      cache: new AccountsCache(ACCOUNTS_CACHE_ACCOUNTS_MAX),
      now: options.now,
      read: (owner, now) => sqliteAccountsOf(db, owner, ACCOUNTS_PER_OWNER_MAX, now),
    });
    this.#group = new GroupCommit(
      (inputs, deadlineMs) => this.#commitBatch(inputs, deadlineMs),
      options.groupCommit,
    );
    this.#contactGroup = new GroupCommit(
      (updates, deadlineMs) => this.#commitContacts(updates, deadlineMs),
      options.groupCommit,
    );
  }

  /**
   * Opens (creating if needed) the ledger file at `path`, or `:memory:`, and applies pending migrations,
   * telling `onMigrations` which before it starts (one may rewrite the journal: minutes on a large store).
   */
  static open(
    path: string,
    options: {
      now?: () => Date;
      groupCommit?: GroupCommitOptions;
      writeLock?: ThreadWriteLock;
      onMigrations?: (pending: readonly Migration[]) => void;
    } = {},
  ): SqliteLedger {
    const db = SqliteDatabase.open(
      path,
      options.writeLock === undefined ? {} : { writeLock: options.writeLock },
    );
    try {
      const ledger = new SqliteLedger(db, {
        now: options.now ?? (() => new Date()),
        groupCommit: options.groupCommit ?? GROUP_COMMIT_DEFAULTS,
      });
      ledger.#migrate(options.onMigrations ?? (() => {}));
      return ledger;
    } catch (error) {
      db.close();
      if (isAssertionFailure(error)) throw error;
      throw new Error(
        `Cannot open ledger "${path}": ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  #migrate(onMigrations: (pending: readonly Migration[]) => void): void {
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    const applied = () =>
      this.#db.all(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`).map((row) =>
        Number(row.version)
      );
    // A migration that rebuilds a referenced table runs with foreign keys off (SQLite ignores the pragma
    // inside a transaction), and the whole database is checked for dangling references before it commits.
    const rebuilds = planMigrations(applied(), "SQLite").some((migration) => migration.foreignKeysOff);
    if (rebuilds) this.#db.exec("PRAGMA foreign_keys = OFF");
    try {
      this.#db.write(() => {
        const pending = planMigrations(applied(), "SQLite");
        if (pending.length > 0) onMigrations(pending);
        for (const migration of pending) {
          try {
            this.#db.exec(migration.sqlite);
          } catch (error) {
            throw new Error(
              `Migration ${migration.version} (${migration.name}) failed, nothing was changed: ${
                error instanceof Error ? error.message : String(error)
              }`,
              { cause: error },
            );
          }
          this.#db.run(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`, [
            migration.version,
            migration.name,
            this.#now().toISOString(),
          ]);
        }
        // A store journaled before the chain existed gets its entries linked, oldest first, once, in the
        // chain's newest shape.
        if (pending.some((migration) => migration.version === CHAIN_MIGRATION)) backfillSqliteChain(this.#db);
        // Only after a rebuild with foreign keys off: the check reads every reference in the store.
        if (pending.some((migration) => migration.foreignKeysOff)) {
          const dangling = this.#db.all("PRAGMA foreign_key_check");
          assert(dangling.length === 0, `Migrated ledger has ${dangling.length} dangling references`);
        }
      });
    } finally {
      if (rebuilds) this.#db.exec("PRAGMA foreign_keys = ON");
    }
  }

  accountsOf(owner: string): Promise<Account[]> {
    return this.#accounts.accountsOf(owner);
  }

  listAccounts(query: { owner?: string; limit: number; after?: string }): Promise<Account[]> {
    checkPage(query.limit, { max: ACCOUNTS_PAGE_MAX, what: "Account" });
    return this.#db.read(() => sqliteAccountPage(this.#db, query, this.#now()));
  }

  openAccount(input: OpenAccountInput): Promise<OpenAccountResult> {
    assert(input.depositMinor >= 0n, `Opening deposit ${input.depositMinor} must not be negative`);
    return this.#db.writeAsync(() => {
      const id = input.id ?? newAccountId();
      if (this.#db.get("SELECT id FROM accounts WHERE id = ?", [id]) !== undefined) {
        return { code: "account_exists" };
      }
      const plan = planOpening({
        accountId: id,
        ownerAccounts: Number(
          this.#db.get("SELECT COUNT(*) AS n FROM accounts WHERE owner = ?", [input.owner])!.n,
        ),
        issuedMinor: -this.#account(EXTERNAL_ACCOUNT_ID)!.balanceMinor,
        depositMinor: input.depositMinor,
      });
      if (!plan.ok) return { code: plan.code };
      const createdAt = this.#now().toISOString();
      this.#db.run(
        `INSERT INTO accounts (id, seq, owner, kind, currency, balance_minor, status, created_at)
         VALUES (?, (SELECT MAX(seq) + 1 FROM accounts), ?, 'customer', 'USD', 0, 'open', ?)`,
        [id, input.owner, createdAt],
      );
      if (plan.deposit !== null) this.#journal(plan.deposit);
      const account = this.#account(id);
      assert(
        account !== undefined && account.balanceMinor === input.depositMinor,
        "New account holds its deposit",
      );
      return { code: "ok", account };
    });
  }

  setAccountStatus(accountId: string, status: AccountStatus): Promise<StatusResult> {
    return this.#db.writeAsync(() => {
      const changed = this.#db.run("UPDATE accounts SET status = ? WHERE id = ? AND kind = 'customer'", [
        status,
        accountId,
      ]);
      if (changed === 0) return { code: "account_not_found" };
      const account = this.#account(accountId);
      assert(account?.status === status, `Account ${accountId} must now be ${status}`);
      return { code: "ok", account };
    });
  }

  /** Commits so far and transfers they held. */
  get groupCommitStats(): { batches: number; writes: number } {
    return this.#group.stats;
  }

  /** Queues the transfer for the next group commit; resolves once that commit is on disk. */
  transfer(input: TransferInput): Promise<TransferResult> {
    assert(!this.#db.closed, "Cannot use a closed ledger");
    return this.#group.submit(input, { timeoutMs: GROUP_COMMIT_DEADLINE_MS });
  }

  /**
   * Runs a batch of transfers in one transaction and commits once. The write lock is held from the first
   * read (BEGIN IMMEDIATE), so the batch is judged in memory by the shared rules against balances nothing
   * else can change, and only accepted transfers touch the file. Should the database refuse a write anyway,
   * the batch runs again with one savepoint per transfer, so a transfer it refuses fails alone.
   */
  async #commitBatch(
    inputs: readonly TransferInput[],
    deadlineMs: number,
  ): Promise<Settled<TransferResult>[]> {
    try {
      return await this.#db.writeAsync(() => this.#commitPlanned(inputs, deadlineMs), { deadlineMs });
    } catch (error) {
      if (!isConstraintError(error)) throw error;
      return await this.#db.writeAsync(() => this.#commitBySavepoints(inputs, deadlineMs), { deadlineMs });
    }
  }

  #commitPlanned(inputs: readonly TransferInput[], deadlineMs: number): Settled<TransferResult>[] {
    const results = this.#planAndWrite(inputs);
    checkDeadline(deadlineMs);
    return results.map((value) => ({ ok: true, value }));
  }

  /** Judges transfers by the shared rules and writes the accepted ones; runs inside a write transaction. */
  #planAndWrite(inputs: readonly TransferInput[]): TransferResult[] {
    const state = this.#batchState(inputs);
    const plan = planTransfers(inputs, state, { now: this.#now, newId: newTransferId });
    const entries = plan.accepted.map((transfer) =>
      chainEntryOf(insertSqliteEntry(this.#db, { kind: "transfer", transfer }), {
        kind: "transfer",
        transfer,
      })
    );
    const written = appendSqliteChain(this.#db, entries);
    for (const [id, balance] of plan.balances) {
      const moved = this.#db.run("UPDATE accounts SET balance_minor = ? WHERE id = ?", [balance, id]);
      assert(moved === 1, `Account ${id} must move to its planned balance`);
    }
    const links = new Map(state.links);
    plan.accepted.forEach((transfer, index) => links.set(transfer.id, written[index]!));
    return linkResults(plan.results, links);
  }

  /** Reads what a batch is judged against: the accounts it may touch and earlier transfers under its keys. */
  #batchState(inputs: readonly TransferInput[]): BatchState & { links: Map<string, EntryLink> } {
    const now = this.#now();
    const accounts = new Map<string, Account>();
    const oldestAccountOf = new Map<string, string>();
    const previous = new Map<string, Transfer>();
    const links = new Map<string, EntryLink>();
    const load = (id: string) => {
      if (accounts.has(id)) return;
      const account = sqliteAccount(this.#db, id, now);
      if (account !== undefined) accounts.set(id, account);
    };
    for (const input of inputs) {
      load(input.targetAccountId);
      if (input.sourceAccountId !== undefined) {
        load(input.sourceAccountId);
      } else if (!oldestAccountOf.has(input.identity)) {
        const oldest = sqliteAccountsOf(this.#db, input.identity, 1, now)[0];
        if (oldest !== undefined) {
          oldestAccountOf.set(input.identity, oldest.id);
          accounts.set(oldest.id, oldest);
        }
      }
      const earlier = sqliteEntryByKey(this.#db, input.identity, input.idempotencyKey);
      if (earlier !== null) {
        previous.set(earlier.transfer.id, earlier.transfer);
        links.set(earlier.transfer.id, earlier.link);
      }
    }
    return { accounts, oldestAccountOf, previous: [...previous.values()], links };
  }

  /** The fallback: each transfer of the batch in its own savepoint, one after the other. */
  #commitBySavepoints(inputs: readonly TransferInput[], deadlineMs: number): Settled<TransferResult>[] {
    const outcomes = this.#eachInSavepoint(inputs, (input) => this.#planAndWrite([input])[0]!);
    checkDeadline(deadlineMs);
    return outcomes;
  }

  /** Runs `work` on each item in its own savepoint, inside a write transaction: a failure undoes only its item. */
  #eachInSavepoint<I, O>(items: readonly I[], work: (item: I) => O): Settled<O>[] {
    return items.map((item): Settled<O> => {
      this.#db.exec("SAVEPOINT item");
      try {
        const value = work(item);
        this.#db.exec("RELEASE item");
        return { ok: true, value };
      } catch (error) {
        if (isAssertionFailure(error)) throw error;
        this.#db.exec("ROLLBACK TO item");
        this.#db.exec("RELEASE item");
        return { ok: false, error };
      }
    });
  }

  /** Writes one journal entry, its two postings and both balances. Runs inside a write transaction. */
  #journal(entry: JournalEntry): Transfer {
    const transfer: Transfer = {
      id: newTransferId(),
      identity: entry.identity,
      idempotencyKey: entry.idempotencyKey,
      sourceAccountId: entry.sourceAccountId,
      targetAccountId: entry.targetAccountId,
      amountMinor: entry.amountMinor,
      createdAt: this.#now(),
    };
    writeSqliteEntry(this.#db, { kind: entry.kind, transfer });
    return transfer;
  }

  hold(input: HoldInput): Promise<HoldResult> {
    return this.#operate((make) => judgeHold(input, sqliteHoldState(this.#db, input, make.now()), make));
  }

  captureHold(input: CaptureInput): Promise<CaptureResult> {
    return this.#operate((make) =>
      judgeCapture(input, sqliteCaptureState(this.#db, input, make.now()), make)
    );
  }

  voidHold(input: VoidInput): Promise<VoidResult> {
    return this.#operate((make) => judgeVoid(input, sqliteHold(this.#db, input.holdId), make));
  }

  reverse(input: ReversalInput): Promise<ReversalResult> {
    return this.#operate((make) =>
      judgeReversal(input, sqliteReversalState(this.#db, input, make.now()), make)
    );
  }

  /** One operation in its own write transaction: read its state, judge it at one instant, write the plan. */
  #operate<R>(judge: (make: Makers) => Judged<R>): Promise<R> {
    assert(!this.#db.closed, "Cannot use a closed ledger");
    return this.#db.writeAsync(() => {
      const now = this.#now();
      const judged = judge({ now: () => now, newId: newTransferId });
      if ("done" in judged) return judged.done;
      return judged.answer(applySqlitePlan(this.#db, judged.plan));
    });
  }

  findTransfer(identity: string, idempotencyKey: string): Promise<Transfer | null> {
    return this.#db.read(() => this.#findTransfer(identity, idempotencyKey));
  }

  #findTransfer(identity: string, idempotencyKey: string): Transfer | null {
    const row = this.#db.get("SELECT * FROM journal WHERE identity = ? AND idempotency_key = ?", [
      identity,
      idempotencyKey,
    ]);
    return row === undefined ? null : toTransfer(row);
  }

  history(owner: string, query: HistoryQuery): Promise<HistoryResult> {
    checkPage(query.limit, { max: HISTORY_PAGE_MAX, what: "History" });
    return this.#db.read(() => sqliteHistory(this.#db, owner, query, this.#now()));
  }

  /** Queues the update for the next group commit of contact updates; resolves once that commit is on disk. */
  updateContact(owner: string, details: ContactDetails): Promise<ContactResult> {
    assert(!this.#db.closed, "Cannot use a closed ledger");
    return this.#contactGroup.submit({ owner, details }, { timeoutMs: GROUP_COMMIT_DEADLINE_MS });
  }

  /** Runs a batch of contact updates in one transaction, each in its own savepoint, and commits once. */
  #commitContacts(updates: readonly ContactUpdate[], deadlineMs: number): Promise<Settled<ContactResult>[]> {
    return this.#db.writeAsync(() => {
      const outcomes = this.#eachInSavepoint(updates, (update) => this.#updateContactNow(update));
      checkDeadline(deadlineMs);
      return outcomes;
    }, { deadlineMs });
  }

  /** One contact update, inside a write transaction. */
  #updateContactNow({ owner, details }: ContactUpdate): ContactResult {
    const current = this.#db.get("SELECT email, phone, address FROM contacts WHERE owner = ?", [owner]);
    const { changed, after, history } = judgeContactUpdate(current as ContactRecord | undefined, details);
    const at = this.#now().toISOString();
    this.#db.run(
      `INSERT INTO contacts (owner, email, phone, address, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (owner) DO UPDATE SET email = ?2, phone = ?3, address = ?4, updated_at = ?5`,
      [owner, after.email, after.phone, after.address, at],
    );
    if (history === null) return { code: "ok", changed };
    this.#db.run(
      "INSERT INTO contact_changes (owner, fields, email, phone, address, changed_at) VALUES (?, ?, ?, ?, ?, ?)",
      [owner, changed.join(","), history.email, history.phone, history.address, at],
    );
    return { code: "ok", changed };
  }

  contactHistory(owner: string, query: { limit: number }): Promise<ContactChange[]> {
    checkPage(query.limit, { max: CONTACT_HISTORY_PAGE_MAX, what: "Contact change" });
    return this.#db.read(() =>
      this.#db.all(
        "SELECT fields, changed_at FROM contact_changes WHERE owner = ? ORDER BY id DESC LIMIT ?",
        [
          owner,
          query.limit,
        ],
      ).map((row) => contactChangeFromRow(row))
    );
  }

  lookupKey(name: string, keyId: string): Promise<{ key: IdentityKey; generation: number } | null> {
    return this.#identities.lookupKey(name, keyId);
  }

  addIdentity(name: string): Promise<"ok" | "exists"> {
    return this.#identities.addIdentity(name);
  }

  addKey(name: string, key: NewKey): Promise<KeyChangeResult> {
    return this.#identities.addKey(name, key);
  }

  replaceKey(name: string, change: { oldKeyId: string; key: NewKey }): Promise<KeyChangeResult> {
    return this.#identities.replaceKey(name, change);
  }

  revokeKey(name: string, keyId: string): Promise<"ok" | "not_found"> {
    return this.#identities.revokeKey(name, keyId);
  }

  spendInviteAttempt(name: string): Promise<void> {
    return this.#identities.spendInviteAttempt(name);
  }

  listKeys(name: string, query: { limit: number }): Promise<IdentityKey[]> {
    return this.#identities.listKeys(name, query);
  }

  revokeIdentity(name: string): Promise<"ok" | "not_found"> {
    return this.#identities.revokeIdentity(name);
  }

  listIdentities(query: { limit: number; after?: string }): Promise<IdentityRecord[]> {
    return this.#identities.listIdentities(query);
  }

  countIdentities(): Promise<number> {
    return this.#identities.countIdentities();
  }

  identityChangesSince(cursor: number, query: { limit: number }): Promise<IdentityChanges> {
    return this.#identities.identityChangesSince(cursor, query);
  }

  ping(): Promise<void> {
    return this.#db.read(() => {
      this.#db.get("SELECT 1 AS one");
    });
  }

  verify(): Promise<VerifyReport> {
    return this.#db.read(() =>
      this.#db.withPageCache(SQLITE_VERIFY_CACHE_MIB, () =>
        reportFromFacts(
          factsFromRows(collectVerifyRows((sql) => this.#db.all(sql))),
          checkSqliteChain(this.#db),
        ))
    );
  }

  entryAt(entry: bigint): Promise<JournaledEntry | null> {
    return this.#db.read(() => sqliteEntryAt(this.#db, entry));
  }

  chainPage(position: bigint): Promise<ChainPage> {
    return this.#db.read(() => readSqliteChainPage(this.#db, position));
  }

  chainHead(): Promise<ChainHead> {
    return this.#db.read(() => sqliteChainHead(this.#db));
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #account(id: string): Account | undefined {
    return sqliteAccount(this.#db, id, this.#now());
  }
}

function toTransfer(row: Row): Transfer {
  return transferFromRow(row as unknown as JournalRow);
}

/** SQLite's primary result code for a violated constraint (NOT NULL, CHECK, UNIQUE, foreign key). */
const SQLITE_CONSTRAINT = 19;

/** Tells whether a statement failed because the database refused the data it was given. */
function isConstraintError(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_CONSTRAINT;
}
