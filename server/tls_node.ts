/**
 * The serving TLS listener, on `node:net` and `node:tls`: each accepted socket is offered to admission
 * before any TLS object exists (refusing one costs an accept and a close), and `destroy()` releases a
 * socket at once in every phase, the TLS handshake included, which `Deno.listenTls` cannot do. Nagle's
 * algorithm is off on every connection.
 *
 * One flaw of the runtime is handled here: in Deno 2.9, a `node:net` server whose accept fails with "Too
 * many open files" stops accepting for good, silently. The budgets keep the process below its open-file
 * limit, and {@link NodeTlsAcceptor.rebuild} replaces the listening socket after any brush with it.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { assert } from "../lib/assert.ts";
import type { AcceptedPeer, PeerAddress, PeerConn, TlsAcceptor, TlsListenOptions } from "./peer.ts";

/** Bytes read ahead of the session before the socket is paused (TCP then pushes back on the peer). */
export const READ_AHEAD_BYTES_MAX = 64 * 1024;
/** Pending connections the kernel queues for us; it caps this at net.core.somaxconn. */
export const LISTEN_BACKLOG = 4_096;

/** Listens with `node:net`; resolves once the socket is bound. */
export async function listenNodeTls(options: TlsListenOptions): Promise<TlsAcceptor> {
  const context = tls.createSecureContext({
    cert: options.certPem,
    key: options.keyPem,
    minVersion: "TLSv1.2",
  });
  const first = await bind(options, { context, port: options.port });
  return new NodeTlsAcceptor(options, { context, server: first });
}

class NodeTlsAcceptor implements TlsAcceptor {
  readonly kind = "node";
  readonly addr: PeerAddress;
  readonly #options: TlsListenOptions;
  readonly #context: tls.SecureContext;
  #server: net.Server;

  constructor(options: TlsListenOptions, parts: { context: tls.SecureContext; server: net.Server }) {
    this.#options = options;
    this.#context = parts.context;
    this.#server = parts.server;
    const address = parts.server.address();
    assert(address !== null, "A bound server has an address");
    assert(typeof address === "object", "A bound server has an address");
    this.addr = { hostname: address.address, port: address.port };
  }

  async rebuild(): Promise<void> {
    assert(this.#options.reusePort, "Only a shared port can be rebound while it is in use");
    const fresh = await bind(this.#options, { context: this.#context, port: this.addr.port });
    const stale = this.#server;
    this.#server = fresh;
    await closeServer(stale);
  }

  async close(): Promise<void> {
    await closeServer(this.#server);
  }
}

/** Binds one listening socket and routes its connections to `onPeer`. */
function bind(
  options: TlsListenOptions,
  parts: { context: tls.SecureContext; port: number },
): Promise<net.Server> {
  const server = net.createServer({ noDelay: true, pauseOnConnect: false });
  server.on("connection", (raw: net.Socket) => {
    raw.on("error", () => {}); // Resets and the like surface through the session as a closed connection.
    options.onPeer(acceptedPeer(raw, parts.context));
  });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once("error", failed);
    server.listen(
      { host: options.hostname, port: parts.port, backlog: LISTEN_BACKLOG, reusePort: options.reusePort },
      () => {
        server.off("error", failed);
        server.on("error", (error: Error) => options.onAcceptError(error));
        resolve(server);
      },
    );
  });
}

/**
 * Stops a server listening. Its connections are the sessions' to end, so this does not wait for them
 * (`close`'s callback would, until the last one ends).
 */
function closeServer(server: net.Server): Promise<void> {
  server.close();
  return Promise.resolve();
}

function acceptedPeer(raw: net.Socket, context: tls.SecureContext): AcceptedPeer {
  const remote = { hostname: raw.remoteAddress ?? "unknown", port: raw.remotePort ?? 0 };
  return {
    remote,
    refuse: () => {
      raw.destroy();
    },
    secure: () => {
      raw.setNoDelay(true);
      const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
      return new NodeTlsConn(socket, { remote, raw, secureEvent: "secure" });
    },
  };
}

/**
 * A `node:tls` socket as a {@link PeerConn}: reads pull from a bounded queue of received chunks (the
 * socket pauses past {@link READ_AHEAD_BYTES_MAX}); writes resolve once the socket takes the bytes.
 * Works for both ends: a server socket is secure on `secure`, a client one on `secureConnect`.
 */
export class NodeTlsConn implements PeerConn {
  readonly remote: PeerAddress;
  readonly #socket: tls.TLSSocket;
  readonly #raw: net.Socket | null;
  readonly #secured: Promise<void>;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #paused = false;
  #ended = false;
  #closedHere = false;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(
    socket: tls.TLSSocket,
    options: { remote: PeerAddress; raw?: net.Socket; secureEvent: "secure" | "secureConnect" },
  ) {
    this.remote = options.remote;
    this.#socket = socket;
    this.#raw = options.raw ?? null;
    this.#secured = new Promise<void>((resolve, reject) => {
      socket.once(options.secureEvent, () => resolve());
      socket.once("close", () => reject(this.#failure ?? closedError("the TLS handshake did not complete")));
    });
    this.#secured.catch(() => {}); // A handshake nobody waits for may fail quietly.
    socket.on("data", (chunk: Uint8Array) => this.#received(chunk));
    socket.on("end", () => this.#finish());
    socket.on("close", () => this.#finish());
    socket.on("error", (error: Error) => {
      this.#failure ??= error;
      this.#finish();
    });
  }

  handshake(): Promise<void> {
    return this.#secured;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closedHere) throw closedError("the connection was closed by the server");
      if (this.#failure !== null) throw this.#failure;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const chunk = this.#chunks[0]!;
    const count = Math.min(chunk.length, buffer.length);
    buffer.set(count === chunk.length ? chunk : chunk.subarray(0, count));
    if (count === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(count);
    this.#buffered -= count;
    if (this.#paused && this.#buffered < READ_AHEAD_BYTES_MAX / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
    return count;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#closedHere) return Promise.reject(closedError("the connection was closed by the server"));
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#ended) return Promise.reject(closedError("the connection is closed"));
    if (this.#socket.write(bytes)) return Promise.resolve(bytes.length);
    return new Promise((resolve, reject) => {
      const drained = () => {
        this.#socket.off("close", closed);
        resolve(bytes.length);
      };
      const closed = () => {
        this.#socket.off("drain", drained);
        reject(this.#failure ?? closedError("the connection closed during a write"));
      };
      this.#socket.once("drain", drained);
      this.#socket.once("close", closed);
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ended || this.#closedHere) return resolve();
      this.#socket.end(() => resolve());
    });
  }

  close(): void {
    this.#closedHere = true;
    this.#socket.destroy();
    this.#raw?.destroy();
    this.#finish();
  }

  #received(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (!this.#paused && this.#buffered >= READ_AHEAD_BYTES_MAX) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.#wakeReader();
  }

  #finish(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

function closedError(message: string): Error {
  const error = new Error(`Connection closed: ${message}`);
  error.name = "ConnectionClosed";
  return error;
}
