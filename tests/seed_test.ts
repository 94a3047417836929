/**
 * The original design's four test cases, verbatim, against the real server and client processes.
 */
import { assertEquals } from "@std/assert";
import { connectAs, linesOf, runClient, startServer, TEST_CASE_1_LINES } from "../tools/harness.ts";

Deno.test("Test Case 1: Single Client gets the three expected answers", async () => {
  await using server = await startServer({ args: ["--demo-clients", "3"] });
  const result = await runClient(server, []);
  assertEquals(result.lines, ["Client 1: Connected.", ...TEST_CASE_1_LINES]);
  assertEquals(result.code, 0);
});

Deno.test("Test Case 2: Multiple Clients all complete their tasks concurrently", async () => {
  await using server = await startServer({ args: ["--demo-clients", "3"] });
  const result = await runClient(server, ["--clients", "3"]);
  for (const client of [1, 2, 3]) {
    const expected = TEST_CASE_1_LINES.map((line) => line.replace("Client 1:", `Client ${client}:`));
    assertEquals(linesOf(result, client), [`Client ${client}: Connected.`, ...expected]);
  }
  assertEquals(result.lines.length, 21);
  assertEquals(result.code, 0);
});

Deno.test("Test Case 3: Invalid Request is answered as such", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1"] });
  const result = await runClient(server, ["--task", "Invalid Task"]);
  assertEquals(result.lines, [
    "Client 1: Connected.",
    "Client 1: Sent task: Invalid Task",
    "Client 1: Server response: Invalid Request",
  ]);
  assertEquals(result.code, 1, "a refused task makes the client exit 1");
});

Deno.test("Test Case 4: Server Monitoring reports connections and tasks processed", async () => {
  await using server = await startServer({ args: ["--demo-clients", "3"] });
  const connections = await Promise.all([1, 2, 3].map((n) => connectAs(server, `client-${n}`)));
  const answers = await Promise.all(connections.map(async (connection) => [
    await connection.sendText("Check Balance"),
    await connection.sendText("Transfer $100 to Account XYZ"),
    await connection.sendText("Update Contact Information"),
  ]));
  assertEquals(answers.flat().length, 9);
  const during = await server.status();
  assertEquals({ connections: during.connections, tasks_processed: during.tasks_processed }, {
    connections: 3,
    tasks_processed: 9,
  });
  await Promise.all(connections.map((connection) => connection.close()));
  await server.waitForClosed(3);
  const after = await server.status();
  assertEquals(after.connections, 0);
  assertEquals(after.connections_total, 3);
  assertEquals(after.tasks_processed, 9);
  assertEquals(after.tasks_failed, 0);
});

Deno.test("Test Case 4 via the CLI: /status shows tasks_processed 9 and connections_total 3 after three clients", async () => {
  await using server = await startServer({ args: ["--demo-clients", "3"] });
  const result = await runClient(server, ["--clients", "3"]);
  assertEquals(result.code, 0);
  await server.waitForClosed(3);
  const status = await server.status();
  assertEquals(status.tasks_processed, 9);
  assertEquals(status.connections_total, 3);
  assertEquals(status.connections, 0);
});
