/**
 * A TCP fault proxy on 127.0.0.1 for the tests and the chaos checker: it forwards every connection to one
 * upstream address (which may change, as when a killed server comes back on another port) and can, on
 * command, cut every proxied connection, shut (connections refused) and reopen on the same port, delay each
 * chunk in both directions, or black-hole: keep connections open but forward nothing, so peers time out.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { sleep } from "../lib/sleep.ts";

/** At most this many sockets (both sides count), so a runaway peer cannot exhaust the proxy's files. */
const SOCKETS_MAX = 1_024;
const BUFFER_BYTES = 64 * 1024;
/** The longest delay a chunk may be given, and how often a black-holed pump looks again. */
export const PROXY_DELAY_MS_MAX = 10_000;
const BLACKHOLE_POLL_MS = 50;

export class TcpProxy implements AsyncDisposable {
  #upstream: Deno.ConnectOptions;
  readonly #sockets = new Set<Deno.Conn>();
  readonly #pairs = new Set<Promise<void>>();
  #listener: Deno.TcpListener | null;
  #accepting: Promise<void>;
  #delayMs = 0;
  #blackhole = false;
  readonly port: number;

  constructor(upstream: Deno.ConnectOptions, options: { port?: number } = {}) {
    this.#upstream = upstream;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
    this.port = this.#listener.addr.port;
    this.#accepting = this.#accept(this.#listener);
  }

  /** Where new connections go from now on (connections already proxied keep their upstream). */
  set upstream(upstream: Deno.ConnectOptions) {
    this.#upstream = upstream;
  }

  /** Holds each chunk this long before forwarding it (0: none). */
  set delayMs(milliseconds: number) {
    assert(milliseconds >= 0 && milliseconds <= PROXY_DELAY_MS_MAX, `Proxy delay ${milliseconds} ms`);
    this.#delayMs = milliseconds;
  }

  /** While true, nothing is forwarded either way and connections stay open. */
  set blackhole(on: boolean) {
    this.#blackhole = on;
  }

  /** Closes every proxied socket, both sides; returns how many were open. */
  cutAll(): number {
    const count = this.#sockets.size;
    for (const socket of this.#sockets) closeQuietly(socket);
    this.#sockets.clear();
    return count;
  }

  /** Stops listening and cuts every socket: the upstream is unreachable until {@link reopen}. */
  async shut(): Promise<void> {
    this.#listener?.close();
    this.#listener = null;
    this.cutAll();
    await this.#accepting;
  }

  reopen(): void {
    assert(this.#listener === null, "The proxy must be shut before it reopens");
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#accepting = this.#accept(this.#listener);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shut();
    await Promise.all(this.#pairs);
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const client of listener) {
        if (this.#sockets.size >= SOCKETS_MAX) {
          closeQuietly(client);
          continue;
        }
        const pair = this.#pair(client);
        this.#pairs.add(pair);
        pair.finally(() => this.#pairs.delete(pair));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #pair(client: Deno.TcpConn): Promise<void> {
    this.#sockets.add(client);
    // Small messages go at once both ways: Nagle's algorithm would hold each for the peer's delayed ACK.
    client.setNoDelay(true);
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect(this.#upstream);
    } catch {
      this.#drop(client);
      return;
    }
    if (!this.#sockets.has(client)) {
      closeQuietly(upstream); // Cut while connecting.
      return;
    }
    this.#sockets.add(upstream);
    (upstream as Deno.TcpConn).setNoDelay(true);
    await Promise.all([this.#pump(client, upstream), this.#pump(upstream, client)]);
  }

  async #pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(BUFFER_BYTES);
    try {
      while (this.#sockets.has(from)) {
        const count = await from.read(buffer);
        if (count === null) break;
        while (this.#blackhole && this.#sockets.has(from)) await sleep(BLACKHOLE_POLL_MS);
        if (this.#delayMs > 0) await sleep(this.#delayMs);
        let written = 0;
        while (written < count) written += await to.write(buffer.subarray(written, count));
      }
    } catch {
      // Cut, or the peer went away.
    }
    this.#drop(from);
    this.#drop(to);
  }

  #drop(socket: Deno.Conn): void {
    if (this.#sockets.delete(socket)) closeQuietly(socket);
  }
}

function closeQuietly(socket: Deno.Conn): void {
  try {
    socket.close();
  } catch {
    // Closed already.
  }
}
