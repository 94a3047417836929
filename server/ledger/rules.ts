/**
 * The decisions every ledger store makes the same way, kept apart from SQL so both stores share them:
 * the order of a transfer's checks, what an idempotent replay returns, and how a verification reads.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { isAccountId } from "../../protocol/messages.ts";
import { BALANCE_MINOR_MAX, TRANSFER_MINOR_MAX } from "../../protocol/limits.ts";
import { ACCOUNTS_PER_OWNER_MAX, ISSUANCE_MINOR_MAX } from "./limits.ts";
import { randomBytes, toBase64Url } from "../../lib/bytes.ts";
import { newUuidV7 } from "../../lib/uuid.ts";
import { BANK_OWNER, EXTERNAL_ACCOUNT_ID } from "./ledger.ts";
import type { ChainCheck } from "./chain.ts";
import type {
  Account,
  ContactDetails,
  ContactField,
  EntryLink,
  Transfer,
  TransferFailureCode,
  TransferInput,
  TransferResult,
  VerifyReport,
} from "./ledger.ts";

const GENERATED_ID_BYTES = 6;

/** A transfer's result as the rules judge it, before the store links what it journaled into the chain. */
export type PlannedResult =
  | { code: "ok" | "exists"; transfer: Transfer }
  | { code: TransferFailureCode };

/**
 * The results of a written plan, each accepted or replayed transfer with its link in the chain (those the
 * plan wrote, and those journaled before).
 */
export function linkResults(
  results: readonly PlannedResult[],
  links: ReadonlyMap<string, EntryLink>,
): TransferResult[] {
  return results.map((result): TransferResult => {
    if (result.code !== "ok" && result.code !== "exists") return { code: result.code };
    const link = links.get(result.transfer.id);
    assert(link !== undefined, `Transfer ${result.transfer.id} is linked in the chain`);
    return { code: result.code, transfer: result.transfer, link };
  });
}

/** What an earlier transfer under the same key means for this one: a replay or a conflict. */
export function judgeReplay(previous: Transfer, input: TransferInput): PlannedResult {
  assert(previous.identity === input.identity, "Idempotency keys are scoped to their caller");
  assert(previous.idempotencyKey === input.idempotencyKey, "A replay must have the same key");
  const sourceMatches = input.sourceAccountId === undefined ||
    input.sourceAccountId === previous.sourceAccountId;
  const same = sourceMatches && previous.targetAccountId === input.targetAccountId &&
    previous.amountMinor === input.amountMinor;
  return same ? { code: "exists", transfer: previous } : { code: "key_reused_with_other_fields" };
}

/** Checks that need no account: run before any row is read or locked. */
export function judgeAmount(
  input: Pick<TransferInput, "sourceAccountId" | "targetAccountId" | "amountMinor">,
): TransferFailureCode | null {
  if (input.amountMinor <= 0n) return "amount_must_be_positive";
  if (input.amountMinor > TRANSFER_MINOR_MAX) return "amount_over_limit";
  if (input.sourceAccountId === input.targetAccountId) return "accounts_must_differ";
  return null;
}

/**
 * Checks on the two (locked) accounts, in a fixed order. `source` is the caller's account, or undefined
 * when the caller owns no such account; a system account is never a party to a customer transfer.
 */
export function judgeAccounts(
  input: Pick<TransferInput, "identity" | "targetAccountId" | "amountMinor">,
  accounts: { source: Account | undefined; target: Account | undefined },
): TransferFailureCode | null {
  const { source, target } = accounts;
  if (source === undefined || source.owner !== input.identity || source.kind !== "customer") {
    return "account_not_found";
  }
  if (source.id === input.targetAccountId) return "accounts_must_differ";
  if (target === undefined || target.kind !== "customer") return "account_not_found";
  if (source.status === "frozen" || target.status === "frozen") return "account_frozen";
  if (source.balanceMinor - source.heldMinor < input.amountMinor) return "insufficient_funds";
  assert(
    target.balanceMinor + input.amountMinor <= BALANCE_MINOR_MAX,
    `Issuance caps ${target.id}'s balance`,
  );
  return null;
}

/** Everything a batch of transfers is judged against, read while its accounts are locked. */
export interface BatchState {
  /** Every account the batch may touch, by id; absent ids do not exist. */
  accounts: ReadonlyMap<string, Account>;
  /** Each caller's oldest customer account, which pays when the caller names no source. */
  oldestAccountOf: ReadonlyMap<string, string>;
  /** Transfers already journaled under the batch's (identity, key) pairs. */
  previous: readonly Transfer[];
}

/** A batch judged in memory: one result per input, and the writes that make the accepted ones so. */
export interface BatchPlan {
  results: PlannedResult[];
  /** The accepted transfers, in input order, to journal. */
  accepted: Transfer[];
  /** The balance after the batch of every account an accepted transfer touches. */
  balances: Map<string, bigint>;
}

/**
 * Judges a batch of transfers one after the other, exactly as if each ran alone in input order: the same
 * checks in the same order as a single transfer, against balances that include the earlier transfers of
 * the batch, and with a key reused inside the batch answered as a replay. Valid only while every account
 * in `state` stays locked until the plan is written.
 */
export function planTransfers(
  inputs: readonly TransferInput[],
  state: BatchState,
  make: { now: () => Date; newId: () => string },
): BatchPlan {
  const accounts = new Map(state.accounts);
  const journaled = new Map<string, Transfer>();
  const keyOf = (identity: string, key: string) => `${identity}\u0000${key}`;
  for (const transfer of state.previous) {
    journaled.set(keyOf(transfer.identity, transfer.idempotencyKey), transfer);
  }
  const results: PlannedResult[] = [];
  const accepted: Transfer[] = [];
  const balances = new Map<string, bigint>();
  for (const input of inputs) {
    const previous = journaled.get(keyOf(input.identity, input.idempotencyKey));
    if (previous !== undefined) {
      results.push(judgeReplay(previous, input));
      continue;
    }
    const amountProblem = judgeAmount(input);
    if (amountProblem !== null) {
      results.push({ code: amountProblem });
      continue;
    }
    const sourceId = input.sourceAccountId ?? state.oldestAccountOf.get(input.identity);
    const source = sourceId === undefined ? undefined : accounts.get(sourceId);
    const target = accounts.get(input.targetAccountId);
    const problem = judgeAccounts(input, { source, target });
    if (problem !== null) {
      results.push({ code: problem });
      continue;
    }
    assert(source !== undefined, "Judged accounts exist");
    assert(target !== undefined, "Judged accounts exist");
    const transfer: Transfer = {
      id: make.newId(),
      identity: input.identity,
      idempotencyKey: input.idempotencyKey,
      sourceAccountId: source.id,
      targetAccountId: target.id,
      amountMinor: input.amountMinor,
      createdAt: make.now(),
    };
    const sourceAfter = { ...source, balanceMinor: source.balanceMinor - input.amountMinor };
    const targetAfter = { ...target, balanceMinor: target.balanceMinor + input.amountMinor };
    accounts.set(source.id, sourceAfter);
    accounts.set(target.id, targetAfter);
    balances.set(source.id, sourceAfter.balanceMinor);
    balances.set(target.id, targetAfter.balanceMinor);
    journaled.set(keyOf(input.identity, input.idempotencyKey), transfer);
    accepted.push(transfer);
    results.push({ code: "ok", transfer });
  }
  assert(results.length === inputs.length, "A plan answers every input");
  return { results, accepted, balances };
}

/** The contact fields, in the order they are reported. */
export const CONTACT_FIELDS: readonly ContactField[] = ["email", "phone", "address"];

/** A stored contact record; a field never set is null. */
export type ContactRecord = Record<ContactField, string | null>;

/** What one contact update does: the fields it changes, the record after it, and its history row. */
export interface ContactUpdatePlan {
  /** The fields the update names whose value differs, in {@link CONTACT_FIELDS} order. */
  changed: ContactField[];
  after: ContactRecord;
  /** The values of the changed fields (others null), as the history keeps them; null when nothing changed. */
  history: ContactRecord | null;
}

/** Judges a contact update against the current record (undefined when the owner has none yet). */
export function judgeContactUpdate(
  current: ContactRecord | undefined,
  details: ContactDetails,
): ContactUpdatePlan {
  const before = (field: ContactField) => current?.[field] ?? null;
  const changed = CONTACT_FIELDS.filter((field) =>
    details[field] !== undefined && details[field] !== before(field)
  );
  const record = (value: (field: ContactField) => string | null) =>
    Object.fromEntries(CONTACT_FIELDS.map((field) => [field, value(field)])) as ContactRecord;
  return {
    changed,
    after: record((field) => details[field] ?? before(field)),
    history: changed.length === 0
      ? null
      : record((field) => changed.includes(field) ? details[field]! : null),
  };
}

/** A journal entry to write: a deposit from EXTERNAL, or a customer transfer. */
export type JournalEntry = Omit<Transfer, "id" | "createdAt"> & { kind: "deposit" | "transfer" };

/** An account opening judged: refused with its code, or the deposit to journal (null for an empty account). */
export type OpeningPlan =
  | { ok: false; code: "owner_account_limit" | "issuance_over_limit" }
  | { ok: true; deposit: JournalEntry | null };

/**
 * Judges an account opening against the caps (accounts per owner, all money ever deposited: `issuedMinor`
 * is what EXTERNAL has paid out so far, its balance negated) and plans the opening deposit, the one way
 * money enters the bank: from EXTERNAL, under the key `open:ID`.
 */
export function planOpening(
  opening: { accountId: string; ownerAccounts: number; issuedMinor: bigint; depositMinor: bigint },
): OpeningPlan {
  assert(opening.issuedMinor >= 0n, "EXTERNAL can only have paid money out");
  assert(opening.depositMinor >= 0n, `Opening deposit ${opening.depositMinor} must not be negative`);
  if (opening.ownerAccounts >= ACCOUNTS_PER_OWNER_MAX) return { ok: false, code: "owner_account_limit" };
  if (opening.issuedMinor + opening.depositMinor > ISSUANCE_MINOR_MAX) {
    return { ok: false, code: "issuance_over_limit" };
  }
  if (opening.depositMinor === 0n) return { ok: true, deposit: null };
  return {
    ok: true,
    deposit: {
      kind: "deposit",
      identity: BANK_OWNER,
      idempotencyKey: `open:${opening.accountId}`,
      sourceAccountId: EXTERNAL_ACCOUNT_ID,
      targetAccountId: opening.accountId,
      amountMinor: opening.depositMinor,
    },
  };
}

/** Checks a page size a caller of the ledger asked for: a whole number from 1 to `max`. */
export function checkPage(limit: number, page: { max: number; what: string }): void {
  assert(Number.isInteger(limit), `${page.what} page of ${limit} must be a whole number`);
  assert(limit >= 1, `${page.what} page of ${limit} is out of range 1 to ${page.max}`);
  assert(limit <= page.max, `${page.what} page of ${limit} is out of range 1 to ${page.max}`);
}

/** A new account id, `ACC-` and 8 random base64url characters in upper case where letters. */
export function newAccountId(): string {
  const id = `ACC-${toBase64Url(randomBytes(GENERATED_ID_BYTES)).replace(/[-_]/g, "X").toUpperCase()}`;
  assert(isAccountId(id), `Generated account id ${id} must be valid`);
  return id;
}

/**
 * A new transfer id: a time-ordered UUID (version 7), so that the journal's unique index on it grows at its
 * end however deep the store; a random UUID lands anywhere in an index of 10,000,000 of them.
 */
export function newTransferId(): string {
  return newUuidV7();
}

/** Raw facts a store gathers for {@link Ledger.verify}, each a list of offending rows. */
export interface VerifyFacts {
  accounts: number;
  entries: number;
  /** Postings in the store: two for each entry, or some belong to no entry's accounts. */
  postings: number;
  totalMinor: bigint;
  /** Accounts whose stored balance differs from the sum of their postings. */
  balanceMismatches: { accountId: string; balanceMinor: bigint; postedMinor: bigint }[];
  /**
   * Entries whose postings are not one debit of their source and one credit of their target, both of the
   * entry's amount: what each is (null when missing).
   */
  unbalancedEntries: {
    entry: bigint;
    amountMinor: bigint;
    debitMinor: bigint | null;
    creditMinor: bigint | null;
  }[];
  /** Customer accounts below zero. */
  negativeAccounts: string[];
}

/** Turns gathered facts into a report; any problem fails it. */
export function reportFromFacts(facts: VerifyFacts, chain: ChainCheck): VerifyReport {
  const problems = [
    ...facts.balanceMismatches.map((row) =>
      `Account ${row.accountId}: balance ${row.balanceMinor}, postings add up to ${row.postedMinor}`
    ),
    ...facts.unbalancedEntries.map((row) =>
      `Entry ${row.entry}: its source's posting is ${row.debitMinor ?? "missing"} and its target's ` +
      `${row.creditMinor ?? "missing"}, expected ${-row.amountMinor} and ${row.amountMinor}`
    ),
    ...facts.negativeAccounts.map((id) => `Account ${id}: negative balance`),
  ];
  if (facts.postings !== 2 * facts.entries) {
    problems.push(
      `The store holds ${facts.postings} postings, expected 2 for each of its ${facts.entries} entries`,
    );
  }
  if (facts.totalMinor !== 0n) problems.push(`All balances add up to ${facts.totalMinor}, expected 0`);
  if (chain.problem !== null) problems.push(chain.problem);
  return {
    ok: problems.length === 0,
    accounts: facts.accounts,
    entries: facts.entries,
    totalMinor: facts.totalMinor,
    problems,
    // Links verify from position 1 without gaps, so the last one that verified counts them.
    chain: { links: Number(chain.head.position), head: chain.head },
  };
}
