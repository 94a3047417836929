/**
 * The physical limit the bank is measured against: a bare TLS echo server with the bank's framing, and a
 * client with the bank bench's pattern (one frame in flight per connection, 64-byte bodies).
 *
 * ```sh
 * deno run --allow-all bench/echo.ts serve --cert server.crt --key server.key   # prints "port N"
 * ```
 *
 * @module
 */
import { LatencyHistogram } from "../client/bench.ts";
import { encodeFrame, FrameReader, writeAll } from "../protocol/frame.ts";
import { FRAME_BYTES_DEFAULT } from "../protocol/limits.ts";

export const ECHO_BODY_BYTES = 64;

/** Serves echo on a free loopback port until the process ends. */
export function serveEcho(options: { certPem: string; keyPem: string }): Deno.TlsListener {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: options.certPem,
    key: options.keyPem,
  });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const reader = new FrameReader(conn, { frameBytesMax: FRAME_BYTES_DEFAULT });
        try {
          while (true) {
            const frame = await reader.next();
            if (frame.kind !== "frame") break;
            await writeAll(conn, encodeFrame(frame.body));
          }
        } catch {
          // A client that leaves ends its loop.
        } finally {
          try {
            conn.close();
          } catch {
            // Already closed.
          }
        }
      })();
    }
  })();
  return listener;
}

export interface EchoReport {
  clients: number;
  requests_per_second: number;
  latency: { p50_ms: number | null; p99_ms: number | null; p99_9_ms: number | null; max_ms: number | null };
}

/** Drives an echo server like the bank bench drives the bank: one frame in flight per connection. */
export async function runEchoClients(
  options: { port: number; caPem: string; clients: number; durationMs: number; warmupMs: number },
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
  await Promise.all(conns.map(async (conn) => {
    const reader = new FrameReader(conn, { frameBytesMax: FRAME_BYTES_DEFAULT });
    while (performance.now() < endMs) {
      const sentMs = performance.now();
      await writeAll(conn, frame);
      const echoed = await reader.next();
      if (echoed.kind !== "frame" || echoed.body.length !== ECHO_BODY_BYTES) throw new Error("Bad echo");
      const doneMs = performance.now();
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
    latency: {
      p50_ms: histogram.quantileMs(0.5),
      p99_ms: histogram.quantileMs(0.99),
      p99_9_ms: histogram.quantileMs(0.999),
      max_ms: histogram.maxMs,
    },
  };
}

if (import.meta.main && Deno.args[0] === "serve") {
  const certPem = await Deno.readTextFile(Deno.args[Deno.args.indexOf("--cert") + 1]!);
  const keyPem = await Deno.readTextFile(Deno.args[Deno.args.indexOf("--key") + 1]!);
  const listener = serveEcho({ certPem, keyPem });
  console.log(`port ${(listener.addr as Deno.NetAddr).port}`);
}
