/**
 * A frame-level view of one connection: read whole frames, write whole frames, send the generic error.
 *
 * @module
 */
import { encodeFrame, FrameReader, writeAll } from "./frame.ts";
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
