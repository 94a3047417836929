/**
 * The physical limit the bank is measured against: a bare TLS echo server on the server's own listener
 * (node:tls, server/tls_node.ts) and frame transport, and a client with the bank bench's pattern (one frame
 * in flight per connection, 64-byte bodies).
 *
 * The sealed variant also opens and seals every frame with the server's own channel code (SealedChannel,
 * AES-256-GCM through the same fast primitive, 64-byte frame bodies), and nothing else: the ceiling for any request the
 * bank's channel carries on this machine. Each connection's first frame carries its two fresh random keys
 * (inside TLS; this is a measuring harness, not a protocol), so no key and nonce pair is ever used twice.
 *
 * ```sh
 * deno run --allow-all bench/echo.ts serve --cert server.crt --key server.key [--sealed]   # prints "port N"
 * ```
 *
 * @module
 */
import { LatencyHistogram } from "../lib/histogram.ts";
import { FAST_AEAD } from "../protocol/node_crypto.ts";
import { assert } from "../lib/assert.ts";
import { SealedChannel } from "../protocol/channel.ts";
import type { SessionKeys } from "../protocol/handshake.ts";
import { encodeFrame, FrameReader, writeAll } from "../protocol/frame.ts";
import {
  AES_KEY_BYTES,
  FRAME_BYTES_DEFAULT,
  GCM_TAG_BYTES,
  SEALED_HEADER_BYTES,
} from "../protocol/limits.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { FrameType } from "../protocol/wire.ts";
import { listenNodeTls } from "../server/tls_node.ts";
import type { PeerConn, TlsAcceptor } from "../server/peer.ts";

export const ECHO_BODY_BYTES = 64;
/** The plaintext that makes a sealed frame body exactly {@link ECHO_BODY_BYTES} long. */
const SEALED_PLAINTEXT_BYTES = ECHO_BODY_BYTES - SEALED_HEADER_BYTES - GCM_TAG_BYTES;

/** Both directions' keys, sent as a connection's first frame in the sealed variant. */
function decodeKeys(
  body: Uint8Array,
): Pick<SessionKeys, "clientToServerKey" | "serverToClientKey"> | null {
  if (body.length !== 2 * AES_KEY_BYTES) return null;
  return {
    clientToServerKey: body.slice(0, AES_KEY_BYTES),
    serverToClientKey: body.slice(AES_KEY_BYTES),
  };
}

/**
 * Serves echo on a free loopback port until the process ends, through the server's own listener
 * (server/tls_node.ts) and frame transport; `sealed` opens and seals every frame with the server's channel.
 */
export async function serveEcho(
  options: { certPem: string; keyPem: string; sealed?: boolean },
): Promise<TlsAcceptor> {
  return await listenNodeTls({
    hostname: "127.0.0.1",
    port: 0,
    certPem: options.certPem,
    keyPem: options.keyPem,
    reusePort: false,
    onPeer: (peer) => void echoSession(peer.secure(), options.sealed === true),
    onAcceptError: () => {},
  });
}

/** One echo connection: frames back as they came, or opened and sealed again. */
async function echoSession(conn: PeerConn, sealed: boolean): Promise<void> {
  const transport = new FrameTransport(conn, { frameBytesMax: FRAME_BYTES_DEFAULT });
  try {
    await conn.handshake();
    let channel: SealedChannel | null = null;
    if (sealed) {
      const first = await transport.next();
      const secrets = first.kind === "frame" ? decodeKeys(first.body) : null;
      if (secrets === null) return;
      channel = await SealedChannel.create(secrets, { role: "server", aead: FAST_AEAD });
    }
    while (true) {
      const frame = await transport.next();
      if (frame.kind !== "frame") break;
      if (channel === null) {
        await transport.send(frame.body);
        continue;
      }
      const opened = await channel.open(frame.body);
      if (!opened.ok) break;
      await transport.sendFrame(await channel.seal(opened.type, opened.plaintext));
    }
  } catch {
    // A client that leaves ends its loop.
  } finally {
    conn.close();
  }
}

export interface EchoReport {
  clients: number;
  requests_per_second: number;
  /** Every echo answered, the warm-up's included. */
  answered: number;
  /** The echo server's CPU per answer, when the caller measured it (bench/run.ts does). */
  serverCpuUs?: number;
  latency: { p50_ms: number | null; p99_ms: number | null; p99_9_ms: number | null; max_ms: number | null };
}

/** Drives an echo server like the bank bench drives the bank: one frame in flight per connection. */
export async function runEchoClients(
  options: {
    port: number;
    caPem: string;
    clients: number;
    durationMs: number;
    warmupMs: number;
    sealed?: boolean;
  },
): Promise<EchoReport> {
  const histogram = new LatencyHistogram();
  const body = crypto.getRandomValues(new Uint8Array(ECHO_BODY_BYTES));
  const frame = encodeFrame(body);
  const conns = await Promise.all(Array.from({ length: options.clients }, async () => {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: options.port,
      caCerts: [options.caPem],
    });
    await conn.handshake();
    return conn;
  }));
  const startMs = performance.now();
  const measureFromMs = startMs + options.warmupMs;
  const endMs = measureFromMs + options.durationMs;
  let measured = 0;
  let answered = 0;
  await Promise.all(conns.map(async (conn) => {
    const reader = new FrameReader(conn, { frameBytesMax: FRAME_BYTES_DEFAULT });
    const channel = options.sealed === true ? await openSealed(conn) : null;
    const plaintext = crypto.getRandomValues(new Uint8Array(SEALED_PLAINTEXT_BYTES));
    while (performance.now() < endMs) {
      const sentMs = performance.now();
      await writeAll(conn, channel === null ? frame : await channel.seal(FrameType.sealedJson, plaintext));
      const echoed = await reader.next();
      if (echoed.kind !== "frame" || echoed.body.length !== ECHO_BODY_BYTES) throw new Error("Bad echo");
      if (channel !== null) {
        const opened = await channel.open(echoed.body);
        if (!opened.ok || opened.plaintext.length !== SEALED_PLAINTEXT_BYTES) {
          throw new Error("Bad sealed echo");
        }
      }
      const doneMs = performance.now();
      answered += 1;
      if (sentMs >= measureFromMs && doneMs <= endMs) {
        histogram.record(doneMs - sentMs);
        measured += 1;
      }
    }
    conn.close();
  }));
  return {
    clients: options.clients,
    requests_per_second: measured / (options.durationMs / 1000),
    answered,
    latency: {
      p50_ms: histogram.quantileMs(0.5),
      p99_ms: histogram.quantileMs(0.99),
      p99_9_ms: histogram.quantileMs(0.999),
      max_ms: histogram.maxMs,
    },
  };
}

/** Sends fresh keys as the connection's first frame and returns the client's side of the channel. */
async function openSealed(conn: Deno.Conn): Promise<SealedChannel> {
  const keys = crypto.getRandomValues(new Uint8Array(2 * AES_KEY_BYTES));
  const secrets = decodeKeys(keys);
  assert(secrets !== null, "Fresh keys have the right length");
  await writeAll(conn, encodeFrame(keys));
  return await SealedChannel.create(secrets, { role: "client", aead: FAST_AEAD });
}

if (import.meta.main && Deno.args[0] === "serve") {
  const certPem = await Deno.readTextFile(Deno.args[Deno.args.indexOf("--cert") + 1]!);
  const keyPem = await Deno.readTextFile(Deno.args[Deno.args.indexOf("--key") + 1]!);
  const listener = await serveEcho({ certPem, keyPem, sealed: Deno.args.includes("--sealed") });
  console.log(`port ${listener.addr.port}`);
}
