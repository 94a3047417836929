import { assertEquals } from "@std/assert";
import { utf8 } from "../lib/bytes.ts";
import type { Receipt } from "./receipt.ts";
import type { HoldView } from "./ledger_messages.ts";
import type { Operation, RequestErrorCode } from "./codes.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, isAccountId } from "./messages.ts";
import type { StructuredRequest, StructuredResponse } from "./messages.ts";

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
    ...[
      ["as_of as a number", 5],
      ["as_of a date without a time", "2026-12-01"],
      ["as_of a time without milliseconds", "2026-12-01T00:00:00Z"],
      ["as_of a time with an offset", "2026-12-01T00:00:00.000+01:00"],
      ["as_of a day that does not exist", "2026-02-30T00:00:00.000Z"],
      ["as_of an entry past 2^63 - 1", "9223372036854775808"],
      ["as_of a negative entry", "-1"],
      ["as_of empty", ""],
      ["as_of in the year 0", "0000-01-01T00:00:00.000Z"],
    ].map(([name, asOf]): [string, unknown, string | null, RequestErrorCode] => [
      String(name),
      { v: 1, id: "h9", op: "history", as_of: asOf },
      "h9",
      "invalid_field",
    ]),
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

const RECEIPT: Receipt = {
  entry: 12n,
  hash: "ab".repeat(32),
  kind: "transfer",
  transferId: "T-1",
  sourceAccountId: "ACC-0001",
  targetAccountId: "XYZ",
  amountMinor: 1n,
  createdAt: "2026-12-01T00:00:00.000Z",
  bankKey: new Uint8Array(32).fill(7),
  signature: new Uint8Array(64).fill(9),
};
const HOLD: HoldView = {
  status: "created",
  holdId: "H-1",
  sourceAccountId: "ACC-0001",
  targetAccountId: "XYZ",
  amountMinor: 500n,
  holdStatus: "pending",
  expiresAt: "2026-12-08T00:00:00.000Z",
  createdAt: "2026-12-01T00:00:00.000Z",
};

/** One answer of each operation, with values at their edges, and refusals. */
const RESPONSES: StructuredResponse[] = [
  {
    id: "b1",
    ok: true,
    result: {
      op: "balance",
      accounts: [
        {
          accountId: "ACC-0001",
          currency: "USD",
          balanceMinor: 50_000n,
          availableMinor: 40_000n,
          status: "open",
        },
        {
          accountId: "XYZ",
          currency: "USD",
          balanceMinor: 10n ** 17n,
          availableMinor: 10n ** 17n,
          status: "frozen",
        },
      ],
    },
  },
  { id: "b2", ok: true, result: { op: "balance", accounts: [] } },
  {
    id: "t1",
    ok: true,
    result: {
      op: "transfer",
      status: "exists",
      transferId: "T-1",
      sourceAccountId: "ACC-0001",
      targetAccountId: "XYZ",
      amountMinor: 1n,
      idempotencyKey: "k-1",
      createdAt: "2026-12-01T00:00:00.000Z",
      receipt: RECEIPT,
    },
  },
  { id: "hd1", ok: true, result: { op: "hold", ...HOLD } },
  { id: "v1", ok: true, result: { op: "void", ...HOLD, status: "exists", holdStatus: "voided" } },
  {
    id: "c1",
    ok: true,
    result: {
      op: "capture",
      ...HOLD,
      holdStatus: "captured",
      captureTransferId: "T-2",
      capturedMinor: 400n,
      receipt: { ...RECEIPT, kind: "capture" },
    },
  },
  {
    id: "rf1",
    ok: true,
    result: {
      op: "refund",
      status: "created",
      transferId: "T-3",
      originalTransferId: "T-1",
      sourceAccountId: "XYZ",
      targetAccountId: "ACC-0001",
      amountMinor: 1n,
      reversedMinor: 1n,
      createdAt: "2026-12-01T00:00:00.000Z",
      receipt: { ...RECEIPT, kind: "refund" },
    },
  },
  { id: "c2", ok: false, error: { code: "hold_already_captured", message: "the hold was already captured" } },
  {
    id: "h1",
    ok: true,
    result: {
      op: "history",
      items: [{
        entry: 7n,
        transferId: "T-1",
        kind: "transfer",
        accountId: "ACC-0001",
        counterpartyAccountId: "XYZ",
        amountMinor: -100n,
        balanceAfterMinor: 900n,
        createdAt: "2026-12-01T00:00:00.000Z",
      }],
      nextBefore: 7n,
    },
  },
  { id: "h2", ok: true, result: { op: "history", items: [], nextBefore: null } },
  { id: "c1", ok: true, result: { op: "update_contact", changed: ["email", "phone"] } },
  { id: "r2", ok: false, error: { code: "insufficient_funds", message: "insufficient funds" } },
  { id: null, ok: false, error: { code: "malformed_request", message: "bad" } },
  {
    id: "r3",
    ok: false,
    error: { code: "rate_limited", message: "rate limited, retry in 2 s", retryAfterS: 2 },
  },
];

Deno.test("encodeResponse() and decodeResponse() round-trip every operation's answer and refusals", () => {
  for (const response of RESPONSES) {
    const op = response.ok ? response.result.op : "balance";
    assertEquals(decodeResponse(encodeResponse(response), op), response, JSON.stringify(response.id));
  }
});

Deno.test("encodeResponse() writes the wire form of docs/PROTOCOL.md: snake case, digits, v: 1", () => {
  const wire = JSON.parse(new TextDecoder().decode(encodeResponse(RESPONSES[0]!)));
  assertEquals(wire, {
    v: 1,
    id: "b1",
    ok: true,
    result: {
      accounts: [
        {
          account_id: "ACC-0001",
          currency: "USD",
          balance_minor: "50000",
          available_minor: "40000",
          status: "open",
        },
        {
          account_id: "XYZ",
          currency: "USD",
          balance_minor: "100000000000000000",
          available_minor: "100000000000000000",
          status: "frozen",
        },
      ],
    },
  });
  const limited = JSON.parse(new TextDecoder().decode(encodeResponse(RESPONSES.at(-1)!)));
  assertEquals(limited.error, {
    code: "rate_limited",
    message: "rate limited, retry in 2 s",
    retry_after_s: 2,
  });
});

Deno.test("encodeRequest() and decodeRequest() round-trip every operation", () => {
  const requests: StructuredRequest[] = [
    { op: "balance", id: "b1" },
    { op: "transfer", id: "t1", targetAccountId: "XYZ", amountMinorText: "100", idempotencyKey: "k-1" },
    {
      op: "transfer",
      id: "t2",
      sourceAccountId: "ACC-0001",
      targetAccountId: "XYZ",
      amountMinorText: "1",
      idempotencyKey: "k-2",
    },
    { op: "history", id: "h1", limit: 20 },
    {
      op: "hold",
      id: "hd1",
      targetAccountId: "XYZ",
      amountMinorText: "500",
      idempotencyKey: "h-1",
      expiresInS: 3600,
    },
    { op: "capture", id: "c1", holdId: "H-1" },
    { op: "capture", id: "c2", holdId: "H-1", amountMinorText: "400" },
    { op: "void", id: "v1", holdId: "H-1" },
    { op: "refund", id: "rf1", transferId: "T-1", idempotencyKey: "rf-1" },
    { op: "refund", id: "rf2", transferId: "T-1", amountMinorText: "1", idempotencyKey: "rf-2" },
    { op: "history", id: "h2", accountId: "ACC-0001", limit: 1, beforeEntry: 99n },
    { op: "history", id: "h3", limit: 5, asOf: { entry: 12n } },
    { op: "history", id: "h4", limit: 5, beforeEntry: 9n, asOf: { time: "2026-12-01T10:00:00.000Z" } },
    { op: "update_contact", id: "c1", details: { email: "ada@example.com", phone: "+1 555" } },
  ];
  for (const request of requests) assertEquals(decodeRequest(encodeRequest(request)), { ok: true, request });
});

/** A well-formed history item on the wire, which the cases below spoil one field at a time. */
const HISTORY_ITEM = {
  entry: "1",
  transfer_id: "T",
  kind: "transfer",
  account_id: "A",
  counterparty_account_id: "B",
  amount_minor: "-1",
  balance_after_minor: "1",
  created_at: "x",
};

function historyAnswer(item: Record<string, unknown>): Uint8Array {
  return encode({ v: 1, id: "h", ok: true, result: { items: [item], next_before: null } });
}

Deno.test("decodeResponse() refuses what is not a well-formed answer of the operation asked", () => {
  const cases: [string, Uint8Array, Operation][] = [
    ["not JSON", utf8("Balance: $500"), "balance"],
    ["not UTF-8", new Uint8Array([0xff]), "balance"],
    ["JSON null", utf8("null"), "balance"],
    ["a JSON array", utf8("[]"), "balance"],
    ["v: 2", encode({ v: 2, id: "r1", ok: true, result: { accounts: [] } }), "balance"],
    ["v missing", encode({ id: "r1", ok: true, result: { accounts: [] } }), "balance"],
    ["ok as a string", encode({ v: 1, id: "r1", ok: "true", result: { accounts: [] } }), "balance"],
    ["success without result", encode({ v: 1, id: "r1", ok: true }), "balance"],
    ["failure without a code", encode({ v: 1, id: "r1", ok: false, error: { message: "x" } }), "balance"],
    [
      "an unknown code",
      encode({ v: 1, id: "r1", ok: false, error: { code: "nope", message: "x" } }),
      "balance",
    ],
    [
      "a zero retry",
      encode({ v: 1, id: "r", ok: false, error: { code: "rate_limited", message: "x", retry_after_s: 0 } }),
      "balance",
    ],
    [
      "a balance as a number",
      encode({
        v: 1,
        id: "r1",
        ok: true,
        result: { accounts: [{ account_id: "A", currency: "USD", balance_minor: 5, status: "open" }] },
      }),
      "balance",
    ],
    [
      "an unknown status",
      encode({
        v: 1,
        id: "r1",
        ok: true,
        result: { accounts: [{ account_id: "A", currency: "USD", balance_minor: "5", status: "gone" }] },
      }),
      "balance",
    ],
    [
      "a transfer answer to a balance",
      encode({ v: 1, id: "r1", ok: true, result: { status: "created" } }),
      "balance",
    ],
    [
      "a transfer without its key",
      encode({
        v: 1,
        id: "t",
        ok: true,
        result: {
          status: "created",
          transfer_id: "T",
          from: "A",
          to: "B",
          amount_minor: "1",
          created_at: "x",
        },
      }),
      "transfer",
    ],
    [
      "a history amount with a plus",
      historyAnswer({ ...HISTORY_ITEM, amount_minor: "+1" }),
      "history",
    ],
    [
      "a history item without its balance after",
      historyAnswer({ ...HISTORY_ITEM, balance_after_minor: undefined }),
      "history",
    ],
    [
      "a negative cursor",
      encode({ v: 1, id: "h", ok: true, result: { items: [], next_before: "-1" } }),
      "history",
    ],
    [
      "changed fields not strings",
      encode({ v: 1, id: "c", ok: true, result: { changed: [1] } }),
      "update_contact",
    ],
  ];
  for (const [name, bytes, op] of cases) assertEquals(decodeResponse(bytes, op), null, name);
  // The item the history cases spoil is itself well formed.
  assertEquals(decodeResponse(historyAnswer(HISTORY_ITEM), "history")?.ok, true);
});
