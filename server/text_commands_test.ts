import { assertEquals, assertMatch } from "@std/assert";
import type { Account, Transfer } from "./ledger/ledger.ts";
import type { Receipt } from "../protocol/receipt.ts";
import type { Outcome } from "./handlers/types.ts";
import { formatTextOutcome, parseTextCommand } from "./text_commands.ts";

const LIMIT = { transferLimitMinor: 1_000_000n };
const EPOCH = new Date(0);

Deno.test("parseTextCommand() reads the original design's three commands word for word", () => {
  assertEquals(parseTextCommand("Check Balance", LIMIT), { operation: "balance" });
  assertEquals(parseTextCommand("Update Contact Information", LIMIT), {
    operation: "update_contact",
    details: {},
  });
  const transfer = parseTextCommand("Transfer $100 to Account XYZ", LIMIT);
  assertEquals(transfer.operation === "transfer" && !("ok" in transfer) && transfer.amountMinor, 10_000n);
  assertEquals("targetAccountId" in transfer && transfer.targetAccountId, "XYZ");
  assertMatch("idempotencyKey" in transfer ? transfer.idempotencyKey : "", /^text-[0-9a-f-]{36}$/);
  assertEquals(
    parseTextCommand("Update Contact Information: email=a@example.com; phone= +1 555 0100 ", LIMIT),
    {
      operation: "update_contact",
      details: { email: "a@example.com", phone: "+1 555 0100" },
    },
  );
});

Deno.test("parseTextCommand() answers every malformed command with its code", () => {
  const cases: [string, string | null, string][] = [
    ["check balance", null, "unknown_operation"],
    ["Check Balance ", null, "unknown_operation"],
    ["", null, "unknown_operation"],
    ["Transfer $100 to XYZ", "transfer", "malformed_request"],
    ["Transfer  $100 to Account XYZ", "transfer", "malformed_request"],
    ["Transfer $0 to Account XYZ", "transfer", "amount_must_be_positive"],
    ["Transfer $1.234 to Account XYZ", "transfer", "amount_malformed"],
    ["Transfer $-5 to Account XYZ", "transfer", "amount_malformed"],
    ["Transfer $10000.01 to Account XYZ", "transfer", "amount_over_limit"],
    ["Transfer $1e3 to Account XYZ", "transfer", "amount_malformed"],
    ["Transfer $100 to Account <script>", "transfer", "account_not_found"],
    ["Update Contact Information: name=Bob", "update_contact", "contact_invalid"],
    ["Update Contact Information: email=a; email=b", "update_contact", "contact_invalid"],
    ["Update Contact Information: email", "update_contact", "contact_invalid"],
  ];
  for (const [text, operation, code] of cases) {
    const parsed = parseTextCommand(text, LIMIT);
    assertEquals("ok" in parsed ? [parsed.operation, parsed.code] : parsed, [operation, code], text);
  }
});

const ACCOUNT: Account = {
  id: "ACC-0001",
  owner: "client-1",
  kind: "customer",
  currency: "USD",
  balanceMinor: 50_000n,
  heldMinor: 0n,
  status: "open",
  createdAt: EPOCH,
};
const RECEIPT: Receipt = {
  entry: 7n,
  hash: "cd".repeat(32),
  kind: "transfer",
  transferId: "T1",
  sourceAccountId: "ACC-0001",
  targetAccountId: "XYZ",
  amountMinor: 10_000n,
  createdAt: EPOCH.toISOString(),
  bankKey: new Uint8Array(32).fill(1),
  signature: new Uint8Array(64).fill(2),
};
const TRANSFER: Transfer = {
  id: "T1",
  idempotencyKey: "k",
  identity: "client-1",
  sourceAccountId: "ACC-0001",
  targetAccountId: "XYZ",
  amountMinor: 10_000n,
  createdAt: EPOCH,
};

Deno.test("formatTextOutcome() answers in the original design's words", () => {
  const cases: [Outcome, string][] = [
    [{ operation: "balance", ok: true, accounts: [ACCOUNT] }, "Balance: $500"],
    [{ operation: "balance", ok: true, accounts: [] }, "Balance: no account"],
    [
      {
        operation: "balance",
        ok: true,
        accounts: [ACCOUNT, { ...ACCOUNT, id: "ACC-0002", balanceMinor: 1n }],
      },
      "Balance: $500 (ACC-0001), $0.01 (ACC-0002)",
    ],
    [
      { operation: "balance", ok: true, accounts: [{ ...ACCOUNT, heldMinor: 10_000n }] },
      "Balance: $400 available ($500 in the ledger)",
    ],
    [
      { operation: "transfer", ok: true, code: "ok", transfer: TRANSFER, receipt: RECEIPT },
      "Transaction Successful",
    ],
    [
      { operation: "transfer", ok: true, code: "exists", transfer: TRANSFER, receipt: RECEIPT },
      "Transaction Successful",
    ],
    [{ operation: "update_contact", ok: true, changed: ["email"] }, "Contact Information Updated"],
    [
      { operation: "transfer", ok: false, code: "insufficient_funds", message: "insufficient funds" },
      "Transaction Failed: insufficient funds",
    ],
    [
      { operation: "update_contact", ok: false, code: "contact_invalid", message: "bad field" },
      "Contact Information Update Failed: bad field",
    ],
    [
      { operation: null, ok: false, code: "unknown_operation", message: "unknown command" },
      "Invalid Request",
    ],
    [
      { operation: "balance", ok: false, code: "rate_limited", message: "slow down", retryAfterS: 3 },
      "Service Unavailable: rate limited, retry in 3 s",
    ],
    [
      { operation: "balance", ok: false, code: "unavailable", message: "down" },
      "Service Unavailable: try again later",
    ],
  ];
  for (const [outcome, text] of cases) assertEquals(formatTextOutcome(outcome), text);
  const unknown = formatTextOutcome({
    operation: "transfer",
    ok: false,
    code: "unavailable",
    message: "down",
  });
  assertMatch(unknown, /^Transaction Status Unknown: /, "a transfer whose fate is unknown says so");
});
