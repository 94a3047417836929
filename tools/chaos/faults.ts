/**
 * The chaos checker's faults, on a schedule drawn from the run's seed, with quiet periods between them:
 * SIGKILL of a server (then a restart on the same store), SIGSTOP/SIGCONT of a server for 1-10 s, and, in
 * the TCP proxy between the clients and a server, added delay, a black hole (nothing forwarded, so answers
 * time out) and cuts of every connection; on PostgreSQL also an immediate stop and restart of the database,
 * and cuts (commits in flight included) and delay between the servers and it. Each fault is recorded with
 * its start and end.
 *
 * @module
 */
import { seededRandom } from "../../lib/random.ts";
import { sleep } from "../../lib/sleep.ts";

export type FaultKind =
  | "kill"
  | "pause"
  | "delay"
  | "blackhole"
  | "cut"
  | "db-restart"
  | "db-cut"
  | "db-delay";

export interface FaultRecord {
  kind: FaultKind;
  server: number;
  startMs: number;
  endMs: number;
  detail: string;
}

/** What the faults act on: the servers and the proxies in front of them. */
export interface FaultTarget {
  servers: number;
  /** SIGKILL, then a restart on the same store; resolves once the new process serves. */
  killAndRestart(server: number): Promise<string>;
  pause(server: number, milliseconds: number): Promise<void>;
  delay(server: number, milliseconds: number, forMs: number): Promise<void>;
  blackhole(server: number, forMs: number): Promise<void>;
  cut(server: number): number;
  /** Whether there is a database to fault (PostgreSQL), and its faults. */
  database: boolean;
  restartDatabase(downMs: number): Promise<void>;
  cutDatabase(): number;
  delayDatabase(milliseconds: number, forMs: number): Promise<void>;
}

/** How often each fault is drawn: kills and cuts most, the long pauses least. */
export const SERVER_FAULTS: readonly [FaultKind, number][] = [
  ["kill", 3],
  ["pause", 1],
  ["delay", 2],
  ["blackhole", 2],
  ["cut", 3],
];
export const DATABASE_FAULTS: readonly [FaultKind, number][] = [["db-restart", 2], ["db-cut", 2], [
  "db-delay",
  1,
]];
const QUIET_MS = { min: 400, max: 1_000 };
/** The first quiet stretch: the rate the recovery of every fault is measured against. */
export const WARMUP_MS = 2_000;

/** Injects faults until `endMs`; returns what was done. */
export async function runFaults(
  target: FaultTarget,
  options: {
    seed: number;
    endMs: number;
    kinds: readonly [FaultKind, number][];
    record(fault: FaultRecord): void;
  },
): Promise<FaultRecord[]> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const faults: FaultRecord[] = [];
  await sleep(WARMUP_MS);
  while (performance.now() < options.endMs - QUIET_MS.max) {
    const kind = pick(options.kinds, random());
    const server = Math.floor(random() * target.servers);
    const remainingMs = options.endMs - performance.now();
    const startMs = performance.now();
    const detail = await inject(target, { kind, server, remainingMs, between, draw: random });
    const fault = { kind, server, startMs, endMs: performance.now(), detail };
    faults.push(fault);
    options.record(fault);
    await sleep(between(QUIET_MS.min, QUIET_MS.max));
  }
  return faults;
}

/** Does one fault; returns what was done, in words. */
async function inject(
  target: FaultTarget,
  fault: {
    kind: FaultKind;
    server: number;
    remainingMs: number;
    between(min: number, max: number): number;
    draw(): number;
  },
): Promise<string> {
  const { kind, server, between } = fault;
  switch (kind) {
    case "kill":
      return await target.killAndRestart(server);
    case "pause": {
      // 1 to 10 s, the short ones more often (the square of a uniform draw).
      const forMs = Math.min(
        1_000 + Math.round(9_000 * fault.draw() ** 2),
        Math.max(1_000, fault.remainingMs - QUIET_MS.max),
      );
      await target.pause(server, forMs);
      return `stopped ${forMs} ms`;
    }
    case "delay":
    case "db-delay": {
      const [delayMs, forMs] = [between(50, 400), between(500, 2_000)];
      if (kind === "delay") await target.delay(server, delayMs, forMs);
      else await target.delayDatabase(delayMs, forMs);
      return `${delayMs} ms each way for ${forMs} ms`;
    }
    case "blackhole": {
      const forMs = between(500, 2_000);
      await target.blackhole(server, forMs);
      return `nothing forwarded for ${forMs} ms`;
    }
    case "cut":
      return `${target.cut(server)} sockets cut`;
    case "db-cut":
      return `${target.cutDatabase()} database sockets cut`;
    case "db-restart": {
      const downMs = between(300, 2_000);
      await target.restartDatabase(downMs);
      return `PostgreSQL stopped immediately, down ${downMs} ms`;
    }
  }
}

function pick(kinds: readonly [FaultKind, number][], dice: number): FaultKind {
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0);
  let left = dice * total;
  for (const [kind, weight] of kinds) {
    if (left < weight) return kind;
    left -= weight;
  }
  return kinds.at(-1)![0];
}

/** The window answers are counted over when the rate is compared, quiet or after a fault. */
const RATE_WINDOW_MS = 250;

/**
 * How long after each fault healed the answers came back to `share` of the quiet rate (answers per
 * {@link RATE_WINDOW_MS}, the quiet rate from the warm-up after its first half second of connecting);
 * null when they did not before the next fault began or the run ended.
 */
export function recoveries(
  answeredMs: readonly number[],
  faults: readonly FaultRecord[],
  options: { quietFromMs: number; share: number; runEndMs: number },
): (number | null)[] {
  const sorted = [...answeredMs].sort((a, b) => a - b);
  const countIn = (fromMs: number, toMs: number) => lowerBound(sorted, toMs) - lowerBound(sorted, fromMs);
  const quietFromMs = options.quietFromMs + 500;
  const quietWindows = (WARMUP_MS - 500) / RATE_WINDOW_MS;
  const quietPerWindow = countIn(quietFromMs, options.quietFromMs + WARMUP_MS) / quietWindows;
  return faults.map((fault, index) => {
    const untilMs = faults[index + 1]?.startMs ?? options.runEndMs;
    for (let at = fault.endMs; at + RATE_WINDOW_MS <= untilMs; at += 25) {
      if (countIn(at, at + RATE_WINDOW_MS) >= options.share * quietPerWindow) {
        return Math.round(at - fault.endMs);
      }
    }
    return null;
  });
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
