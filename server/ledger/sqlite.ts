/**
 * The embedded ledger: one SQLite file through Deno's built-in `node:sqlite`, in WAL mode with
 * `synchronous=FULL`, so a method resolves only after its commit is on disk. Writes take the database's
 * write lock up front (`BEGIN IMMEDIATE`), so several processes may share the file safely.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { SQLInputValue, StatementSync } from "node:sqlite";
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import { HISTORY_PAGE_MAX } from "../../protocol/limits.ts";
import {
  ACCOUNTS_PAGE_MAX,
  ACCOUNTS_PER_OWNER_MAX,
  CONTACT_HISTORY_PAGE_MAX,
  GROUP_COMMIT_DEADLINE_MS,
  IDENTITIES_PAGE_MAX,
  SQLITE_BUSY_TIMEOUT_MS,
} from "./limits.ts";
import { BANK_OWNER, EXTERNAL_ACCOUNT_ID } from "./ledger.ts";
import type {
  Account,
  AccountStatus,
  BankStore,
  ContactChange,
  ContactDetails,
  ContactField,
  ContactResult,
  HistoryItem,
  HistoryQuery,
  HistoryResult,
  IdentityChanges,
  IdentityRecord,
  IdentityStatus,
  OpenAccountInput,
  OpenAccountResult,
  StatusResult,
  Transfer,
  TransferInput,
  TransferResult,
  VerifyReport,
} from "./ledger.ts";
import {
  judgeContactUpdate,
  judgeOpening,
  newAccountId,
  newTransferId,
  planTransfers,
  reportFromFacts,
} from "./rules.ts";
import type { BatchState, ContactRecord } from "./rules.ts";
import {
  asMinor,
  encodeAuthKey,
  toAccount as accountFromRow,
  toHistoryItem as historyFromRow,
  toIdentityChanges,
  toIdentityKey,
  toIdentityRecord,
  toTransfer as transferFromRow,
} from "./rows.ts";
import type { AccountRow, HistoryRow, IdentityKeyRow, IdentityRow, JournalRow } from "./rows.ts";
import { MIGRATIONS, MIGRATIONS_TABLE } from "./schema.ts";
import { checkDeadline, DeadlineExceeded, GROUP_COMMIT_DEFAULTS, GroupCommit } from "./group_commit.ts";
import type { ThreadWriteLock } from "./write_lock.ts";
import type { GroupCommitOptions, Settled } from "./group_commit.ts";

type Row = Record<string, SQLInputValue>;

/** A contact update waiting for its group commit. */
interface ContactUpdate {
  owner: string;
  details: ContactDetails;
}

const PROBLEM_ROWS_MAX = 100;

export class SqliteLedger implements BankStore {
  readonly store = "sqlite";
  readonly #db: DatabaseSync;
  readonly #now: () => Date;
  readonly #statements = new Map<string, StatementSync>();
  #pendingReads: { run: () => void; fail: (error: unknown) => void }[] = [];
  readonly #group: GroupCommit<TransferInput, TransferResult>;
  readonly #contactGroup: GroupCommit<ContactUpdate, ContactResult>;
  /** Taken around every write transaction when several threads of this process share the file. */
  readonly #writeLock: ThreadWriteLock | undefined;
  #closed = false;

  private constructor(
    db: DatabaseSync,
    options: { now: () => Date; groupCommit: GroupCommitOptions; writeLock?: ThreadWriteLock },
  ) {
    this.#db = db;
    this.#now = options.now;
    this.#writeLock = options.writeLock;
    this.#group = new GroupCommit(
      (inputs, deadlineMs) => this.#commitBatch(inputs, deadlineMs),
      options.groupCommit,
    );
    this.#contactGroup = new GroupCommit(
      (updates, deadlineMs) => this.#commitContacts(updates, deadlineMs),
      options.groupCommit,
    );
  }

  /** Opens (creating if needed) the ledger file at `path`, or `:memory:`, and applies pending migrations. */
  static open(
    path: string,
    options: { now?: () => Date; groupCommit?: GroupCommitOptions; writeLock?: ThreadWriteLock } = {},
  ): SqliteLedger {
    const db = new DatabaseSync(path);
    try {
      db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
      const ledger = new SqliteLedger(db, {
        now: options.now ?? (() => new Date()),
        groupCommit: options.groupCommit ?? GROUP_COMMIT_DEFAULTS,
        ...(options.writeLock === undefined ? {} : { writeLock: options.writeLock }),
      });
      ledger.#migrate();
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

  #migrate(): void {
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    this.#write(() => {
      const applied = this.#all(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`).map((row) =>
        Number(row.version)
      );
      for (const migration of MIGRATIONS) {
        if (applied.includes(migration.version)) continue;
        this.#db.exec(migration.sqlite);
        this.#run(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`, [
          migration.version,
          migration.name,
          this.#now().toISOString(),
        ]);
      }
      const newest = Math.max(0, ...applied);
      assert(newest <= MIGRATIONS.length, `Ledger schema ${newest} is newer than this program knows`);
    });
  }

  accountsOf(owner: string): Promise<Account[]> {
    return this.#read(() =>
      this.#all(
        `SELECT * FROM accounts WHERE owner = ? AND kind = 'customer' ORDER BY seq LIMIT ${ACCOUNTS_PER_OWNER_MAX}`,
        [owner],
      ).map(
        toAccount,
      )
    );
  }

  listAccounts(query: { owner?: string; limit: number; after?: string }): Promise<Account[]> {
    assert(
      query.limit >= 1 && query.limit <= ACCOUNTS_PAGE_MAX,
      `Account page of ${query.limit} is out of range`,
    );
    return this.#read(() =>
      this.#all(
        "SELECT * FROM accounts WHERE (?1 IS NULL OR owner = ?1) AND id > ?2 ORDER BY id LIMIT ?3",
        [query.owner ?? null, query.after ?? "", query.limit],
      ).map(toAccount)
    );
  }

  openAccount(input: OpenAccountInput): Promise<OpenAccountResult> {
    assert(input.depositMinor >= 0n, `Opening deposit ${input.depositMinor} must not be negative`);
    return this.#writeAsync(() => {
      const id = input.id ?? newAccountId();
      if (this.#get("SELECT id FROM accounts WHERE id = ?", [id]) !== undefined) {
        return { code: "account_exists" };
      }
      const refusal = judgeOpening({
        ownerAccounts: Number(
          this.#get("SELECT COUNT(*) AS n FROM accounts WHERE owner = ?", [input.owner])!.n,
        ),
        issuedMinor: -this.#account(EXTERNAL_ACCOUNT_ID)!.balanceMinor,
        depositMinor: input.depositMinor,
      });
      if (refusal !== null) return { code: refusal };
      const createdAt = this.#now().toISOString();
      this.#run(
        `INSERT INTO accounts (id, seq, owner, kind, currency, balance_minor, status, created_at)
         VALUES (?, (SELECT MAX(seq) + 1 FROM accounts), ?, 'customer', 'USD', 0, 'open', ?)`,
        [id, input.owner, createdAt],
      );
      if (input.depositMinor > 0n) {
        this.#journal({
          kind: "deposit",
          identity: BANK_OWNER,
          idempotencyKey: `open:${id}`,
          sourceAccountId: EXTERNAL_ACCOUNT_ID,
          targetAccountId: id,
          amountMinor: input.depositMinor,
        });
      }
      const account = this.#account(id);
      assert(
        account !== undefined && account.balanceMinor === input.depositMinor,
        "New account holds its deposit",
      );
      return { code: "ok", account };
    });
  }

  setAccountStatus(accountId: string, status: AccountStatus): Promise<StatusResult> {
    return this.#writeAsync(() => {
      const changed = this.#run("UPDATE accounts SET status = ? WHERE id = ? AND kind = 'customer'", [
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
    assert(!this.#closed, "Cannot use a closed ledger");
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
      return await this.#writeAsync(() => this.#commitPlanned(inputs, deadlineMs), { deadlineMs });
    } catch (error) {
      if (!isConstraintError(error)) throw error;
      return await this.#writeAsync(() => this.#commitBySavepoints(inputs, deadlineMs), { deadlineMs });
    }
  }

  #commitPlanned(inputs: readonly TransferInput[], deadlineMs: number): Settled<TransferResult>[] {
    const results = this.#planAndWrite(inputs);
    checkDeadline(deadlineMs);
    return results.map((value) => ({ ok: true, value }));
  }

  /** Judges transfers by the shared rules and writes the accepted ones; runs inside a write transaction. */
  #planAndWrite(inputs: readonly TransferInput[]): TransferResult[] {
    const plan = planTransfers(inputs, this.#batchState(inputs), { now: this.#now, newId: newTransferId });
    for (const transfer of plan.accepted) this.#insertEntry("transfer", transfer);
    for (const [id, balance] of plan.balances) {
      const moved = this.#run("UPDATE accounts SET balance_minor = ? WHERE id = ?", [balance, id]);
      assert(moved === 1, `Account ${id} must move to its planned balance`);
    }
    return plan.results;
  }

  /** Reads what a batch is judged against: the accounts it may touch and earlier transfers under its keys. */
  #batchState(inputs: readonly TransferInput[]): BatchState {
    const accounts = new Map<string, Account>();
    const oldestAccountOf = new Map<string, string>();
    const previous = new Map<string, Transfer>();
    const load = (id: string) => {
      if (accounts.has(id)) return;
      const account = this.#account(id);
      if (account !== undefined) accounts.set(id, account);
    };
    for (const input of inputs) {
      load(input.targetAccountId);
      if (input.sourceAccountId !== undefined) {
        load(input.sourceAccountId);
      } else if (!oldestAccountOf.has(input.identity)) {
        const oldest = this.#oldestAccount(input.identity);
        if (oldest !== undefined) {
          oldestAccountOf.set(input.identity, oldest.id);
          accounts.set(oldest.id, oldest);
        }
      }
      const earlier = this.#findTransfer(input.identity, input.idempotencyKey);
      if (earlier !== null) previous.set(earlier.id, earlier);
    }
    return { accounts, oldestAccountOf, previous: [...previous.values()] };
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
  #journal(entry: Omit<Transfer, "id" | "createdAt"> & { kind: "deposit" | "transfer" }): Transfer {
    const transfer: Transfer = {
      id: newTransferId(),
      identity: entry.identity,
      idempotencyKey: entry.idempotencyKey,
      sourceAccountId: entry.sourceAccountId,
      targetAccountId: entry.targetAccountId,
      amountMinor: entry.amountMinor,
      createdAt: this.#now(),
    };
    const debited = this.#run(
      "UPDATE accounts SET balance_minor = balance_minor - ?1 WHERE id = ?2 AND (kind = 'system' OR balance_minor >= ?1)",
      [entry.amountMinor, entry.sourceAccountId],
    );
    assert(debited === 1, `Debit of ${entry.sourceAccountId} must change one row`);
    const credited = this.#run("UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?", [
      entry.amountMinor,
      entry.targetAccountId,
    ]);
    assert(credited === 1, `Credit of ${entry.targetAccountId} must change one row`);
    this.#insertEntry(entry.kind, transfer);
    return transfer;
  }

  findTransfer(identity: string, idempotencyKey: string): Promise<Transfer | null> {
    return this.#read(() => this.#findTransfer(identity, idempotencyKey));
  }

  /** Inserts a journal entry and its two postings; the balances are the caller's to move. */
  #insertEntry(kind: "deposit" | "transfer", transfer: Transfer): void {
    const row = this.#get(
      `INSERT INTO journal (transfer_id, kind, identity, idempotency_key, source_account_id, target_account_id,
         amount_minor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING entry`,
      [
        transfer.id,
        kind,
        transfer.identity,
        transfer.idempotencyKey,
        transfer.sourceAccountId,
        transfer.targetAccountId,
        transfer.amountMinor,
        transfer.createdAt.toISOString(),
      ],
    );
    assert(row !== undefined, "Journal insert must return its entry");
    const postings = this.#run(
      "INSERT INTO postings (entry, account_id, amount_minor) VALUES (?1, ?2, ?3), (?1, ?4, ?5)",
      [
        row.entry!,
        transfer.sourceAccountId,
        -transfer.amountMinor,
        transfer.targetAccountId,
        transfer.amountMinor,
      ],
    );
    assert(postings === 2, "An entry must have two postings");
  }

  /** The caller's oldest customer account, which pays when the caller names no source. */
  #oldestAccount(owner: string): Account | undefined {
    const row = this.#get(
      "SELECT * FROM accounts WHERE owner = ? AND kind = 'customer' ORDER BY seq LIMIT 1",
      [
        owner,
      ],
    );
    return row === undefined ? undefined : toAccount(row);
  }

  #findTransfer(identity: string, idempotencyKey: string): Transfer | null {
    const row = this.#get("SELECT * FROM journal WHERE identity = ? AND idempotency_key = ?", [
      identity,
      idempotencyKey,
    ]);
    return row === undefined ? null : toTransfer(row);
  }

  history(owner: string, query: HistoryQuery): Promise<HistoryResult> {
    assert(
      query.limit >= 1 && query.limit <= HISTORY_PAGE_MAX,
      `History page of ${query.limit} is out of range`,
    );
    return this.#read(() => {
      if (query.accountId !== undefined) {
        const account = this.#account(query.accountId);
        if (account === undefined || account.owner !== owner) return { code: "account_not_found" as const };
      }
      const rows = this.#all(
        `SELECT p.entry, j.transfer_id, j.kind, p.account_id, p.amount_minor, j.created_at,
           CASE WHEN p.account_id = j.source_account_id THEN j.target_account_id ELSE j.source_account_id END
             AS counterparty
         FROM postings p JOIN journal j ON j.entry = p.entry JOIN accounts a ON a.id = p.account_id
         WHERE a.owner = ?1 AND a.kind = 'customer' AND (?2 IS NULL OR p.account_id = ?2)
           AND (?3 IS NULL OR p.entry < ?3)
         ORDER BY p.entry DESC, p.account_id LIMIT ?4`,
        [owner, query.accountId ?? null, query.beforeEntry ?? null, query.limit],
      );
      return { code: "ok" as const, items: rows.map(toHistoryItem) };
    });
  }

  /** Queues the update for the next group commit of contact updates; resolves once that commit is on disk. */
  updateContact(owner: string, details: ContactDetails): Promise<ContactResult> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return this.#contactGroup.submit({ owner, details }, { timeoutMs: GROUP_COMMIT_DEADLINE_MS });
  }

  /** Runs a batch of contact updates in one transaction, each in its own savepoint, and commits once. */
  #commitContacts(updates: readonly ContactUpdate[], deadlineMs: number): Promise<Settled<ContactResult>[]> {
    return this.#writeAsync(() => {
      const outcomes = this.#eachInSavepoint(updates, (update) => this.#updateContactNow(update));
      checkDeadline(deadlineMs);
      return outcomes;
    }, { deadlineMs });
  }

  /** One contact update, inside a write transaction. */
  #updateContactNow({ owner, details }: ContactUpdate): ContactResult {
    const current = this.#get("SELECT email, phone, address FROM contacts WHERE owner = ?", [owner]);
    const { changed, after, history } = judgeContactUpdate(current as ContactRecord | undefined, details);
    const at = this.#now().toISOString();
    this.#run(
      `INSERT INTO contacts (owner, email, phone, address, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (owner) DO UPDATE SET email = ?2, phone = ?3, address = ?4, updated_at = ?5`,
      [owner, after.email, after.phone, after.address, at],
    );
    if (history === null) return { code: "ok", changed };
    this.#run(
      "INSERT INTO contact_changes (owner, fields, email, phone, address, changed_at) VALUES (?, ?, ?, ?, ?, ?)",
      [owner, changed.join(","), history.email, history.phone, history.address, at],
    );
    return { code: "ok", changed };
  }

  contactHistory(owner: string, query: { limit: number }): Promise<ContactChange[]> {
    assert(
      query.limit >= 1 && query.limit <= CONTACT_HISTORY_PAGE_MAX,
      `Page of ${query.limit} is out of range`,
    );
    return this.#read(() =>
      this.#all("SELECT fields, changed_at FROM contact_changes WHERE owner = ? ORDER BY id DESC LIMIT ?", [
        owner,
        query.limit,
      ]).map((row) => ({
        changed: String(row.fields).split(",").filter((field) => field !== "") as ContactField[],
        at: new Date(String(row.changed_at)),
      }))
    );
  }

  lookupIdentity(name: string): Promise<{ authKey: Uint8Array; generation: number } | null> {
    return this.#read(() => {
      const row = this.#get(
        "SELECT auth_key, generation FROM identities WHERE name = ? AND status = 'active'",
        [name],
      );
      return row === undefined ? null : toIdentityKey(row as unknown as IdentityKeyRow);
    });
  }

  addIdentity(name: string, authKey: Uint8Array): Promise<"ok" | "exists"> {
    return this.#writeAsync(() => {
      if (this.#get("SELECT name FROM identities WHERE name = ?", [name]) !== undefined) return "exists";
      const now = this.#now().toISOString();
      this.#run(
        `INSERT INTO identities (name, auth_key, status, generation, change_seq, created_at, updated_at)
         VALUES (?, ?, 'active', 1, (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM identities), ?, ?)`,
        [name, encodeAuthKey(authKey), now, now],
      );
      return "ok";
    });
  }

  rotateIdentity(name: string, authKey: Uint8Array): Promise<"ok" | "not_found"> {
    return this.#changeIdentity(name, { authKey: encodeAuthKey(authKey), status: "active" });
  }

  revokeIdentity(name: string): Promise<"ok" | "not_found"> {
    return this.#changeIdentity(name, { status: "revoked" });
  }

  #changeIdentity(
    name: string,
    change: { authKey?: string; status: IdentityStatus },
  ): Promise<"ok" | "not_found"> {
    return this.#writeAsync(() => {
      const changed = this.#run(
        `UPDATE identities SET auth_key = COALESCE(?1, auth_key), status = ?2, generation = generation + 1,
           change_seq = (SELECT MAX(change_seq) + 1 FROM identities), updated_at = ?3
         WHERE name = ?4 AND status = 'active'`,
        [change.authKey ?? null, change.status, this.#now().toISOString(), name],
      );
      assert(changed <= 1, `Identity ${name} must be one row`);
      return changed === 1 ? "ok" : "not_found";
    });
  }

  listIdentities(query: { limit: number; after?: string }): Promise<IdentityRecord[]> {
    assert(
      query.limit >= 1 && query.limit <= IDENTITIES_PAGE_MAX,
      `Identity page of ${query.limit} is out of range`,
    );
    return this.#read(() =>
      this.#all("SELECT * FROM identities WHERE name > ? ORDER BY name LIMIT ?", [
        query.after ?? "",
        query.limit,
      ])
        .map((row) => toIdentityRecord(row as unknown as IdentityRow))
    );
  }

  countIdentities(): Promise<number> {
    return this.#read(() => Number(this.#get("SELECT COUNT(*) AS n FROM identities")!.n));
  }

  identityChangesSince(cursor: number, query: { limit: number }): Promise<IdentityChanges> {
    assert(
      query.limit >= 1 && query.limit <= IDENTITIES_PAGE_MAX,
      `Change page of ${query.limit} is out of range`,
    );
    return this.#read(() => {
      const rows = this.#all(
        "SELECT name, status, generation, change_seq FROM identities WHERE change_seq > ? ORDER BY change_seq LIMIT ?",
        [cursor, query.limit],
      ) as unknown as IdentityRow[];
      return toIdentityChanges(cursor, rows);
    });
  }

  ping(): Promise<void> {
    return this.#read(() => {
      this.#get("SELECT 1 AS one");
    });
  }

  verify(): Promise<VerifyReport> {
    return this.#read(() => {
      const totals = this.#get(
        "SELECT COUNT(*) AS accounts, COALESCE(SUM(balance_minor), 0) AS total, (SELECT COUNT(*) FROM journal) AS entries FROM accounts",
      )!;
      const balanceMismatches = this.#all(
        `SELECT a.id, a.balance_minor, COALESCE(SUM(p.amount_minor), 0) AS posted
         FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id
         HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0) ORDER BY a.id LIMIT ${PROBLEM_ROWS_MAX}`,
      ).map((row) => ({
        accountId: String(row.id),
        balanceMinor: asMinor(row.balance_minor),
        postedMinor: asMinor(row.posted),
      }));
      const unbalancedEntries = this.#all(
        `SELECT j.entry, COUNT(p.account_id) AS postings, COALESCE(SUM(p.amount_minor), 0) AS total
         FROM journal j LEFT JOIN postings p ON p.entry = j.entry GROUP BY j.entry
         HAVING COUNT(p.account_id) <> 2 OR COALESCE(SUM(p.amount_minor), 0) <> 0
           OR SUM(CASE WHEN p.account_id = j.target_account_id THEN p.amount_minor ELSE 0 END) <> j.amount_minor
         ORDER BY j.entry LIMIT ${PROBLEM_ROWS_MAX}`,
      ).map((row) => ({
        entry: BigInt(row.entry as bigint),
        postings: Number(row.postings),
        sumMinor: asMinor(row.total),
      }));
      const negativeAccounts = this.#all(
        `SELECT id FROM accounts WHERE kind = 'customer' AND balance_minor < 0 ORDER BY id LIMIT ${PROBLEM_ROWS_MAX}`,
      ).map((row) => String(row.id));
      return reportFromFacts({
        accounts: Number(totals.accounts),
        entries: Number(totals.entries),
        totalMinor: asMinor(totals.total),
        balanceMismatches,
        unbalancedEntries,
        negativeAccounts,
      });
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #account(id: string): Account | undefined {
    const row = this.#get("SELECT * FROM accounts WHERE id = ?", [id]);
    return row === undefined ? undefined : toAccount(row);
  }

  /** Runs `work` in a transaction holding the write lock; commits only if it returns. */
  #write<T>(work: () => T): T {
    assert(!this.#closed, "Cannot use a closed ledger");
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Runs `work` as a write transaction, once this thread holds the write lock when it shares the file with
   * other threads. A batch waits at most until its deadline (then it is not applied); any other write at most
   * as long as SQLite would wait for another process.
   */
  async #writeAsync<T>(work: () => T, options: { deadlineMs?: number } = {}): Promise<T> {
    const lock = this.#writeLock;
    if (lock === undefined) return this.#write(work);
    const waitMs = options.deadlineMs === undefined
      ? SQLITE_BUSY_TIMEOUT_MS
      : options.deadlineMs - performance.now();
    if (!(await lock.acquire(waitMs))) {
      if (options.deadlineMs !== undefined) {
        throw new DeadlineExceeded("The write lock stayed taken past the deadline");
      }
      throw new Error(`Another thread held the ledger's write lock for ${SQLITE_BUSY_TIMEOUT_MS} ms`);
    }
    try {
      return this.#write(work);
    } finally {
      lock.release();
    }
  }

  /**
   * Runs a read in a consistent snapshot. Reads that arrive while one is pending run together in one read
   * transaction: opening and closing a snapshot costs several times more than an indexed lookup, and every
   * read of the batch still starts after its request arrived, so it sees every commit acknowledged before.
   * Writes are synchronous from BEGIN to COMMIT, so a batch never runs inside a write transaction.
   */
  #read<T>(work: () => T): Promise<T> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return new Promise<T>((resolve, reject) => {
      this.#pendingReads.push({
        run: () => {
          try {
            resolve(work());
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      });
      if (this.#pendingReads.length === 1) queueMicrotask(() => this.#runReads());
    });
  }

  #runReads(): void {
    const batch = this.#pendingReads;
    this.#pendingReads = [];
    if (this.#closed) {
      for (const read of batch) read.fail(new Error("The ledger was closed"));
      return;
    }
    assert(!this.#db.isTransaction, "A read batch must not run inside a transaction");
    try {
      this.#db.exec("BEGIN");
    } catch (error) {
      for (const read of batch) read.fail(error);
      return;
    }
    for (const read of batch) read.run();
    // Every read has answered; ending a read-only transaction cannot lose anything, and must not throw here.
    try {
      if (this.#db.isTransaction) this.#db.exec("COMMIT");
    } catch {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      statement.setReadBigInts(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #all(sql: string, parameters: SQLInputValue[] = []): Row[] {
    return this.#statement(sql).all(...parameters) as Row[];
  }

  #get(sql: string, parameters: SQLInputValue[] = []): Row | undefined {
    return this.#statement(sql).get(...parameters) as Row | undefined;
  }

  /** Runs a statement and returns how many rows it changed. */
  #run(sql: string, parameters: SQLInputValue[] = []): number {
    return Number(this.#statement(sql).run(...parameters).changes);
  }
}

function toAccount(row: Row): Account {
  return accountFromRow(row as unknown as AccountRow);
}

function toTransfer(row: Row): Transfer {
  return transferFromRow(row as unknown as JournalRow);
}

function toHistoryItem(row: Row): HistoryItem {
  return historyFromRow(row as unknown as HistoryRow);
}

/** SQLite's primary result code for a violated constraint (NOT NULL, CHECK, UNIQUE, foreign key). */
const SQLITE_CONSTRAINT = 19;

/** Tells whether a statement failed because the database refused the data it was given. */
function isConstraintError(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && (code & 0xff) === SQLITE_CONSTRAINT;
}
