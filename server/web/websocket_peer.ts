/**
 * A WebSocket (RFC 6455) as the connection a bank session runs on. Each binary message carries exactly one
 * frame of the bank protocol, byte for byte as on the TLS stream, so the session reads and writes the same
 * bytes it would over TLS and never learns which transport it serves.
 *
 * What a peer may not do, and what it gets: a text message is refused (close 1003), a message longer than
 * the largest frame is refused from its header, before any of its payload is read (close 1009), a message
 * that is not exactly one frame, an unmasked or malformed frame (close 1002). Each ends the connection; the
 * session sees its stream end. Pings are answered; a close is returned and the stream ends.
 *
 * @module
 */
import { concatBytes } from "../../lib/bytes.ts";
import {
  closePayload,
  encodeServerFrame,
  readFrameHeader,
  unmask,
  WS_HEADER_BYTES_MAX,
  WsClose,
  WsOpcode,
} from "../../lib/websocket.ts";
import { FrameSplitter, writeAll } from "../../protocol/frame.ts";
import { FRAME_HEADER_BYTES } from "../../protocol/limits.ts";
import type { PeerAddress, PeerConn } from "../peer.ts";

/** Why a WebSocket peer's connection was ended by us. */
export type WebSocketViolation = "text_message" | "message_too_large" | "not_one_frame" | "malformed";

const READ_CHUNK_BYTES = 16 * 1024;

export class WebSocketPeer implements PeerConn {
  readonly remote: PeerAddress;
  readonly #conn: PeerConn;
  /** The longest message accepted: the largest protocol frame, prefix included. */
  readonly #messageBytesMax: number;
  readonly #onViolation: (violation: WebSocketViolation) => void;
  /** WebSocket bytes received and not yet parsed. */
  #received: Uint8Array = new Uint8Array(0);
  /** The message being handed to the session, and how much of it has been. */
  #message: Uint8Array = new Uint8Array(0);
  #delivered = 0;
  readonly #outgoing = new FrameSplitter();
  #ended = false;
  #closeSent = false;

  constructor(
    conn: PeerConn,
    options: { messageBytesMax: number; onViolation: (violation: WebSocketViolation) => void },
  ) {
    this.#conn = conn;
    this.remote = conn.remote;
    this.#messageBytesMax = options.messageBytesMax;
    this.#onViolation = options.onViolation;
  }

  /** The TLS handshake and the WebSocket upgrade are done before a WebSocketPeer exists. */
  handshake(): Promise<void> {
    return Promise.resolve();
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#delivered === this.#message.length) {
      const message = await this.#nextMessage();
      if (message === null) return null;
      this.#message = message;
      this.#delivered = 0;
    }
    const count = Math.min(into.length, this.#message.length - this.#delivered);
    into.set(this.#message.subarray(this.#delivered, this.#delivered + count));
    this.#delivered += count;
    return count;
  }

  /** Sends each whole protocol frame written as one binary message; keeps a partial one until it is whole. */
  async write(bytes: Uint8Array): Promise<number> {
    for (const frame of this.#outgoing.push(bytes)) {
      await writeAll(this.#conn, encodeServerFrame(WsOpcode.binary, frame));
    }
    return bytes.length;
  }

  async closeWrite(): Promise<void> {
    await this.#sendClose(WsClose.normal, "");
    await this.#conn.closeWrite();
  }

  close(): void {
    this.#ended = true;
    this.#conn.close();
  }

  /** The next whole binary message, or null when the peer closed or broke the rules (then we close). */
  async #nextMessage(): Promise<Uint8Array | null> {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (!this.#ended) {
      const header = await this.#readHeader();
      if (header === null) return null;
      const { opcode, fin, mask, length } = header;
      if (opcode === WsOpcode.text) return await this.#violate("text_message", WsClose.unsupportedData);
      if (opcode === WsOpcode.close || opcode === WsOpcode.ping || opcode === WsOpcode.pong) {
        const payload = await this.#readPayload(length, mask);
        if (payload === null) return null;
        if (opcode === WsOpcode.close) return await this.#closed();
        if (opcode === WsOpcode.ping) await writeAll(this.#conn, encodeServerFrame(WsOpcode.pong, payload));
        continue;
      }
      const continues = opcode === WsOpcode.continuation;
      if (opcode !== WsOpcode.binary && !continues) {
        return await this.#violate("malformed", WsClose.protocolError);
      }
      if (continues !== parts.length > 0) return await this.#violate("malformed", WsClose.protocolError);
      if (size + length > this.#messageBytesMax) {
        return await this.#violate("message_too_large", WsClose.tooBig);
      }
      const payload = await this.#readPayload(length, mask);
      if (payload === null) return null;
      parts.push(payload);
      size += length;
      if (!fin) continue;
      const message = parts.length === 1 ? parts[0]! : concatBytes(parts);
      if (!isOneFrame(message)) return await this.#violate("not_one_frame", WsClose.protocolError);
      return message;
    }
    return null;
  }

  async #readHeader(): Promise<{ opcode: number; fin: boolean; mask: Uint8Array; length: number } | null> {
    for (;;) {
      const header = readFrameHeader(this.#received.subarray(0, WS_HEADER_BYTES_MAX));
      if (header.kind === "invalid") return await this.#violate("malformed", WsClose.protocolError);
      if (header.kind === "frame") {
        // Clients must mask every frame (RFC 6455 section 5.1).
        if (header.mask === null) return await this.#violate("malformed", WsClose.protocolError);
        this.#received = this.#received.subarray(header.headerBytes);
        return { opcode: header.opcode, fin: header.fin, mask: header.mask, length: header.length };
      }
      if (!(await this.#fill())) return null;
    }
  }

  /**
   * The payload, read straight into a buffer of its length (its size is known from the header, so a large
   * message arriving in many reads is copied once, not once per read).
   */
  async #readPayload(length: number, mask: Uint8Array): Promise<Uint8Array | null> {
    const payload = new Uint8Array(length);
    let filled = Math.min(length, this.#received.length);
    payload.set(this.#received.subarray(0, filled));
    this.#received = this.#received.subarray(filled);
    while (filled < length) {
      const count = await this.#conn.read(payload.subarray(filled));
      if (count === null) {
        this.#ended = true;
        return null;
      }
      filled += count;
    }
    unmask(payload, mask);
    return payload;
  }

  /** Reads more bytes from the TLS connection (for a frame header); false at its end. */
  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(READ_CHUNK_BYTES);
    const count = await this.#conn.read(chunk);
    if (count === null) {
      this.#ended = true;
      return false;
    }
    this.#received = this.#received.length === 0
      ? chunk.subarray(0, count)
      : concatBytes([this.#received, chunk.subarray(0, count)]);
    return true;
  }

  async #violate(violation: WebSocketViolation, code: number): Promise<null> {
    this.#onViolation(violation);
    await this.#sendClose(code, violation.replaceAll("_", " "));
    this.#ended = true;
    this.#conn.close();
    return null;
  }

  async #closed(): Promise<null> {
    await this.#sendClose(WsClose.normal, "");
    this.#ended = true;
    return null;
  }

  async #sendClose(code: number, reason: string): Promise<void> {
    if (this.#closeSent) return;
    this.#closeSent = true;
    try {
      await writeAll(this.#conn, encodeServerFrame(WsOpcode.close, closePayload(code, reason)));
    } catch {
      // The peer is gone already; the close frame was a courtesy.
    }
  }
}

/** Whether a message is one protocol frame: its 4-byte length prefix counts the rest exactly. */
function isOneFrame(message: Uint8Array): boolean {
  if (message.length <= FRAME_HEADER_BYTES) return false;
  const length = new DataView(message.buffer, message.byteOffset, 4).getUint32(0, false);
  return length === message.length - FRAME_HEADER_BYTES;
}
