/**
 * A frame-level view of one connection: read whole frames, write whole frames, send the generic error.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { encodeFrame, FrameReader, writeAll } from "./frame.ts";
import { FRAME_BYTES_MAX, FRAME_HEADER_BYTES } from "./limits.ts";
import type { ByteSink, ByteSource, FrameResult } from "./frame.ts";
import { encodeErrorBody } from "./wire.ts";
import type { WireErrorCode } from "./wire.ts";

/** A connection that frames can travel over, like `Deno.TlsConn`. */
export interface FrameConn extends ByteSource, ByteSink {}

/** Reads and writes frames on one connection. Writes must not interleave: callers await each one. */
export class FrameTransport {
  readonly #conn: FrameConn;
  readonly #reader: FrameReader;

  constructor(conn: FrameConn, options: { frameBytesMax: number; onFrameStart?: () => void }) {
    this.#conn = conn;
    this.#reader = new FrameReader(conn, options);
  }

  /** Changes the largest frame body accepted from the next frame on. */
  set frameBytesMax(value: number) {
    this.#reader.frameBytesMax = value;
  }

  /** Bytes received that are not yet part of a returned frame. */
  get pendingBytes(): number {
    return this.#reader.pendingBytes;
  }

  /** Reads the next frame. */
  next(): Promise<FrameResult> {
    return this.#reader.next();
  }

  /** Frames and writes one body. */
  send(body: Uint8Array): Promise<void> {
    return writeAll(this.#conn, encodeFrame(body));
  }

  /** Writes bytes that are already a complete frame (a sealed frame). */
  sendFrame(frame: Uint8Array): Promise<void> {
    assert(frame.length > FRAME_HEADER_BYTES, "A frame must have a body");
    const length = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
    assert(length === frame.length - FRAME_HEADER_BYTES, "A frame's length prefix must match its body");
    assert(length <= FRAME_BYTES_MAX, `Cannot send a frame of ${length} bytes`);
    return writeAll(this.#conn, frame);
  }

  /** Tells the peer the generic reason its connection ends; the peer may already be gone. */
  async sendError(code: WireErrorCode): Promise<void> {
    try {
      await this.send(encodeErrorBody(code));
    } catch {
      // The connection is being closed because of the peer; a failed last write changes nothing.
    }
  }
}
