/**
 * Running the server as an operator does: graceful shutdown under load, identity rotation and revocation
 * with sessions open, the monitor's access rule, log hygiene, and the client's machine-readable output.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { BankConnection, ClientError } from "../client/connection.ts";
import { toBase64Url, toHex } from "../lib/bytes.ts";
import { SqliteLedger } from "../server/ledger/sqlite.ts";
import { connectAs, runAdmin, runClient, SERVER_SOURCE, startServer } from "../tools/harness.ts";
import { acknowledged, runTransferLoad } from "./_load.ts";
import parsePrometheus from "parse-prometheus-text-format";

const TOKEN = "monitor-token-for-tests-0123456789";

/** Sends requests until the session is ended by the server, bounded in time. */
async function waitUntilEnded(connection: BankConnection, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await connection.sendText("Check Balance");
    } catch (error) {
      if (error instanceof ClientError) return error.message;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("The session was not ended in time");
}

Deno.test("SIGTERM drains: every request is answered or was never journaled, and the server exits 0", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-drain-" });
  try {
    const server = await startServer({ dataDir, args: ["--demo-clients", "12"] });
    const stopped = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return await server.stop("SIGTERM");
    })();
    const sent = await runTransferLoad({
      servers: [server],
      clients: Array.from({ length: 12 }, (_, index) => index + 1),
      targets: ["ACC-0001", "ACC-0002", "XYZ"],
      requestsPerClient: 100_000,
      seed: 9,
      stop: stopped.then(() => {}),
    });
    assertEquals(await stopped, 0, "a clean shutdown exits 0");
    assert(acknowledged(sent).length > 0);
    assert(server.logs().some((line) => /Received SIGTERM: draining/.test(line)));
    assert(server.logs().some((line) => /Stopped: \d+ requests answered, 0 connections cut/.test(line)));
    await using ledger = SqliteLedger.open(`${dataDir}/bank.db`);
    for (const transfer of sent) {
      const found = await ledger.findTransfer(transfer.identity, transfer.key);
      if (transfer.outcome === null) {
        assertEquals(found, null, `unanswered ${transfer.key} must not have moved money`);
      } else if ("transferId" in transfer.outcome) assertEquals(found?.id, transfer.outcome.transferId);
    }
    assertEquals((await ledger.verify()).problems, []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("clients revoke and rotate take effect for the next handshake and end open sessions", async () => {
  await using server = await startServer({ args: ["--demo-clients", "3"] });
  const where = { dataDir: server.dataDir };
  const revoked = await connectAs(server, "client-2");
  const oldCredential = await server.credential("client-3");
  const rotated = await connectAs(server, "client-3");
  assertMatch(await revoked.sendText("Check Balance"), /^Balance/);

  const revoke = await runAdmin(["clients", "revoke", "client-2"], where);
  assertEquals(revoke.code, 0, revoke.stderr);
  assertMatch(await waitUntilEnded(revoked), /server closed|connection/);
  const again = await runClient(server, ["--identity", `${server.dataDir}/clients/client-2.json`]);
  assertEquals(again.code, 3);
  assertMatch(again.stdout, /Handshake as client-2 failed: Server refused: handshake_failed/);
  assertEquals((await runAdmin(["clients", "revoke", "client-2"], where)).code, 1, "already revoked");

  const rotate = await runAdmin(["clients", "rotate", "client-3"], where);
  assertEquals(rotate.code, 0, rotate.stderr);
  assertMatch(rotate.stdout, /Rotated identity client-3/);
  await waitUntilEnded(rotated);
  const stale = await BankConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credential: oldCredential,
  }).then(() => "connected", (error: Error) => error.message);
  assertMatch(stale, /Handshake as client-3 failed/);
  const fresh = await connectAs(server, "client-3");
  assertMatch(await fresh.sendText("Check Balance"), /^Balance: \$500$/);
  await fresh.close();

  const add = await runAdmin(["clients", "add", "ada"], where);
  assertEquals(add.code, 0, add.stderr);
  assertEquals((await runAdmin(["clients", "add", "ada"], where)).code, 1);
  const ada = await connectAs(server, "ada");
  assertEquals(await ada.sendText("Check Balance"), "Balance: no account");
  await ada.close();
  const list = await runAdmin(["clients", "list"], where);
  // Generations: 1 when made, then one per change of its keys or status.
  assertMatch(list.stdout, /^ada\s+active\s+2\s/m);
  assertMatch(list.stdout, /^client-2\s+revoked\s+3\s/m);
  assertMatch(list.stdout, /^client-3\s+active\s+3\s/m);
  const mode = (await Deno.stat(`${server.dataDir}/clients/ada.json`)).mode! & 0o777;
  assertEquals(mode, 0o600);
  await server.waitForLog(/Identity client-2 changed: revoked, generation 3; 1 sessions ended/);
});

Deno.test("the monitor refuses to start off loopback without a token, and needs the token with one", async () => {
  const refused = await new Deno.Command(SERVER_SOURCE.executable, {
    args: [
      ...SERVER_SOURCE.args,
      "--monitor-host",
      "0.0.0.0",
      "--port",
      "0",
      "--data",
      "/nonexistent/never-made",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(refused.code, 2);
  assertMatch(new TextDecoder().decode(refused.stderr), /reachable from other machines: set --monitor-token/);

  await using server = await startServer({
    args: ["--demo-clients", "1", "--monitor-host", "0.0.0.0", "--monitor-token", TOKEN],
  });
  const url = `http://127.0.0.1:${server.monitorPort}`;
  const anonymous = await fetch(`${url}/status`);
  assertEquals(anonymous.status, 401);
  assertEquals(await anonymous.json(), { error: "unauthorized" });
  const wrong = await fetch(`${url}/metrics`, { headers: { authorization: "Bearer not-the-token" } });
  assertEquals(wrong.status, 401);
  await wrong.body?.cancel();
  const allowed = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assertEquals(allowed.status, 200);
  assertEquals((await allowed.json()).connections, 0);
  const ready = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assertEquals(await ready.json(), { ready: true });
  assertEquals(server.logs().some((line) => line.includes(TOKEN)), false, "the token is never logged");
});

Deno.test("logs are JSON lines at debug level and never carry secrets, keys or contact details", async () => {
  await using server = await startServer({
    args: ["--demo-clients", "2", "--log-level", "debug", "--log-format", "json", "--monitor-token", TOKEN],
  });
  const credential = await server.credential("client-1");
  const connection = await connectAs(server, "client-1");
  const email = "marker.person@example.org";
  const address = "77 Marker Lane";
  await connection.sendText(
    `Update Contact Information: email=${email}; phone=+1 555 0199; address=${address}`,
  );
  await connection.sendStructured({ v: 1, id: "c", op: "update_contact", email: "other.marker@example.org" });
  await connection.sendStructured({
    v: 1,
    id: "t",
    op: "transfer",
    to: "XYZ",
    amount_minor: "1",
    idempotency_key: "k",
  });
  await connection.sendText("Check Balance");
  await connection.close();
  const wrong = await BankConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credential: { ...credential, identity: "client-2" },
  }).catch((error: Error) => error);
  assert(wrong instanceof ClientError);
  await server.waitForLog(/client-2/);
  await server.waitForLog(/answered transfer/);

  const lines = server.logs();
  const records = lines.map((line) => JSON.parse(line) as { level: string; message: string });
  assert(
    records.some((record) => record.level === "DEBUG" && /answered update_contact/.test(record.message)),
  );
  const forbidden = [
    toBase64Url(credential.privateKey),
    toHex(credential.privateKey),
    email,
    "other.marker",
    "555 0199",
    address,
    TOKEN,
  ];
  for (const secret of forbidden) {
    const leaks = lines.filter((line) => line.includes(secret));
    assertEquals(leaks, [], `"${secret.slice(0, 6)}…" must not be logged`);
  }
  assertNotEquals(lines.length, 0);
});

Deno.test("bank-client --json reports every client and task as one JSON document", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2"] });
  const result = await runClient(server, [
    "--clients",
    "2",
    "--json",
    "--task",
    "Check Balance",
    "--task",
    "Nope",
  ]);
  assertEquals(result.code, 1);
  const report = JSON.parse(result.stdout);
  assertEquals(report.ok, false);
  assertEquals(report.clients.map((client: { identity: string }) => client.identity), [
    "client-1",
    "client-2",
  ]);
  assertEquals(report.clients[0].tasks, [
    { task: "Check Balance", response: "Balance: $500", refused: false },
    { task: "Nope", response: "Invalid Request", refused: true },
  ]);
});

Deno.test("--help lists every option with defaults on every command, and --version answers", async () => {
  const run = async (args: string[]) => {
    const output = await new Deno.Command(SERVER_SOURCE.executable, {
      args: [...SERVER_SOURCE.args, ...args],
    }).output();
    return { code: output.code, text: new TextDecoder().decode(output.stdout) };
  };
  const help = await run(["--help"]);
  assertEquals(help.code, 0);
  for (const option of ["--port", "--monitor-token", "--log-format", "--shutdown-timeout-ms", "--database"]) {
    assertMatch(help.text, new RegExp(option));
  }
  assertMatch(help.text, /\(default: 8443\) \[env BANK_PORT\]/);
  for (const command of [["accounts", "--help"], ["clients", "--help"], ["ledger", "--help"]]) {
    const text = (await run(command)).text;
    assertMatch(text, /clients rotate NAME/);
    assertMatch(text, /--data DIR/);
  }
  assertMatch((await run(["--version"])).text, /^bank-server \d+\.\d+\.\d+/);
});

Deno.test("GET /metrics on the running server parses as Prometheus exposition and follows a load", async () => {
  await using server = await startServer({ args: ["--demo-clients", "3"] });
  const result = await runClient(server, ["--clients", "3"]);
  assertEquals(result.code, 0);
  await server.waitForClosed(3);
  const response = await fetch(`http://127.0.0.1:${server.monitorPort}/metrics`);
  assertEquals(response.status, 200);
  const families = parsePrometheus(await response.text()) as {
    name: string;
    metrics: { value?: string; labels?: Record<string, string> }[];
  }[];
  const byName = new Map(families.map((family) => [family.name, family]));
  assertEquals(byName.get("bank_connections_total")?.metrics[0]?.value, "3");
  const requests = byName.get("bank_requests_total")?.metrics ?? [];
  const total = requests.reduce((sum, metric) => sum + Number(metric.value), 0);
  assertEquals(total, 9);
  assert(
    requests.some((metric) => metric.labels?.operation === "transfer" && metric.labels?.outcome === "ok"),
  );
  assert(Number(byName.get("process_resident_memory_bytes")?.metrics[0]?.value) > 0);
});

Deno.test("a second server cannot silently share the port of a multi-threaded one", async () => {
  await using first = await startServer({ args: ["--demo-clients", "1", "--workers", "2"] });
  const dataDir = await Deno.makeTempDir({ prefix: "bank-second-" });
  try {
    const second = await new Deno.Command(SERVER_SOURCE.executable, {
      args: [...SERVER_SOURCE.args, "--data", dataDir, "--port", String(first.port), "--monitor-port", "0"]
        .concat(["--workers", "2", "--demo-clients", "1"]),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(second.code, 1);
    assertMatch(
      new TextDecoder().decode(second.stderr),
      /Cannot listen on 127\.0\.0\.1:\d+: Address already in use/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
