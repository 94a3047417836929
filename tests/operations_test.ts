/**
 * Operations end to end over the real server: text commands move exactly what they say, structured
 * requests get typed results and stable error codes, and nobody touches another identity's money.
 */
import { assertEquals, assertMatch } from "@std/assert";
import type { BankConnection } from "../client/connection.ts";
import { connectAs, startServer } from "../tools/harness.ts";

async function balanceMinor(connection: BankConnection): Promise<string> {
  const response = await connection.sendStructured({ v: 1, id: "b", op: "balance" });
  if (!response.ok) throw new Error(response.error.code);
  const accounts = response.result.accounts as { balance_minor: string }[];
  return accounts[0]!.balance_minor;
}

Deno.test("text commands move exactly the amount written and refuse the rest with a reason", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2", "--transfer-limit", "$1,000"] });
  const connection = await connectAs(server, "client-1");
  const cases: [string, string][] = [
    ["Transfer $12.34 to Account XYZ", "Transaction Successful"],
    ["Check Balance", "Balance: $487.66"],
    ["Transfer $1,000.01 to Account XYZ", "Transaction Failed: the amount is over the transfer limit"],
    ["Transfer $0 to Account XYZ", "Transaction Failed: the amount must be positive"],
    ["Transfer $-5 to Account XYZ", "Transaction Failed: the amount is not a valid amount"],
    ["Transfer $1.001 to Account XYZ", "Transaction Failed: the amount is not a valid amount"],
    ["Transfer $600 to Account ACC-0002", "Transaction Failed: insufficient funds"],
    ["Transfer $5 to Account NOPE", "Transaction Failed: account not found"],
    ["Transfer $5 to Account ACC-0001", "Transaction Failed: source and target accounts must differ"],
    ["Transfer lots to XYZ", "Transaction Failed: expected: Transfer $AMOUNT to Account ID"],
    ["Check Balance", "Balance: $487.66"],
    ["Update Contact Information: email=ada@example.com; phone=+1 555 0100", "Contact Information Updated"],
    [
      "Update Contact Information: email=not-an-email",
      "Contact Information Update Failed: email is not valid",
    ],
    ["check balance", "Invalid Request"],
    ["", "Invalid Request"],
  ];
  for (const [command, answer] of cases) assertEquals(await connection.sendText(command), answer, command);
  await connection.close();
});

Deno.test("structured transfers are exactly once per idempotency key", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2"] });
  const connection = await connectAs(server, "client-1");
  const transfer = {
    v: 1,
    op: "transfer",
    to: "ACC-0002",
    amount_minor: "2500",
    idempotency_key: "order-17",
  };
  const first = await connection.sendStructured({ ...transfer, id: "t1" });
  assertEquals(first.ok && first.result.status, "created");
  assertEquals(first.id, "t1");
  const retry = await connection.sendStructured({ ...transfer, id: "t2" });
  assertEquals(retry.ok && retry.result.status, "exists");
  assertEquals(retry.ok && retry.result.transfer_id, first.ok && first.result.transfer_id);
  assertEquals(await balanceMinor(connection), "47500");
  await connection.close();

  const reconnected = await connectAs(server, "client-1");
  const again = await reconnected.sendStructured({ ...transfer, id: "t3" });
  assertEquals(again.ok && again.result.status, "exists", "also across reconnects");
  const conflict = await reconnected.sendStructured({ ...transfer, id: "t4", amount_minor: "2600" });
  assertEquals(!conflict.ok && conflict.error.code, "key_reused_with_other_fields");
  assertEquals(await balanceMinor(reconnected), "47500");
  await reconnected.close();

  const payee = await connectAs(server, "client-2");
  assertEquals(await balanceMinor(payee), "52500");
  await payee.close();
});

Deno.test("structured requests get stable error codes", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2"] });
  const connection = await connectAs(server, "client-1");
  const base = { v: 1, id: "r", op: "transfer", to: "XYZ", amount_minor: "100", idempotency_key: "k" };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...base, v: 2 }, "unsupported_version"],
    [{ ...base, op: "withdraw_everything" }, "unknown_operation"],
    [{ ...base, amount_minor: 100 }, "invalid_field"],
    [{ ...base, amount_minor: "1.00" }, "amount_malformed"],
    [{ ...base, amount_minor: "0" }, "amount_must_be_positive"],
    [{ ...base, amount_minor: "999999999999" }, "amount_over_limit"],
    [{ ...base, amount_minor: "50001", idempotency_key: "k2" }, "insufficient_funds"],
    [{ ...base, to: "ACC-0001", idempotency_key: "k3" }, "accounts_must_differ"],
    [{ ...base, to: "ZZZ", idempotency_key: "k4" }, "account_not_found"],
    [{ ...base, from: "ACC-0002", idempotency_key: "k5" }, "account_not_found"],
    [{ ...base, extra: true }, "invalid_field"],
    [{ v: 1, id: "c", op: "update_contact", phone: "call me" }, "contact_invalid"],
  ];
  for (const [request, code] of cases) {
    const response = await connection.sendStructured(request);
    assertEquals(!response.ok && response.error.code, code, JSON.stringify(request));
    assertMatch(!response.ok ? response.error.message : "", /^[a-z]/);
  }
  const balance = await connection.sendStructured({ v: 1, id: "b", op: "balance" });
  assertEquals(balance.ok && balance.result.accounts, [
    {
      account_id: "ACC-0001",
      currency: "USD",
      balance_minor: "50000",
      available_minor: "50000",
      status: "open",
    },
  ]);
  await connection.close();
});

Deno.test("structured history pages the caller's own postings, newest first", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2"] });
  const connection = await connectAs(server, "client-1");
  for (const cents of ["100", "200", "300"]) {
    const sent = await connection.sendStructured({
      v: 1,
      id: `t${cents}`,
      op: "transfer",
      to: "ACC-0002",
      amount_minor: cents,
      idempotency_key: `history-${cents}`,
    });
    assertEquals(sent.ok, true);
  }
  const first = await connection.sendStructured({ v: 1, id: "h1", op: "history", limit: 2 });
  if (!first.ok) throw new Error(first.error.code);
  const items = first.result.items as { amount_minor: string; counterparty_account_id: string }[];
  assertEquals(items.map((item) => item.amount_minor), ["-300", "-200"]);
  assertEquals(items[0]?.counterparty_account_id, "ACC-0002");
  const next = await connection.sendStructured({
    v: 1,
    id: "h2",
    op: "history",
    before: first.result.next_before,
  });
  if (!next.ok) throw new Error(next.error.code);
  const older = next.result.items as { amount_minor: string; kind: string }[];
  assertEquals(older.map((item) => [item.kind, item.amount_minor]), [["transfer", "-100"], [
    "deposit",
    "50000",
  ]]);
  assertEquals(next.result.next_before, null);
  const theirs = await connection.sendStructured({ v: 1, id: "h3", op: "history", account: "ACC-0002" });
  assertEquals(!theirs.ok && theirs.error.code, "account_not_found");
  const bad = await connection.sendStructured({ v: 1, id: "h4", op: "history", limit: 1000 });
  assertEquals(!bad.ok && bad.error.code, "invalid_field");
  await connection.close();
});
