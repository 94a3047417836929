/**
 * The scale-out ledger: PostgreSQL through postgres.js, so several server processes can share one ledger.
 *
 * - Every write is one READ COMMITTED transaction. Transfers are group-committed: a batch locks every
 *   account it may touch with `SELECT … FOR UPDATE` in id order (so batches on any number of servers wait
 *   for each other but never deadlock), is judged in memory by the shared rules, and is written in one
 *   statement, in a fixed number of round trips whatever its size.
 * - A conflict (a concurrent twin with the same idempotency key, a serialization failure or a deadlock)
 *   rolls back and retries the whole transaction, a bounded number of times with a short random delay.
 * - `synchronous_commit` is set to `on` for every connection, so a method resolves only after its commit is
 *   durable. TLS follows the URL's `sslmode`.
 * - `BIGINT` columns arrive as `bigint`: money never passes through a `number`.
 *
 * @module
 */
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import { HISTORY_PAGE_MAX } from "../../protocol/limits.ts";
import {
  ACCOUNTS_PAGE_MAX,
  ACCOUNTS_PER_OWNER_MAX,
  CONTACT_HISTORY_PAGE_MAX,
  DATABASE_CLOSE_TIMEOUT_S,
  DATABASE_POOL_MAX,
  DATABASE_STATEMENT_TIMEOUT_MS,
  GROUP_COMMIT_DEADLINE_MS,
  LEDGER_ATTEMPTS_MAX,
  LEDGER_RETRY_DELAY_MS_MAX,
  POSTGRES_BATCHES_IN_FLIGHT,
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
import { checkPage, linkResults, newAccountId, newTransferId, planOpening, planTransfers } from "./rules.ts";
import type { PlannedResult } from "./rules.ts";
import { judgeCapture, judgeHold, judgeReversal, judgeVoid } from "./operations.ts";
import type { JournaledEntry, Judged, Makers } from "./operations.ts";
import { contactChangeFromRow, toAccount } from "./rows.ts";
import type { AccountRow } from "./rows.ts";
import { postgresHistory, verifyPostgres } from "./postgres_history.ts";
import {
  appendPostgresChainOf,
  insertChainLinks,
  lockChainHead,
  postgresChainHead,
  readPostgresChainPage,
} from "./postgres_chain.ts";
import { migratePostgres } from "./postgres_migrate.ts";
import type { ChainHead, ChainPage } from "./chain.ts";
import { checkDeadline, GROUP_COMMIT_DEFAULTS, GroupCommit } from "./group_commit.ts";
import {
  answerReplays,
  findPrevious,
  lockBatchState,
  setLockTimeout,
  transfersOf,
  writeTransfers,
} from "./postgres_batch.ts";
import type { ContactUpdate, Linked } from "./postgres_batch.ts";
import { commitContactsBySavepoints, commitContactsPlanned } from "./postgres_contacts.ts";
import {
  applyPostgresPlan,
  findAccount,
  findEntryAt,
  heldMinor,
  lockAccounts,
  lockHold,
  postgresCaptureState,
  postgresHoldState,
  postgresReversalState,
  writePostgresEntry,
} from "./postgres_operations.ts";
import { PostgresIdentities } from "./postgres_identities.ts";
import type { GroupCommitOptions, Settled } from "./group_commit.ts";
import {
  connect,
  describe,
  describeTarget,
  findTransferIn,
  isConflict,
  isDataError,
  isIdempotencyConflict,
  redact,
  sleep,
} from "./postgres_sql.ts";
import type { Database, Query, Transaction } from "./postgres_sql.ts";

/** Options of {@link PostgresLedger.open}. */
export interface PostgresLedgerOptions {
  /** The clock for `created_at` columns. */
  now?: () => Date;
  /** Connections in the pool, 1 to `DATABASE_POOL_MAX` (the default). */
  poolMax?: number;
  /** How transfers share commits; {@link GROUP_COMMIT_DEFAULTS} by default. */
  groupCommit?: GroupCommitOptions;
  /** Test-only (a negative control): acknowledge commits before they are durable. */
  asyncCommitForTests?: boolean;
}

/** A {@link Ledger} in PostgreSQL; open it with {@link PostgresLedger.open}, close it when done. */
export class PostgresLedger implements BankStore {
  readonly store = "postgres";
  readonly #sql: Database;
  readonly #now: () => Date;
  readonly #identities: PostgresIdentities;
  readonly #group: GroupCommit<TransferInput, TransferResult>;
  readonly #contactGroup: GroupCommit<ContactUpdate, ContactResult>;
  #closed = false;

  private constructor(sql: Database, options: { now: () => Date; groupCommit: GroupCommitOptions }) {
    this.#sql = sql;
    this.#now = options.now;
    this.#identities = new PostgresIdentities({
      use: (work) => this.#use(work),
      write: (work) => this.#write(work),
      now: () => this.#now(),
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
   * Connects to the database at `url` and applies pending migrations.
   *
   * @param url A `postgres://user:password@host:port/database` URL; the password never appears in errors.
   * @param options The clock and the pool size.
   * @returns The ledger, ready for use; close it when done.
   * @throws Error `Cannot open ledger at postgres://host:port/db: reason` when the database is unusable.
   */
  static async open(url: string, options: PostgresLedgerOptions = {}): Promise<PostgresLedger> {
    const poolMax = options.poolMax ?? DATABASE_POOL_MAX;
    assert(Number.isInteger(poolMax), `Pool size ${poolMax} must be an integer`);
    assert(poolMax >= 1, `Pool size ${poolMax} is out of range`);
    assert(poolMax <= DATABASE_POOL_MAX, `Pool size ${poolMax} is out of range`);
    const target = describeTarget(url);
    if (target === null) throw new Error("Cannot open ledger at an invalid PostgreSQL URL");
    let sql: Database | undefined;
    try {
      sql = connect(url, poolMax, { asyncCommitForTests: options.asyncCommitForTests === true });
      const ledger = new PostgresLedger(sql, {
        now: options.now ?? (() => new Date()),
        groupCommit: options.groupCommit ??
          { ...GROUP_COMMIT_DEFAULTS, inFlightMax: POSTGRES_BATCHES_IN_FLIGHT },
      });
      await migratePostgres(sql, ledger.#now);
      return ledger;
    } catch (error) {
      await sql?.end({ timeout: 0 }).catch(() => undefined);
      if (isAssertionFailure(error)) throw error;
      throw new Error(`Cannot open ledger at ${target.location}: ${redact(error, target.secrets)}`);
    }
  }

  accountsOf(owner: string): Promise<Account[]> {
    return this.#use(async (sql) => {
      const rows = await sql<AccountRow[]>`
        SELECT a.*, ${heldMinor(sql, this.#now())} AS held_minor FROM accounts a
        WHERE a.owner = ${owner} AND a.kind = 'customer' ORDER BY a.seq LIMIT ${ACCOUNTS_PER_OWNER_MAX}`;
      return rows.map(toAccount);
    });
  }

  listAccounts(query: { owner?: string; limit: number; after?: string }): Promise<Account[]> {
    checkPage(query.limit, { max: ACCOUNTS_PAGE_MAX, what: "Account" });
    return this.#use(async (sql) => {
      const rows = await sql<AccountRow[]>`
        SELECT a.*, ${heldMinor(sql, this.#now())} AS held_minor FROM accounts a
        WHERE (${query.owner ?? null}::text IS NULL OR a.owner = ${query.owner ?? null})
          AND a.id COLLATE "C" > ${query.after ?? ""}
        ORDER BY a.id COLLATE "C" LIMIT ${query.limit}`;
      return rows.map(toAccount);
    });
  }

  openAccount(input: OpenAccountInput): Promise<OpenAccountResult> {
    assert(input.depositMinor >= 0n, `Opening deposit ${input.depositMinor} must not be negative`);
    return this.#write(async (tx): Promise<OpenAccountResult> => {
      const external = await lockAccounts(tx, [EXTERNAL_ACCOUNT_ID], this.#now());
      assert(external.has(EXTERNAL_ACCOUNT_ID), "The EXTERNAL account must exist");
      const id = input.id ?? newAccountId();
      if ((await findAccount(tx, id, this.#now())) !== undefined) return { code: "account_exists" };
      const [owned] = await tx<
        { n: bigint }[]
      >`SELECT COUNT(*) AS n FROM accounts WHERE owner = ${input.owner}`;
      const plan = planOpening({
        accountId: id,
        ownerAccounts: Number(owned?.n ?? 0n),
        issuedMinor: -external.get(EXTERNAL_ACCOUNT_ID)!.balanceMinor,
        depositMinor: input.depositMinor,
      });
      if (!plan.ok) return { code: plan.code };
      await tx`
        INSERT INTO accounts (id, owner, kind, currency, balance_minor, status, created_at)
        VALUES (${id}, ${input.owner}, 'customer', 'USD', 0, 'open', ${this.#now()})`;
      if (plan.deposit !== null) {
        const { kind, ...deposit } = plan.deposit;
        await writePostgresEntry(tx, {
          kind,
          transfer: { ...deposit, id: newTransferId(), createdAt: this.#now() },
        });
      }
      const account = await findAccount(tx, id, this.#now());
      assert(account !== undefined, `New account ${id} must exist`);
      assert(account.balanceMinor === input.depositMinor, `New account ${id} must hold its deposit`);
      return { code: "ok", account };
    });
  }

  setAccountStatus(accountId: string, status: AccountStatus): Promise<StatusResult> {
    return this.#write(async (tx): Promise<StatusResult> => {
      const changed = await tx`
        UPDATE accounts SET status = ${status} WHERE id = ${accountId} AND kind = 'customer'`;
      assert(changed.count <= 1, `Account ${accountId} must be one row`);
      if (changed.count === 0) return { code: "account_not_found" };
      const account = await findAccount(tx, accountId, this.#now());
      assert(account !== undefined, `Account ${accountId} exists`);
      assert(account.status === status, `Account ${accountId} must now be ${status}`);
      return { code: "ok", account };
    });
  }

  /** Queues the transfer for the next group commit; resolves once that commit is durable. */
  transfer(input: TransferInput): Promise<TransferResult> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return this.#group.submit(input, { timeoutMs: GROUP_COMMIT_DEADLINE_MS });
  }

  /** Commits so far and transfers they held. */
  get groupCommitStats(): { batches: number; writes: number } {
    return this.#group.stats;
  }

  /**
   * Runs a batch of transfers in one transaction, in a fixed number of round trips whatever its size:
   * every account the batch may touch is locked in id order (so batches on any number of servers never
   * deadlock) while earlier transfers under its keys are read, the batch is judged in memory by the shared
   * rules, and the accepted transfers are written in one statement. Should that statement fail on the data
   * (which the judged plan rules out), the batch runs again one savepoint per transfer, so a transfer the
   * database refuses never fails its neighbours.
   */
  async #commitBatch(
    inputs: readonly TransferInput[],
    deadlineMs: number,
  ): Promise<Settled<TransferResult>[]> {
    try {
      return await this.#retrying(async () => {
        try {
          return await this.#commitPlanned(inputs, deadlineMs, { lookupFirst: false });
        } catch (error) {
          if (!isIdempotencyConflict(error)) throw error;
        }
        return await this.#commitPlanned(inputs, deadlineMs, { lookupFirst: true });
      });
    } catch (error) {
      if (!isDataError(error)) throw error;
      return await this.#write((tx) => this.#commitBySavepoints(tx, inputs, deadlineMs));
    }
  }

  /**
   * One attempt at a planned batch, in one transaction. The lock timeout and the locking read travel
   * together, and so do the lookup of refused keys and the write: postgres.js pipelines the statements
   * of a transaction that start without waiting for each other, in the order they start.
   *
   * Replays are rare, so the first attempt judges the batch as if no key had been used before
   * (`lookupFirst: false`): a key that had been trips the idempotency constraint, the write fails, and the
   * batch runs again with the earlier transfers read first. Refused transfers write nothing to trip over,
   * so their keys are looked up just before the write: a refusal whose key names an earlier transfer is
   * answered as the replay it is.
   */
  #commitPlanned(
    inputs: readonly TransferInput[],
    deadlineMs: number,
    options: { lookupFirst: boolean },
  ): Promise<Settled<TransferResult>[]> {
    return this.#sql.begin("isolation level read committed", async (tx) => {
      const [, locked, previous] = await Promise.all([
        setLockTimeout(tx, deadlineMs),
        lockBatchState(tx, inputs, this.#now()),
        options.lookupFirst ? findPrevious(tx, inputs) : new Map<string, Linked>(),
      ]);
      const plan = planTransfers(inputs, { ...locked, previous: transfersOf(previous) }, {
        now: this.#now,
        newId: newTransferId,
      });
      const refused = options.lookupFirst
        ? []
        : inputs.filter((_, index) => plan.results[index]!.code !== "ok");
      const writes = plan.accepted.length > 0;
      // The chain's lock and head go out after the writes, in the same round trip.
      const [found, written, head] = await Promise.all([
        findPrevious(tx, refused),
        writes ? writeTransfers(tx, plan) : [],
        writes ? lockChainHead(tx) : null,
      ]);
      const links = head === null ? [] : await insertChainLinks(tx, head, written);
      checkDeadline(deadlineMs);
      const linked = new Map([...previous, ...found].map(([id, { link }]) => [id, link]));
      plan.accepted.forEach((transfer, index) => linked.set(transfer.id, links[index]!));
      const results = linkResults(answerReplays(inputs, plan.results, transfersOf(found)), linked);
      return results.map((value) => ({ ok: true as const, value }));
    }) as Promise<Settled<TransferResult>[]>;
  }

  /** The fallback: each transfer of the batch in its own savepoint, one after the other. */
  async #commitBySavepoints(
    tx: Transaction,
    inputs: readonly TransferInput[],
    deadlineMs: number,
  ): Promise<Settled<TransferResult>[]> {
    await setLockTimeout(tx, deadlineMs);
    await lockBatchState(tx, inputs, this.#now());
    const links = new Map<string, EntryLink>();
    const outcomes: Settled<PlannedResult>[] = [];
    for (const input of inputs) outcomes.push(await this.#transferInSavepoint(tx, input, links));
    const created = outcomes.flatMap((outcome) =>
      outcome.ok && outcome.value.code === "ok" ? [outcome.value.transfer.id] : []
    );
    for (const [id, link] of await appendPostgresChainOf(tx, created)) links.set(id, link);
    checkDeadline(deadlineMs);
    return outcomes.map((outcome) =>
      outcome.ok ? { ok: true, value: linkResults([outcome.value], links)[0]! } : outcome
    );
  }

  /**
   * One transfer of a batch in its own savepoint. A concurrent twin (same caller and key, committed by
   * another batch meanwhile) trips the idempotency constraint: the transfer is then run again, and its
   * replay check answers `exists` or `key_reused_with_other_fields`. Links of replayed transfers go to `links`.
   */
  async #transferInSavepoint(
    tx: Transaction,
    input: TransferInput,
    links: Map<string, EntryLink>,
  ): Promise<Settled<PlannedResult>> {
    for (let attempt = 1; attempt <= LEDGER_ATTEMPTS_MAX; attempt++) {
      try {
        return {
          ok: true,
          value: await tx.savepoint((savepoint) => this.#transfer(savepoint, input, links)),
        };
      } catch (error) {
        if (isAssertionFailure(error)) throw error;
        if (!isConflict(error) || attempt === LEDGER_ATTEMPTS_MAX) return { ok: false, error };
      }
    }
    assert(false, "The attempt loop always returns");
  }

  /** One transfer, judged and written by the same rules and statements as a planned batch. */
  async #transfer(tx: Query, input: TransferInput, links: Map<string, EntryLink>): Promise<PlannedResult> {
    const [locked, previous] = await Promise.all([
      lockBatchState(tx, [input], this.#now()),
      findPrevious(tx, [input]),
    ]);
    for (const [id, { link }] of previous) links.set(id, link);
    const plan = planTransfers([input], { ...locked, previous: transfersOf(previous) }, {
      now: this.#now,
      newId: newTransferId,
    });
    if (plan.accepted.length > 0) await writeTransfers(tx, plan);
    return plan.results[0]!;
  }

  hold(input: HoldInput): Promise<HoldResult> {
    return this.#operate(async (tx, make) =>
      judgeHold(input, await postgresHoldState(tx, input, make.now()), make)
    );
  }

  captureHold(input: CaptureInput): Promise<CaptureResult> {
    return this.#operate(async (tx, make) =>
      judgeCapture(input, await postgresCaptureState(tx, input, make.now()), make)
    );
  }

  voidHold(input: VoidInput): Promise<VoidResult> {
    return this.#operate(async (tx, make) => judgeVoid(input, await lockHold(tx, input.holdId), make));
  }

  reverse(input: ReversalInput): Promise<ReversalResult> {
    return this.#operate(async (tx, make) =>
      judgeReversal(input, await postgresReversalState(tx, input, make.now()), make)
    );
  }

  /**
   * One operation in its own transaction: lock and read its state, judge it at one instant, write the
   * plan. A concurrent twin under the same key trips a constraint and the operation runs again, as a replay.
   */
  #operate<R>(judge: (tx: Query, make: Makers) => Promise<Judged<R>>): Promise<R> {
    return this.#write(async (tx) => {
      await setLockTimeout(tx, performance.now() + DATABASE_STATEMENT_TIMEOUT_MS);
      const now = this.#now();
      const judged = await judge(tx, { now: () => now, newId: newTransferId });
      if ("done" in judged) return judged.done;
      return judged.answer(await applyPostgresPlan(tx, judged.plan));
    });
  }

  findTransfer(identity: string, idempotencyKey: string): Promise<Transfer | null> {
    return this.#use((sql) => findTransferIn(sql, identity, idempotencyKey));
  }

  history(owner: string, query: HistoryQuery): Promise<HistoryResult> {
    checkPage(query.limit, { max: HISTORY_PAGE_MAX, what: "History" });
    assert(!this.#closed, "Cannot use a closed ledger");
    return postgresHistory(this.#sql, owner, query);
  }

  /** Queues the update for the next group commit of contact updates; resolves once that commit is durable. */
  updateContact(owner: string, details: ContactDetails): Promise<ContactResult> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return this.#contactGroup.submit({ owner, details }, { timeoutMs: GROUP_COMMIT_DEADLINE_MS });
  }

  /**
   * Runs a batch of contact updates in one transaction, in a fixed number of round trips: every owner's
   * record is created if missing and locked in owner order, the updates are judged in order in memory by
   * the shared rule, and the records and history rows are written in two statements sent together. Should
   * the database refuse that write, the batch runs again one savepoint per update.
   */
  async #commitContacts(
    updates: readonly ContactUpdate[],
    deadlineMs: number,
  ): Promise<Settled<ContactResult>[]> {
    try {
      return await this.#write((tx) => commitContactsPlanned(tx, updates, { at: this.#now(), deadlineMs }));
    } catch (error) {
      if (!isDataError(error)) throw error;
      return await this.#write((tx) =>
        commitContactsBySavepoints(tx, updates, { now: this.#now, deadlineMs })
      );
    }
  }

  contactHistory(owner: string, query: { limit: number }): Promise<ContactChange[]> {
    checkPage(query.limit, { max: CONTACT_HISTORY_PAGE_MAX, what: "Contact change" });
    return this.#use(async (sql) => {
      const rows = await sql<{ fields: string; changed_at: Date }[]>`
        SELECT fields, changed_at FROM contact_changes WHERE owner = ${owner}
        ORDER BY id DESC LIMIT ${query.limit}`;
      return rows.map((row) => contactChangeFromRow(row));
    });
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
    return this.#use(async (sql) => {
      await sql`SELECT 1 AS one`;
    });
  }

  verify(): Promise<VerifyReport> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return verifyPostgres(this.#sql);
  }

  chainPage(position: bigint): Promise<ChainPage> {
    return this.#use((sql) => readPostgresChainPage(sql, position));
  }

  entryAt(entry: bigint): Promise<JournaledEntry | null> {
    return this.#use((sql) => findEntryAt(sql, entry));
  }

  chainHead(): Promise<ChainHead> {
    return this.#use((sql) => postgresChainHead(sql));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: DATABASE_CLOSE_TIMEOUT_S });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs `work` on the pool, outside a transaction (each statement sees its own snapshot). */
  #use<T>(work: (sql: Query) => Promise<T>): Promise<T> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return work(this.#sql);
  }

  /**
   * Runs `work` in a READ COMMITTED transaction and resolves after COMMIT returns. A conflict rolls back
   * and runs `work` again, at most `LEDGER_ATTEMPTS_MAX` times in all.
   */
  #write<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#retrying(() =>
      this.#sql.begin("isolation level read committed", (tx) => work(tx)) as Promise<T>
    );
  }

  /** Runs a transaction `attempt`, again after a conflict, at most `LEDGER_ATTEMPTS_MAX` times in all. */
  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    assert(!this.#closed, "Cannot use a closed ledger");
    for (let round = 1; round <= LEDGER_ATTEMPTS_MAX; round++) {
      try {
        return await attempt();
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (round === LEDGER_ATTEMPTS_MAX) {
          throw new Error(`Cannot commit ledger transaction after ${round} attempts: ${describe(error)}`, {
            cause: error,
          });
        }
        await sleep(1 + Math.floor(Math.random() * LEDGER_RETRY_DELAY_MS_MAX));
      }
    }
    assert(false, "The attempt loop always returns or throws");
  }
}
