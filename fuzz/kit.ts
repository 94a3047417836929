/**
 * What the fuzz targets are made of: the target and its property runner, a check that names what failed,
 * mutations of valid inputs (bit flips, truncations, insertions, repeats), the ways a stream may be split
 * into reads, and scripted connections that deliver bytes in those splits.
 *
 * @module
 */
import fc from "fast-check";
import { concatBytes } from "../lib/bytes.ts";
import type { ByteSource } from "../protocol/frame.ts";

/** What a run of a target is given. */
export interface FuzzParameters {
  numRuns: number;
  seed: number;
  interruptAfterTimeLimit: number;
  markInterruptAsFailure: false;
}

/** One fuzz target: a name, and how to check its property. */
export interface FuzzTarget {
  name: string;
  check(parameters: FuzzParameters): Promise<fc.RunDetails<unknown>>;
}

/** A target from a property (made afresh for each run). */
export function target<Ts extends unknown[]>(
  name: string,
  property: () => fc.IRawProperty<Ts, boolean>,
): FuzzTarget {
  return {
    name,
    check: async (parameters) => (await fc.check(property(), parameters)) as fc.RunDetails<unknown>,
  };
}

/** Fails the case with a message when a property does not hold. */
export function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`Property failed: ${message}`);
}

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "repeat"; from: number; length: number };

export const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({
    kind: fc.constant("repeat" as const),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 32 }),
  }),
);

export function applyMutation(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  if (bytes.length === 0) return mutation.kind === "insert" ? mutation.bytes : bytes;
  switch (mutation.kind) {
    case "flip": {
      const copy = bytes.slice();
      copy[mutation.at % copy.length]! ^= 1 << mutation.bit;
      return copy;
    }
    case "set": {
      const copy = bytes.slice();
      copy[mutation.at % copy.length] = mutation.value;
      return copy;
    }
    case "truncate":
      return bytes.slice(0, mutation.at % bytes.length);
    case "insert": {
      const at = mutation.at % (bytes.length + 1);
      return concatBytes([bytes.subarray(0, at), mutation.bytes, bytes.subarray(at)]);
    }
    case "repeat": {
      const from = mutation.from % bytes.length;
      return concatBytes([bytes, bytes.subarray(from, from + mutation.length)]);
    }
  }
}

/** Valid messages, each altered by zero to four mutations, or plain random bytes. */
export function mutated(valid: fc.Arbitrary<Uint8Array>, maxLength = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(valid, fc.array(MUTATION, { maxLength: 4 })).map(([bytes, mutations]) =>
        mutations.reduce(applyMutation, bytes)
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }) },
  );
}

/** Splits bytes into chunks, as a socket's reads might: random sizes, or one byte at a time. */
export const SPLITS: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([1]),
  fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
);

/** A byte source that hands out `bytes` in chunks of the given sizes (cycling), then ends. */
export class ChunkedSource implements ByteSource {
  readonly #bytes: Uint8Array;
  readonly #sizes: number[];
  #offset = 0;
  #reads = 0;

  constructor(bytes: Uint8Array, sizes: number[]) {
    this.#bytes = bytes;
    this.#sizes = sizes;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#offset >= this.#bytes.length) return Promise.resolve(null);
    const size = this.#sizes[this.#reads++ % this.#sizes.length]!;
    const count = Math.min(size, buffer.length, this.#bytes.length - this.#offset);
    buffer.set(this.#bytes.subarray(this.#offset, this.#offset + count));
    this.#offset += count;
    return Promise.resolve(count);
  }
}

/** A connection whose reads come from `bytes` (in chunks) and whose writes go nowhere. */
export class ScriptedConn extends ChunkedSource {
  readonly written: Uint8Array[] = [];
  write(bytes: Uint8Array): Promise<number> {
    this.written.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }
  close(): void {}
}
