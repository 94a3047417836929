/**
 * The load generator against the real server process: its figures agree with the server's own counters,
 * pipelining works, refusals and wrong answers count as errors, and bad arguments are refused.
 */
import { assert, assertEquals, assertGreater, assertMatch } from "@std/assert";
import { utf8 } from "../../lib/bytes.ts";
import type { Credential } from "../../protocol/credential.ts";
import { webHandshakeCrypto } from "../../protocol/handshake_crypto.ts";
import { loadBankKey } from "../../server/bank_key.ts";
import { serverHandshake } from "../../protocol/session.ts";
import { FrameTransport } from "../../protocol/transport.ts";
import { FrameType } from "../../protocol/wire.ts";
import { CLIENT_SOURCE, startServer } from "../../tools/harness.ts";
import type { ServerHandle } from "../../tools/harness.ts";
import { benchExitCode, parseMix } from "./cli.ts";
import { parseDurationMs } from "../../lib/options.ts";
import { runBench } from "./run.ts";
import type { BenchReport } from "./types.ts";

const STATUS_WAIT_MS = 2_000;

/** Runs `bank-client bench` against a server; `bench` must come first, then the usual options. */
async function runBenchCli(
  args: string[],
  server?: ServerHandle,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const target = server === undefined ? [] : ["--data", server.dataDir, "--port", `${server.port}`];
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("BANK_")),
  );
  const output = await new Deno.Command(CLIENT_SOURCE.executable, {
    args: [...CLIENT_SOURCE.args, "bench", ...target, ...args],
    stdin: "null",
    clearEnv: true,
    env: { ...env, NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** The server's tasks_processed once it reaches `expected` (its counter follows the answer's write). */
async function tasksProcessedReaching(server: ServerHandle, expected: number): Promise<number> {
  const deadline = Date.now() + STATUS_WAIT_MS;
  while (true) {
    const processed = (await server.status()).tasks_processed!;
    if (processed >= expected || Date.now() > deadline) return processed;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("parseDurationMs() and parseMix() read the command line's forms and refuse the rest", () => {
  const durations: [string, number | null][] = [
    ["500ms", 500],
    ["10s", 10_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["0s", 0],
    ["10", null],
    ["1.5s", null],
    ["-1s", null],
    ["05s", null],
    ["10 s", null],
    ["1d", 86_400_000],
    ["1w", null],
    ["", null],
  ];
  for (const [text, expected] of durations) assertEquals(parseDurationMs(text), expected, text);
  assertEquals(parseMix("8:1:1"), { balance: 8, transfer: 1, contact: 1 });
  assertEquals(parseMix("0:1:0"), { balance: 0, transfer: 1, contact: 0 });
  for (const text of ["0:0:0", "8:1", "8:1:1:1", "a:1:1", "-1:1:1", "1001:1:1", "1.5:1:1", ""]) {
    assertEquals(parseMix(text), null, text);
  }
});

Deno.test("bank-client bench: figures agree with the server, pipelined too, and refusals are errors", async (t) => {
  await using server = await startServer({ args: ["--demo-clients", "20"] });

  await t.step("10 clients, mix 8:1:1, 2 s: requests/s > 0, no errors, sent = tasks_processed", async () => {
    const before = (await server.status()).tasks_processed!;
    const result = await runBenchCli(
      ["--clients", "10", "--duration", "2s", "--mix", "8:1:1", "--json"],
      server,
    );
    assertEquals(result.code, 0, result.stderr);
    assertEquals(
      /\r|requests so far/.test(result.stderr),
      false,
      "no progress line without a terminal or with --json",
    );
    const report: BenchReport = JSON.parse(result.stdout);
    assert(report.ok);
    assertGreater(report.measured.requests_per_second, 0);
    assertEquals(report.errors, {});
    assertEquals(report.totals.errors, 0);
    assertEquals(report.totals.answered, report.totals.sent);
    assertGreater(report.totals.sent, report.measured.requests, "warmup answers are not measured");
    assertEquals(report.connections.opened, 10);
    assertEquals(report.connections.failed, 0);
    assertEquals(report.connections.bank_handshake_ms.count, 10);
    assertEquals(report.settings.warmup_ms, 1_000);
    assert(report.measured.window_ms >= 1_990 && report.measured.window_ms <= 2_010, "a 2 s window");
    for (const operation of ["balance", "transfer", "contact"] as const) {
      assertGreater(report.measured.by_operation[operation].requests, 0, operation);
    }
    const latency = report.measured.latency_ms;
    assert(latency.p50_ms! <= latency.p99_ms! && latency.p99_ms! <= latency.max_ms!, "percentiles in order");
    assertGreater(report.client_cost.cpu_user_ms + report.client_cost.cpu_system_ms, 0);
    const processed = await tasksProcessedReaching(server, before + report.totals.sent);
    assertEquals(processed - before, report.totals.sent, "the server answered exactly what the bench sent");
  });

  await t.step("--pipeline 4 has no errors, and the summary says so", async () => {
    const before = (await server.status()).tasks_processed!;
    const result = await runBenchCli(
      ["--clients", "4", "--duration", "1s", "--warmup", "200ms", "--pipeline", "4", "--seed", "7"],
      server,
    );
    assertEquals(result.code, 0, result.stdout + result.stderr);
    assertMatch(result.stdout, /^bench: 4 connections as 4 identities, pipeline 4, .* seed 7$/m);
    assertMatch(result.stdout, /^ {2}errors {8}none$/m);
    assertMatch(result.stdout, /^ {2}result {8}ok$/m);
    const sent = Number(/(\S+) sent,/.exec(result.stdout)![1]!.replaceAll(",", ""));
    assertEquals((await tasksProcessedReaching(server, before + sent)) - before, sent);
  });

  await t.step("transfers beyond every balance count as insufficient_funds, and exit 1", async () => {
    const credentials = await Promise.all([1, 2].map((n) => server.credential(`client-${n}`)));
    const report = await runBench({
      host: "127.0.0.1",
      port: server.port,
      caPem: await server.caPem(),
      credentials,
      clients: 2,
      durationMs: 300,
      warmupMs: 0,
      mix: { balance: 0, transfer: 1, contact: 0 },
      transferAmountMinor: 1_000_000n,
    });
    assertGreater(report.totals.sent, 0);
    assertEquals(report.errors, { insufficient_funds: report.totals.sent });
    assertEquals(report.measured.by_operation.transfer.errors, report.measured.requests);
    assertEquals(report.ok, false);
    assertEquals(benchExitCode(report), 1);
  });
});

Deno.test("runBench() counts answers with the wrong id, shape or format as wrong_answer", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1"] });
  const credential = await server.credential("client-1");
  await using fake = await startFakeServer(server, { credential, answers: "wrong" });
  const report = await runBench({
    host: "127.0.0.1",
    port: fake.port,
    caPem: await server.caPem(),
    credentials: [credential],
    clients: 1,
    durationMs: 200,
    warmupMs: 0,
    mix: { balance: 1, transfer: 0, contact: 0 },
    pipeline: 2,
  });
  assertGreater(report.totals.sent, 3);
  assertEquals(report.totals.answered, report.totals.sent);
  assertEquals(report.errors, { wrong_answer: report.totals.sent });
  assertEquals(benchExitCode(report), 1);

  await using silent = await startFakeServer(server, { credential, answers: "none" });
  const unanswered = await runBench({
    host: "127.0.0.1",
    port: silent.port,
    caPem: await server.caPem(),
    credentials: [credential],
    clients: 1,
    durationMs: 100,
    warmupMs: 0,
    mix: { balance: 1, transfer: 0, contact: 0 },
    pipeline: 3,
    timeoutMs: 1_500,
  });
  assertEquals(unanswered.totals, { sent: 3, answered: 0, errors: 3 });
  assertEquals(
    unanswered.errors,
    { timeout: 3 },
    "a server that never answers is given up on, in bounded time",
  );
  assertEquals(unanswered.connections.lost, 1);
});

/**
 * A server that completes the real handshake with the server's own certificate, then answers every
 * request wrongly (in turn: another id, a balance without accounts, a text frame), or never.
 */
async function startFakeServer(
  server: ServerHandle,
  options: { credential: Credential; answers: "wrong" | "none" },
): Promise<{ port: number } & AsyncDisposable> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(`${server.dataDir}/server.crt`),
    key: await Deno.readTextFile(`${server.dataDir}/server.key`),
  });
  const bank = await loadBankKey(server.dataDir, webHandshakeCrypto);
  const client = await webHandshakeCrypto.signer(options.credential.privateKey);
  const serve = async (conn: Deno.TlsConn) => {
    const transport = new FrameTransport(conn, { frameBytesMax: 65_536 });
    const handshake = await serverHandshake(transport, {
      bank,
      lookupKey: () => Promise.resolve(client),
      decoyPublicKey: client.publicKey,
    });
    if (!handshake.ok) throw new Error(`Fake server handshake failed: ${handshake.detail}`);
    for (let answers = 0;; answers++) {
      const frame = await transport.next().catch(() => ({ kind: "end" as const }));
      if (frame.kind !== "frame") break;
      const opened = await handshake.channel.open(frame.body);
      if (!opened.ok) throw new Error(`Fake server could not open a request: ${opened.reason}`);
      if (options.answers === "none") continue;
      const id = JSON.parse(new TextDecoder().decode(opened.plaintext)).id;
      const wrong = [
        {
          type: FrameType.sealedJson,
          text: JSON.stringify({ v: 1, id: `x${id}`, ok: true, result: { accounts: [] } }),
        },
        {
          type: FrameType.sealedJson,
          text: JSON.stringify({ v: 1, id, ok: true, result: { accounts: "none" } }),
        },
        { type: FrameType.sealedText, text: "Balance: $500" },
      ][answers % 3]!;
      await transport.sendFrame(await handshake.channel.seal(wrong.type, utf8(wrong.text)));
    }
    conn.close();
  };
  const sessions: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) sessions.push(serve(conn));
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(sessions);
    },
  };
}

Deno.test("bank-client bench refuses bad arguments with exit 2 and a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [["--clients", "0"], /--clients must be between 1 and 10000, got 0/],
    [["--clients", "10001"], /--clients must be between 1 and 10000/],
    [["--duration", "10"], /--duration must be a duration such as 500ms, 10s or 2m, got "10"/],
    [["--duration", "2h"], /--duration must be between 100 ms and 3600000 ms/],
    [["--warmup", "-1s"], /--warmup must be a duration/],
    [["--mix", "8:1"], /--mix must be three whole weights BALANCE:TRANSFER:CONTACT/],
    [["--mix", "0:0:0"], /--mix must be three whole weights/],
    [["--pipeline", "65"], /--pipeline must be between 1 and 64, got 65/],
    [["--seed", "x"], /--seed must be a whole number/],
    [["--aead", "rot13"], /--aead must be one of hybrid, node, webcrypto, got "rot13"/],
    [["--bogus"], /Unknown option --bogus/],
    [["extra"], /Unexpected argument "extra"/],
  ];
  const results = await Promise.all(cases.map(([args]) => runBenchCli(args)));
  results.forEach((result, index) => {
    const [args, message] = cases[index]!;
    assertEquals(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assertMatch(result.stderr, message);
    assertMatch(result.stderr, /bank-client bench --help/);
    assertEquals(result.stdout, "");
  });
  const help = await runBenchCli(["--help"]);
  assertEquals(help.code, 0);
  for (const option of ["--clients", "--duration", "--warmup", "--mix", "--pipeline", "--seed", "--json"]) {
    assertMatch(help.stdout, new RegExp(option));
  }
});

Deno.test("bank-client bench stops with exit 3 without credentials or without a server, and says why", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-bench-test-" });
  try {
    await Deno.writeTextFile(`${dataDir}/ca.crt`, "not read before a connection is made");
    const noCredentials = await runBenchCli(["--data", dataDir, "--port", "1"]);
    assertEquals(noCredentials.code, 3);
    assertMatch(
      noCredentials.stderr,
      /No credentials to bench with: ".*\/clients\/client-1\.json" does not exist/,
    );

    await Deno.mkdir(`${dataDir}/clients`);
    const credential = {
      version: 2,
      identity: "client-1",
      private_key: "A".repeat(43),
      bank_public_key: "A".repeat(43),
    };
    await Deno.writeTextFile(`${dataDir}/clients/client-1.json`, JSON.stringify(credential));
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closed.addr as Deno.NetAddr).port;
    closed.close();
    const noServer = await runBenchCli(["--data", dataDir, "--port", `${port}`, "--clients", "3", "--json"]);
    assertEquals(noServer.code, 3, noServer.stderr);
    const report: BenchReport = JSON.parse(noServer.stdout);
    assertEquals(report.connections.failed, 3);
    assertEquals(report.connections.failures, { connect_failed: 3 });
    assertMatch(report.connections.first_failure!, /^connect_failed: /);
    assertEquals(report.totals.sent, 0);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
