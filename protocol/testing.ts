/**
 * Support for tests and benchmarks: the pairings of AES-GCM implementations every channel test runs over, and
 * an in-memory duplex pipe that frames travel over without sockets.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { webCryptoAead } from "./aead.ts";
import type { AeadFactory } from "./aead.ts";
import { webHandshakeCrypto } from "./handshake_crypto.ts";
import type { HandshakeCrypto } from "./handshake_crypto.ts";
import { nodeCryptoAead, nodeHandshakeCrypto } from "./node_crypto.ts";
import type { FrameConn } from "./transport.ts";

/** Bytes one end of a pipe may hold unread; a handshake needs far less. */
const PIPE_BYTES_MAX = 64 * 1024;

/** One library's primitives: AES-256-GCM and the handshake's. */
export interface Primitives {
  aead: AeadFactory;
  crypto: HandshakeCrypto;
}

/** The implementations; each must give a session the same guarantees. */
const PRIMITIVES: readonly [string, Primitives][] = [
  ["webcrypto", { aead: webCryptoAead, crypto: webHandshakeCrypto }],
  ["node", { aead: nodeCryptoAead, crypto: nodeHandshakeCrypto }],
];

/** Which implementation each end of a session uses. */
export interface AeadPair {
  name: string;
  client: AeadFactory;
  server: AeadFactory;
  clientCrypto: HandshakeCrypto;
  serverCrypto: HandshakeCrypto;
}

/**
 * Every pairing of implementations: the same one at both ends, and the client on one while the server is on
 * the other, since a handshake must complete and sealed frames must open whichever implementation made them.
 */
export const AEAD_PAIRS: readonly AeadPair[] = PRIMITIVES.flatMap(([clientName, client]) =>
  PRIMITIVES.map(([serverName, server]) => ({
    name: clientName === serverName ? clientName : `${clientName} client, ${serverName} server`,
    client: client.aead,
    server: server.aead,
    clientCrypto: client.crypto,
    serverCrypto: server.crypto,
  }))
);

/**
 * One end of an in-memory duplex pipe: what one end writes, the other reads. Writes accept at most
 * `writeChunkBytes` at a time, so the transport's partial-write loop runs too.
 */
export class PipeEnd implements FrameConn {
  #peer: PipeEnd | null = null;
  readonly #writeChunkBytes: number;
  readonly #incoming: Uint8Array[] = [];
  #incomingBytes = 0;
  #incomingEnded = false;
  #closed = false;
  #wake: (() => void) | null = null;
  /** Every byte this end has received, in order, for comparing what two peers observed. */
  readonly received: Uint8Array[] = [];

  constructor(writeChunkBytes: number) {
    this.#writeChunkBytes = writeChunkBytes;
  }

  static pair(writeChunkBytes = 7): [PipeEnd, PipeEnd] {
    const left = new PipeEnd(writeChunkBytes);
    const right = new PipeEnd(writeChunkBytes);
    left.#peer = right;
    right.#peer = left;
    return [left, right];
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    // Each wake is a delivery or an end, so one wait is enough; the bound guards the test from a bug.
    for (let waits = 0; this.#incoming.length === 0 && !this.#incomingEnded; waits++) {
      assert(waits < 2, "A pipe read must be woken by a delivery or an end");
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#incoming[0];
    if (chunk === undefined) return null;
    const count = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, count));
    if (count === chunk.length) this.#incoming.shift();
    else this.#incoming[0] = chunk.subarray(count);
    this.#incomingBytes -= count;
    return count;
  }

  write(bytes: Uint8Array): Promise<number> {
    const peer = this.#peer;
    assert(peer !== null, "A pipe end must be paired");
    if (this.#closed || peer.#closed) return Promise.reject(new Error("Broken pipe: the pipe is closed"));
    const count = Math.min(bytes.length, this.#writeChunkBytes);
    peer.#deliver(bytes.slice(0, count));
    return Promise.resolve(count);
  }

  /** Closes both directions, as closing a socket does: the peer's next read past its data ends. */
  close(): void {
    this.#closed = true;
    this.#endIncoming();
    if (this.#peer !== null) this.#peer.#endIncoming();
  }

  #deliver(bytes: Uint8Array): void {
    assert(this.#incomingBytes + bytes.length <= PIPE_BYTES_MAX, "Pipe buffer is full");
    this.#incoming.push(bytes);
    this.received.push(bytes);
    this.#incomingBytes += bytes.length;
    this.#wakeReader();
  }

  #endIncoming(): void {
    this.#incomingEnded = true;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
