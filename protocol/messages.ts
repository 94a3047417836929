/**
 * Structured requests and responses: JSON in sealed frames of type 0x11, version 1, typed both ways. Each
 * operation has its request and its result in a discriminated union; {@link encodeRequest} and
 * {@link decodeRequest} are the two ends of a request, {@link encodeResponse} and {@link decodeResponse}
 * the two ends of its answer. The server, the client and the bench all use them.
 *
 * ```json
 * {"v":1,"id":"r1","op":"balance"}
 * {"v":1,"id":"r2","op":"transfer","to":"XYZ","amount_minor":"10000","idempotency_key":"k-1"}
 * {"v":1,"id":"r3","op":"history","limit":20}
 * {"v":1,"id":"r4","op":"update_contact","email":"ada@example.com"}
 * {"v":1,"id":"r5","op":"enrol","public_key":"…","signature":"…"}            (key_messages.ts)
 * {"v":1,"id":"r2","ok":true,"result":{...}}
 * {"v":1,"id":"r2","ok":false,"error":{"code":"insufficient_funds","message":"..."}}
 * ```
 *
 * Amounts travel as digit strings of minor units, never as JSON numbers.
 *
 * @module
 */
import { fromUtf8, utf8 } from "../lib/bytes.ts";
import { readCanonicalTime } from "./time.ts";
import { isErrorCode, OPERATIONS } from "./codes.ts";
import type { ErrorCode, Operation, RequestErrorCode } from "./codes.ts";
import {
  decodeKeyRequest,
  encodeKeyRequest,
  encodeKeyResult,
  KEY_FIELDS,
  readKeyResult,
} from "./key_messages.ts";
import type { KeyRequest, KeyResultOf } from "./key_messages.ts";
import {
  decodeLedgerRequest,
  encodeLedgerRequest,
  encodeLedgerResult,
  LEDGER_FIELDS,
  readLedgerResult,
} from "./ledger_messages.ts";
import type { LedgerRequest, LedgerResultOf } from "./ledger_messages.ts";
import { encodeReceipt, readReceipt } from "./receipt.ts";
import type { Receipt } from "./receipt.ts";
import {
  ACCOUNT_ID_BYTES_MAX,
  CONTACT_FIELD_BYTES_MAX,
  HISTORY_PAGE_DEFAULT,
  HISTORY_PAGE_MAX,
  IDEMPOTENCY_KEY_BYTES_MAX,
  REQUEST_ID_BYTES_MAX,
} from "./limits.ts";

export const MESSAGE_VERSION = 1;

export type StructuredRequest =
  | { op: "balance"; id: string }
  | {
    op: "transfer";
    id: string;
    sourceAccountId?: string;
    targetAccountId: string;
    amountMinorText: string;
    idempotencyKey: string;
  }
  | { op: "history"; id: string; accountId?: string; limit: number; beforeEntry?: bigint; asOf?: AsOfView }
  | { op: "update_contact"; id: string; details: { email?: string; phone?: string; address?: string } }
  | LedgerRequest
  | KeyRequest;

export type DecodeRequestResult =
  | { ok: true; request: StructuredRequest }
  | { ok: false; id: string | null; code: RequestErrorCode; message: string };

/** An account as a balance answer shows it. */
export interface AccountView {
  accountId: string;
  currency: string;
  balanceMinor: bigint;
  /** What may be spent now: the balance less what active holds reserve. */
  availableMinor: bigint;
  status: "open" | "frozen";
}

/** A transfer as a transfer answer shows it: `created` now, or `exists` from an earlier request with its key. */
export interface TransferView {
  status: "created" | "exists";
  transferId: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  idempotencyKey: string;
  createdAt: string;
  receipt: Receipt;
}

/**
 * A statement's cut-off: up to and including an entry number, or every entry written at or before a time
 * (ISO 8601 UTC with milliseconds, as `Date.toISOString()` writes it). On the wire, `as_of` is the entry's
 * digits or the time.
 */
export type AsOfView = { entry: bigint } | { time: string };

/** One posting of a history page; the amount is negative when money went out. */
export interface HistoryView {
  entry: bigint;
  transferId: string;
  kind: "deposit" | "transfer" | "capture" | "reversal" | "refund";
  accountId: string;
  counterpartyAccountId: string;
  amountMinor: bigint;
  /** The account's ledger balance right after this entry. */
  balanceAfterMinor: bigint;
  createdAt: string;
}

/** What each operation answers when it succeeds. */
export interface ResultOf {
  balance: { accounts: AccountView[] };
  transfer: TransferView;
  history: { items: HistoryView[]; nextBefore: bigint | null };
  update_contact: { changed: string[] };
  hold: LedgerResultOf["hold"];
  capture: LedgerResultOf["capture"];
  void: LedgerResultOf["void"];
  refund: LedgerResultOf["refund"];
  enrol: KeyResultOf["enrol"];
  rotate_key: KeyResultOf["rotate_key"];
}

/** A successful result, tagged with its operation. */
export type StructuredResult = { [K in Operation]: { op: K } & ResultOf[K] }[Operation];

/** Why a request was refused; `retryAfterS` comes with `rate_limited`. */
export interface ResponseError {
  code: ErrorCode;
  message: string;
  retryAfterS?: number;
}

/** A structured answer, typed by the result it carries when it succeeds. */
export type StructuredResponse<R extends StructuredResult = StructuredResult> =
  | { id: string | null; ok: true; result: R }
  | { id: string | null; ok: false; error: ResponseError };

/** The answer to a request of operation `K`. */
export type ResponseTo<K extends Operation> = StructuredResponse<Extract<StructuredResult, { op: K }>>;

/** A structured answer as the wire carries it, read loosely: for tools and tests that send anything. */
export type WireResponse =
  | { v: 1; id: string | null; ok: true; result: Record<string, unknown> }
  | {
    v: 1;
    id: string | null;
    ok: false;
    error: { code: ErrorCode; message: string; retry_after_s?: number };
  };

const ACCOUNT_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${ACCOUNT_ID_BYTES_MAX}}$`);
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;
const FIELDS_BY_OPERATION: Record<Operation, readonly string[]> = {
  balance: [],
  transfer: ["from", "to", "amount_minor", "idempotency_key"],
  history: ["account", "limit", "before", "as_of"],
  update_contact: ["email", "phone", "address"],
  ...LEDGER_FIELDS,
  ...KEY_FIELDS,
};
const CURSOR_PATTERN = /^(0|[1-9][0-9]{0,18})$/;
const CURSOR_MAX = 2n ** 63n - 1n;
/** An `as_of` value: an entry number's digits or a canonical UTC time; null when it is neither. */
export function readAsOf(value: unknown): AsOfView | null {
  if (typeof value !== "string") return null;
  if (CURSOR_PATTERN.test(value)) return BigInt(value) <= CURSOR_MAX ? { entry: BigInt(value) } : null;
  const time = readCanonicalTime(value);
  return time === null ? null : { time };
}

/** Tells whether text is a well-formed account id. */
export function isAccountId(text: string): boolean {
  return ACCOUNT_ID_PATTERN.test(text);
}

/** Decodes and shape-checks a structured request. Values are checked further by the handlers. */
export function decodeRequest(bytes: Uint8Array): DecodeRequestResult {
  const text = fromUtf8(bytes);
  let parsed: unknown = undefined;
  try {
    if (text !== null) parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, id: null, code: "malformed_request", message: "request is not a JSON object" };
  }
  const fields = parsed as Record<string, unknown>;
  const id = isToken(fields.id, REQUEST_ID_BYTES_MAX) ? fields.id : null;
  if (id === null) return failure(null, "malformed_request", "id must be 1 to 64 printable ASCII characters");
  if (fields.v !== MESSAGE_VERSION) return failure(id, "unsupported_version", "v must be 1");
  const op = fields.op;
  if (typeof op !== "string" || !(OPERATIONS as readonly string[]).includes(op)) {
    return failure(id, "unknown_operation", `op must be one of ${OPERATIONS.join(", ")}`);
  }
  const operation = op as Operation;
  const allowed = new Set(["v", "id", "op", ...FIELDS_BY_OPERATION[operation]]);
  const unknown = Object.keys(fields).find((name) => !allowed.has(name));
  if (unknown !== undefined) return failure(id, "invalid_field", `unknown field "${unknown.slice(0, 32)}"`);
  if (operation === "balance") return { ok: true, request: { op: "balance", id } };
  if (operation === "transfer") return decodeTransfer(id, fields);
  if (operation === "history") return decodeHistory(id, fields);
  if (operation === "hold" || operation === "capture" || operation === "void" || operation === "refund") {
    return decodeLedger(operation, id, fields);
  }
  if (operation === "enrol" || operation === "rotate_key") {
    const decoded = decodeKeyRequest(operation, id, fields);
    return decoded.ok ? decoded : failure(id, "invalid_field", decoded.message);
  }
  return decodeContact(id, fields);
}

function decodeTransfer(id: string, fields: Record<string, unknown>): DecodeRequestResult {
  const { from, to, amount_minor: amount, idempotency_key: key } = fields;
  if (from !== undefined && (typeof from !== "string" || !isAccountId(from))) {
    return failure(id, "invalid_field", "from must be an account id");
  }
  if (typeof to !== "string" || !isAccountId(to)) {
    return failure(id, "invalid_field", "to must be an account id");
  }
  if (typeof amount !== "string") {
    return failure(id, "invalid_field", "amount_minor must be a string of digits");
  }
  if (!isToken(key, IDEMPOTENCY_KEY_BYTES_MAX)) {
    return failure(id, "invalid_field", "idempotency_key must be 1 to 64 printable ASCII characters");
  }
  const base = {
    op: "transfer" as const,
    id,
    targetAccountId: to,
    amountMinorText: amount,
    idempotencyKey: key,
  };
  return { ok: true, request: from === undefined ? base : { ...base, sourceAccountId: from } };
}

function decodeLedger(
  operation: "hold" | "capture" | "void" | "refund",
  id: string,
  fields: Record<string, unknown>,
): DecodeRequestResult {
  const { from, to } = fields;
  if (from !== undefined && (typeof from !== "string" || !isAccountId(from))) {
    return failure(id, "invalid_field", "from must be an account id");
  }
  if (to !== undefined && (typeof to !== "string" || !isAccountId(to))) {
    return failure(id, "invalid_field", "to must be an account id");
  }
  const accounts = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) } as {
    from?: string;
    to?: string;
  };
  const decoded = decodeLedgerRequest(operation, id, fields, accounts);
  return decoded.ok ? decoded : failure(id, "invalid_field", decoded.message);
}

function decodeHistory(id: string, fields: Record<string, unknown>): DecodeRequestResult {
  const { account, limit, before } = fields;
  if (account !== undefined && (typeof account !== "string" || !isAccountId(account))) {
    return failure(id, "invalid_field", "account must be an account id");
  }
  const pageSize = limit ?? HISTORY_PAGE_DEFAULT;
  if (
    typeof pageSize !== "number" || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > HISTORY_PAGE_MAX
  ) {
    return failure(id, "invalid_field", `limit must be a whole number from 1 to ${HISTORY_PAGE_MAX}`);
  }
  if (
    before !== undefined &&
    (typeof before !== "string" || !CURSOR_PATTERN.test(before) || BigInt(before) > CURSOR_MAX)
  ) {
    return failure(id, "invalid_field", "before must be a cursor from a previous page");
  }
  const asOf = fields.as_of === undefined ? undefined : readAsOf(fields.as_of);
  if (asOf === null) {
    return failure(
      id,
      "invalid_field",
      "as_of must be an entry number or a UTC time like 2026-12-01T00:00:00.000Z",
    );
  }
  const request: StructuredRequest = { op: "history", id, limit: pageSize };
  if (account !== undefined) request.accountId = account as string;
  if (before !== undefined) request.beforeEntry = BigInt(before as string);
  if (asOf !== undefined) request.asOf = asOf;
  return { ok: true, request };
}

function decodeContact(id: string, fields: Record<string, unknown>): DecodeRequestResult {
  const details: { email?: string; phone?: string; address?: string } = {};
  for (const name of ["email", "phone", "address"] as const) {
    const value = fields[name];
    if (value === undefined) continue;
    if (typeof value !== "string" || utf8(value).length > CONTACT_FIELD_BYTES_MAX) {
      return failure(
        id,
        "invalid_field",
        `${name} must be a string of at most ${CONTACT_FIELD_BYTES_MAX} characters`,
      );
    }
    details[name] = value;
  }
  return { ok: true, request: { op: "update_contact", id, details } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isToken(value: unknown, maxLength: number): value is string {
  return typeof value === "string" && value.length <= maxLength && TOKEN_PATTERN.test(value);
}

function failure(id: string | null, code: RequestErrorCode, message: string): DecodeRequestResult {
  return { ok: false, id, code, message };
}

/** Encodes a request as the JSON the wire carries (the client's and the bench's end). */
export function encodeRequest(request: StructuredRequest): Uint8Array {
  const base = { v: MESSAGE_VERSION, id: request.id, op: request.op };
  switch (request.op) {
    case "balance":
      return utf8(JSON.stringify(base));
    case "transfer":
      return utf8(JSON.stringify({
        ...base,
        ...(request.sourceAccountId === undefined ? {} : { from: request.sourceAccountId }),
        to: request.targetAccountId,
        amount_minor: request.amountMinorText,
        idempotency_key: request.idempotencyKey,
      }));
    case "history":
      return utf8(JSON.stringify({
        ...base,
        ...(request.accountId === undefined ? {} : { account: request.accountId }),
        limit: request.limit,
        ...(request.beforeEntry === undefined ? {} : { before: request.beforeEntry.toString() }),
        ...(request.asOf === undefined ? {} : { as_of: asOfText(request.asOf) }),
      }));
    case "update_contact":
      return utf8(JSON.stringify({ ...base, ...request.details }));
    case "hold":
    case "capture":
    case "void":
    case "refund":
      return utf8(JSON.stringify({ ...base, ...encodeLedgerRequest(request) }));
    case "enrol":
    case "rotate_key":
      return utf8(JSON.stringify({ ...base, ...encodeKeyRequest(request) }));
  }
}

function asOfText(asOf: AsOfView): string {
  return "entry" in asOf ? asOf.entry.toString() : asOf.time;
}

/** Encodes an answer as the JSON the wire carries (the server's end); amounts become digit strings. */
export function encodeResponse(response: StructuredResponse): Uint8Array {
  const base = { v: MESSAGE_VERSION, id: response.id };
  if (!response.ok) {
    const { code, message, retryAfterS } = response.error;
    const error = { code, message, ...(retryAfterS === undefined ? {} : { retry_after_s: retryAfterS }) };
    return utf8(JSON.stringify({ ...base, ok: false, error }));
  }
  return utf8(JSON.stringify({ ...base, ok: true, result: wireResult(response.result) }));
}

function wireResult(result: StructuredResult): Record<string, unknown> {
  switch (result.op) {
    case "balance":
      return {
        accounts: result.accounts.map((account) => ({
          account_id: account.accountId,
          currency: account.currency,
          balance_minor: account.balanceMinor.toString(),
          available_minor: account.availableMinor.toString(),
          status: account.status,
        })),
      };
    case "transfer":
      return {
        status: result.status,
        transfer_id: result.transferId,
        from: result.sourceAccountId,
        to: result.targetAccountId,
        amount_minor: result.amountMinor.toString(),
        idempotency_key: result.idempotencyKey,
        created_at: result.createdAt,
        receipt: encodeReceipt(result.receipt),
      };
    case "history":
      return {
        items: result.items.map((item) => ({
          entry: item.entry.toString(),
          transfer_id: item.transferId,
          kind: item.kind,
          account_id: item.accountId,
          counterparty_account_id: item.counterpartyAccountId,
          amount_minor: item.amountMinor.toString(),
          balance_after_minor: item.balanceAfterMinor.toString(),
          created_at: item.createdAt,
        })),
        next_before: result.nextBefore === null ? null : result.nextBefore.toString(),
      };
    case "update_contact":
      return { changed: result.changed };
    case "hold":
    case "capture":
    case "void":
    case "refund":
      return encodeLedgerResult(result);
    case "enrol":
    case "rotate_key":
      return encodeKeyResult(result);
  }
}

/**
 * Reads the answer to a request of operation `op` (the client's end), checking every field's shape;
 * null when it is not a well-formed answer of that operation.
 */
export function decodeResponse<K extends Operation>(bytes: Uint8Array, op: K): ResponseTo<K> | null {
  const wire = decodeWireResponse(bytes);
  if (wire === null) return null;
  if (!wire.ok) {
    const { code, message, retry_after_s: retry } = wire.error;
    if (!isErrorCode(code)) return null;
    if (retry !== undefined && !(Number.isSafeInteger(retry) && retry >= 1)) return null;
    return {
      id: wire.id,
      ok: false,
      error: { code, message, ...(retry === undefined ? {} : { retryAfterS: retry }) },
    };
  }
  const result = readResult(op, wire.result);
  return result === null ? null : { id: wire.id, ok: true, result } as ResponseTo<K>;
}

/** Reads a structured answer loosely (version, id, and the shape of ok/result/error); null when it is not one. */
export function decodeWireResponse(bytes: Uint8Array): WireResponse | null {
  const text = fromUtf8(bytes);
  if (text === null) return null;
  let parsed: WireResponse;
  try {
    parsed = JSON.parse(text) as WireResponse;
  } catch {
    return null;
  }
  if (!isObject(parsed) || parsed.v !== MESSAGE_VERSION) return null;
  if (parsed.id !== null && typeof parsed.id !== "string") return null;
  if (parsed.ok === true && isObject(parsed.result)) return parsed;
  if (parsed.ok !== false || !isObject(parsed.error)) return null;
  const { code, message } = parsed.error;
  return typeof code === "string" && typeof message === "string" ? parsed : null;
}

function readResult(op: Operation, result: Record<string, unknown>): StructuredResult | null {
  switch (op) {
    case "balance": {
      const accounts = readArray(result.accounts, readAccount);
      return accounts === null ? null : { op, accounts };
    }
    case "transfer": {
      const transfer = readTransfer(result);
      return transfer === null ? null : { op, ...transfer };
    }
    case "history": {
      const items = readArray(result.items, readHistoryItem);
      const next = result.next_before === null ? null : readDigits(result.next_before);
      if (items === null || (result.next_before !== null && next === null)) return null;
      return { op, items, nextBefore: next };
    }
    case "update_contact": {
      const changed = readArray(result.changed, (value) => (typeof value === "string" ? value : null));
      return changed === null ? null : { op, changed };
    }
    case "hold":
    case "capture":
    case "void":
    case "refund":
      return readLedgerResult(op, result);
    case "enrol":
    case "rotate_key":
      return readKeyResult(op, result);
  }
}

function readAccount(value: unknown): AccountView | null {
  if (!isObject(value)) return null;
  const balanceMinor = readDigits(value.balance_minor);
  const availableMinor = readDigits(value.available_minor);
  const { account_id: accountId, currency, status } = value;
  if (typeof accountId !== "string" || !isAccountId(accountId) || typeof currency !== "string") return null;
  if (balanceMinor === null || availableMinor === null || (status !== "open" && status !== "frozen")) {
    return null;
  }
  return { accountId, currency, balanceMinor, availableMinor, status };
}

function readTransfer(value: Record<string, unknown>): Omit<TransferView, never> | null {
  const amountMinor = readDigits(value.amount_minor);
  const { status, transfer_id: transferId, from, to, idempotency_key: key, created_at: createdAt } = value;
  const receipt = readReceipt(value.receipt);
  if (status !== "created" && status !== "exists" || receipt === null) return null;
  if (typeof transferId !== "string" || typeof key !== "string" || typeof createdAt !== "string") return null;
  if (typeof from !== "string" || typeof to !== "string" || amountMinor === null) return null;
  return {
    status,
    transferId,
    sourceAccountId: from,
    targetAccountId: to,
    amountMinor,
    idempotencyKey: key,
    createdAt,
    receipt,
  };
}

function readHistoryItem(value: unknown): HistoryView | null {
  if (!isObject(value)) return null;
  const entry = readDigits(value.entry);
  const amount = readSignedMinor(value.amount_minor);
  const balanceAfter = readSignedMinor(value.balance_after_minor);
  const { transfer_id: transferId, kind, account_id: accountId, created_at: createdAt } = value;
  const counterparty = value.counterparty_account_id;
  if (entry === null || amount === null || balanceAfter === null) return null;
  if (typeof kind !== "string" || !HISTORY_KINDS.has(kind)) return null;
  if (typeof transferId !== "string" || typeof accountId !== "string") return null;
  if (typeof counterparty !== "string" || typeof createdAt !== "string") return null;
  return {
    entry,
    transferId,
    kind: kind as HistoryView["kind"],
    accountId,
    counterpartyAccountId: counterparty,
    amountMinor: amount,
    balanceAfterMinor: balanceAfter,
    createdAt,
  };
}

function readSignedMinor(value: unknown): bigint | null {
  return typeof value === "string" && /^-?(0|[1-9][0-9]{0,18})$/.test(value) ? BigInt(value) : null;
}

const HISTORY_KINDS: ReadonlySet<string> = new Set(["deposit", "transfer", "capture", "reversal", "refund"]);

function readArray<T>(value: unknown, read: (item: unknown) => T | null): T[] | null {
  if (!Array.isArray(value)) return null;
  const items: T[] = [];
  for (const item of value) {
    const read_ = read(item);
    if (read_ === null) return null;
    items.push(read_);
  }
  return items;
}

function readDigits(value: unknown): bigint | null {
  return typeof value === "string" && CURSOR_PATTERN.test(value) ? BigInt(value) : null;
}
