/**
 * The process's open files and its open-file limit (RLIMIT_NOFILE), through three libc calls:
 * `getrlimit`, `setrlimit` and `poll`. Deno (since 1.43) lets nothing short of `--allow-all` read /proc,
 * so the server is granted `--allow-ffi` and loads just these symbols; nothing else of libc is bound.
 *
 * Counting: one `poll` over descriptors 0..N-1 with no events and a zero timeout; the kernel marks each
 * descriptor that is not open POLLNVAL, so the count takes one system call and costs about 5 us per thousand
 * descriptors scanned. The kernel hands out the lowest free descriptor, so open ones cluster at the bottom:
 * N is twice the last count plus a margin (at least {@link FD_SCAN_MIN}, at most the soft limit), which
 * keeps a count on a million-file limit as cheap as the process is small.
 *
 * Without the permission (or off Linux and macOS) everything reads as unknown, and the server sizes its
 * budget from its flags alone.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";

/** The soft and hard open-file limits; `Infinity` for "unlimited". */
export interface FileLimit {
  soft: number;
  hard: number;
}

/** The fewest descriptors one count scans, and the most (8 bytes each). */
export const FD_SCAN_MIN = 4_096;
export const FD_SCAN_MAX = 1 << 22;
const POLLNVAL = 0x20;
const RLIM_INFINITY = 2n ** 64n - 1n;
const LIBRARIES: Record<string, { paths: string[]; nofile: number }> = {
  linux: { paths: ["libc.so.6", "libc.so"], nofile: 7 },
  darwin: { paths: ["libSystem.B.dylib"], nofile: 8 },
};
const SYMBOLS = {
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: { symbols: Libc; nofile: number } | null | undefined;
let scan: Int32Array = new Int32Array(0);
let lastCount = 0;

/** Loads the three symbols once; null when FFI is not permitted or libc is not found. */
function load(): { symbols: Libc; nofile: number } | null {
  if (libc !== undefined) return libc;
  libc = null;
  const platform = LIBRARIES[Deno.build.os];
  if (platform === undefined) return libc;
  for (const path of platform.paths) {
    try {
      libc = { symbols: Deno.dlopen(path, SYMBOLS).symbols, nofile: platform.nofile };
      break;
    } catch {
      // Not permitted, or not this name: try the next, else unknown.
    }
  }
  return libc;
}

/** Reads the open-file limit; null when it cannot be read. */
export function readFileLimit(): FileLimit | null {
  const lib = load();
  if (lib === null) return null;
  const limit = new BigUint64Array(2);
  if (lib.symbols.getrlimit(lib.nofile, new Uint8Array(limit.buffer)) !== 0) return null;
  const read = (value: bigint) => (value === RLIM_INFINITY ? Infinity : Number(value));
  return { soft: read(limit[0]!), hard: read(limit[1]!) };
}

/**
 * Raises the soft limit to the hard one (Deno's runtime does this at start; a process started otherwise
 * may not have). Returns the limit as it stands after the attempt.
 */
export function raiseFileLimit(): FileLimit | null {
  const before = readFileLimit();
  const lib = load();
  if (before === null || lib === null || before.soft >= before.hard) return before;
  const raised = new BigUint64Array([
    before.hard === Infinity ? RLIM_INFINITY : BigInt(before.hard),
    before.hard === Infinity ? RLIM_INFINITY : BigInt(before.hard),
  ]);
  lib.symbols.setrlimit(lib.nofile, new Uint8Array(raised.buffer));
  return readFileLimit();
}

/** Counts the process's open files (descriptors below the soft limit); null when it cannot. */
export function countOpenFiles(): number | null {
  const lib = load();
  const limit = readFileLimit();
  if (lib === null || limit === null) return null;
  const count = Math.min(limit.soft, FD_SCAN_MAX, Math.max(FD_SCAN_MIN, 2 * lastCount + FD_SCAN_MIN));
  if (scan.length < count * 2) {
    scan = new Int32Array(count * 2);
    for (let fd = 0; fd < count; fd++) scan[fd * 2] = fd; // events and revents stay 0
  }
  const ready = lib.symbols.poll(new Uint8Array(scan.buffer, 0, count * 8), BigInt(count), 0);
  if (ready < 0) return null;
  let closed = 0;
  for (let fd = 0; fd < count; fd++) {
    const word = scan[fd * 2 + 1]!;
    if (((word >>> 16) & POLLNVAL) !== 0) closed += 1;
    scan[fd * 2 + 1] = 0;
  }
  assert(closed <= count, "Closed descriptors are a subset of those scanned");
  lastCount = count - closed;
  return lastCount;
}
