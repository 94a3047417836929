/**
 * Many clients at once through the real client binary: every one is answered correctly, and the monitor's
 * server-side counters agree with what the clients saw.
 */
import { assertEquals } from "@std/assert";
import { linesOf, runClient, startServer } from "../tools/harness.ts";

const CLIENTS = 50;

Deno.test("server answers 50 concurrent clients correctly and /status agrees", async () => {
  await using server = await startServer({ args: ["--demo-clients", String(CLIENTS)] });
  const result = await runClient(server, ["--clients", String(CLIENTS)]);
  assertEquals(result.code, 0, result.stderr);
  for (let client = 1; client <= CLIENTS; client++) {
    assertEquals(linesOf(result, client), [
      `Client ${client}: Connected.`,
      `Client ${client}: Sent task: Check Balance`,
      `Client ${client}: Server response: Balance: $500`,
      `Client ${client}: Sent task: Transfer $100 to Account XYZ`,
      `Client ${client}: Server response: Transaction Successful`,
      `Client ${client}: Sent task: Update Contact Information`,
      `Client ${client}: Server response: Contact Information Updated`,
    ]);
  }
  await server.waitForClosed(CLIENTS);
  const status = await server.status();
  assertEquals(status.connections, 0);
  assertEquals(status.connections_total, CLIENTS);
  assertEquals(status.tasks_processed, 3 * CLIENTS);
  assertEquals(status.tasks_failed, 0);
  assertEquals(status.connections_rejected, 0);

  const again = await runClient(server, ["--clients", "2", "--task", "Check Balance"]);
  assertEquals(
    linesOf(again, 1).at(-1),
    "Client 1: Server response: Balance: $400",
    "the money really moved",
  );
  assertEquals(linesOf(again, 2).at(-1), "Client 2: Server response: Balance: $400");
});
