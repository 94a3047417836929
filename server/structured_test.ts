import { assertEquals } from "@std/assert";
import { decodeResponse, encodeResponse } from "../protocol/messages.ts";
import type { Receipt } from "../protocol/receipt.ts";
import type { Account, HistoryItem, Transfer } from "./ledger/ledger.ts";
import type { Outcome } from "./handlers/types.ts";
import { fromStructured, toStructured } from "./structured.ts";

const LIMIT = { transferLimitMinor: 1_000_000n };
const AT = new Date("2026-12-01T12:00:00.000Z");

Deno.test("fromStructured() checks a transfer's amount and keeps only the fields it names", () => {
  const request = {
    op: "transfer" as const,
    id: "r1",
    targetAccountId: "XYZ",
    amountMinorText: "10000",
    idempotencyKey: "k1",
  };
  assertEquals(fromStructured(request, LIMIT), {
    operation: "transfer",
    targetAccountId: "XYZ",
    amountMinor: 10_000n,
    idempotencyKey: "k1",
  });
  assertEquals(fromStructured({ ...request, sourceAccountId: "ACC-0001" }, LIMIT), {
    operation: "transfer",
    targetAccountId: "XYZ",
    amountMinor: 10_000n,
    idempotencyKey: "k1",
    sourceAccountId: "ACC-0001",
  });
  const cases: [string, string][] = [
    ["0", "amount_must_be_positive"],
    ["1000001", "amount_over_limit"],
    ["01", "amount_malformed"],
    ["1.5", "amount_malformed"],
  ];
  for (const [amountMinorText, code] of cases) {
    const refused = fromStructured({ ...request, amountMinorText }, LIMIT);
    assertEquals(
      "ok" in refused ? [refused.operation, refused.code] : refused,
      ["transfer", code],
      amountMinorText,
    );
  }
  assertEquals(fromStructured({ op: "history", id: "h", limit: 5, beforeEntry: 9n }, LIMIT), {
    operation: "history",
    limit: 5,
    beforeEntry: 9n,
  });
});

const ACCOUNT: Account = {
  id: "ACC-0001",
  owner: "client-1",
  kind: "customer",
  currency: "USD",
  balanceMinor: 2n ** 60n,
  heldMinor: 0n,
  status: "open",
  createdAt: AT,
};
const TRANSFER: Transfer = {
  id: "T1",
  idempotencyKey: "k1",
  identity: "client-1",
  sourceAccountId: "ACC-0001",
  targetAccountId: "XYZ",
  amountMinor: 10_000n,
  createdAt: AT,
};
const RECEIPT: Receipt = {
  entry: 7n,
  hash: "cd".repeat(32),
  kind: "transfer",
  transferId: "T1",
  sourceAccountId: "ACC-0001",
  targetAccountId: "XYZ",
  amountMinor: 10_000n,
  createdAt: AT.toISOString(),
  bankKey: new Uint8Array(32).fill(1),
  signature: new Uint8Array(64).fill(2),
};
const ITEM: HistoryItem = {
  entry: 7n,
  transferId: "T1",
  kind: "transfer",
  accountId: "ACC-0001",
  counterpartyAccountId: "XYZ",
  amountMinor: -10_000n,
  balanceAfterMinor: 40_000n,
  createdAt: AT,
};

Deno.test("toStructured() answers every outcome, and the answer survives the wire unchanged", () => {
  const cases: [Outcome, "balance" | "transfer" | "history" | "update_contact"][] = [
    [{ operation: "balance", ok: true, accounts: [ACCOUNT] }, "balance"],
    [{ operation: "transfer", ok: true, code: "ok", transfer: TRANSFER, receipt: RECEIPT }, "transfer"],
    [{ operation: "transfer", ok: true, code: "exists", transfer: TRANSFER, receipt: RECEIPT }, "transfer"],
    [{ operation: "history", ok: true, items: [ITEM], nextBeforeEntry: 7n }, "history"],
    [{ operation: "history", ok: true, items: [], nextBeforeEntry: null }, "history"],
    [{ operation: "update_contact", ok: true, changed: ["email", "phone"] }, "update_contact"],
    [
      { operation: "transfer", ok: false, code: "insufficient_funds", message: "insufficient funds" },
      "transfer",
    ],
    [
      { operation: "balance", ok: false, code: "rate_limited", message: "slow down", retryAfterS: 2 },
      "balance",
    ],
  ];
  for (const [outcome, op] of cases) {
    const structured = toStructured("r1", outcome);
    assertEquals(
      decodeResponse(encodeResponse(structured), op),
      structured,
      JSON.stringify(structured, replacer),
    );
  }
  const transfer = toStructured("r1", cases[2]![0]);
  assertEquals(transfer.ok && transfer.result.op === "transfer" && transfer.result.status, "exists");
  assertEquals(toStructured(null, cases[6]![0]), {
    id: null,
    ok: false,
    error: { code: "insufficient_funds", message: "insufficient funds" },
  });
});

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}
