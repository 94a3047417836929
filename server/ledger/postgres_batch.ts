/**
 * The statements a PostgreSQL group commit runs, in a fixed number of round trips whatever the batch's
 * size: lock what the batch may touch, in one order every server uses, read what it is judged against,
 * and write what the shared rules accepted. The ledger (postgres.ts) runs them inside its transactions.
 *
 * @module
 */
import type postgres from "postgres";
import { assert } from "../../lib/assert.ts";
import type { ContactDetails, EntryLink, Transfer, TransferInput } from "./ledger.ts";
import { chainEntryOf } from "./chain.ts";
import type { ChainEntry } from "./chain.ts";
import { judgeReplay } from "./rules.ts";
import type { BatchPlan, BatchState, ContactRecord, PlannedResult } from "./rules.ts";
import { heldMinor } from "./postgres_operations.ts";
import { toAccount, toLink, toTransfer } from "./rows.ts";
import type { AccountRow, JournalRow } from "./rows.ts";

type Query = postgres.ISql<{ bigint: bigint }>;

/** A contact update waiting for its group commit. */
export interface ContactUpdate {
  owner: string;
  details: ContactDetails;
}

/**
 * Creates the contact record of every owner of a batch that has none, and locks every one, both in owner
 * order (byte order, whatever the names), so that batches on any number of servers never deadlock.
 * Returns the records by owner, in that order.
 */
export async function lockContacts(
  tx: Query,
  updates: readonly ContactUpdate[],
  at: Date,
): Promise<Map<string, ContactRecord>> {
  const owners = [...new Set(updates.map((update) => update.owner))];
  const [, rows] = await Promise.all([
    tx`INSERT INTO contacts (owner, updated_at)
      SELECT owner, ${at} FROM unnest(${owners}::text[]) AS o(owner) ORDER BY owner COLLATE "C"
      ON CONFLICT (owner) DO NOTHING`,
    tx<(ContactRecord & { owner: string })[]>`
      SELECT owner, email, phone, address FROM contacts WHERE owner = ANY(${owners}::text[])
      ORDER BY owner COLLATE "C" FOR UPDATE`,
  ]);
  assert(rows.length === owners.length, "Every owner of the batch must have a contact record");
  return new Map(rows.map(({ owner, ...record }) => [owner, record]));
}

/** Bounds every lock wait of the transaction by the batch's deadline. */
export async function setLockTimeout(tx: Query, deadlineMs: number): Promise<void> {
  const lockWaitMs = Math.max(1, Math.floor(deadlineMs - performance.now()));
  await tx.unsafe(`SET LOCAL lock_timeout = ${lockWaitMs}`);
}

/**
 * Locks, in id order and in one statement, every account a batch may touch (named sources, the oldest
 * account of each caller naming none, targets).
 */
export async function lockBatchState(
  tx: Query,
  inputs: readonly TransferInput[],
  now: Date,
): Promise<Omit<BatchState, "previous">> {
  const callers = new Set(
    inputs.filter((input) => input.sourceAccountId === undefined).map((i) => i.identity),
  );
  const named = new Set(
    inputs.flatMap((input) => [input.targetAccountId, input.sourceAccountId ?? input.targetAccountId]),
  );
  const rows = await tx<(AccountRow & { seq: bigint })[]>`
    WITH oldest AS (
      SELECT DISTINCT ON (owner) id FROM accounts
      WHERE owner = ANY(${[...callers]}::text[]) AND kind = 'customer' ORDER BY owner, seq
    )
    SELECT a.*, ${heldMinor(tx, now)} AS held_minor FROM accounts a
    WHERE a.id = ANY(${[...named]}::text[]) OR a.id IN (SELECT id FROM oldest)
    ORDER BY a.id COLLATE "C" FOR UPDATE OF a`;
  assert(rows.length <= 2 * inputs.length, "A batch touches at most two accounts per transfer");
  const accounts = new Map(rows.map((row) => [row.id, toAccount(row)]));
  const oldestAccountOf = new Map<string, string>();
  const oldestSeq = new Map<string, bigint>();
  for (const row of rows) {
    if (row.kind !== "customer" || !callers.has(row.owner)) continue;
    const seen = oldestSeq.get(row.owner);
    if (seen === undefined || row.seq < seen) {
      oldestSeq.set(row.owner, row.seq);
      oldestAccountOf.set(row.owner, row.id);
    }
  }
  return { accounts, oldestAccountOf };
}

/** A journaled transfer with its link in the chain. */
export interface Linked {
  transfer: Transfer;
  link: EntryLink;
}

/** The transfers of linked ones. */
export function transfersOf(linked: ReadonlyMap<string, Linked>): Transfer[] {
  return [...linked.values()].map((item) => item.transfer);
}

/** The transfers journaled under the keys of `inputs` (each once, however often its key appears), by id. */
export async function findPrevious(
  tx: Query,
  inputs: readonly TransferInput[],
): Promise<Map<string, Linked>> {
  const previous = new Map<string, Linked>();
  if (inputs.length === 0) return previous;
  const rows = await tx<(JournalRow & { entry: bigint; hash: string })[]>`
    SELECT j.*, c.hash FROM journal j JOIN journal_chain c ON c.entry = j.entry
    JOIN unnest(${inputs.map((i) => i.identity)}::text[], ${
    inputs.map((i) => i.idempotencyKey)
  }::text[]) AS k(identity, idempotency_key)
      ON j.identity = k.identity AND j.idempotency_key = k.idempotency_key`;
  for (const row of rows) {
    const transfer = toTransfer(row);
    previous.set(transfer.id, { transfer, link: toLink(row) });
  }
  return previous;
}

/**
 * Journals the accepted transfers of a plan in one statement: their entries, two postings each, and each
 * touched account's balance moved by its net amount. A balance that would not land exactly on the plan's
 * becomes NULL, which the NOT NULL constraint refuses: the statement fails and the transaction with it.
 * Returns the entries as the chain links them.
 */
export async function writeTransfers(tx: Query, plan: BatchPlan): Promise<ChainEntry[]> {
  const { accepted } = plan;
  const column = <T>(pick: (transfer: Transfer) => T) => accepted.map(pick);
  const planned = [...plan.balances];
  const rows = await tx<{ kind: string; id: string | null; value: bigint }[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${column((t) => t.id)}::text[], ${column((t) => t.identity)}::text[],
        ${column((t) => t.idempotencyKey)}::text[], ${column((t) => t.sourceAccountId)}::text[],
        ${column((t) => t.targetAccountId)}::text[], ${column((t) => t.amountMinor.toString())}::bigint[],
        ${column((t) => t.createdAt.toISOString())}::timestamptz[]
      ) WITH ORDINALITY AS t(transfer_id, identity, idempotency_key, source, target, amount, created_at, ord)
    ), journaled AS (
      INSERT INTO journal (transfer_id, kind, identity, idempotency_key, source_account_id,
        target_account_id, amount_minor, created_at)
      SELECT transfer_id, 'transfer', identity, idempotency_key, source, target, amount, created_at
      FROM input ORDER BY ord
      RETURNING entry, transfer_id, source_account_id, target_account_id, amount_minor
    ), posted AS (
      INSERT INTO postings (entry, account_id, amount_minor)
      SELECT entry, source_account_id, -amount_minor FROM journaled
      UNION ALL
      SELECT entry, target_account_id, amount_minor FROM journaled
      RETURNING 1
    ), moved AS (
      UPDATE accounts a
      SET balance_minor = CASE WHEN a.balance_minor + d.delta = d.planned THEN a.balance_minor + d.delta END
      FROM (
        SELECT n.account, n.delta, p.planned FROM (
          SELECT account, SUM(delta)::bigint AS delta FROM (
            SELECT source AS account, -amount AS delta FROM input
            UNION ALL
            SELECT target, amount FROM input
          ) AS deltas GROUP BY account
        ) AS n
        LEFT JOIN unnest(${planned.map(([id]) => id)}::text[], ${
    planned.map(([, balance]) => balance.toString())
  }::bigint[]) AS p(account, planned) ON p.account = n.account
      ) AS d
      WHERE a.id = d.account
      RETURNING a.id, a.balance_minor
    )
    SELECT 'entries' AS kind, NULL AS id, COUNT(*)::bigint AS value FROM journaled
    UNION ALL SELECT 'postings', NULL, COUNT(*)::bigint FROM posted
    UNION ALL SELECT 'balance', id, balance_minor FROM moved
    UNION ALL SELECT 'entry', transfer_id, entry FROM journaled`;
  const count = (kind: string) => rows.find((row) => row.kind === kind)?.value;
  assert(count("entries") === BigInt(accepted.length), "Every accepted transfer must be journaled");
  assert(count("postings") === BigInt(2 * accepted.length), "Every entry must have two postings");
  const entries = new Map(
    rows.flatMap((row) => row.kind === "entry" && row.id !== null ? [[row.id, row.value]] : []),
  );
  assert(entries.size === accepted.length, "Every accepted transfer must have its entry number");
  const balances = rows.filter((row) => row.kind === "balance");
  assert(balances.length === plan.balances.size, "Every touched account must move");
  for (const row of balances) {
    assert(
      row.id !== null && plan.balances.get(row.id) === row.value,
      `Account ${row.id} must end the batch at its planned balance`,
    );
  }
  return accepted.map((transfer) => chainEntryOf(entries.get(transfer.id)!, { kind: "transfer", transfer }));
}

/** Answers each refused input whose key names an earlier transfer as a replay of it. */
export function answerReplays(
  inputs: readonly TransferInput[],
  results: readonly PlannedResult[],
  previous: readonly Transfer[],
): PlannedResult[] {
  if (previous.length === 0) return [...results];
  const byKey = new Map(
    previous.map((transfer) => [`${transfer.identity}\u0000${transfer.idempotencyKey}`, transfer]),
  );
  return results.map((result, index) => {
    const input = inputs[index]!;
    const earlier = byKey.get(`${input.identity}\u0000${input.idempotencyKey}`);
    if (result.code === "ok" || earlier === undefined) return result;
    return judgeReplay(earlier, input);
  });
}
