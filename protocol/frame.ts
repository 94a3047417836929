/**
 * Length-prefixed framing: every message on the stream is a 4-byte big-endian length followed by that many
 * bytes. The length is checked before the buffer grows for the body, so a peer cannot make us buffer more
 * than the configured frame limit (or the 4 KiB read buffer, whichever is larger), and message boundaries
 * never depend on how the stream was split by `read`.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { FRAME_BYTES_MAX, FRAME_BYTES_MIN, FRAME_HEADER_BYTES } from "./limits.ts";

/** Something bytes are read from, like `Deno.Conn`. */
export interface ByteSource {
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Something bytes are written to, like `Deno.Conn`. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Why a frame could not be read; each one ends the connection. */
export type FrameErrorCode = "frame_empty" | "frame_too_large" | "frame_truncated";

/** One read: a frame, a clean end of stream between frames, or a framing error. */
export type FrameResult =
  | { kind: "frame"; body: Uint8Array }
  | { kind: "end" }
  | { kind: "error"; code: FrameErrorCode; detail: string };

const BUFFER_BYTES_INITIAL = 4 * 1024;
/** Reads in a row that return no bytes before the source is declared broken (a socket never does this). */
const EMPTY_READS_MAX = 16;

/**
 * Prefixes a body with its length.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeFrame } from "./frame.ts";
 * assertEquals(encodeFrame(new Uint8Array([7])), new Uint8Array([0, 0, 0, 1, 7]));
 * ```
 */
export function encodeFrame(body: Uint8Array): Uint8Array {
  assert(body.length > 0, "Cannot frame an empty body");
  assert(body.length <= FRAME_BYTES_MAX, `Cannot frame a body of ${body.length} bytes`);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, false);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** Writes all of `bytes`, however many calls the sink needs. */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const written = await sink.write(bytes.subarray(offset));
    assert(written > 0, `Sink wrote ${written} bytes`);
    offset += written;
  }
}

/**
 * Reads frames from a byte stream. Buffers at most one frame (header plus `frameBytesMax`) and whatever of
 * the next frames one `read` happened to return.
 */
/**
 * Gathers bytes written to a message transport (a WebSocket: one frame per message) and hands back each
 * whole frame, length prefix included, as soon as it is complete; a partial frame waits for the next bytes.
 */
export class FrameSplitter {
  #pending: Uint8Array = new Uint8Array(0);

  /** The whole frames that `bytes` completes, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    let pending = bytes;
    if (this.#pending.length > 0) {
      pending = new Uint8Array(this.#pending.length + bytes.length);
      pending.set(this.#pending, 0);
      pending.set(bytes, this.#pending.length);
    }
    const frames: Uint8Array[] = [];
    while (pending.length >= FRAME_HEADER_BYTES) {
      const size = FRAME_HEADER_BYTES +
        new DataView(pending.buffer, pending.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
      if (pending.length < size) break;
      frames.push(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
    this.#pending = pending.slice();
    return frames;
  }
}

export class FrameReader {
  readonly #source: ByteSource;
  #frameBytesMax: number;
  readonly #onFrameStart: () => void;
  #frameStarted = false;
  #buffer = new Uint8Array(BUFFER_BYTES_INITIAL);
  #start = 0;
  #end = 0;

  /**
   * @param options.frameBytesMax The largest body accepted; a larger length is refused before its body is read.
   * @param options.onFrameStart Called once per frame when its first byte is available, so the caller can
   * switch from an idle timeout to a shorter frame timeout.
   */
  constructor(source: ByteSource, options: { frameBytesMax: number; onFrameStart?: () => void }) {
    assert(
      options.frameBytesMax >= FRAME_BYTES_MIN,
      `Frame limit ${options.frameBytesMax} is below the minimum`,
    );
    assert(
      options.frameBytesMax <= FRAME_BYTES_MAX,
      `Frame limit ${options.frameBytesMax} is above the maximum`,
    );
    this.#source = source;
    this.#frameBytesMax = options.frameBytesMax;
    this.#onFrameStart = options.onFrameStart ?? (() => {});
  }

  /** Changes the largest body accepted from the next frame on (a handshake allows less than a session). */
  set frameBytesMax(value: number) {
    assert(Number.isInteger(value), `Frame limit ${value} must be an integer`);
    assert(value >= FRAME_BYTES_MIN, `Frame limit ${value} is out of range`);
    assert(value <= FRAME_BYTES_MAX, `Frame limit ${value} is out of range`);
    this.#frameBytesMax = value;
  }

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /** Reads the next frame. Errors from the source (a closed or reset connection) propagate. */
  async next(): Promise<FrameResult> {
    this.#frameStarted = false;
    this.#noteProgress();
    if (!(await this.#fill(FRAME_HEADER_BYTES))) {
      if (this.pendingBytes === 0) return { kind: "end" };
      return { kind: "error", code: "frame_truncated", detail: `stream ended inside a frame header` };
    }
    const length = new DataView(this.#buffer.buffer, this.#start, FRAME_HEADER_BYTES).getUint32(0, false);
    if (length === 0) return { kind: "error", code: "frame_empty", detail: "frame length is 0" };
    if (length > this.#frameBytesMax) {
      return {
        kind: "error",
        code: "frame_too_large",
        detail: `frame length ${length} is over the limit of ${this.#frameBytesMax}`,
      };
    }
    if (!(await this.#fill(FRAME_HEADER_BYTES + length))) {
      return { kind: "error", code: "frame_truncated", detail: `stream ended inside a ${length}-byte frame` };
    }
    const bodyStart = this.#start + FRAME_HEADER_BYTES;
    const body = this.#buffer.slice(bodyStart, bodyStart + length);
    this.#start = bodyStart + length;
    if (this.#start === this.#end) this.#reset();
    assert(body.length === length, "Frame body must have the announced length");
    return { kind: "frame", body };
  }

  /** Reads until `wanted` bytes are buffered; false when the stream ends first. */
  async #fill(wanted: number): Promise<boolean> {
    assert(wanted <= FRAME_HEADER_BYTES + this.#frameBytesMax, `Cannot buffer ${wanted} bytes`);
    if (this.pendingBytes >= wanted) return true;
    this.#makeRoom(wanted);
    let emptyReads = 0;
    while (this.pendingBytes < wanted) {
      assert(this.#end < this.#buffer.length, "The buffer must have room for the wanted bytes");
      const count = await this.#source.read(this.#buffer.subarray(this.#end));
      if (count === null) return false;
      emptyReads = count === 0 ? emptyReads + 1 : 0;
      if (emptyReads >= EMPTY_READS_MAX) {
        throw new Error(`Source returned no bytes ${emptyReads} times in a row`);
      }
      this.#end += count;
      this.#noteProgress();
    }
    return true;
  }

  #noteProgress(): void {
    if (this.#frameStarted || this.pendingBytes === 0) return;
    this.#frameStarted = true;
    this.#onFrameStart();
  }

  /** Moves pending bytes to the front and grows the buffer so that `wanted` bytes fit. */
  #makeRoom(wanted: number): void {
    if (this.#start + wanted <= this.#buffer.length) return;
    const pending = this.#buffer.subarray(this.#start, this.#end);
    const target = wanted <= this.#buffer.length ? this.#buffer : new Uint8Array(wanted);
    target.set(pending, 0);
    this.#buffer = target;
    this.#end = pending.length;
    this.#start = 0;
  }

  /** Drops a buffer grown for a large frame once it is empty, so idle sessions stay small. */
  #reset(): void {
    this.#start = 0;
    this.#end = 0;
    if (this.#buffer.length > BUFFER_BYTES_INITIAL) this.#buffer = new Uint8Array(BUFFER_BYTES_INITIAL);
  }
}
