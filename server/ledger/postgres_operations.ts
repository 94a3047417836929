/**
 * The PostgreSQL side of accounts, entries and holds: accounts read (and locked, in id order) with what
 * their active holds reserve, the one way a single entry is written (balances, journal row, postings in one
 * round trip, then its chain link), and the reads and writes of holds, captures, voids, reversals and
 * refunds that `operations.ts` judges. Locks are taken hold first, then accounts in id order; transfers
 * lock accounts only, so no two transactions wait on each other in a cycle.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { appendPostgresChain } from "./postgres_chain.ts";
import { chainEntryOf } from "./chain.ts";
import type { EntryToWrite } from "./chain.ts";
import { captureKeyOf } from "./operations.ts";
import type { CaptureState, HoldState, JournaledEntry, OperationPlan, ReversalState } from "./operations.ts";
import { toAccount, toHold, toJournaledEntry } from "./rows.ts";
import type { AccountRow, HoldRow } from "./rows.ts";
import type { Account, CaptureInput, EntryLink, Hold, HoldInput, ReversalInput } from "./ledger.ts";
import type { Query } from "./postgres_sql.ts";

/** An account's `held_minor` at `now` (the ledger's clock), as a fragment over the alias `a`. */
export function heldMinor(tx: Query, now: Date) {
  return tx`CAST(COALESCE((SELECT SUM(h.amount_minor) FROM holds h
    WHERE h.source_account_id = a.id AND h.status = 'pending' AND h.expires_at > ${now}), 0) AS BIGINT)`;
}

/** Locks the given accounts in id order (the one order every transaction uses) and returns them by id. */
export async function lockAccounts(
  tx: Query,
  ids: readonly string[],
  now: Date,
): Promise<Map<string, Account>> {
  assert(ids.length >= 1 && ids.length <= 2, `Cannot lock ${ids.length} accounts at once`);
  const rows = await tx<AccountRow[]>`
    SELECT a.*, ${heldMinor(tx, now)} AS held_minor FROM accounts a
    WHERE a.id IN ${tx(ids)} ORDER BY a.id COLLATE "C" FOR UPDATE OF a`;
  assert(rows.length <= ids.length, "Each locked account must be one row");
  return new Map(rows.map((row) => [row.id, toAccount(row)]));
}

export async function findAccount(sql: Query, id: string, now: Date): Promise<Account | undefined> {
  const [row] = await sql<AccountRow[]>`
    SELECT a.*, ${heldMinor(sql, now)} AS held_minor FROM accounts a WHERE a.id = ${id}`;
  return row === undefined ? undefined : toAccount(row);
}

type Row = Record<string, unknown>;

/** Entry number `entry`, with its link. */
export async function findEntryAt(sql: Query, entry: bigint): Promise<JournaledEntry | null> {
  const [row] = await sql<Row[]>`SELECT j.*, c.hash FROM journal j JOIN journal_chain c ON c.entry = j.entry
    WHERE j.entry = ${entry}`;
  return toJournaledEntry(row);
}

/** The entry journaled under a caller's key, with its link. */
export async function findEntryByKey(
  tx: Query,
  identity: string,
  key: string,
): Promise<JournaledEntry | null> {
  const [row] = await tx<Row[]>`SELECT j.*, c.hash FROM journal j JOIN journal_chain c ON c.entry = j.entry
    WHERE j.identity = ${identity} AND j.idempotency_key = ${key}`;
  return toJournaledEntry(row);
}

/**
 * Writes one entry, its accounts locked already: both balances (the debit only if the source can pay, a
 * system account always), the journal row and its two postings in one round trip, then its chain link.
 */
export async function writePostgresEntry(
  tx: Query,
  entry: EntryToWrite,
): Promise<EntryLink> {
  const { transfer } = entry;
  assert(transfer.amountMinor > 0n, `Journal amount ${transfer.amountMinor} must be positive`);
  const [row] = await tx<
    { source_after: bigint | null; credited: bigint; entry: bigint | null; postings: bigint }[]
  >`
    WITH debit AS (
      UPDATE accounts SET balance_minor = balance_minor - ${transfer.amountMinor}
      WHERE id = ${transfer.sourceAccountId} AND (kind = 'system' OR balance_minor >= ${transfer.amountMinor})
      RETURNING balance_minor
    ), credit AS (
      UPDATE accounts SET balance_minor = balance_minor + ${transfer.amountMinor}
      WHERE id = ${transfer.targetAccountId}
      RETURNING balance_minor
    ), journaled AS (
      INSERT INTO journal (transfer_id, kind, identity, idempotency_key, source_account_id,
        target_account_id, amount_minor, created_at, hold_id, original_entry, reason)
      SELECT ${transfer.id}, ${entry.kind}, ${transfer.identity}, ${transfer.idempotencyKey},
        ${transfer.sourceAccountId}, ${transfer.targetAccountId}, ${transfer.amountMinor}, ${transfer.createdAt},
        ${entry.holdId ?? null}, ${entry.originalEntry ?? null}, ${entry.reason ?? null}
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
    `Debit of ${transfer.sourceAccountId} must change one row`,
  );
  assert(row.credited === 1n, `Credit of ${transfer.targetAccountId} must change one row`);
  assert(typeof row.entry === "bigint", "Journal insert must return its entry");
  assert(row.postings === 2n, `Entry ${row.entry} must have two postings`);
  const [link] = await appendPostgresChain(tx, [chainEntryOf(row.entry, entry)]);
  assert(link !== undefined, "An entry gets its link");
  return link;
}

/** Locks a hold's row; null when there is none. */
export async function lockHold(tx: Query, holdId: string): Promise<Hold | null> {
  const [row] = await tx<HoldRow[]>`SELECT * FROM holds WHERE hold_id = ${holdId} FOR UPDATE`;
  return row === undefined ? null : toHold(row);
}

export async function postgresHoldState(tx: Query, input: HoldInput, now: Date): Promise<HoldState> {
  let sourceId = input.sourceAccountId;
  if (sourceId === undefined) {
    const [oldest] = await tx<{ id: string }[]>`
      SELECT id FROM accounts WHERE owner = ${input.identity} AND kind = 'customer' ORDER BY seq LIMIT 1`;
    sourceId = oldest?.id;
  }
  const ids = [...new Set([input.targetAccountId, ...(sourceId === undefined ? [] : [sourceId])])];
  const [accounts, [previous]] = await Promise.all([
    lockAccounts(tx, ids, now),
    tx<
      HoldRow[]
    >`SELECT * FROM holds WHERE identity = ${input.identity} AND idempotency_key = ${input.idempotencyKey}`,
  ]);
  return {
    previous: previous === undefined ? null : toHold(previous),
    source: sourceId === undefined ? undefined : accounts.get(sourceId),
    target: accounts.get(input.targetAccountId),
  };
}

export async function postgresCaptureState(tx: Query, input: CaptureInput, now: Date): Promise<CaptureState> {
  const hold = await lockHold(tx, input.holdId);
  if (hold === null) return { hold: null, capture: null, source: undefined, target: undefined };
  const [accounts, capture] = await Promise.all([
    lockAccounts(tx, [hold.sourceAccountId, hold.targetAccountId], now),
    findEntryByKey(tx, hold.identity, captureKeyOf(hold.id)),
  ]);
  return {
    hold,
    capture,
    source: accounts.get(hold.sourceAccountId),
    target: accounts.get(hold.targetAccountId),
  };
}

export async function postgresReversalState(
  tx: Query,
  input: ReversalInput,
  now: Date,
): Promise<ReversalState> {
  const [[named], previous] = await Promise.all([
    tx<Row[]>`SELECT j.*, c.hash FROM journal j JOIN journal_chain c ON c.entry = j.entry
      WHERE j.transfer_id = ${input.transferId}`,
    findEntryByKey(tx, input.identity, input.idempotencyKey),
  ]);
  const found = toJournaledEntry(named);
  const original = found === null
    ? null
    : { transfer: found.transfer, kind: found.kind, entry: found.link.entry };
  if (original === null) return { previous, original, reversedMinor: 0n, payer: undefined, payee: undefined };
  const { sourceAccountId, targetAccountId } = original.transfer;
  // The original's accounts are locked before its reversals are summed: two reversals of it take turns.
  const accounts = await lockAccounts(tx, [sourceAccountId, targetAccountId], now);
  const [reversed] = await tx<{ total: bigint }[]>`
    SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total FROM journal WHERE original_entry = ${original.entry}`;
  return {
    previous,
    original,
    reversedMinor: reversed?.total ?? 0n,
    payer: accounts.get(targetAccountId),
    payee: accounts.get(sourceAccountId),
  };
}

/** Writes what an operation planned; returns the link of its entry, if it journaled one. */
export async function applyPostgresPlan(tx: Query, plan: OperationPlan): Promise<EntryLink | null> {
  const link = plan.entry === null ? null : await writePostgresEntry(tx, plan.entry);
  if (plan.newHold !== null) {
    const h = plan.newHold;
    await tx`INSERT INTO holds (hold_id, identity, idempotency_key, source_account_id, target_account_id,
        amount_minor, status, expires_at, created_at)
      VALUES (${h.id}, ${h.identity}, ${h.idempotencyKey}, ${h.sourceAccountId}, ${h.targetAccountId},
        ${h.amountMinor}, 'pending', ${h.expiresAt}, ${h.createdAt})`;
  }
  if (plan.settle !== null) {
    const { holdId, status, at } = plan.settle;
    assert((status === "captured") === (link !== null), "A hold is captured by its entry");
    const settled = await tx`UPDATE holds SET status = ${status}, settled_at = ${at},
        capture_entry = ${link?.entry ?? null} WHERE hold_id = ${holdId} AND status = 'pending'`;
    assert(settled.count === 1, `Hold ${holdId} must be pending to settle`);
  }
  return link;
}
