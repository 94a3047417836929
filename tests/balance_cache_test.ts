/**
 * The SQLite balance cache through the real server: every serving thread keeps what its balance checks
 * read, and a commit by another thread or another process (an operator's command on the same file) shows
 * in the very next balance check on every connection.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import type { BankConnection } from "../client/connection.ts";
import { DEMO_TARGET_ACCOUNT_ID, demoAccountId } from "../protocol/demo.ts";
import { connectAs, runAdmin, startServer } from "../tools/harness.ts";

/** Connections of one client: with two serving threads on one port, both get some of them. */
const CONNECTIONS = 8;

/** Each connection's balance answer, as account id and balance in minor units. */
async function balances(connections: BankConnection[]): Promise<string[][]> {
  return await Promise.all(connections.map(async (connection, index) => {
    const answer = await connection.sendStructured({ v: 1, id: `b${index}`, op: "balance" });
    if (!answer.ok) throw new Error(`balance on connection ${index}: ${answer.error.message}`);
    const accounts =
      (answer.result as { accounts: { account_id: string; balance_minor: string }[] }).accounts;
    return accounts.map((account) => `${account.account_id} ${account.balance_minor}`);
  }));
}

Deno.test("balance checks on every serving thread see at once what another thread or process committed", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1", "--workers", "2"] });
  const connections: BankConnection[] = [];
  try {
    for (let index = 0; index < CONNECTIONS; index++) connections.push(await connectAs(server, "client-1"));
    const own = demoAccountId("client-1")!;
    const before = await balances(connections);
    assertEquals(await balances(connections), before, "nothing changed: every answer is the same");
    const opening = before[0]![0]!;
    assert(opening.startsWith(`${own} `), `the demo account first: ${before[0]}`);
    const openingMinor = BigInt(opening.split(" ")[1]!);

    const opened = await runAdmin(
      ["accounts", "open", "--owner", "client-1", "--deposit", "$5", "--id", "ACC-CACHE01"],
      { dataDir: server.dataDir },
    );
    assertEquals(opened.code, 0, opened.stdout + opened.stderr);
    const afterOpen = await balances(connections);
    for (const answer of afterOpen) {
      assertEquals(answer, [`${own} ${openingMinor}`, "ACC-CACHE01 500"], "another process's commit");
    }

    const moved = await connections[0]!.sendStructured({
      v: 1,
      id: "t1",
      op: "transfer",
      to: DEMO_TARGET_ACCOUNT_ID,
      amount_minor: "125",
      idempotency_key: "cache-t1",
    });
    assert(moved.ok, JSON.stringify(moved));
    for (const answer of await balances(connections)) {
      assertEquals(answer, [`${own} ${openingMinor - 125n}`, "ACC-CACHE01 500"], "a serving thread's commit");
    }
  } finally {
    for (const connection of connections) await connection.close();
  }
});
