import { seededRandom } from "../lib/random.ts";
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { AssertionFailure } from "../lib/assert.ts";
import { concatBytes, utf8 } from "../lib/bytes.ts";
import { encodeFrame, FrameReader, FrameSplitter, writeAll } from "./frame.ts";
import type { ByteSink, ByteSource, FrameResult } from "./frame.ts";
import { FRAME_BYTES_MAX, FRAME_BYTES_MIN, FRAME_HEADER_BYTES } from "./limits.ts";

/** Reads at most this many results from one reader, so a broken reader cannot spin a test forever. */
const READS_MAX = 10_000;

/** A whole number in [min, max] from a seeded PRNG. */
function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** An in-memory source that hands out its bytes in chunks of a chosen size, and counts its reads. */
class ChunkedSource implements ByteSource {
  readonly #bytes: Uint8Array;
  readonly #chunkBytes: () => number;
  #offset = 0;
  readCalls = 0;
  bytesReturned = 0;

  constructor(bytes: Uint8Array, chunkBytes: () => number) {
    this.#bytes = bytes;
    this.#chunkBytes = chunkBytes;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.readCalls += 1;
    if (this.#offset >= this.#bytes.length) return Promise.resolve(null);
    const count = Math.min(buffer.length, this.#chunkBytes(), this.#bytes.length - this.#offset);
    buffer.set(this.#bytes.subarray(this.#offset, this.#offset + count));
    this.#offset += count;
    this.bytesReturned += count;
    return Promise.resolve(count);
  }
}

/**
 * A source that sends a header, then behaves as if a body of `bodyBytes` were waiting (without holding it),
 * and counts every byte it hands out. Header and body are never returned by the same read.
 */
class AnnouncedBodySource implements ByteSource {
  readonly #header: Uint8Array;
  readonly #bodyBytes: number;
  readonly #chunkBytes: number;
  #offset = 0;
  readCalls = 0;
  readCallsAfterHeader = 0;
  bytesReturned = 0;

  constructor(options: { header: Uint8Array; bodyBytes: number; chunkBytes: number }) {
    this.#header = options.header;
    this.#bodyBytes = options.bodyBytes;
    this.#chunkBytes = options.chunkBytes;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.readCalls += 1;
    const headerLeft = this.#header.length - this.#offset;
    if (headerLeft > 0) {
      const count = Math.min(buffer.length, this.#chunkBytes, headerLeft);
      buffer.set(this.#header.subarray(this.#offset, this.#offset + count));
      return Promise.resolve(this.#advance(count));
    }
    this.readCallsAfterHeader += 1;
    const bodyLeft = this.#header.length + this.#bodyBytes - this.#offset;
    if (bodyLeft <= 0) return Promise.resolve(null);
    const count = Math.min(buffer.length, this.#chunkBytes, bodyLeft);
    buffer.fill(0xab, 0, count);
    return Promise.resolve(this.#advance(count));
  }

  #advance(count: number): number {
    this.#offset += count;
    this.bytesReturned += count;
    return count;
  }
}

/** A source whose whole stream arrives in one read, like a peer that wrote everything at once. */
class GreedySource implements ByteSource {
  readonly #inner: AnnouncedBodySource;
  readCalls = 0;

  constructor(options: { header: Uint8Array; bodyBytes: number }) {
    this.#inner = new AnnouncedBodySource({ ...options, chunkBytes: Number.MAX_SAFE_INTEGER });
  }

  get bytesReturned(): number {
    return this.#inner.bytesReturned;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    this.readCalls += 1;
    const headerCount = await this.#inner.read(buffer);
    if (headerCount === null || headerCount === buffer.length) return headerCount;
    const bodyCount = await this.#inner.read(buffer.subarray(headerCount));
    return headerCount + (bodyCount ?? 0);
  }
}

function lengthHeader(length: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(header.buffer).setUint32(0, length, false);
  return header;
}

/** Names a result by its kind and code, so case tables compare one string. */
function outcomeOf(result: FrameResult): string {
  if (result.kind === "frame") return `frame of ${result.body.length}`;
  if (result.kind === "end") return "end";
  return result.code;
}

/** Reads until the first result that is not a frame; returns the frames and that last result. */
async function readAll(reader: FrameReader): Promise<{ bodies: Uint8Array[]; last: FrameResult }> {
  const bodies: Uint8Array[] = [];
  for (let reads = 0; reads < READS_MAX; reads++) {
    const result = await reader.next();
    if (result.kind !== "frame") return { bodies, last: result };
    bodies.push(result.body);
  }
  throw new Error(`Reader returned more than ${READS_MAX} frames`);
}

/** Bodies of many sizes: 1 byte, small, and some larger than the reader's first buffer. */
function makeBodies(random: () => number, count: number): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const length = index % 17 === 0 ? randomInt(random, 4_000, 20_000) : randomInt(random, 1, 300);
    const body = new Uint8Array(length);
    for (let offset = 0; offset < length; offset++) body[offset] = randomInt(random, 0, 255);
    bodies.push(body);
  }
  bodies.push(new Uint8Array([0x2a]));
  return bodies;
}

/** The ways the tests split a stream into reads. */
function splitters(seed: number): [string, () => () => number][] {
  return [
    ["1 byte at a time", () => () => 1],
    ["random splits of 1 to 97 bytes", () => {
      const random = seededRandom(seed);
      return () => randomInt(random, 1, 97);
    }],
    ["random splits of 1 to 9000 bytes", () => {
      const random = seededRandom(seed + 1);
      return () => randomInt(random, 1, 9_000);
    }],
    ["the whole stream in one read", () => () => Number.MAX_SAFE_INTEGER],
  ];
}

Deno.test("FrameReader.next() returns every frame intact however reads split the stream", async () => {
  const bodies = makeBodies(seededRandom(0x5eed), 120);
  const stream = concatBytes(bodies.map((body) => encodeFrame(body)));
  for (const [name, makeSplit] of splitters(7)) {
    const source = new ChunkedSource(stream, makeSplit());
    const reader = new FrameReader(source, { frameBytesMax: FRAME_BYTES_MAX });
    const { bodies: read, last } = await readAll(reader);
    assertEquals(read.length, bodies.length, name);
    for (let index = 0; index < bodies.length; index++) assertEquals(read[index], bodies[index], name);
    assertEquals(last, { kind: "end" }, name);
    assertEquals(reader.pendingBytes, 0, name);
    assertEquals(source.bytesReturned, stream.length, name);
  }
});

Deno.test("FrameReader.next() returns frames already buffered by an earlier read without reading again", async () => {
  const bodies = [new Uint8Array([1]), new Uint8Array([2, 2]), new Uint8Array([3, 3, 3])];
  const stream = concatBytes(bodies.map((body) => encodeFrame(body)));
  const source = new ChunkedSource(stream, () => Number.MAX_SAFE_INTEGER);
  const reader = new FrameReader(source, { frameBytesMax: FRAME_BYTES_MIN });
  assertEquals(await reader.next(), { kind: "frame", body: bodies[0] });
  assertEquals(source.readCalls, 1);
  assertEquals(reader.pendingBytes, stream.length - FRAME_HEADER_BYTES - 1);
  assertEquals(await reader.next(), { kind: "frame", body: bodies[1] });
  assertEquals(await reader.next(), { kind: "frame", body: bodies[2] });
  assertEquals(source.readCalls, 1);
  assertEquals(reader.pendingBytes, 0);
});

Deno.test("FrameReader.next() calls onFrameStart exactly once per frame", async () => {
  const bodies = makeBodies(seededRandom(99), 40);
  const stream = concatBytes(bodies.map((body) => encodeFrame(body)));
  for (const [name, makeSplit] of splitters(11)) {
    let starts = 0;
    const reader = new FrameReader(new ChunkedSource(stream, makeSplit()), {
      frameBytesMax: FRAME_BYTES_MAX,
      onFrameStart: () => starts++,
    });
    assertEquals(starts, 0, name);
    for (let index = 0; index < bodies.length; index++) {
      assertEquals(outcomeOf(await reader.next()), `frame of ${bodies[index]!.length}`, name);
      assertEquals(starts, index + 1, `${name}: frame ${index}`);
    }
    assertEquals(await reader.next(), { kind: "end" }, name);
    assertEquals(starts, bodies.length, `${name}: a clean end starts no frame`);
  }
});

Deno.test("FrameReader.next() calls onFrameStart for a frame that ends early or is refused", async () => {
  const cases: [string, Uint8Array, string][] = [
    ["inside the header", new Uint8Array([0, 0]), "frame_truncated"],
    ["inside the body", concatBytes([lengthHeader(10), new Uint8Array(3)]), "frame_truncated"],
    ["a zero length", lengthHeader(0), "frame_empty"],
    ["a huge length", lengthHeader(0xffff_ffff), "frame_too_large"],
  ];
  for (const [name, stream, code] of cases) {
    let starts = 0;
    const reader = new FrameReader(new ChunkedSource(stream, () => 1), {
      frameBytesMax: FRAME_BYTES_MIN,
      onFrameStart: () => starts++,
    });
    assertEquals(outcomeOf(await reader.next()), code, name);
    assertEquals(starts, 1, name);
  }
});

Deno.test("FrameReader.next() refuses a zero length as frame_empty", async () => {
  for (const [name, makeSplit] of splitters(3)) {
    const stream = concatBytes([encodeFrame(new Uint8Array([5])), lengthHeader(0), new Uint8Array([1, 2])]);
    const reader = new FrameReader(new ChunkedSource(stream, makeSplit()), {
      frameBytesMax: FRAME_BYTES_MIN,
    });
    assertEquals(await reader.next(), { kind: "frame", body: new Uint8Array([5]) }, name);
    const result = await reader.next();
    assertEquals(result.kind === "error" ? result.code : result.kind, "frame_empty", name);
  }
});

Deno.test("FrameReader.next() refuses a 4 GiB length without reading any of its body", async () => {
  for (const chunkBytes of [1, 2, 3, FRAME_HEADER_BYTES]) {
    const source = new AnnouncedBodySource({
      header: lengthHeader(0xffff_ffff),
      bodyBytes: 0xffff_ffff,
      chunkBytes,
    });
    const reader = new FrameReader(source, { frameBytesMax: FRAME_BYTES_MAX });
    const result = await reader.next();
    assertEquals(outcomeOf(result), "frame_too_large", `chunks of ${chunkBytes}`);
    assertEquals(source.readCallsAfterHeader, 0, `chunks of ${chunkBytes}: body was asked for`);
    assertEquals(source.bytesReturned, FRAME_HEADER_BYTES, `chunks of ${chunkBytes}`);
    assertEquals(source.readCalls, Math.ceil(FRAME_HEADER_BYTES / chunkBytes), `chunks of ${chunkBytes}`);
  }
});

Deno.test("FrameReader.next() refuses a 4 GiB length after one read when the body arrives with the header", async () => {
  // A peer that writes header and body together can put body bytes in the same read as the header. The
  // reader must still stop after that one read: it buffers only what its initial buffer holds (4 KiB).
  const source = new GreedySource({ header: lengthHeader(0xffff_ffff), bodyBytes: 0xffff_ffff });
  const reader = new FrameReader(source, { frameBytesMax: FRAME_BYTES_MIN });
  assertEquals(outcomeOf(await reader.next()), "frame_too_large");
  assertEquals(source.readCalls, 1);
  assertEquals(source.bytesReturned <= 4 * 1024, true, `read ${source.bytesReturned} bytes`);
});

Deno.test("FrameReader.next() accepts a body of exactly frameBytesMax and refuses one byte more", async () => {
  const cases: [number, number, string][] = [
    [FRAME_BYTES_MIN, FRAME_BYTES_MIN, `frame of ${FRAME_BYTES_MIN}`],
    [FRAME_BYTES_MIN, FRAME_BYTES_MIN + 1, "frame_too_large"],
    [FRAME_BYTES_MIN + 4_000, FRAME_BYTES_MIN + 4_000, `frame of ${FRAME_BYTES_MIN + 4_000}`],
    [FRAME_BYTES_MIN + 4_000, FRAME_BYTES_MIN + 4_001, "frame_too_large"],
    [FRAME_BYTES_MAX, FRAME_BYTES_MAX, `frame of ${FRAME_BYTES_MAX}`],
    [FRAME_BYTES_MAX, FRAME_BYTES_MAX + 1, "frame_too_large"],
  ];
  for (const [frameBytesMax, length, expected] of cases) {
    const source = new AnnouncedBodySource({
      header: lengthHeader(length),
      bodyBytes: length,
      chunkBytes: 8192,
    });
    const reader = new FrameReader(source, { frameBytesMax });
    const result = await reader.next();
    const name = `limit ${frameBytesMax}, length ${length}`;
    assertEquals(outcomeOf(result), expected, name);
    if (result.kind === "frame") assertEquals(result.body.every((byte) => byte === 0xab), true, name);
    if (result.kind === "error") assertEquals(source.readCallsAfterHeader, 0, name);
  }
});

Deno.test("FrameReader.next() reports a stream that ends inside a frame as frame_truncated", async () => {
  const whole = encodeFrame(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  const first = encodeFrame(new Uint8Array([0xee]));
  const cases: [string, Uint8Array, number][] = [
    ["1 header byte", whole.subarray(0, 1), 0],
    ["3 header bytes", whole.subarray(0, 3), 0],
    ["the header only", whole.subarray(0, FRAME_HEADER_BYTES), 0],
    ["1 body byte of 10", whole.subarray(0, FRAME_HEADER_BYTES + 1), 0],
    ["9 body bytes of 10", whole.subarray(0, whole.length - 1), 0],
    ["a frame, then part of a header", concatBytes([first, whole.subarray(0, 2)]), 1],
    ["a frame, then part of a body", concatBytes([first, whole.subarray(0, 8)]), 1],
  ];
  for (const [name, stream, frames] of cases) {
    for (const [split, makeSplit] of splitters(5)) {
      const reader = new FrameReader(new ChunkedSource(stream, makeSplit()), {
        frameBytesMax: FRAME_BYTES_MIN,
      });
      const { bodies, last } = await readAll(reader);
      assertEquals(bodies.length, frames, `${name}, ${split}`);
      assertEquals(outcomeOf(last), "frame_truncated", `${name}, ${split}`);
    }
  }
});

Deno.test("FrameReader.next() reports a clean end between frames as end, and again when asked again", async () => {
  const cases: [string, Uint8Array][] = [
    ["an empty stream", new Uint8Array(0)],
    ["one frame", encodeFrame(new Uint8Array([1]))],
    ["two frames", concatBytes([encodeFrame(new Uint8Array([1])), encodeFrame(new Uint8Array([2, 3]))])],
  ];
  for (const [name, stream] of cases) {
    const reader = new FrameReader(new ChunkedSource(stream, () => 1), { frameBytesMax: FRAME_BYTES_MIN });
    const { last } = await readAll(reader);
    assertEquals(last, { kind: "end" }, name);
    assertEquals(await reader.next(), { kind: "end" }, name);
  }
});

Deno.test("FrameReader.next() passes on errors from its source", async () => {
  const source: ByteSource = { read: () => Promise.reject(new Deno.errors.ConnectionReset("reset by peer")) };
  const reader = new FrameReader(source, { frameBytesMax: FRAME_BYTES_MIN });
  await assertRejects(() => reader.next(), Deno.errors.ConnectionReset);
});

Deno.test("FrameReader() refuses a frame limit outside the configurable range", () => {
  const source = new ChunkedSource(new Uint8Array(0), () => 1);
  const invalid = [0, -1, FRAME_BYTES_MIN - 1, FRAME_BYTES_MAX + 1, 2 ** 32, NaN, Infinity];
  for (const frameBytesMax of invalid) {
    assertThrows(
      () => new FrameReader(source, { frameBytesMax }),
      AssertionFailure,
      undefined,
      `${frameBytesMax}`,
    );
  }
  for (const frameBytesMax of [FRAME_BYTES_MIN, FRAME_BYTES_MAX]) new FrameReader(source, { frameBytesMax });
});

Deno.test("encodeFrame() prefixes the body with its big-endian length", () => {
  assertEquals(encodeFrame(new Uint8Array([7])), new Uint8Array([0, 0, 0, 1, 7]));
  const body = new Uint8Array(0x1_0203).fill(9);
  const frame = encodeFrame(body);
  assertEquals(frame.subarray(0, FRAME_HEADER_BYTES), new Uint8Array([0, 1, 2, 3]));
  assertEquals(frame.subarray(FRAME_HEADER_BYTES), body);
});

Deno.test("encodeFrame() refuses an empty body and one over the largest frame", () => {
  assertThrows(() => encodeFrame(new Uint8Array(0)), AssertionFailure, "empty body");
  assertThrows(() => encodeFrame(new Uint8Array(FRAME_BYTES_MAX + 1)), AssertionFailure);
  assertEquals(encodeFrame(new Uint8Array(FRAME_BYTES_MAX)).length, FRAME_HEADER_BYTES + FRAME_BYTES_MAX);
});

/** A sink that accepts a few bytes per call, as a busy socket may. */
class TrickleSink implements ByteSink {
  readonly #writeBytes: () => number;
  readonly parts: Uint8Array[] = [];

  constructor(writeBytes: () => number) {
    this.#writeBytes = writeBytes;
  }

  write(bytes: Uint8Array): Promise<number> {
    const count = Math.min(bytes.length, this.#writeBytes());
    this.parts.push(bytes.slice(0, count));
    return Promise.resolve(count);
  }
}

Deno.test("writeAll() keeps writing until a sink that takes partial writes has every byte", async () => {
  const random = seededRandom(42);
  const bytes = new Uint8Array(5_000);
  for (let index = 0; index < bytes.length; index++) bytes[index] = randomInt(random, 0, 255);
  const cases: [string, () => number][] = [
    ["1 byte per write", () => 1],
    ["1 to 7 bytes per write", () => randomInt(random, 1, 7)],
    ["1 to 3000 bytes per write", () => randomInt(random, 1, 3_000)],
    ["everything at once", () => Number.MAX_SAFE_INTEGER],
  ];
  for (const [name, writeBytes] of cases) {
    const sink = new TrickleSink(writeBytes);
    await writeAll(sink, bytes);
    assertEquals(concatBytes(sink.parts), bytes, name);
  }
  const oneByte = new TrickleSink(() => 1);
  await writeAll(oneByte, bytes.subarray(0, 10));
  assertEquals(oneByte.parts.length, 10);
});

Deno.test("writeAll() writes nothing for no bytes and stops on a sink that makes no progress", async () => {
  const idle = new TrickleSink(() => 1);
  await writeAll(idle, new Uint8Array(0));
  assertEquals(idle.parts.length, 0);
  const stuck = new TrickleSink(() => 0);
  await assertRejects(() => writeAll(stuck, new Uint8Array([1, 2])), AssertionFailure, "Sink wrote 0 bytes");
});

Deno.test("FrameSplitter hands back each whole frame once it is complete, however the bytes are split", () => {
  const frames = [encodeFrame(utf8("a")), encodeFrame(new Uint8Array(300)), encodeFrame(utf8("bc"))];
  const stream = concatBytes(frames);
  for (const step of [1, 3, 5, 7, stream.length]) {
    const splitter = new FrameSplitter();
    const out: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += step) {
      out.push(...splitter.push(stream.subarray(at, at + step)));
    }
    assertEquals(
      out.map((frame) => Array.from(frame)),
      frames.map((frame) => Array.from(frame)),
      `step ${step}`,
    );
  }
});
