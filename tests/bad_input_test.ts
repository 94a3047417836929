/**
 * Hostile and broken peers against the real server: each gets a clear, generic refusal (or just a close),
 * the server logs exactly one line for the connection, keeps serving everybody else and never crashes.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { BankConnection } from "../client/connection.ts";
import { randomBytes, utf8 } from "../lib/bytes.ts";
import type { SealedChannel } from "../protocol/channel.ts";
import { clientKeyOf } from "../protocol/credential.ts";
import type { Credential } from "../protocol/credential.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { encodeFrame, writeAll } from "../protocol/frame.ts";
import { clientHandshake } from "../protocol/session.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { encodeErrorBody, FrameType } from "../protocol/wire.ts";
import type { WireErrorCode } from "../protocol/wire.ts";
import { connectRaw, localPort, readUntilClosed, runClient, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const TIMEOUT_FLAGS = [
  "--handshake-timeout-ms",
  "400",
  "--frame-timeout-ms",
  "400",
  "--idle-timeout-ms",
  "3000",
];

function errorFrame(code: WireErrorCode): Uint8Array {
  return encodeFrame(encodeErrorBody(code));
}

/** Authenticates a raw connection and returns its sealed channel. */
async function authenticated(server: ServerHandle, credential: Credential) {
  const conn = await connectRaw(server);
  const transport = new FrameTransport(conn, { frameBytesMax: 64 * 1024 });
  const handshake = await clientHandshake(transport, await clientKeyOf(webHandshakeCrypto, credential));
  if (!handshake.ok) throw new Error(handshake.error);
  return { conn, transport, channel: handshake.channel };
}

/** Waits for the connection's single log line and checks it says `rejected: reason`. */
async function expectRejected(server: ServerHandle, port: number, reason: string): Promise<void> {
  const line = await server.waitForLog(new RegExp(`from 127\\.0\\.0\\.1:${port} (rejected|closed)`));
  assertMatch(line, new RegExp(`rejected: ${reason}`));
  const lines = server.logs().filter((entry) => entry.includes(`127.0.0.1:${port} rejected`));
  assertEquals(lines.length, 1, `one line per rejected connection, got:\n${lines.join("\n")}`);
}

async function sealedCheckBalance(channel: SealedChannel): Promise<Uint8Array> {
  return await channel.seal(FrameType.sealedText, utf8("Check Balance"));
}

Deno.test("server rejects bad input with a clear error and keeps serving", async (t) => {
  await using server = await startServer({ args: ["--demo-clients", "3", ...TIMEOUT_FLAGS] });
  const client1 = await server.credential("client-1");
  const client2 = await server.credential("client-2");

  await t.step("garbage bytes inside a well-framed hello", async () => {
    const conn = await connectRaw(server);
    const garbage = randomBytes(196);
    garbage[0] = 0xab;
    await writeAll(conn, encodeFrame(garbage));
    assertEquals(await readUntilClosed(conn), errorFrame("handshake_failed"));
    await expectRejected(server, localPort(conn), "handshake_failed \\(hello_malformed");
  });

  await t.step("garbage bytes whose first four read as a huge length", async () => {
    const conn = await connectRaw(server);
    await writeAll(conn, new Uint8Array([0x47, 0x45, 0x54, 0x20, ...randomBytes(60)]));
    assertEquals(await readUntilClosed(conn), errorFrame("handshake_failed"));
    await expectRejected(server, localPort(conn), "handshake_failed \\(frame_error: frame_too_large");
  });

  await t.step("a hello with a bad version", async () => {
    const conn = await connectRaw(server);
    await writeAll(conn, encodeFrame(new Uint8Array([FrameType.hello, 9, 1, 0x61, ...randomBytes(32)])));
    assertEquals(await readUntilClosed(conn), errorFrame("handshake_failed"));
    await expectRejected(server, localPort(conn), "handshake_failed \\(hello_malformed");
  });

  await t.step("plaintext instead of a sealed frame", async () => {
    const { conn } = await authenticated(server, client1);
    await writeAll(conn, encodeFrame(utf8("Check Balance")));
    assertEquals(await readUntilClosed(conn), errorFrame("channel_error"));
    await expectRejected(server, localPort(conn), "sealed_malformed");
  });

  await t.step("a length prefix of 0", async () => {
    const { conn } = await authenticated(server, client1);
    await writeAll(conn, new Uint8Array([0, 0, 0, 0]));
    assertEquals(await readUntilClosed(conn), errorFrame("bad_frame"));
    await expectRejected(server, localPort(conn), "frame_empty");
  });

  await t.step("a length prefix of 4 GiB is refused before any body arrives", async () => {
    const { conn } = await authenticated(server, client1);
    await writeAll(conn, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    assertEquals(await readUntilClosed(conn, { timeoutMs: 2_000 }), errorFrame("bad_frame"));
    await expectRejected(server, localPort(conn), "frame_too_large");
  });

  await t.step("a truncated frame, then silence", async () => {
    const { conn } = await authenticated(server, client1);
    await writeAll(conn, new Uint8Array([0, 0, 0, 100, 1, 2, 3, 4, 5]));
    assertEquals(await readUntilClosed(conn), new Uint8Array(0));
    await expectRejected(server, localPort(conn), "frame_timeout");
  });

  await t.step("a frame sealed with another client's session key", async () => {
    const victim = await authenticated(server, client1);
    const other = await authenticated(server, client2);
    await writeAll(victim.conn, await sealedCheckBalance(other.channel));
    assertEquals(await readUntilClosed(victim.conn), errorFrame("channel_error"));
    await expectRejected(server, localPort(victim.conn), "sealed_not_authentic");
    await other.conn.close();
  });

  await t.step("a handshake with another client's key under client-1's key id", async () => {
    const conn = await connectRaw(server);
    const transport = new FrameTransport(conn, { frameBytesMax: 64 * 1024 });
    const [own, other] = await Promise.all(
      [client1, client2].map((credential) => clientKeyOf(webHandshakeCrypto, credential)),
    );
    const result = await clientHandshake(transport, { ...own!, signer: other!.signer });
    assertEquals(result.ok, false);
    assertEquals(!result.ok && result.code, "handshake_failed");
    await expectRejected(server, localPort(conn), "handshake_failed \\(signature_invalid");
    conn.close();
  });

  await t.step("an unknown identity", async () => {
    const conn = await connectRaw(server);
    const transport = new FrameTransport(conn, { frameBytesMax: 64 * 1024 });
    const stranger = await clientKeyOf(webHandshakeCrypto, {
      ...client1,
      identity: "mallory",
      privateKey: randomBytes(32),
    });
    const result = await clientHandshake(transport, stranger);
    assertEquals(!result.ok && result.code, "handshake_failed");
    await expectRejected(server, localPort(conn), "handshake_failed \\(unknown_key");
    conn.close();
  });

  await t.step("a replayed frame", async () => {
    const { conn, transport, channel } = await authenticated(server, client1);
    const frame = await sealedCheckBalance(channel);
    await transport.sendFrame(frame);
    const answer = await transport.next();
    if (answer.kind !== "frame") throw new Error(`expected an answer, got ${answer.kind}`);
    assertEquals((await channel.open(answer.body)).ok, true);
    await transport.sendFrame(frame);
    assertEquals(await readUntilClosed(conn), errorFrame("channel_error"));
    await expectRejected(server, localPort(conn), "sealed_out_of_sequence");
  });

  await t.step("a plain TCP connection to the TLS port", async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await writeAll(conn, utf8("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    await readUntilClosed(conn);
    await expectRejected(server, localPort(conn), "tls_failed");
  });

  await t.step("a TCP client that connects and sends nothing is closed at the deadline", async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    assertEquals(await readUntilClosed(conn, { timeoutMs: 5_000 }), new Uint8Array(0), "EOF, no byte sent");
    await expectRejected(server, localPort(conn), "deadline \\(no complete tls in time");
  });

  await t.step("a TLS client that completes TLS and sends nothing", async () => {
    const conn = await connectRaw(server);
    assertEquals(await readUntilClosed(conn), new Uint8Array(0));
    await expectRejected(server, localPort(conn), "deadline \\(no complete handshake in time");
  });

  await t.step("a silent client does not stall another client", async () => {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const result = await runClient(server, ["--identity", `${server.dataDir}/clients/client-3.json`]);
    assertEquals(result.code, 0);
    assertEquals(result.lines.at(-1), "Client 1: Server response: Contact Information Updated");
    silent.close();
  });

  await t.step("the server is still up and counted every rejection", async () => {
    const connection = await BankConnection.connect({
      host: "127.0.0.1",
      port: server.port,
      caPem: await server.caPem(),
      credential: client1,
    });
    assertMatch(await connection.sendText("Check Balance"), /^Balance: \$/);
    await connection.close();
    assert(server.alive());
    const status = await server.status();
    assert(status.connections_rejected! >= 13, `rejected ${status.connections_rejected}`);
    const crashes = server.logs().filter((line) => /Uncaught|AssertionFailure|\[ERR\]|\[FTL\]/.test(line));
    assertEquals(crashes, []);
  });
});
