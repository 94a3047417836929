import { assertEquals } from "@std/assert";
import { utf8 } from "../lib/bytes.ts";
import type { RequestErrorCode } from "./codes.ts";
import { decodeRequest, decodeResponse, isAccountId } from "./messages.ts";
import type { StructuredRequest } from "./messages.ts";

function encode(value: unknown): Uint8Array {
  return utf8(JSON.stringify(value));
}

const TRANSFER = { v: 1, id: "r2", op: "transfer", to: "XYZ", amount_minor: "10000", idempotency_key: "k-1" };

Deno.test("decodeRequest() reads valid balance, transfer and update_contact requests", () => {
  const cases: [string, unknown, StructuredRequest][] = [
    ["balance", { v: 1, id: "r1", op: "balance" }, { op: "balance", id: "r1" }],
    ["balance with a 64-character id", { v: 1, id: "x".repeat(64), op: "balance" }, {
      op: "balance",
      id: "x".repeat(64),
    }],
    ["balance with punctuation in the id", { v: 1, id: "~!r#1}", op: "balance" }, {
      op: "balance",
      id: "~!r#1}",
    }],
    ["transfer", TRANSFER, {
      op: "transfer",
      id: "r2",
      targetAccountId: "XYZ",
      amountMinorText: "10000",
      idempotencyKey: "k-1",
    }],
    ["transfer from an account", { ...TRANSFER, from: "acct_1-A" }, {
      op: "transfer",
      id: "r2",
      sourceAccountId: "acct_1-A",
      targetAccountId: "XYZ",
      amountMinorText: "10000",
      idempotencyKey: "k-1",
    }],
    ["transfer with the longest ids and key", {
      ...TRANSFER,
      to: "T".repeat(32),
      idempotency_key: "k".repeat(64),
    }, {
      op: "transfer",
      id: "r2",
      targetAccountId: "T".repeat(32),
      amountMinorText: "10000",
      idempotencyKey: "k".repeat(64),
    }],
    ["update_contact email", { v: 1, id: "r3", op: "update_contact", email: "ada@example.com" }, {
      op: "update_contact",
      id: "r3",
      details: { email: "ada@example.com" },
    }],
    ["update_contact all fields", {
      v: 1,
      id: "r3",
      op: "update_contact",
      email: "ada@example.com",
      phone: "+44 20 7946 0000",
      address: "a".repeat(256),
    }, {
      op: "update_contact",
      id: "r3",
      details: { email: "ada@example.com", phone: "+44 20 7946 0000", address: "a".repeat(256) },
    }],
    ["update_contact with no fields", { v: 1, id: "r3", op: "update_contact" }, {
      op: "update_contact",
      id: "r3",
      details: {},
    }],
  ];
  for (const [name, message, request] of cases) {
    assertEquals(decodeRequest(encode(message)), { ok: true, request }, name);
  }
});

Deno.test("decodeRequest() refuses malformed requests with their exact codes", () => {
  const raw: [string, Uint8Array, string | null, RequestErrorCode][] = [
    ["not JSON", utf8("Check Balance"), null, "malformed_request"],
    ["empty", new Uint8Array(0), null, "malformed_request"],
    ["truncated JSON", utf8('{"v":1,"id":"r1"'), null, "malformed_request"],
    ["not UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), null, "malformed_request"],
    ["a JSON array", utf8('[{"v":1,"id":"r1","op":"balance"}]'), null, "malformed_request"],
    ["JSON null", utf8("null"), null, "malformed_request"],
    ["a JSON number", utf8("42"), null, "malformed_request"],
    ["a JSON string", utf8('"balance"'), null, "malformed_request"],
  ];
  const shaped: [string, unknown, string | null, RequestErrorCode][] = [
    ["missing id", { v: 1, op: "balance" }, null, "malformed_request"],
    ["empty id", { v: 1, id: "", op: "balance" }, null, "malformed_request"],
    ["overlong id", { v: 1, id: "x".repeat(65), op: "balance" }, null, "malformed_request"],
    ["id with a space", { v: 1, id: "r 1", op: "balance" }, null, "malformed_request"],
    ["id with non-ASCII", { v: 1, id: "ré", op: "balance" }, null, "malformed_request"],
    ["id as a number", { v: 1, id: 1, op: "balance" }, null, "malformed_request"],
    ["v: 2", { v: 2, id: "r1", op: "balance" }, "r1", "unsupported_version"],
    ["v missing", { id: "r1", op: "balance" }, "r1", "unsupported_version"],
    ["v as a string", { v: "1", id: "r1", op: "balance" }, "r1", "unsupported_version"],
    ["unknown op", { v: 1, id: "r1", op: "withdraw" }, "r1", "unknown_operation"],
    ["op missing", { v: 1, id: "r1" }, "r1", "unknown_operation"],
    ["op in another case", { v: 1, id: "r1", op: "Balance" }, "r1", "unknown_operation"],
    ["op naming an object property", { v: 1, id: "r1", op: "constructor" }, "r1", "unknown_operation"],
    ["unknown extra field", { v: 1, id: "r1", op: "balance", admin: true }, "r1", "invalid_field"],
    ["transfer field on balance", { v: 1, id: "r1", op: "balance", to: "XYZ" }, "r1", "invalid_field"],
    ["transfer with a memo", { ...TRANSFER, memo: "hi" }, "r2", "invalid_field"],
    ["amount as a JSON number", { ...TRANSFER, amount_minor: 10000 }, "r2", "invalid_field"],
    ["amount missing", { ...TRANSFER, amount_minor: undefined }, "r2", "invalid_field"],
    ["missing idempotency_key", { ...TRANSFER, idempotency_key: undefined }, "r2", "invalid_field"],
    ["empty idempotency_key", { ...TRANSFER, idempotency_key: "" }, "r2", "invalid_field"],
    ["overlong idempotency_key", { ...TRANSFER, idempotency_key: "k".repeat(65) }, "r2", "invalid_field"],
    ["idempotency_key with a space", { ...TRANSFER, idempotency_key: "k 1" }, "r2", "invalid_field"],
    ["missing to", { ...TRANSFER, to: undefined }, "r2", "invalid_field"],
    ["to with a space", { ...TRANSFER, to: "XY Z" }, "r2", "invalid_field"],
    ["to with a dot", { ...TRANSFER, to: "XY.Z" }, "r2", "invalid_field"],
    ["to with a slash", { ...TRANSFER, to: "../XYZ" }, "r2", "invalid_field"],
    ["to with non-ASCII", { ...TRANSFER, to: "XYZé" }, "r2", "invalid_field"],
    ["to empty", { ...TRANSFER, to: "" }, "r2", "invalid_field"],
    ["to of 33 characters", { ...TRANSFER, to: "T".repeat(33) }, "r2", "invalid_field"],
    ["to as a number", { ...TRANSFER, to: 42 }, "r2", "invalid_field"],
    ["from with a bad character", { ...TRANSFER, from: "a;b" }, "r2", "invalid_field"],
    ["from as null", { ...TRANSFER, from: null }, "r2", "invalid_field"],
    ["email as a number", { v: 1, id: "r3", op: "update_contact", email: 5 }, "r3", "invalid_field"],
    [
      "address over 256",
      { v: 1, id: "r3", op: "update_contact", address: "a".repeat(257) },
      "r3",
      "invalid_field",
    ],
    [
      "contact with a name field",
      { v: 1, id: "r3", op: "update_contact", name: "Ada" },
      "r3",
      "invalid_field",
    ],
  ];
  const cases = [
    ...raw,
    ...shaped.map(([name, message, id, code]) => [name, encode(message), id, code] as const),
  ];
  for (const [name, bytes, id, code] of cases) {
    const result = decodeRequest(bytes);
    assertEquals(result.ok ? { ok: true } : { ok: false, id: result.id, code: result.code }, {
      ok: false,
      id,
      code,
    }, name);
    if (!result.ok) assertEquals(result.message.length > 0, true, name);
  }
});

Deno.test("decodeRequest() does not echo a long unknown field name in full", () => {
  const name = "f".repeat(500);
  const result = decodeRequest(encode({ v: 1, id: "r1", op: "balance", [name]: 1 }));
  assertEquals(result.ok ? null : result.code, "invalid_field");
  assertEquals(result.ok ? null : result.message.length < 100, true);
});

Deno.test("isAccountId() accepts letters, digits, dash and underscore up to 32", () => {
  for (const text of ["XYZ", "a", "acct_1-A", "9".repeat(32)]) assertEquals(isAccountId(text), true, text);
  for (const text of ["", "X Y", "x.y", "x/y", "é", "9".repeat(33), "XYZ\n"]) {
    assertEquals(isAccountId(text), false, JSON.stringify(text));
  }
});

Deno.test("decodeResponse() reads success and error responses", () => {
  const success = { v: 1, id: "r1", ok: true, result: { balance_minor: "50000" } };
  assertEquals(decodeResponse(encode(success)), success);
  const failure = {
    v: 1,
    id: "r2",
    ok: false,
    error: { code: "insufficient_funds", message: "insufficient funds" },
  };
  assertEquals(decodeResponse(encode(failure)), failure);
  const unreadable = { v: 1, id: null, ok: false, error: { code: "malformed_request", message: "bad" } };
  assertEquals(decodeResponse(encode(unreadable)), unreadable);
});

Deno.test("decodeResponse() returns null for anything that is not a version 1 response", () => {
  const cases: [string, Uint8Array][] = [
    ["not JSON", utf8("Balance: $500")],
    ["not UTF-8", new Uint8Array([0xff])],
    ["JSON null", utf8("null")],
    ["a JSON number", utf8("1")],
    ["a JSON array", utf8("[]")],
    ["v: 2", encode({ v: 2, id: "r1", ok: true, result: {} })],
    ["v missing", encode({ id: "r1", ok: true, result: {} })],
    ["ok missing", encode({ v: 1, id: "r1", result: {} })],
    ["ok as a string", encode({ v: 1, id: "r1", ok: "true", result: {} })],
    ["success without result", encode({ v: 1, id: "r1", ok: true })],
    ["failure without error", encode({ v: 1, id: "r1", ok: false })],
    ["failure without a code", encode({ v: 1, id: "r1", ok: false, error: { message: "x" } })],
    ["failure with a numeric code", encode({ v: 1, id: "r1", ok: false, error: { code: 7 } })],
  ];
  for (const [name, bytes] of cases) assertEquals(decodeResponse(bytes), null, name);
});
