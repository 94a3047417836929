/**
 * The shared rules of holds, captures, voids, reversals and refunds, kept apart from SQL like `rules.ts`:
 * a store reads the state an operation is judged against (its rows locked), the rules answer at once
 * (a refusal or a replay) or plan the writes, the store writes the plan in the same transaction, and the
 * plan's `answer` turns the entry's link in the chain into the result. Checks run in a fixed order:
 *
 * - hold: replay, amount, accounts, available balance (as a transfer's);
 * - capture: hold (not found, captured (a replay when it asks for the same amount), voided, expired),
 *   amount, accounts;
 * - void: hold (not found, captured, voided (a replay), expired);
 * - reversal and refund: replay, original (not found, not reversible, already reversed), amount,
 *   accounts (a refund only: frozen), the payer's available balance.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { HOLD_EXPIRY_S_MAX, TRANSFER_MINOR_MAX } from "../../protocol/limits.ts";
import { judgeAccounts, judgeAmount } from "./rules.ts";
import type {
  Account,
  CaptureInput,
  CaptureResult,
  EntryKind,
  EntryLink,
  Hold,
  HoldInput,
  HoldResult,
  ReversalInput,
  ReversalResult,
  Transfer,
  VoidInput,
  VoidResult,
} from "./ledger.ts";

/** A journal entry an operation writes: two postings, both balances moved by its amount, one chain link. */
export interface PlannedEntry {
  kind: Exclude<EntryKind, "deposit">;
  transfer: Transfer;
  /** The hold a capture settles. */
  holdId: string | null;
  /** The entry a reversal or refund undoes. */
  originalEntry: bigint | null;
  reason: string | null;
}

/** Everything an operation writes, in this order: the entry, the new hold, the settled hold. */
export interface OperationPlan {
  entry: PlannedEntry | null;
  newHold: Hold | null;
  /** A pending hold that is now captured (by `entry`) or voided. */
  settle: { holdId: string; status: "captured" | "voided"; at: Date } | null;
}

/** An operation judged: answered without writing, or the writes and how their link becomes the answer. */
export type Judged<R> =
  | { done: R }
  | { plan: OperationPlan; answer: (link: EntryLink | null) => R };

/** The clock and id maker a store judges with. */
export interface Makers {
  now: () => Date;
  newId: () => string;
}

/** A journaled entry as a replay needs it. */
export interface JournaledEntry {
  transfer: Transfer;
  link: EntryLink;
  kind: EntryKind;
  /** The entry a reversal or refund undid; null for other kinds. */
  originalEntry: bigint | null;
}

export interface HoldState {
  /** The hold placed earlier under the caller's key. */
  previous: Hold | null;
  /** The named source, or the caller's oldest account; undefined when there is none. */
  source: Account | undefined;
  target: Account | undefined;
}

export interface CaptureState {
  hold: Hold | null;
  /** The hold's capture, when it was captured. */
  capture: JournaledEntry | null;
  source: Account | undefined;
  target: Account | undefined;
}

export interface ReversalState {
  /** The entry journaled earlier under the caller's key. */
  previous: JournaledEntry | null;
  /** The entry named, with its number. */
  original: { transfer: Transfer; kind: EntryKind; entry: bigint } | null;
  /** What reversals and refunds of the original already took back. */
  reversedMinor: bigint;
  /** The original's target, which pays the reversal, and its source, which gets the money back. */
  payer: Account | undefined;
  payee: Account | undefined;
}

/** The key a hold's capture is journaled under: one capture per hold, whatever the requests. */
export function captureKeyOf(holdId: string): string {
  return `capture:${holdId}`;
}

/** Tells whether a hold is pending past its expiry at `now` (so it reserves nothing). */
export function isExpired(hold: Hold, now: Date): boolean {
  return hold.status === "pending" && hold.expiresAt.getTime() <= now.getTime();
}

const NO_WRITES: OperationPlan = { entry: null, newHold: null, settle: null };

/** Judges a hold like a transfer of its amount, against the available balance. */
export function judgeHold(input: HoldInput, state: HoldState, make: Makers): Judged<HoldResult> {
  assert(Number.isInteger(input.expiresInS), "A hold's expiry is whole seconds");
  assert(input.expiresInS >= 1 && input.expiresInS <= HOLD_EXPIRY_S_MAX, "A hold's expiry is in range");
  const { previous } = state;
  if (previous !== null) {
    const same =
      (input.sourceAccountId === undefined || input.sourceAccountId === previous.sourceAccountId) &&
      input.targetAccountId === previous.targetAccountId && input.amountMinor === previous.amountMinor;
    return { done: same ? { code: "exists", hold: previous } : { code: "key_reused_with_other_fields" } };
  }
  const refused = judgeAmount(input) ?? judgeAccounts(input, state);
  if (refused !== null) return { done: { code: refused } };
  assert(state.source !== undefined && state.target !== undefined, "Judged accounts exist");
  const now = make.now();
  const hold: Hold = {
    id: make.newId(),
    identity: input.identity,
    idempotencyKey: input.idempotencyKey,
    sourceAccountId: state.source.id,
    targetAccountId: state.target.id,
    amountMinor: input.amountMinor,
    status: "pending",
    expiresAt: new Date(now.getTime() + input.expiresInS * 1000),
    createdAt: now,
    settledAt: null,
    captureEntry: null,
  };
  return { plan: { ...NO_WRITES, newHold: hold }, answer: () => ({ code: "ok", hold }) };
}

/** Judges a capture of the caller's hold: the whole hold or less, once, before it expires. */
export function judgeCapture(input: CaptureInput, state: CaptureState, make: Makers): Judged<CaptureResult> {
  const { hold } = state;
  if (hold === null || hold.identity !== input.identity) return { done: { code: "hold_not_found" } };
  const amountMinor = input.amountMinor ?? hold.amountMinor;
  if (hold.status === "captured") {
    assert(state.capture !== null, `Captured hold ${hold.id} has its capture`);
    const { transfer, link } = state.capture;
    return {
      done: transfer.amountMinor === amountMinor
        ? { code: "exists", hold, capture: transfer, link }
        : { code: "hold_already_captured" },
    };
  }
  if (hold.status === "voided") return { done: { code: "hold_already_voided" } };
  const now = make.now();
  if (isExpired(hold, now)) return { done: { code: "hold_expired" } };
  if (amountMinor <= 0n) return { done: { code: "amount_must_be_positive" } };
  if (amountMinor > hold.amountMinor) return { done: { code: "capture_exceeds_hold" } };
  const { source, target } = state;
  assert(source !== undefined && target !== undefined, `Hold ${hold.id}'s accounts exist`);
  if (source.status === "frozen" || target.status === "frozen") return { done: { code: "account_frozen" } };
  assert(
    source.balanceMinor - (source.heldMinor - hold.amountMinor) >= amountMinor,
    `Hold ${hold.id} reserved what it captures`,
  );
  const transfer: Transfer = {
    id: make.newId(),
    identity: hold.identity,
    idempotencyKey: captureKeyOf(hold.id),
    sourceAccountId: hold.sourceAccountId,
    targetAccountId: hold.targetAccountId,
    amountMinor,
    createdAt: now,
  };
  const settled: Hold = { ...hold, status: "captured", settledAt: now };
  return {
    plan: {
      entry: { kind: "capture", transfer, holdId: hold.id, originalEntry: null, reason: null },
      newHold: null,
      settle: { holdId: hold.id, status: "captured", at: now },
    },
    answer: (link) => {
      assert(link !== null, "A capture is journaled");
      return { code: "ok", hold: { ...settled, captureEntry: link.entry }, capture: transfer, link };
    },
  };
}

/** Judges a void of the caller's pending hold; a void of a voided hold is its replay. */
export function judgeVoid(input: VoidInput, hold: Hold | null, make: Makers): Judged<VoidResult> {
  if (hold === null || hold.identity !== input.identity) return { done: { code: "hold_not_found" } };
  if (hold.status === "captured") return { done: { code: "hold_already_captured" } };
  if (hold.status === "voided") return { done: { code: "exists", hold } };
  const now = make.now();
  if (isExpired(hold, now)) return { done: { code: "hold_expired" } };
  const voided: Hold = { ...hold, status: "voided", settledAt: now };
  return {
    plan: { ...NO_WRITES, settle: { holdId: hold.id, status: "voided", at: now } },
    answer: () => ({ code: "ok", hold: voided }),
  };
}

/** Judges a reversal (an operator's) or a refund (the recipient's) of a transfer or capture. */
export function judgeReversal(
  input: ReversalInput,
  state: ReversalState,
  make: Makers,
): Judged<ReversalResult> {
  const { previous, original } = state;
  if (previous !== null) return { done: judgeReversalReplay(input, state, previous) };
  const mine = original !== null &&
    (input.kind === "reversal" || state.payer?.owner === input.identity);
  if (!mine) return { done: { code: "transfer_not_found" } };
  if (original.kind !== "transfer" && original.kind !== "capture") {
    return { done: { code: "not_reversible" } };
  }
  const leftMinor = original.transfer.amountMinor - state.reversedMinor;
  assert(leftMinor >= 0n, `Entry ${original.entry} was never reversed past its amount`);
  if (leftMinor === 0n) return { done: { code: "already_reversed" } };
  const amountMinor = input.amountMinor ?? leftMinor;
  if (amountMinor <= 0n) return { done: { code: "amount_must_be_positive" } };
  if (amountMinor > TRANSFER_MINOR_MAX) return { done: { code: "amount_over_limit" } };
  if (amountMinor > leftMinor) return { done: { code: "reversal_exceeds_transfer" } };
  const { payer, payee } = state;
  assert(payer !== undefined && payee !== undefined, `Entry ${original.entry}'s accounts exist`);
  const frozen = payer.status === "frozen" || payee.status === "frozen";
  if (input.kind === "refund" && frozen) return { done: { code: "account_frozen" } };
  if (payer.balanceMinor - payer.heldMinor < amountMinor) return { done: { code: "insufficient_funds" } };
  const transfer: Transfer = {
    id: make.newId(),
    identity: input.identity,
    idempotencyKey: input.idempotencyKey,
    sourceAccountId: payer.id,
    targetAccountId: payee.id,
    amountMinor,
    createdAt: make.now(),
  };
  const entry: PlannedEntry = {
    kind: input.kind,
    transfer,
    holdId: null,
    originalEntry: original.entry,
    reason: input.reason ?? null,
  };
  return {
    plan: { ...NO_WRITES, entry },
    answer: (link) => {
      assert(link !== null, "A reversal is journaled");
      return {
        code: "ok",
        reversal: transfer,
        link,
        original: original.transfer,
        reversedMinor: state.reversedMinor + amountMinor,
      };
    },
  };
}

/** What an earlier entry under the same key means for a reversal: its replay, or a conflict. */
function judgeReversalReplay(
  input: ReversalInput,
  state: ReversalState,
  previous: JournaledEntry,
): ReversalResult {
  const { original } = state;
  const same = previous.kind === input.kind && original !== null &&
    previous.originalEntry === original.entry &&
    (input.amountMinor === undefined || input.amountMinor === previous.transfer.amountMinor);
  if (!same) return { code: "key_reused_with_other_fields" };
  const { transfer, link } = previous;
  return {
    code: "exists",
    reversal: transfer,
    link,
    original: original.transfer,
    reversedMinor: state.reversedMinor,
  };
}
