/**
 * The bank protocol over a WebSocket (`wss://bank/ws`), as a {@link SecureConn} the client library runs
 * on: each protocol frame travels as one binary message, byte for byte as on the TLS stream
 * (docs/PROTOCOL.md section 13). TLS is the browser's, verified by the browser; the bank handshake then runs
 * inside the WebSocket exactly as over TLS. Uses only the WebSocket API, so it runs in browsers and in Deno.
 *
 * @module
 */
import { FrameSplitter } from "../protocol/frame.ts";
import { FRAME_BYTES_DEFAULT, FRAME_HEADER_BYTES } from "../protocol/limits.ts";
import type { SecureConn } from "./connection.ts";

/**
 * Opens a WebSocket to `url` and resolves once it is open; rejects when it fails or closes first.
 * `onClose` hears when an open socket closes, from either end.
 */
export function connectWebSocket(url: string, options: { onClose?: () => void } = {}): Promise<SecureConn> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    const conn = new WebSocketConn(socket, options.onClose ?? (() => {}));
    socket.addEventListener("open", () => resolve(conn), { once: true });
    socket.addEventListener("close", (event) => reject(new Error(`WebSocket closed (${event.code})`)), {
      once: true,
    });
  });
}

class WebSocketConn implements SecureConn {
  readonly #socket: WebSocket;
  /** Messages received and not yet read; the first may be partly read. */
  readonly #queue: Uint8Array[] = [];
  #closed = false;
  #wake: (() => void) | null = null;
  readonly #outgoing = new FrameSplitter();

  constructor(socket: WebSocket, onClose: () => void) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) {
        socket.close(1003, "text messages are not part of the protocol");
        return;
      }
      const message = new Uint8Array(event.data);
      if (message.length > FRAME_HEADER_BYTES + FRAME_BYTES_DEFAULT) {
        socket.close(1009, "message too large");
        return;
      }
      this.#queue.push(message);
      this.#wakeReader();
    });
    socket.addEventListener("close", () => {
      this.#closed = true;
      this.#wakeReader();
      onClose();
    });
  }

  /** The TLS handshake is the browser's, done when the socket opened. */
  handshake(): Promise<void> {
    return Promise.resolve();
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#queue.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const head = this.#queue[0]!;
    const count = Math.min(into.length, head.length);
    into.set(head.subarray(0, count));
    if (count === head.length) this.#queue.shift();
    else this.#queue[0] = head.subarray(count);
    return count;
  }

  /** Sends each whole frame written as one binary message; keeps a partial one until it is whole. */
  write(bytes: Uint8Array): Promise<number> {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("WebSocket is closed"));
    }
    for (const frame of this.#outgoing.push(bytes)) this.#socket.send(frame as BufferSource);
    return Promise.resolve(bytes.length);
  }

  closeWrite(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  close(): void {
    this.#closed = true;
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.close(1000);
    }
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
