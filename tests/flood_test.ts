/**
 * Floods against the real server, scaled to CI with low budgets set by flags: silent and half-finished
 * peers are closed at their deadline (counted in /proc/PID/fd), one address's surplus is refused while
 * another address is served, running out of files leaves the server and the monitor up, and the monitor
 * keeps its own caps. Peers come from loopback aliases (127.0.0.2 …), distinct sources to the server.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertLessOrEqual, assertMatch } from "@std/assert";
import { flood } from "../bench/flood.ts";
import { SERVER_SOURCE } from "../tools/harness.ts";
import { connectFrom, openFilesOf, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

/** Waits until `check` holds, for at most `timeoutMs`; returns whether it did. */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return await check();
}

async function checkBalanceFrom(server: ServerHandle, from: string): Promise<string> {
  const connection = await connectFrom(server, "client-1", { from });
  try {
    return await connection.sendText("Check Balance");
  } finally {
    await connection.close();
  }
}

Deno.test("stalled TLS handshakes are closed at the deadline and their files released", async () => {
  await using server = await startServer({
    args: ["--demo-clients", "1", "--handshake-timeout-ms", "1000", "--address-pending-max", "1000"],
  });
  const before = openFilesOf(server);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, openFilesOf(server))), 20);
  const report = await flood({
    host: "127.0.0.1",
    port: server.port,
    from: ["127.0.0.2"],
    count: 300,
    mode: "hello",
    holdMs: 6_000,
  });
  clearInterval(sampler);
  assertGreaterOrEqual(peak, before + 250, "the server held the stalled peers for a while");
  assertEquals(report.connected, 300);
  assertEquals(report.heldToTheEnd, 0, "no peer outlived its deadline");
  assertEquals(report.closedBy["1s"]! + report.closedBy["2s"]!, 300, "every one closed at 1-2 s");
  assert(await eventually(() => openFilesOf(server) <= before + 5, 2_000), "files back to where they were");
  const status = await server.status();
  assertEquals(status.connections, 0);
  assertEquals((status.rejections as unknown as Record<string, number>).deadline, 300);
});

Deno.test("one address over its pending budget is refused at once while another address is served", async () => {
  await using server = await startServer({
    args: ["--demo-clients", "1", "--handshake-timeout-ms", "3000", "--address-pending-max", "8"],
  });
  const answered: string[] = [];
  const report = await flood({
    host: "127.0.0.1",
    port: server.port,
    from: ["127.0.0.2"],
    count: 100,
    mode: "hello",
    holdMs: 5_000,
    onConnected: async () => {
      answered.push(await checkBalanceFrom(server, "127.0.0.3"));
      const status = await server.status();
      assertEquals(status.connections_handshaking, 8, "the budget holds 8 from 127.0.0.2");
    },
  });
  assertEquals(answered, ["Balance: $500"], "127.0.0.3 was served while 127.0.0.2 flooded");
  assertEquals(report.closedBy["1s"], 92, "the surplus was closed at once");
  assertEquals(report.heldToTheEnd, 0);
  const rejections = (await server.status()).rejections as unknown as Record<string, number>;
  assertEquals(rejections.address_cap, 92);
  assertEquals(rejections.deadline, 8);
  const summaries = server.logs().filter((line) => /Rejected \d+ more .* from 127\.0\.0\.2/.test(line));
  const single = server.logs().filter((line) => /from 127\.0\.0\.2:\d+ refused: address_cap/.test(line));
  assertLessOrEqual(single.length, 20, "single lines stop at the address's budget; the rest are summed up");
  assert(summaries.length + single.length < 30, "a flood is not a log flood");
});

Deno.test("an address opening connections faster than its rate is refused at once", async () => {
  await using server = await startServer({
    args: ["--demo-clients", "1", "--address-connects-per-second", "2", "--address-connects-burst", "10"],
  });
  const report = await flood({
    host: "127.0.0.1",
    port: server.port,
    from: ["127.0.0.5"],
    count: 40,
    mode: "tcp",
    holdMs: 1_500,
  });
  assertGreaterOrEqual(report.closedBy["1s"]!, 25, "the connections past the burst were closed at once");
  const rejections = (await server.status()).rejections as unknown as Record<string, number>;
  assertGreaterOrEqual(rejections.address_rate!, 25);
  assertEquals(await checkBalanceFrom(server, "127.0.0.6"), "Balance: $500", "other addresses are served");
});

Deno.test("out of files: the server and the monitor stay up, and accept again once files are free", async () => {
  const files = 400;
  await using server = await startServer({
    program: {
      executable: "prlimit",
      args: [`--nofile=${files}:${files}`, SERVER_SOURCE.executable, ...SERVER_SOURCE.args],
    },
    args: [
      "--demo-clients",
      "1",
      "--handshake-timeout-ms",
      "2000",
      "--address-pending-max",
      "1000",
      "--fd-reserve",
      "100",
      "--monitor-max-connections",
      "16",
    ],
  });
  assert(
    server.logs().some((line) => /Open-file limit 400 \(hard 400\): up to 284 TLS connections/.test(line)),
  );
  // At the connection budget the oldest unauthenticated connection makes room: a client still gets in.
  const served: string[] = [];
  await flood({
    host: "127.0.0.1",
    port: server.port,
    from: ["127.0.0.2"],
    count: 350,
    mode: "hello",
    holdMs: 4_000,
    onConnected: async () => {
      served.push(await checkBalanceFrom(server, "127.0.0.3"));
      assertLessOrEqual(openFilesOf(server), files, "never past the limit");
    },
  });
  assertEquals(served, ["Balance: $500"]);
  const status = await server.status();
  assertGreaterOrEqual((status.rejections as unknown as Record<string, number>).connection_cap!, 66);

  // Now the limit drops below what the process holds: accepting fails until files are free again.
  const held = flood({
    host: "127.0.0.1",
    port: server.port,
    from: ["127.0.0.2"],
    count: 250,
    mode: "hello",
    holdMs: 4_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 700));
  const lowered = await new Deno.Command("prlimit", {
    args: [`--pid=${server.pid}`, "--nofile=200:400"],
  }).output();
  assertEquals(lowered.code, 0, new TextDecoder().decode(lowered.stderr));
  const starved = await flood({
    host: "127.0.0.1",
    port: server.port,
    from: ["127.0.0.4"],
    count: 30,
    mode: "tcp",
    holdMs: 1_000,
  });
  assert(starved.connected === 30, "the kernel still completes connections; the server cannot take them");
  await held;
  await new Deno.Command("prlimit", { args: [`--pid=${server.pid}`, `--nofile=${files}:${files}`] }).output();
  assert(
    await eventually(async () => (await checkBalanceFrom(server, "127.0.0.3").catch(() => "")) !== "", 5_000),
    "the listener accepts again once files are free",
  );
  assertEquals(await checkBalanceFrom(server, "127.0.0.3"), "Balance: $500");
  assert(server.alive());
  assertEquals((await fetch(`http://127.0.0.1:${server.monitorPort}/healthz`)).status, 200);
  const crashes = server.logs().filter((line) => /Uncaught|AssertionFailure|\[FTL\]/.test(line));
  assertEquals(crashes, []);
  assert(server.logs().some((line) => /Listening socket rebuilt/.test(line)), "the listener was rebuilt");
});

Deno.test("the monitor keeps its caps: head and body size, time to send a request, connections per address", async () => {
  await using server = await startServer({
    args: [
      "--demo-clients",
      "1",
      "--monitor-request-timeout-ms",
      "500",
      "--monitor-header-max-bytes",
      "2048",
      "--monitor-body-max-bytes",
      "16",
      "--monitor-address-connections-max",
      "4",
    ],
  });
  const port = server.monitorPort;
  const raw = async (request: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(request)).catch(() => 0);
    const buffer = new Uint8Array(4096);
    const count = await conn.read(buffer).catch(() => null);
    conn.close();
    return count === null ? "" : new TextDecoder().decode(buffer.subarray(0, count));
  };
  assertMatch(await raw("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), /^HTTP\/1\.1 200 /);
  assertMatch(
    await raw(`GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"a".repeat(4096)}\r\n\r\n`),
    /^HTTP\/1\.1 431 /,
  );
  assertMatch(
    await raw("POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"),
    /^HTTP\/1\.1 413 /,
  );
  assertMatch(
    await raw("POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
    /^HTTP\/1\.1 501 /,
  );
  assertMatch(await raw("GET /status HTTP/1.1\r\n\r\n"), /^HTTP\/1\.1 400 /, "HTTP/1.1 needs a Host");
  assertMatch(await raw("BREW /pot HTCPCP/1.0\r\n\r\n"), /^HTTP\/1\.1 400 /);
  assertEquals(
    await raw("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
    "",
    "half a request: closed, no answer",
  );

  const report = await flood({
    host: "127.0.0.1",
    port,
    from: ["127.0.0.4"],
    count: 50,
    mode: "http-half",
    holdMs: 3_000,
  });
  assertEquals(report.closedBy["1s"], 50, "4 held until the deadline (0.5 s), 46 refused at once");
  assertMatch(await raw("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), /^HTTP\/1\.1 200 /);
  const monitorRejections = (await server.status()).monitor_rejections as unknown as Record<string, number>;
  assertEquals(monitorRejections.address_cap, 46);
  assertGreaterOrEqual(monitorRejections.deadline!, 5);
  assertEquals(monitorRejections.header_too_large, 1);
  assertEquals(monitorRejections.body_too_large, 1);
});
