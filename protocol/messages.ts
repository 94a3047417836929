/**
 * Structured requests and responses: JSON in sealed frames of type 0x11, version 1.
 *
 * ```json
 * {"v":1,"id":"r1","op":"balance"}
 * {"v":1,"id":"r2","op":"transfer","to":"XYZ","amount_minor":"10000","idempotency_key":"k-1"}
 * {"v":1,"id":"r3","op":"history","limit":20}
 * {"v":1,"id":"r4","op":"update_contact","email":"ada@example.com"}
 * {"v":1,"id":"r2","ok":true,"result":{...}}
 * {"v":1,"id":"r2","ok":false,"error":{"code":"insufficient_funds","message":"..."}}
 * ```
 *
 * Amounts travel as digit strings of minor units, never as JSON numbers.
 *
 * @module
 */
import { fromUtf8, utf8 } from "../lib/bytes.ts";
import { OPERATIONS } from "./codes.ts";
import type { ErrorCode, Operation, RequestErrorCode } from "./codes.ts";
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
  | { op: "history"; id: string; accountId?: string; limit: number; beforeEntry?: bigint }
  | { op: "update_contact"; id: string; details: { email?: string; phone?: string; address?: string } };

export type DecodeRequestResult =
  | { ok: true; request: StructuredRequest }
  | { ok: false; id: string | null; code: RequestErrorCode; message: string };

export type StructuredResponse =
  | { v: 1; id: string | null; ok: true; result: Record<string, unknown> }
  | {
    v: 1;
    id: string | null;
    ok: false;
    /** `retry_after_s` comes with `rate_limited`: when the identity's budget has room again. */
    error: { code: ErrorCode; message: string; retry_after_s?: number };
  };

const ACCOUNT_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${ACCOUNT_ID_BYTES_MAX}}$`);
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;
const FIELDS_BY_OPERATION: Record<Operation, readonly string[]> = {
  balance: [],
  transfer: ["from", "to", "amount_minor", "idempotency_key"],
  history: ["account", "limit", "before"],
  update_contact: ["email", "phone", "address"],
};
const CURSOR_PATTERN = /^(0|[1-9][0-9]{0,18})$/;
const CURSOR_MAX = 2n ** 63n - 1n;

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
  const request: StructuredRequest = { op: "history", id, limit: pageSize };
  if (account !== undefined) request.accountId = account as string;
  if (before !== undefined) request.beforeEntry = BigInt(before as string);
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

/** Reads a structured response (client side); null when it is not one. */
export function decodeResponse(bytes: Uint8Array): StructuredResponse | null {
  const text = fromUtf8(bytes);
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as StructuredResponse;
    if (!isObject(parsed) || parsed.v !== MESSAGE_VERSION) return null;
    if (parsed.id !== null && typeof parsed.id !== "string") return null;
    if (parsed.ok === true && isObject(parsed.result)) return parsed;
    if (parsed.ok !== false || !isObject(parsed.error)) return null;
    const { code, message } = parsed.error;
    return typeof code === "string" && typeof message === "string" ? parsed : null;
  } catch {
    return null;
  }
}
