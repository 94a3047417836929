/**
 * The SQLite side of accounts, entries and holds: every account read with what its active holds reserve,
 * the one way an entry is written (journal row, two postings, both balances, its chain link), and the
 * reads and writes of holds, captures, voids, reversals and refunds that `operations.ts` judges. Everything
 * here runs inside the caller's transaction.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { appendSqliteChain } from "./sqlite_chain.ts";
import { uuidBytes } from "../../lib/uuid.ts";
import { sqliteTime, sqliteTransferId } from "./columns.ts";
import { chainEntryOf } from "./chain.ts";
import type { EntryToWrite } from "./chain.ts";
import { captureKeyOf } from "./operations.ts";
import type { CaptureState, HoldState, JournaledEntry, OperationPlan, ReversalState } from "./operations.ts";
import { heldMinorSql, toAccount, toHold, toJournaledEntry } from "./rows.ts";
import type { AccountRow, HoldRow } from "./rows.ts";
import type { Account, CaptureInput, EntryLink, Hold, HoldInput, ReversalInput } from "./ledger.ts";
import type { Row, SqliteDatabase } from "./sqlite_database.ts";

/** Accounts with `held_minor` at the time `?1`; callers add the rest of the statement. */
const ACCOUNTS = `SELECT a.*, ${heldMinorSql("?1")} AS held_minor FROM accounts a`;
const JOURNALED = "SELECT j.*, c.hash FROM journal j JOIN journal_chain c ON c.entry = j.entry";

function account(row: Row | undefined): Account | undefined {
  return row === undefined ? undefined : toAccount(row as unknown as AccountRow);
}

/** The account `id` at `now`. */
export function sqliteAccount(db: SqliteDatabase, id: string, now: Date): Account | undefined {
  return account(db.get(`${ACCOUNTS} WHERE a.id = ?2`, [now.toISOString(), id]));
}

/**
 * An owner's customer accounts, oldest first, at most `limit`. The limit is written into the statement (one
 * per limit the code uses): SQLite plans a bound `LIMIT ?` several times slower on this hot path.
 */
export function sqliteAccountsOf(db: SqliteDatabase, owner: string, limit: number, now: Date): Account[] {
  assert(Number.isSafeInteger(limit) && limit > 0, "An account limit is a positive integer");
  return db.all(`${ACCOUNTS} WHERE a.owner = ?2 AND a.kind = 'customer' ORDER BY a.seq LIMIT ${limit}`, [
    now.toISOString(),
    owner,
  ]).map((row) => account(row)!);
}

/** Accounts by id after `after`, of one owner or all. */
export function sqliteAccountPage(
  db: SqliteDatabase,
  query: { owner?: string; limit: number; after?: string },
  now: Date,
): Account[] {
  return db.all(`${ACCOUNTS} WHERE (?2 IS NULL OR a.owner = ?2) AND a.id > ?3 ORDER BY a.id LIMIT ?4`, [
    now.toISOString(),
    query.owner ?? null,
    query.after ?? "",
    query.limit,
  ]).map((row) => account(row)!);
}

/** The named source, or the caller's oldest customer account. */
function sourceOf(db: SqliteDatabase, input: { identity: string; sourceAccountId?: string }, now: Date) {
  if (input.sourceAccountId !== undefined) return sqliteAccount(db, input.sourceAccountId, now);
  return sqliteAccountsOf(db, input.identity, 1, now)[0];
}

/** Entry number `entry`, with its link. */
export function sqliteEntryAt(db: SqliteDatabase, entry: bigint): JournaledEntry | null {
  return toJournaledEntry(db.get(`${JOURNALED} WHERE j.entry = ?`, [entry]));
}

/** The entry journaled under a caller's key, with its link. */
export function sqliteEntryByKey(db: SqliteDatabase, identity: string, key: string): JournaledEntry | null {
  return toJournaledEntry(
    db.get(`${JOURNALED} WHERE j.identity = ? AND j.idempotency_key = ?`, [identity, key]),
  );
}

/**
 * Writes one entry: the journal row, its two postings, both balances (the debit only if the source can pay,
 * a system account always), and its chain link. Returns the link.
 */
export function writeSqliteEntry(
  db: SqliteDatabase,
  entry: EntryToWrite,
): EntryLink {
  const { transfer } = entry;
  const debited = db.run(
    "UPDATE accounts SET balance_minor = balance_minor - ?1 WHERE id = ?2 AND (kind = 'system' OR balance_minor >= ?1)",
    [transfer.amountMinor, transfer.sourceAccountId],
  );
  assert(debited === 1, `Debit of ${transfer.sourceAccountId} must change one row`);
  const credited = db.run("UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?", [
    transfer.amountMinor,
    transfer.targetAccountId,
  ]);
  assert(credited === 1, `Credit of ${transfer.targetAccountId} must change one row`);
  const number = insertSqliteEntry(db, entry);
  const [link] = appendSqliteChain(db, [chainEntryOf(number, entry)]);
  assert(link !== undefined, "An entry gets its link");
  return link;
}

/**
 * Inserts a journal entry and its two postings and returns its number; the balances are the caller's to
 * move, and the chain the caller's to append (once, for a whole batch).
 */
export function insertSqliteEntry(
  db: SqliteDatabase,
  entry: EntryToWrite,
): bigint {
  const { transfer } = entry;
  const row = db.get(
    `INSERT INTO journal (transfer_id, kind, identity, idempotency_key, source_account_id, target_account_id,
       amount_minor, created_at, hold_id, original_entry, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     RETURNING entry`,
    [
      sqliteTransferId(transfer.id),
      entry.kind,
      transfer.identity,
      transfer.idempotencyKey,
      transfer.sourceAccountId,
      transfer.targetAccountId,
      transfer.amountMinor,
      sqliteTime(transfer.createdAt),
      entry.holdId ?? null,
      entry.originalEntry ?? null,
      entry.reason ?? null,
    ],
  );
  assert(row !== undefined, "Journal insert must return its entry");
  const postings = db.run(
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
  return BigInt(row.entry as number);
}

function hold(row: Row | undefined): Hold | null {
  return row === undefined ? null : toHold(row as unknown as HoldRow);
}

export function sqliteHoldState(db: SqliteDatabase, input: HoldInput, now: Date): HoldState {
  return {
    previous: hold(db.get("SELECT * FROM holds WHERE identity = ? AND idempotency_key = ?", [
      input.identity,
      input.idempotencyKey,
    ])),
    source: sourceOf(db, input, now),
    target: sqliteAccount(db, input.targetAccountId, now),
  };
}

export function sqliteHold(db: SqliteDatabase, holdId: string): Hold | null {
  return hold(db.get("SELECT * FROM holds WHERE hold_id = ?", [holdId]));
}

export function sqliteCaptureState(db: SqliteDatabase, input: CaptureInput, now: Date): CaptureState {
  const found = sqliteHold(db, input.holdId);
  if (found === null) return { hold: null, capture: null, source: undefined, target: undefined };
  return {
    hold: found,
    capture: sqliteEntryByKey(db, found.identity, captureKeyOf(found.id)),
    source: sqliteAccount(db, found.sourceAccountId, now),
    target: sqliteAccount(db, found.targetAccountId, now),
  };
}

export function sqliteReversalState(db: SqliteDatabase, input: ReversalInput, now: Date): ReversalState {
  const previous = sqliteEntryByKey(db, input.identity, input.idempotencyKey);
  // SQLite keeps a transfer id as its 16 bytes; a named id that is no canonical UUID names no transfer.
  const transferId = uuidBytes(input.transferId);
  const named = transferId === null
    ? null
    : toJournaledEntry(db.get(`${JOURNALED} WHERE j.transfer_id = ?`, [transferId]));
  const original = named === null
    ? null
    : { transfer: named.transfer, kind: named.kind, entry: named.link.entry };
  const reversed = original === null ? undefined : db.get(
    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total FROM journal WHERE original_entry = ?",
    [original.entry],
  );
  return {
    previous,
    original,
    reversedMinor: reversed === undefined ? 0n : BigInt(reversed.total as bigint),
    payer: original === null ? undefined : sqliteAccount(db, original.transfer.targetAccountId, now),
    payee: original === null ? undefined : sqliteAccount(db, original.transfer.sourceAccountId, now),
  };
}

/** Writes what an operation planned; returns the link of its entry, if it journaled one. */
export function applySqlitePlan(db: SqliteDatabase, plan: OperationPlan): EntryLink | null {
  const link = plan.entry === null ? null : writeSqliteEntry(db, plan.entry);
  if (plan.newHold !== null) {
    const h = plan.newHold;
    db.run(
      `INSERT INTO holds (hold_id, identity, idempotency_key, source_account_id, target_account_id, amount_minor,
         status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      [
        h.id,
        h.identity,
        h.idempotencyKey,
        h.sourceAccountId,
        h.targetAccountId,
        h.amountMinor,
        h.expiresAt.toISOString(),
        h.createdAt.toISOString(),
      ],
    );
  }
  if (plan.settle !== null) {
    const { holdId, status, at } = plan.settle;
    assert((status === "captured") === (link !== null), "A hold is captured by its entry");
    const settled = db.run(
      "UPDATE holds SET status = ?, settled_at = ?, capture_entry = ? WHERE hold_id = ? AND status = 'pending'",
      [status, at.toISOString(), link?.entry ?? null, holdId],
    );
    assert(settled === 1, `Hold ${holdId} must be pending to settle`);
  }
  return link;
}
