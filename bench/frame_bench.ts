/**
 * Framing cost per 64-byte frame: {@link encodeFrame}, and {@link FrameReader} over an in-memory source
 * that hands out either many frames per read (a busy socket) or exactly one. Run with
 * `deno bench --allow-all bench/`.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { concatBytes, randomBytes } from "../lib/bytes.ts";
import { encodeFrame, FrameReader } from "../protocol/frame.ts";
import type { ByteSource } from "../protocol/frame.ts";
import { FRAME_BYTES_DEFAULT, FRAME_HEADER_BYTES } from "../protocol/limits.ts";

const BODY_BYTES = 64;
/** Frames in the repeating stream; the reader's 4 KiB buffer takes about 60 of them per read. */
const STREAM_FRAMES = 256;

/** A source that never ends: it repeats `stream`, at most `chunkBytes` per read. */
class RepeatingSource implements ByteSource {
  readonly #stream: Uint8Array;
  readonly #chunkBytes: number;
  #offset = 0;

  constructor(stream: Uint8Array, chunkBytes: number) {
    assert(stream.length > 0, "A repeating source needs bytes");
    this.#stream = stream;
    this.#chunkBytes = chunkBytes;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const count = Math.min(buffer.length, this.#chunkBytes, this.#stream.length - this.#offset);
    buffer.set(this.#stream.subarray(this.#offset, this.#offset + count));
    this.#offset = (this.#offset + count) % this.#stream.length;
    return Promise.resolve(count);
  }
}

const body = randomBytes(BODY_BYTES);
const frame = encodeFrame(body);
const stream = concatBytes(Array.from({ length: STREAM_FRAMES }, () => frame));

Deno.bench({
  name: "encodeFrame, 64 B",
  group: "frame 64 B",
  baseline: true,
  fn() {
    const encoded = encodeFrame(body);
    assert(encoded.length === FRAME_HEADER_BYTES + BODY_BYTES, "Bench frame must be whole");
  },
});

const readers: [string, number][] = [["many frames per read", stream.length], [
  "one frame per read",
  frame.length,
]];
for (const [label, chunkBytes] of readers) {
  const reader = new FrameReader(new RepeatingSource(stream, chunkBytes), {
    frameBytesMax: FRAME_BYTES_DEFAULT,
  });
  Deno.bench({
    name: `FrameReader.next, 64 B, ${label}`,
    group: "frame 64 B",
    async fn() {
      const result = await reader.next();
      assert(result.kind === "frame", "Bench frame must be read");
      assert(result.body.length === BODY_BYTES, "Bench frame must be read");
    },
  });
}
