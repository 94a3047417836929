/**
 * Per-identity budgets against the real server: requests over the identity's rate are answered
 * `rate_limited` (never dropped, never run), and sessions over its cap are refused after the proof.
 */
import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { connectAs, linesOf, runClient, startServer } from "../tools/harness.ts";

Deno.test("requests over the identity's rate are answered rate_limited and not run", async () => {
  await using server = await startServer({
    args: ["--demo-clients", "2", "--identity-requests-per-second", "2", "--identity-requests-burst", "3"],
  });
  const connection = await connectAs(server, "client-1");
  const answers: string[] = [];
  for (let index = 0; index < 4; index++) {
    answers.push(await connection.sendText("Transfer $1 to Account XYZ"));
  }
  assertEquals(answers, [
    "Transaction Successful",
    "Transaction Successful",
    "Transaction Successful",
    "Service Unavailable: rate limited, retry in 1 s",
  ]);
  const structured = await connection.sendStructured({ v: 1, id: "r1", op: "balance" });
  assertEquals(structured.ok, false);
  if (!structured.ok) {
    assertEquals(structured.error.code, "rate_limited");
    assertEquals(structured.error.retry_after_s, 1);
    assertMatch(structured.error.message, /^rate limited, retry in 1 s$/);
  }
  const other = await connectAs(server, "client-2");
  assertEquals(await other.sendText("Check Balance"), "Balance: $500", "another identity has its own budget");
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assertEquals(await connection.sendText("Check Balance"), "Balance: $497", "three transfers ran, not four");
  await Promise.all([connection.close(), other.close()]);
  const status = await server.status();
  assertEquals((status.rejections as unknown as Record<string, number>).identity_rate, 2);

  const cli = await runClient(server, [
    "--task",
    "Check Balance",
    "--task",
    "Check Balance",
    "--task",
    "Check Balance",
    "--task",
    "Check Balance",
  ]);
  assertEquals(cli.code, 1, "a rate-limited task counts as refused");
  assertMatch(
    linesOf(cli, 1).join("\n"),
    /Server response: Service Unavailable: rate limited, retry in \d+ s/,
  );
});

Deno.test("sessions over the identity's cap are refused with rate_limited after the proof", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2", "--identity-sessions-max", "2"] });
  const first = await connectAs(server, "client-1");
  const second = await connectAs(server, "client-1");
  await assertRejects(
    () => connectAs(server, "client-1"),
    Error,
    "Handshake as client-1 refused: rate limited (too many sessions), retry later",
  );
  const elsewhere = await connectAs(server, "client-2");
  assertEquals(await elsewhere.sendText("Check Balance"), "Balance: $500");
  await first.close();
  await server.waitForClosed(1);
  const again = await connectAs(server, "client-1");
  assertEquals(await again.sendText("Check Balance"), "Balance: $500", "a freed place can be taken");
  await Promise.all([second.close(), elsewhere.close(), again.close()]);
  const status = await server.status();
  assertEquals((status.rejections as unknown as Record<string, number>).identity_cap, 1);
  assertEquals(status.connections_rejected, 1);
});
