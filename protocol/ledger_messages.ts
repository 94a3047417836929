/**
 * The structured requests of holds and refunds, and their answers (messages.ts carries them):
 *
 * ```json
 * {"v":1,"id":"r1","op":"hold","to":"ACC-2","amount_minor":"5000","idempotency_key":"h-1","expires_in_s":3600}
 * {"v":1,"id":"r2","op":"capture","hold_id":"…","amount_minor":"4000"}
 * {"v":1,"id":"r3","op":"void","hold_id":"…"}
 * {"v":1,"id":"r4","op":"refund","transfer_id":"…","amount_minor":"1000","idempotency_key":"rf-1"}
 * ```
 *
 * A hold (with `from` optional as in a transfer) reserves money until it is captured, voided or expires;
 * `capture` without an amount takes the whole hold; `refund` without an amount returns what is left of a
 * transfer the caller received. Capture and refund answers carry a receipt (receipt.ts).
 *
 * @module
 */
import {
  HOLD_EXPIRY_S_DEFAULT,
  HOLD_EXPIRY_S_MAX,
  IDEMPOTENCY_KEY_BYTES_MAX,
  LEDGER_ID_BYTES_MAX,
} from "./limits.ts";
import { encodeReceipt, readReceipt } from "./receipt.ts";
import type { Receipt } from "./receipt.ts";

export type LedgerRequest =
  | {
    op: "hold";
    id: string;
    sourceAccountId?: string;
    targetAccountId: string;
    amountMinorText: string;
    idempotencyKey: string;
    expiresInS: number;
  }
  | { op: "capture"; id: string; holdId: string; amountMinorText?: string }
  | { op: "void"; id: string; holdId: string }
  | { op: "refund"; id: string; transferId: string; amountMinorText?: string; idempotencyKey: string };

/** A hold as its answers show it; `holdStatus` is `expired` for a pending hold past its expiry. */
export interface HoldView {
  status: "created" | "exists";
  holdId: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  holdStatus: "pending" | "captured" | "voided" | "expired";
  expiresAt: string;
  createdAt: string;
}

export interface RefundView {
  status: "created" | "exists";
  transferId: string;
  originalTransferId: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  /** All that refunds and reversals took back of the original so far. */
  reversedMinor: bigint;
  createdAt: string;
  receipt: Receipt;
}

export interface LedgerResultOf {
  hold: HoldView;
  capture: HoldView & { captureTransferId: string; capturedMinor: bigint; receipt: Receipt };
  void: HoldView;
  refund: RefundView;
}

/** The wire fields each operation takes besides `v`, `id` and `op`. */
export const LEDGER_FIELDS = {
  hold: ["from", "to", "amount_minor", "idempotency_key", "expires_in_s"],
  capture: ["hold_id", "amount_minor"],
  void: ["hold_id"],
  refund: ["transfer_id", "amount_minor", "idempotency_key"],
} as const;

const TOKEN = /^[\x21-\x7e]+$/;
const DIGITS = /^(0|[1-9][0-9]{0,18})$/;

function isToken(value: unknown, lengthMax: number): value is string {
  return typeof value === "string" && value.length <= lengthMax && TOKEN.test(value);
}

type Decoded = { ok: true; request: LedgerRequest } | { ok: false; message: string };

/**
 * Reads a hold or refund request's fields (accounts of a hold are read by messages.ts); a message naming
 * the first bad field otherwise. Amounts stay text, judged by the handlers like a transfer's.
 */
export function decodeLedgerRequest(
  op: keyof LedgerResultOf,
  id: string,
  fields: Record<string, unknown>,
  accounts: { from?: string; to?: string },
): Decoded {
  const amount = fields.amount_minor;
  if (amount !== undefined && typeof amount !== "string") {
    return { ok: false, message: "amount_minor must be a string of digits" };
  }
  const key = fields.idempotency_key;
  const keyMessage = "idempotency_key must be 1 to 64 printable ASCII characters";
  if (op === "hold") {
    if (accounts.to === undefined) return { ok: false, message: "to must be an account id" };
    if (amount === undefined) return { ok: false, message: "amount_minor must be a string of digits" };
    if (!isToken(key, IDEMPOTENCY_KEY_BYTES_MAX)) return { ok: false, message: keyMessage };
    const expires = fields.expires_in_s ?? HOLD_EXPIRY_S_DEFAULT;
    if (
      typeof expires !== "number" || !Number.isInteger(expires) || expires < 1 || expires > HOLD_EXPIRY_S_MAX
    ) {
      return { ok: false, message: `expires_in_s must be a whole number from 1 to ${HOLD_EXPIRY_S_MAX}` };
    }
    const request: LedgerRequest = {
      op,
      id,
      targetAccountId: accounts.to,
      amountMinorText: amount,
      idempotencyKey: key,
      expiresInS: expires,
    };
    return {
      ok: true,
      request: accounts.from === undefined ? request : { ...request, sourceAccountId: accounts.from },
    };
  }
  if (op === "refund") {
    const transferId = fields.transfer_id;
    if (!isToken(transferId, LEDGER_ID_BYTES_MAX)) {
      return { ok: false, message: "transfer_id must be a transfer id" };
    }
    if (!isToken(key, IDEMPOTENCY_KEY_BYTES_MAX)) return { ok: false, message: keyMessage };
    const request = { op, id, transferId, idempotencyKey: key } as const;
    return { ok: true, request: amount === undefined ? request : { ...request, amountMinorText: amount } };
  }
  const holdId = fields.hold_id;
  if (!isToken(holdId, LEDGER_ID_BYTES_MAX)) return { ok: false, message: "hold_id must be a hold id" };
  if (op === "void") {
    return amount === undefined
      ? { ok: true, request: { op, id, holdId } }
      : { ok: false, message: "a void takes no amount" };
  }
  return {
    ok: true,
    request: amount === undefined ? { op, id, holdId } : { op, id, holdId, amountMinorText: amount },
  };
}

/** A hold or refund request's wire fields. */
export function encodeLedgerRequest(request: LedgerRequest): Record<string, string | number> {
  const amount = (text: string | undefined) => text === undefined ? {} : { amount_minor: text };
  switch (request.op) {
    case "hold":
      return {
        ...(request.sourceAccountId === undefined ? {} : { from: request.sourceAccountId }),
        to: request.targetAccountId,
        amount_minor: request.amountMinorText,
        idempotency_key: request.idempotencyKey,
        expires_in_s: request.expiresInS,
      };
    case "capture":
      return { hold_id: request.holdId, ...amount(request.amountMinorText) };
    case "void":
      return { hold_id: request.holdId };
    case "refund":
      return {
        transfer_id: request.transferId,
        ...amount(request.amountMinorText),
        idempotency_key: request.idempotencyKey,
      };
  }
}

type LedgerResult = { [K in keyof LedgerResultOf]: { op: K } & LedgerResultOf[K] }[keyof LedgerResultOf];

function holdFields(view: HoldView): Record<string, unknown> {
  return {
    status: view.status,
    hold_id: view.holdId,
    from: view.sourceAccountId,
    to: view.targetAccountId,
    amount_minor: view.amountMinor.toString(),
    hold_status: view.holdStatus,
    expires_at: view.expiresAt,
    created_at: view.createdAt,
  };
}

/** A hold or refund result's wire fields. */
export function encodeLedgerResult(result: LedgerResult): Record<string, unknown> {
  switch (result.op) {
    case "hold":
    case "void":
      return holdFields(result);
    case "capture":
      return {
        ...holdFields(result),
        capture_transfer_id: result.captureTransferId,
        captured_minor: result.capturedMinor.toString(),
        receipt: encodeReceipt(result.receipt),
      };
    case "refund":
      return {
        status: result.status,
        transfer_id: result.transferId,
        original_transfer_id: result.originalTransferId,
        from: result.sourceAccountId,
        to: result.targetAccountId,
        amount_minor: result.amountMinor.toString(),
        reversed_minor: result.reversedMinor.toString(),
        created_at: result.createdAt,
        receipt: encodeReceipt(result.receipt),
      };
  }
}

const HOLD_STATUSES: ReadonlySet<unknown> = new Set(["pending", "captured", "voided", "expired"]);

function readHold(value: Record<string, unknown>): HoldView | null {
  const { status, hold_id: holdId, from, to, amount_minor: amount, hold_status: holdStatus } = value;
  const { expires_at: expiresAt, created_at: createdAt } = value;
  if (status !== "created" && status !== "exists") return null;
  if (!isToken(holdId, LEDGER_ID_BYTES_MAX) || typeof from !== "string" || typeof to !== "string") {
    return null;
  }
  if (typeof amount !== "string" || !DIGITS.test(amount) || !HOLD_STATUSES.has(holdStatus)) return null;
  if (typeof expiresAt !== "string" || typeof createdAt !== "string") return null;
  return {
    status,
    holdId,
    sourceAccountId: from,
    targetAccountId: to,
    amountMinor: BigInt(amount),
    holdStatus: holdStatus as HoldView["holdStatus"],
    expiresAt,
    createdAt,
  };
}

/** Reads a hold or refund result; null when malformed. */
export function readLedgerResult(
  op: keyof LedgerResultOf,
  value: Record<string, unknown>,
): LedgerResult | null {
  if (op === "refund") {
    const { status, transfer_id: transferId, original_transfer_id: originalId, from, to } = value;
    const { amount_minor: amount, reversed_minor: reversed, created_at: createdAt } = value;
    const receipt = readReceipt(value.receipt);
    if ((status !== "created" && status !== "exists") || receipt === null) return null;
    if (!isToken(transferId, LEDGER_ID_BYTES_MAX) || !isToken(originalId, LEDGER_ID_BYTES_MAX)) return null;
    if (typeof from !== "string" || typeof to !== "string" || typeof createdAt !== "string") return null;
    if (typeof amount !== "string" || !DIGITS.test(amount)) return null;
    if (typeof reversed !== "string" || !DIGITS.test(reversed)) return null;
    return {
      op,
      status,
      transferId,
      originalTransferId: originalId,
      sourceAccountId: from,
      targetAccountId: to,
      amountMinor: BigInt(amount),
      reversedMinor: BigInt(reversed),
      createdAt,
      receipt,
    };
  }
  const hold = readHold(value);
  if (hold === null) return null;
  if (op !== "capture") return { op, ...hold };
  const { capture_transfer_id: captureId, captured_minor: captured } = value;
  const receipt = readReceipt(value.receipt);
  if (!isToken(captureId, LEDGER_ID_BYTES_MAX) || receipt === null) return null;
  if (typeof captured !== "string" || !DIGITS.test(captured)) return null;
  return { op, ...hold, captureTransferId: captureId, capturedMinor: BigInt(captured), receipt };
}
