/**
 * The contact updates of PostgreSQL: a planned batch (the usual way) and one update on its own (the
 * fallback in a savepoint when the database refuses a batch's write). The rule they apply is
 * `judgeContactUpdate`, shared with SQLite.
 *
 * @module
 */
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import { checkDeadline } from "./group_commit.ts";
import type { Settled } from "./group_commit.ts";
import type { ContactField, ContactResult } from "./ledger.ts";
import { lockContacts, setLockTimeout } from "./postgres_batch.ts";
import type { ContactUpdate } from "./postgres_batch.ts";
import type { Query, Transaction } from "./postgres_sql.ts";
import { judgeContactUpdate } from "./rules.ts";
import type { ContactRecord } from "./rules.ts";

/**
 * A batch of contact updates in a fixed number of round trips: every owner's record created if missing and
 * locked in owner order, the updates judged in order in memory by the shared rule, and the records and
 * history rows written in two statements sent together.
 */
export async function commitContactsPlanned(
  tx: Transaction,
  updates: readonly ContactUpdate[],
  when: { at: Date; deadlineMs: number },
): Promise<Settled<ContactResult>[]> {
  const { at, deadlineMs } = when;
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
export async function updateContactIn(
  tx: Query,
  parts: { update: ContactUpdate; at: Date },
): Promise<ContactResult> {
  const { update: { owner, details }, at } = parts;
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

/**
 * The fallback when a planned batch of contact updates was refused: every owner locked up front, in the
 * order planned batches use (so the two never deadlock), then each update in its own savepoint.
 */
export async function commitContactsBySavepoints(
  tx: Transaction,
  updates: readonly ContactUpdate[],
  options: { now: () => Date; deadlineMs: number },
): Promise<Settled<ContactResult>[]> {
  await Promise.all([setLockTimeout(tx, options.deadlineMs), lockContacts(tx, updates, options.now())]);
  const outcomes: Settled<ContactResult>[] = [];
  for (const update of updates) {
    try {
      outcomes.push({
        ok: true,
        value: await tx.savepoint((savepoint) => updateContactIn(savepoint, { update, at: options.now() })),
      });
    } catch (error) {
      if (isAssertionFailure(error)) throw error;
      outcomes.push({ ok: false, error });
    }
  }
  checkDeadline(options.deadlineMs);
  return outcomes;
}
