/**
 * The web port's WebSocket, spoken by hand over real TLS sockets: a whole bank session through the client
 * library on a WebSocket (the same handshake and sealed frames as over TLS), then what a peer may not do,
 * each refused with its close code and the connection ended while the server goes on: a foreign or missing
 * Origin, a text message, a message over the frame limit (refused from its header: its payload is never
 * sent), a message that is not exactly one frame, an unmasked frame, and silence after the upgrade.
 *
 * @module
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { BankConnection } from "../client/connection.ts";
import type { SecureConn } from "../client/connection.ts";
import { concatBytes, fromUtf8, randomBytes, utf8 } from "../lib/bytes.ts";
import { readFrameHeader, unmask } from "../lib/websocket.ts";
import { startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A client's masked WebSocket frame. */
function clientFrame(opcode: number, payload: Uint8Array, options: { fin?: boolean; masked?: boolean } = {}) {
  const length = payload.length;
  const header = length < 126
    ? Uint8Array.of(0, length)
    : length <= 0xffff
    ? Uint8Array.of(0, 126, length >> 8, length & 0xff)
    : Uint8Array.of(
      0,
      127,
      0,
      0,
      0,
      0,
      length >>> 24,
      (length >>> 16) & 0xff,
      (length >>> 8) & 0xff,
      length & 0xff,
    );
  header[0] = ((options.fin ?? true) ? 0x80 : 0) | opcode;
  if (options.masked === false) return concatBytes([header, payload]);
  header[1]! |= 0x80;
  const mask = randomBytes(4);
  const masked = payload.slice();
  unmask(masked, mask);
  return concatBytes([header, mask, masked]);
}

/** A raw TLS connection to the web port, upgraded (or refused): the status line and the connection. */
async function upgrade(
  server: ServerHandle,
  headers: Record<string, string> = { origin: `https://127.0.0.1:${server.webPort}` },
): Promise<{ status: string; conn: Deno.TlsConn; rest: Uint8Array }> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.webPort,
    caCerts: [await server.caPem()],
  });
  const lines = [
    "GET /ws HTTP/1.1",
    `host: 127.0.0.1:${server.webPort}`,
    "upgrade: websocket",
    "connection: Upgrade",
    `sec-websocket-key: ${KEY}`,
    "sec-websocket-version: 13",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  await conn.write(utf8(`${lines.join("\r\n")}\r\n\r\n`));
  let received = new Uint8Array(0);
  for (;;) {
    const chunk = new Uint8Array(4096);
    const count = await conn.read(chunk);
    if (count === null) break;
    received = concatBytes([received, chunk.subarray(0, count)]);
    const end = fromUtf8(received.subarray(0, Math.min(received.length, 512)))?.indexOf("\r\n\r\n") ?? -1;
    if (end >= 0) {
      const head = fromUtf8(received.subarray(0, end))!;
      return { status: head.split("\r\n")[0]!, conn, rest: received.subarray(end + 4) };
    }
  }
  return { status: "closed", conn, rest: received };
}

/** Reads server frames until the close frame (its code) or the end (null), within 5 s. */
async function closeCode(conn: Deno.TlsConn, rest: Uint8Array = new Uint8Array(0)): Promise<number | null> {
  let received: Uint8Array = rest;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const header = readFrameHeader(received);
    if (header.kind === "frame" && received.length >= header.headerBytes + header.length) {
      const payload = received.subarray(header.headerBytes, header.headerBytes + header.length);
      if (header.opcode === 0x8) return (payload[0]! << 8) | payload[1]!;
      received = received.subarray(header.headerBytes + header.length);
      continue;
    }
    const chunk = new Uint8Array(4096);
    const count = await conn.read(chunk).catch(() => null);
    if (count === null) return null;
    received = concatBytes([received, chunk.subarray(0, count)]);
  }
  throw new Error("No close within 5 s");
}

/** A {@link SecureConn} over a hand-made WebSocket: what a browser's WebSocket does, for the library. */
function webSocketConn(conn: Deno.TlsConn, rest: Uint8Array): SecureConn {
  let received: Uint8Array = rest;
  let message: Uint8Array = new Uint8Array(0);
  const next = async (): Promise<Uint8Array | null> => {
    for (;;) {
      const header = readFrameHeader(received);
      if (header.kind === "frame" && received.length >= header.headerBytes + header.length) {
        const payload = received.slice(header.headerBytes, header.headerBytes + header.length);
        received = received.subarray(header.headerBytes + header.length);
        if (header.opcode === 0x8) return null;
        if (header.opcode === 0x2) return payload;
        continue;
      }
      const chunk = new Uint8Array(16_384);
      const count = await conn.read(chunk);
      if (count === null) return null;
      received = concatBytes([received, chunk.subarray(0, count)]);
    }
  };
  return {
    handshake: () => Promise.resolve(),
    async read(into) {
      if (message.length === 0) {
        const got = await next();
        if (got === null) return null;
        message = got;
      }
      const count = Math.min(into.length, message.length);
      into.set(message.subarray(0, count));
      message = message.subarray(count);
      return count;
    },
    async write(bytes) {
      await conn.write(clientFrame(0x2, bytes));
      return bytes.length;
    },
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
  };
}

Deno.test("A bank session runs over the web port's WebSocket exactly as over TLS", async () => {
  await using server = await startServer({ web: true, args: ["--demo-clients", "1"] });
  const { status, conn, rest } = await upgrade(server);
  assertEquals(status, "HTTP/1.1 101 Switching Protocols");
  const connection = await BankConnection.connect({
    host: "127.0.0.1",
    port: server.webPort,
    credential: await server.credential("client-1"),
    connect: () => Promise.resolve(webSocketConn(conn, rest)),
  });
  assertEquals(await connection.sendText("Check Balance"), "Balance: $500");
  assertEquals(await connection.sendText("Transfer $100 to Account XYZ"), "Transaction Successful");
  const balance = await connection.sendStructured({ v: 1, id: "b", op: "balance" });
  assertEquals(balance.ok ? balance.result : balance, {
    accounts: [
      {
        account_id: "ACC-0001",
        currency: "USD",
        balance_minor: "40000",
        available_minor: "40000",
        status: "open",
      },
    ],
  });
  await connection.close();
  await server.waitForLog(/Connection 1 from \S+ closed/);
});

Deno.test("The web port refuses foreign origins, text, oversize and mixed-up messages, and silence", async () => {
  await using server = await startServer({
    web: true,
    args: ["--demo-clients", "1", "--handshake-timeout-ms", "500"],
  });
  const foreign = await upgrade(server, { origin: "https://evil.example" });
  assertEquals(foreign.status, "HTTP/1.1 403 Forbidden");
  foreign.conn.close();
  const none = await upgrade(server, {});
  assertEquals(none.status, "HTTP/1.1 403 Forbidden");
  none.conn.close();

  const text = await upgrade(server);
  await text.conn.write(clientFrame(0x1, utf8("Check Balance")));
  assertEquals(await closeCode(text.conn, text.rest), 1003, "text messages are refused");
  text.conn.close();

  // Only the header of a 2 MiB message is sent: the refusal comes before any payload.
  const big = await upgrade(server);
  const header = clientFrame(0x2, new Uint8Array(2 * 1024 * 1024)).subarray(0, 14);
  await big.conn.write(header);
  assertEquals(await closeCode(big.conn, big.rest), 1009, "an oversize message is refused from its header");
  big.conn.close();

  const mixed = await upgrade(server);
  const twoFrames = Uint8Array.of(0, 0, 0, 1, 0x01, 0, 0, 0, 1, 0x01);
  await mixed.conn.write(clientFrame(0x2, twoFrames));
  assertEquals(await closeCode(mixed.conn, mixed.rest), 1002, "a message must be exactly one frame");
  mixed.conn.close();

  const unmasked = await upgrade(server);
  await unmasked.conn.write(clientFrame(0x2, Uint8Array.of(0, 0, 0, 1, 0x01), { masked: false }));
  assertEquals(await closeCode(unmasked.conn, unmasked.rest), 1002, "client frames must be masked");
  unmasked.conn.close();

  const silent = await upgrade(server);
  const started = Date.now();
  assertEquals(await closeCode(silent.conn, silent.rest), null, "silence after the upgrade is closed");
  assertMatch(String(Date.now() - started), /^\d{3,4}$/);
  silent.conn.close();

  const page = await fetch(`https://127.0.0.1:${server.webPort}/`, {
    client: Deno.createHttpClient({ caCerts: [await server.caPem()] }),
  });
  assertEquals(page.status, 200);
  assertStringIncludes(page.headers.get("content-security-policy") ?? "", "frame-ancestors 'none'");
  assertStringIncludes(await page.text(), '<meta name="bank-public-key"');
  const refusals = server.logs().filter((line) => line.includes("Web request from"));
  for (const reason of ["websocket_origin", "websocket_text_message", "websocket_message_too_large"]) {
    assertEquals(refusals.some((line) => line.includes(reason)), true, `${reason} is logged`);
  }
});
