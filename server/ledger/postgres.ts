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
import postgres from "postgres";
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import { HISTORY_PAGE_MAX } from "../../protocol/limits.ts";
import {
  ACCOUNTS_PAGE_MAX,
  ACCOUNTS_PER_OWNER_MAX,
  CONTACT_HISTORY_PAGE_MAX,
  DATABASE_BACKOFF_S_MAX,
  DATABASE_BACKOFF_S_MIN,
  DATABASE_CLOSE_TIMEOUT_S,
  DATABASE_CONNECT_TIMEOUT_S,
  DATABASE_KEEPALIVE_S,
  DATABASE_POOL_MAX,
  DATABASE_STATEMENT_TIMEOUT_MS,
  GROUP_COMMIT_DEADLINE_MS,
  IDENTITIES_PAGE_MAX,
  LEDGER_ATTEMPTS_MAX,
  LEDGER_RETRY_DELAY_MS_MAX,
  POSTGRES_BATCHES_IN_FLIGHT,
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
import type { ContactRecord, VerifyFacts } from "./rules.ts";
import {
  asMinor,
  encodeAuthKey,
  toAccount,
  toHistoryItem,
  toIdentityChanges,
  toIdentityKey,
  toIdentityRecord,
  toTransfer,
} from "./rows.ts";
import type { AccountRow, HistoryRow, IdentityKeyRow, IdentityRow, JournalRow } from "./rows.ts";
import { MIGRATIONS, MIGRATIONS_TABLE } from "./schema.ts";
import { checkDeadline, GROUP_COMMIT_DEFAULTS, GroupCommit } from "./group_commit.ts";
import {
  answerReplays,
  findPrevious,
  lockBatchState,
  lockContacts,
  setLockTimeout,
  writeTransfers,
} from "./postgres_batch.ts";
import type { ContactUpdate } from "./postgres_batch.ts";
import type { GroupCommitOptions, Settled } from "./group_commit.ts";

type Types = { bigint: bigint };
type Database = postgres.Sql<Types>;
type Query = postgres.ISql<Types>;
type Transaction = postgres.TransactionSql<Types>;

/** A journal entry to write: a deposit from EXTERNAL or a customer transfer. */
type JournalInput = Omit<Transfer, "id" | "createdAt"> & { kind: "deposit" | "transfer" };

const PROBLEM_ROWS_MAX = 100;
/** Key of the advisory lock that lets one process at a time migrate ("bankledg" in ASCII). */
const MIGRATION_LOCK_KEY = 0x62616e6b6c656467n;
/** SQLSTATEs after which the whole transaction is retried: serialization failure, deadlock. */
const RETRY_STATES: readonly string[] = ["40001", "40P01"];
const UNIQUE_VIOLATION_STATE = "23505";
/** The unique constraint a concurrent twin (same caller, same idempotency key) trips over. */
const IDEMPOTENCY_CONSTRAINT = "journal_identity_idempotency_key_key";

/** Options of {@link PostgresLedger.open}. */
export interface PostgresLedgerOptions {
  /** The clock for `created_at` columns. */
  now?: () => Date;
  /** Connections in the pool, 1 to `DATABASE_POOL_MAX` (the default). */
  poolMax?: number;
  /** How transfers share commits; {@link GROUP_COMMIT_DEFAULTS} by default. */
  groupCommit?: GroupCommitOptions;
}

/** A {@link Ledger} in PostgreSQL; open it with {@link PostgresLedger.open}, close it when done. */
export class PostgresLedger implements BankStore {
  readonly store = "postgres";
  readonly #sql: Database;
  readonly #now: () => Date;
  readonly #group: GroupCommit<TransferInput, TransferResult>;
  readonly #contactGroup: GroupCommit<ContactUpdate, ContactResult>;
  #closed = false;

  private constructor(sql: Database, options: { now: () => Date; groupCommit: GroupCommitOptions }) {
    this.#sql = sql;
    this.#now = options.now;
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
    assert(poolMax >= 1 && poolMax <= DATABASE_POOL_MAX, `Pool size ${poolMax} is out of range`);
    const target = describeTarget(url);
    if (target === null) throw new Error("Cannot open ledger at an invalid PostgreSQL URL");
    let sql: Database | undefined;
    try {
      sql = connect(url, poolMax);
      const ledger = new PostgresLedger(sql, {
        now: options.now ?? (() => new Date()),
        groupCommit: options.groupCommit ??
          { ...GROUP_COMMIT_DEFAULTS, inFlightMax: POSTGRES_BATCHES_IN_FLIGHT },
      });
      await ledger.#migrate();
      return ledger;
    } catch (error) {
      await sql?.end({ timeout: 0 }).catch(() => undefined);
      if (isAssertionFailure(error)) throw error;
      throw new Error(`Cannot open ledger at ${target.location}: ${redact(error, target.secrets)}`);
    }
  }

  /** Applies pending migrations in one transaction, under an advisory lock so that one process migrates. */
  async #migrate(): Promise<void> {
    await this.#sql.begin("isolation level read committed", async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
      await tx.unsafe(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
           version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
      );
      const rows = await tx<{ version: number }[]>`SELECT version FROM ${
        tx(MIGRATIONS_TABLE)
      } ORDER BY version`;
      const applied = rows.map((row) => row.version);
      const newest = Math.max(0, ...applied);
      if (newest > MIGRATIONS.length) {
        throw new Error(`ledger schema ${newest} is newer than this program knows (${MIGRATIONS.length})`);
      }
      for (const migration of MIGRATIONS) {
        if (applied.includes(migration.version)) continue;
        await tx.unsafe(migration.postgres);
        await tx`INSERT INTO ${tx(MIGRATIONS_TABLE)} (version, name, applied_at)
          VALUES (${migration.version}, ${migration.name}, ${this.#now()})`;
      }
      const [count] = await tx<{ versions: bigint }[]>`SELECT COUNT(*) AS versions FROM ${
        tx(MIGRATIONS_TABLE)
      }`;
      assert(count?.versions === BigInt(MIGRATIONS.length), "Every migration must be applied exactly once");
    });
  }

  accountsOf(owner: string): Promise<Account[]> {
    return this.#use(async (sql) => {
      const rows = await sql<AccountRow[]>`
        SELECT * FROM accounts WHERE owner = ${owner} AND kind = 'customer' ORDER BY seq
        LIMIT ${ACCOUNTS_PER_OWNER_MAX}`;
      return rows.map(toAccount);
    });
  }

  listAccounts(query: { owner?: string; limit: number; after?: string }): Promise<Account[]> {
    assert(Number.isInteger(query.limit), `Account page of ${query.limit} must be an integer`);
    assert(
      query.limit >= 1 && query.limit <= ACCOUNTS_PAGE_MAX,
      `Account page of ${query.limit} is out of range`,
    );
    return this.#use(async (sql) => {
      const rows = await sql<AccountRow[]>`
        SELECT * FROM accounts
        WHERE (${query.owner ?? null}::text IS NULL OR owner = ${query.owner ?? null})
          AND id COLLATE "C" > ${query.after ?? ""}
        ORDER BY id COLLATE "C" LIMIT ${query.limit}`;
      return rows.map(toAccount);
    });
  }

  openAccount(input: OpenAccountInput): Promise<OpenAccountResult> {
    assert(input.depositMinor >= 0n, `Opening deposit ${input.depositMinor} must not be negative`);
    return this.#write(async (tx): Promise<OpenAccountResult> => {
      const external = await lockAccounts(tx, [EXTERNAL_ACCOUNT_ID]);
      assert(external.has(EXTERNAL_ACCOUNT_ID), "The EXTERNAL account must exist");
      const id = input.id ?? newAccountId();
      if ((await findAccount(tx, id)) !== undefined) return { code: "account_exists" };
      const [owned] = await tx<
        { n: bigint }[]
      >`SELECT COUNT(*) AS n FROM accounts WHERE owner = ${input.owner}`;
      const refusal = judgeOpening({
        ownerAccounts: Number(owned?.n ?? 0n),
        issuedMinor: -external.get(EXTERNAL_ACCOUNT_ID)!.balanceMinor,
        depositMinor: input.depositMinor,
      });
      if (refusal !== null) return { code: refusal };
      await tx`
        INSERT INTO accounts (id, owner, kind, currency, balance_minor, status, created_at)
        VALUES (${id}, ${input.owner}, 'customer', 'USD', 0, 'open', ${this.#now()})`;
      if (input.depositMinor > 0n) {
        await this.#journal(tx, {
          kind: "deposit",
          identity: BANK_OWNER,
          idempotencyKey: `open:${id}`,
          sourceAccountId: EXTERNAL_ACCOUNT_ID,
          targetAccountId: id,
          amountMinor: input.depositMinor,
        });
      }
      const account = await findAccount(tx, id);
      assert(account !== undefined, `New account ${id} must exist`);
      assert(account.balanceMinor === input.depositMinor, `New account ${id} must hold its deposit`);
      return { code: "ok", account };
    });
  }

  setAccountStatus(accountId: string, status: AccountStatus): Promise<StatusResult> {
    return this.#write(async (tx): Promise<StatusResult> => {
      const rows = await tx<AccountRow[]>`
        UPDATE accounts SET status = ${status} WHERE id = ${accountId} AND kind = 'customer' RETURNING *`;
      assert(rows.length <= 1, `Account ${accountId} must be one row`);
      const [row] = rows;
      if (row === undefined) return { code: "account_not_found" };
      const account = toAccount(row);
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
        lockBatchState(tx, inputs),
        options.lookupFirst ? findPrevious(tx, inputs) : [],
      ]);
      const plan = planTransfers(inputs, { ...locked, previous }, { now: this.#now, newId: newTransferId });
      const refused = options.lookupFirst
        ? []
        : inputs.filter((_, index) => plan.results[index]!.code !== "ok");
      const [found] = await Promise.all([
        findPrevious(tx, refused),
        plan.accepted.length > 0 ? writeTransfers(tx, plan) : undefined,
      ]);
      checkDeadline(deadlineMs);
      return answerReplays(inputs, plan.results, found).map((value) => ({ ok: true as const, value }));
    }) as Promise<Settled<TransferResult>[]>;
  }

  /** The fallback: each transfer of the batch in its own savepoint, one after the other. */
  async #commitBySavepoints(
    tx: Transaction,
    inputs: readonly TransferInput[],
    deadlineMs: number,
  ): Promise<Settled<TransferResult>[]> {
    await setLockTimeout(tx, deadlineMs);
    await lockBatchState(tx, inputs);
    const outcomes: Settled<TransferResult>[] = [];
    for (const input of inputs) outcomes.push(await this.#transferInSavepoint(tx, input));
    checkDeadline(deadlineMs);
    return outcomes;
  }

  /**
   * One transfer of a batch in its own savepoint. A concurrent twin (same caller and key, committed by
   * another batch meanwhile) trips the idempotency constraint: the transfer is then run again, and its
   * replay check answers `exists` or `key_reused_with_other_fields`.
   */
  async #transferInSavepoint(tx: Transaction, input: TransferInput): Promise<Settled<TransferResult>> {
    for (let attempt = 1; attempt <= LEDGER_ATTEMPTS_MAX; attempt++) {
      try {
        return { ok: true, value: await tx.savepoint((savepoint) => this.#transfer(savepoint, input)) };
      } catch (error) {
        if (isAssertionFailure(error)) throw error;
        if (!isConflict(error) || attempt === LEDGER_ATTEMPTS_MAX) return { ok: false, error };
      }
    }
    assert(false, "The attempt loop always returns");
  }

  /** One transfer, judged and written by the same rules and statements as a planned batch. */
  async #transfer(tx: Query, input: TransferInput): Promise<TransferResult> {
    const [locked, previous] = await Promise.all([lockBatchState(tx, [input]), findPrevious(tx, [input])]);
    const plan = planTransfers([input], { ...locked, previous }, { now: this.#now, newId: newTransferId });
    if (plan.accepted.length > 0) await writeTransfers(tx, plan);
    return plan.results[0]!;
  }

  /**
   * Writes one journal entry, its two postings and both balances; the accounts are locked already. Returns
   * the transfer and the source's balance after it.
   */
  async #journal(tx: Query, entry: JournalInput): Promise<{ transfer: Transfer; sourceAfterMinor: bigint }> {
    assert(entry.amountMinor > 0n, `Journal amount ${entry.amountMinor} must be positive`);
    const transfer: Transfer = {
      id: newTransferId(),
      identity: entry.identity,
      idempotencyKey: entry.idempotencyKey,
      sourceAccountId: entry.sourceAccountId,
      targetAccountId: entry.targetAccountId,
      amountMinor: entry.amountMinor,
      createdAt: this.#now(),
    };
    // One round trip: both balances, the entry and its two postings, committed or rolled back together.
    const [row] = await tx<
      { source_after: bigint | null; credited: bigint; entry: bigint | null; postings: bigint }[]
    >`
      WITH debit AS (
        UPDATE accounts SET balance_minor = balance_minor - ${entry.amountMinor}
        WHERE id = ${entry.sourceAccountId} AND (kind = 'system' OR balance_minor >= ${entry.amountMinor})
        RETURNING balance_minor
      ), credit AS (
        UPDATE accounts SET balance_minor = balance_minor + ${entry.amountMinor}
        WHERE id = ${entry.targetAccountId}
        RETURNING balance_minor
      ), journaled AS (
        INSERT INTO journal (transfer_id, kind, identity, idempotency_key, source_account_id,
          target_account_id, amount_minor, created_at)
        SELECT ${transfer.id}, ${entry.kind}, ${transfer.identity}, ${transfer.idempotencyKey},
          ${transfer.sourceAccountId}, ${transfer.targetAccountId}, ${transfer.amountMinor}, ${transfer.createdAt}
        WHERE EXISTS (SELECT 1 FROM debit) AND EXISTS (SELECT 1 FROM credit)
        RETURNING entry
      ), posted AS (
        INSERT INTO postings (entry, account_id, amount_minor)
        SELECT entry, ${transfer.sourceAccountId}, ${-transfer.amountMinor} FROM journaled
        UNION ALL
        SELECT entry, ${transfer.targetAccountId}, ${transfer.amountMinor} FROM journaled
        RETURNING 1
      )
      SELECT (SELECT balance_minor FROM debit) AS source_after, (SELECT COUNT(*) FROM credit) AS credited,
        (SELECT entry FROM journaled) AS entry, (SELECT COUNT(*) FROM posted) AS postings`;
    assert(
      row !== undefined && row.source_after !== null,
      `Debit of ${entry.sourceAccountId} must change one row`,
    );
    assert(row.credited === 1n, `Credit of ${entry.targetAccountId} must change one row`);
    assert(typeof row.entry === "bigint", "Journal insert must return its entry");
    assert(row.postings === 2n, `Entry ${row.entry} must have two postings`);
    return { transfer, sourceAfterMinor: row.source_after };
  }

  findTransfer(identity: string, idempotencyKey: string): Promise<Transfer | null> {
    return this.#use((sql) => findTransferIn(sql, identity, idempotencyKey));
  }

  history(owner: string, query: HistoryQuery): Promise<HistoryResult> {
    assert(Number.isInteger(query.limit), `History page of ${query.limit} must be an integer`);
    assert(
      query.limit >= 1 && query.limit <= HISTORY_PAGE_MAX,
      `History page of ${query.limit} is out of range`,
    );
    return this.#use(async (sql): Promise<HistoryResult> => {
      if (query.accountId !== undefined) {
        const account = await findAccount(sql, query.accountId);
        if (account === undefined || account.owner !== owner) return { code: "account_not_found" };
      }
      const accountId = query.accountId ?? null;
      const beforeEntry = query.beforeEntry ?? null;
      const rows = await sql<HistoryRow[]>`
        SELECT p.entry, j.transfer_id, j.kind, p.account_id, p.amount_minor, j.created_at,
          CASE WHEN p.account_id = j.source_account_id THEN j.target_account_id ELSE j.source_account_id END
            AS counterparty
        FROM postings p JOIN journal j ON j.entry = p.entry JOIN accounts a ON a.id = p.account_id
        WHERE a.owner = ${owner} AND a.kind = 'customer'
          AND (${accountId}::text IS NULL OR p.account_id = ${accountId})
          AND (${beforeEntry}::bigint IS NULL OR p.entry < ${beforeEntry})
        ORDER BY p.entry DESC, p.account_id COLLATE "C" LIMIT ${query.limit}`;
      assert(rows.length <= query.limit, "History must fit its page");
      return { code: "ok", items: rows.map(toHistoryItem) };
    });
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
      return await this.#write((tx) => this.#commitContactsPlanned(tx, updates, deadlineMs));
    } catch (error) {
      if (!isDataError(error)) throw error;
      return await this.#write(async (tx) => {
        // Every owner locked up front, in the order planned batches use, so the two never deadlock.
        await Promise.all([setLockTimeout(tx, deadlineMs), lockContacts(tx, updates, this.#now())]);
        const outcomes: Settled<ContactResult>[] = [];
        for (const update of updates) {
          try {
            outcomes.push({
              ok: true,
              value: await tx.savepoint((savepoint) => this.#updateContactIn(savepoint, update)),
            });
          } catch (error) {
            if (isAssertionFailure(error)) throw error;
            outcomes.push({ ok: false, error });
          }
        }
        checkDeadline(deadlineMs);
        return outcomes;
      });
    }
  }

  async #commitContactsPlanned(
    tx: Transaction,
    updates: readonly ContactUpdate[],
    deadlineMs: number,
  ): Promise<Settled<ContactResult>[]> {
    const at = this.#now();
    const [, records] = await Promise.all([setLockTimeout(tx, deadlineMs), lockContacts(tx, updates, at)]);
    const owners = [...records.keys()];
    const results: ContactResult[] = [];
    const history: { owner: string; fields: string; record: ContactRecord }[] = [];
    for (const { owner, details } of updates) {
      const plan = judgeContactUpdate(records.get(owner), details);
      records.set(owner, plan.after);
      if (plan.history !== null) {
        history.push({ owner, fields: plan.changed.join(","), record: plan.history });
      }
      results.push({ code: "ok", changed: plan.changed });
    }
    const field = (from: ContactRecord[], name: ContactField) => from.map((record) => record[name]);
    const finals = owners.map((owner) => records.get(owner)!);
    const kept = history.map((entry) => entry.record);
    await Promise.all([
      tx`UPDATE contacts c SET email = u.email, phone = u.phone, address = u.address, updated_at = ${at}
        FROM unnest(${owners}::text[], ${field(finals, "email")}::text[], ${field(finals, "phone")}::text[],
          ${field(finals, "address")}::text[]) AS u(owner, email, phone, address)
        WHERE c.owner = u.owner`,
      history.length === 0 ? undefined : tx`
        INSERT INTO contact_changes (owner, fields, email, phone, address, changed_at)
        SELECT owner, fields, email, phone, address, ${at}
        FROM unnest(${history.map((entry) => entry.owner)}::text[], ${
        history.map((entry) => entry.fields)
      }::text[],
          ${field(kept, "email")}::text[], ${field(kept, "phone")}::text[], ${field(kept, "address")}::text[])
          WITH ORDINALITY AS h(owner, fields, email, phone, address, ord)
        ORDER BY ord`,
    ]);
    checkDeadline(deadlineMs);
    return results.map((value) => ({ ok: true, value }));
  }

  /** One contact update on its own, inside a transaction: the fallback when a batch's write is refused. */
  async #updateContactIn(tx: Query, { owner, details }: ContactUpdate): Promise<ContactResult> {
    const at = this.#now();
    // Make sure a row exists, then lock it: concurrent updates of one owner take turns.
    await tx`
      INSERT INTO contacts (owner, updated_at) VALUES (${owner}, ${at}) ON CONFLICT (owner) DO NOTHING`;
    const [current] = await tx<ContactRecord[]>`
      SELECT email, phone, address FROM contacts WHERE owner = ${owner} FOR UPDATE`;
    assert(current !== undefined, `Contact row of ${owner} must exist`);
    const { changed, after, history } = judgeContactUpdate(current, details);
    await tx`
      UPDATE contacts SET email = ${after.email}, phone = ${after.phone}, address = ${after.address},
        updated_at = ${at}
      WHERE owner = ${owner}`;
    if (history === null) return { code: "ok", changed };
    await tx`
      INSERT INTO contact_changes (owner, fields, email, phone, address, changed_at)
      VALUES (${owner}, ${changed.join(",")}, ${history.email}, ${history.phone}, ${history.address}, ${at})`;
    return { code: "ok", changed };
  }

  contactHistory(owner: string, query: { limit: number }): Promise<ContactChange[]> {
    assert(Number.isInteger(query.limit), `Page of ${query.limit} must be an integer`);
    assert(
      query.limit >= 1 && query.limit <= CONTACT_HISTORY_PAGE_MAX,
      `Page of ${query.limit} is out of range`,
    );
    return this.#use(async (sql) => {
      const rows = await sql<{ fields: string; changed_at: Date }[]>`
        SELECT fields, changed_at FROM contact_changes WHERE owner = ${owner}
        ORDER BY id DESC LIMIT ${query.limit}`;
      return rows.map((row) => ({
        changed: row.fields.split(",").filter((field) => field !== "") as ContactField[],
        at: row.changed_at,
      }));
    });
  }

  lookupIdentity(name: string): Promise<{ authKey: Uint8Array; generation: number } | null> {
    return this.#use(async (sql) => {
      const [row] = await sql<IdentityKeyRow[]>`
        SELECT auth_key, generation FROM identities WHERE name = ${name} AND status = 'active'`;
      return row === undefined ? null : toIdentityKey(row);
    });
  }

  addIdentity(name: string, authKey: Uint8Array): Promise<"ok" | "exists"> {
    return this.#write(async (tx): Promise<"ok" | "exists"> => {
      await lockIdentities(tx);
      const [existing] = await tx`SELECT name FROM identities WHERE name = ${name}`;
      if (existing !== undefined) return "exists";
      const now = this.#now();
      await tx`
        INSERT INTO identities (name, auth_key, status, generation, change_seq, created_at, updated_at)
        VALUES (${name}, ${encodeAuthKey(authKey)}, 'active', 1,
          (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM identities), ${now}, ${now})`;
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
    return this.#write(async (tx): Promise<"ok" | "not_found"> => {
      await lockIdentities(tx);
      const rows = await tx`
        UPDATE identities SET auth_key = COALESCE(${
        change.authKey ?? null
      }::text, auth_key), status = ${change.status},
          generation = generation + 1, change_seq = (SELECT MAX(change_seq) + 1 FROM identities),
          updated_at = ${this.#now()}
        WHERE name = ${name} AND status = 'active' RETURNING name`;
      assert(rows.length <= 1, `Identity ${name} must be one row`);
      return rows.length === 1 ? "ok" : "not_found";
    });
  }

  listIdentities(query: { limit: number; after?: string }): Promise<IdentityRecord[]> {
    assert(
      query.limit >= 1 && query.limit <= IDENTITIES_PAGE_MAX,
      `Identity page of ${query.limit} is out of range`,
    );
    return this.#use(async (sql) => {
      const rows = await sql<IdentityRow[]>`
        SELECT * FROM identities WHERE name > ${query.after ?? ""} ORDER BY name LIMIT ${query.limit}`;
      return rows.map(toIdentityRecord);
    });
  }

  countIdentities(): Promise<number> {
    return this.#use(async (sql) => {
      const [row] = await sql<{ n: bigint }[]>`SELECT COUNT(*) AS n FROM identities`;
      return Number(row?.n ?? 0n);
    });
  }

  identityChangesSince(cursor: number, query: { limit: number }): Promise<IdentityChanges> {
    assert(
      query.limit >= 1 && query.limit <= IDENTITIES_PAGE_MAX,
      `Change page of ${query.limit} is out of range`,
    );
    return this.#use(async (sql) => {
      const rows = await sql<IdentityRow[]>`
        SELECT name, status, generation, change_seq, created_at, updated_at FROM identities
        WHERE change_seq > ${cursor} ORDER BY change_seq LIMIT ${query.limit}`;
      return toIdentityChanges(cursor, rows);
    });
  }

  ping(): Promise<void> {
    return this.#use(async (sql) => {
      await sql`SELECT 1 AS one`;
    });
  }

  verify(): Promise<VerifyReport> {
    assert(!this.#closed, "Cannot use a closed ledger");
    // One snapshot for every query, so transfers committing meanwhile cannot look like mismatches.
    return this.#sql.begin("isolation level repeatable read read only", async (tx) => {
      const facts = await gatherFacts(tx);
      return reportFromFacts(facts);
    });
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

/** Creates the bounded pool; no connection is made until the first query. */
function connect(url: string, poolMax: number): Database {
  return postgres(url, {
    max: poolMax,
    connect_timeout: DATABASE_CONNECT_TIMEOUT_S,
    keep_alive: DATABASE_KEEPALIVE_S,
    // Reconnect quickly after an outage (postgres.js waits up to 20 s by default), never faster than 50 ms.
    backoff: (attempt: number) => Math.min(DATABASE_BACKOFF_S_MIN * 2 ** attempt, DATABASE_BACKOFF_S_MAX),
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: {
      application_name: "bank-server",
      statement_timeout: DATABASE_STATEMENT_TIMEOUT_MS,
      // A stalled process must not hold row locks forever.
      idle_in_transaction_session_timeout: DATABASE_STATEMENT_TIMEOUT_MS,
      // Durability is not left to the server's configuration.
      synchronous_commit: "on",
    },
  });
}

/** Locks the given accounts in id order (the one order every transaction uses) and returns them by id. */
async function lockAccounts(tx: Query, ids: readonly string[]): Promise<Map<string, Account>> {
  assert(ids.length >= 1 && ids.length <= 2, `Cannot lock ${ids.length} accounts at once`);
  const rows = await tx<AccountRow[]>`
    SELECT * FROM accounts WHERE id IN ${tx(ids)} ORDER BY id COLLATE "C" FOR UPDATE`;
  assert(rows.length <= ids.length, "Each locked account must be one row");
  return new Map(rows.map((row) => [row.id, toAccount(row)]));
}

async function findAccount(sql: Query, id: string): Promise<Account | undefined> {
  const [row] = await sql<AccountRow[]>`SELECT * FROM accounts WHERE id = ${id}`;
  return row === undefined ? undefined : toAccount(row);
}

async function findTransferIn(
  sql: Query,
  identity: string,
  idempotencyKey: string,
): Promise<Transfer | null> {
  const rows = await sql<JournalRow[]>`
    SELECT * FROM journal WHERE identity = ${identity} AND idempotency_key = ${idempotencyKey}`;
  assert(rows.length <= 1, `Key ${idempotencyKey} of ${identity} must name one transfer`);
  const [row] = rows;
  return row === undefined ? null : toTransfer(row);
}

/** Reads, in one snapshot, everything {@link reportFromFacts} judges. Problem lists are bounded. */
async function gatherFacts(tx: Query): Promise<VerifyFacts> {
  const [totals] = await tx<{ accounts: bigint; entries: bigint; total: bigint }[]>`
    SELECT COUNT(*) AS accounts, COALESCE(SUM(balance_minor), 0)::bigint AS total,
      (SELECT COUNT(*) FROM journal) AS entries
    FROM accounts`;
  assert(totals !== undefined, "Totals must be one row");
  const mismatches = await tx<{ id: string; balance_minor: bigint; posted: bigint }[]>`
    SELECT a.id, a.balance_minor, COALESCE(SUM(p.amount_minor), 0)::bigint AS posted
    FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id
    HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0)
    ORDER BY a.id COLLATE "C" LIMIT ${PROBLEM_ROWS_MAX}`;
  const unbalanced = await tx<{ entry: bigint; postings: bigint; total: bigint }[]>`
    SELECT j.entry, COUNT(p.account_id) AS postings, COALESCE(SUM(p.amount_minor), 0)::bigint AS total
    FROM journal j LEFT JOIN postings p ON p.entry = j.entry GROUP BY j.entry
    HAVING COUNT(p.account_id) <> 2 OR COALESCE(SUM(p.amount_minor), 0) <> 0
      OR SUM(CASE WHEN p.account_id = j.target_account_id THEN p.amount_minor ELSE 0 END) <> j.amount_minor
    ORDER BY j.entry LIMIT ${PROBLEM_ROWS_MAX}`;
  const negative = await tx<{ id: string }[]>`
    SELECT id FROM accounts WHERE kind = 'customer' AND balance_minor < 0
    ORDER BY id COLLATE "C" LIMIT ${PROBLEM_ROWS_MAX}`;
  assert(typeof totals.total === "bigint", "The total of all balances must be a bigint");
  return {
    accounts: Number(totals.accounts),
    entries: Number(totals.entries),
    totalMinor: totals.total,
    balanceMismatches: mismatches.map((row) => ({
      accountId: row.id,
      balanceMinor: asMinor(row.balance_minor),
      postedMinor: asMinor(row.posted),
    })),
    unbalancedEntries: unbalanced.map((row) => ({
      entry: row.entry,
      postings: Number(row.postings),
      sumMinor: asMinor(row.total),
    })),
    negativeAccounts: negative.map((row) => row.id),
  };
}

/** Tells whether a failed transaction lost a race and may simply run again. */
/**
 * Serializes identity writes across every server process, so change numbers are handed out in commit
 * order and a reader following them never skips one.
 */
async function lockIdentities(tx: Query): Promise<void> {
  await tx`LOCK TABLE identities IN SHARE ROW EXCLUSIVE MODE`;
}

/** Tells whether a write tripped over a transfer journaled under the same key by another transaction. */
function isIdempotencyConflict(error: unknown): boolean {
  return error instanceof postgres.PostgresError && error.code === UNIQUE_VIOLATION_STATE &&
    error.constraint_name === IDEMPOTENCY_CONSTRAINT;
}

/** Tells whether a statement failed on the data it was given (SQLSTATE classes 22 and 23). */
function isDataError(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError) || isConflict(error)) return false;
  return error.code.startsWith("22") || error.code.startsWith("23");
}

function isConflict(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError)) return false;
  if (RETRY_STATES.includes(error.code)) return true;
  return isIdempotencyConflict(error);
}

/** Where a URL points, without user or password, and the secrets to scrub from any error. */
function describeTarget(url: string): { location: string; secrets: string[] } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") return null;
  const port = parsed.port === "" ? "5432" : parsed.port;
  const secrets = [parsed.password, safeDecode(parsed.password)].filter((secret) => secret !== "");
  return { location: `postgres://${parsed.hostname}:${port}${parsed.pathname}`, secrets };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** An error's message with every secret replaced. */
function redact(error: unknown, secrets: readonly string[]): string {
  let message = describe(error);
  for (const secret of secrets) message = message.replaceAll(secret, "***");
  return message;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

function sleep(milliseconds: number): Promise<void> {
  assert(
    milliseconds >= 0 && milliseconds <= LEDGER_RETRY_DELAY_MS_MAX,
    `Delay ${milliseconds} is out of range`,
  );
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
