/**
 * The chaos checker's faults, on a schedule drawn from the run's seed, with quiet periods between them:
 * SIGKILL of a server (then a restart on the same store), SIGSTOP/SIGCONT of a server for 1-10 s, and, in
 * the TCP proxy between the clients and a server, added delay, a black hole (nothing forwarded, so answers
 * time out) and cuts of every connection. Each fault is recorded with its start and end.
 *
 * @module
 */
import { seededRandom } from "../../lib/random.ts";

export type FaultKind = "kill" | "pause" | "delay" | "blackhole" | "cut";

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
}

/** How often each fault is drawn: kills and cuts most, the long pauses least. */
const WEIGHTS: readonly [FaultKind, number][] = [["kill", 3], ["pause", 1], ["delay", 2], ["blackhole", 2], [
  "cut",
  3,
]];
const QUIET_MS = { min: 600, max: 1_600 };
/** The first quiet stretch: the rate the recovery of every fault is measured against. */
export const WARMUP_MS = 2_000;

/** Injects faults until `endMs`; returns what was done. */
export async function runFaults(
  target: FaultTarget,
  options: { seed: number; endMs: number; record(fault: FaultRecord): void },
): Promise<FaultRecord[]> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const faults: FaultRecord[] = [];
  await sleep(WARMUP_MS);
  while (performance.now() < options.endMs - QUIET_MS.max) {
    const kind = pick(random());
    const server = Math.floor(random() * target.servers);
    const remainingMs = options.endMs - performance.now();
    const startMs = performance.now();
    let detail = "";
    if (kind === "kill") detail = await target.killAndRestart(server);
    else if (kind === "pause") {
      const forMs = Math.min(between(1_000, 10_000), Math.max(1_000, remainingMs - QUIET_MS.max));
      await target.pause(server, forMs);
      detail = `stopped ${forMs} ms`;
    } else if (kind === "delay") {
      const delayMs = between(50, 400);
      const forMs = between(1_000, 3_000);
      await target.delay(server, delayMs, forMs);
      detail = `${delayMs} ms each way for ${forMs} ms`;
    } else if (kind === "blackhole") {
      const forMs = between(1_000, 3_000);
      await target.blackhole(server, forMs);
      detail = `nothing forwarded for ${forMs} ms`;
    } else detail = `${target.cut(server)} sockets cut`;
    const fault = { kind, server, startMs, endMs: performance.now(), detail };
    faults.push(fault);
    options.record(fault);
    await sleep(between(QUIET_MS.min, QUIET_MS.max));
  }
  return faults;
}

function pick(dice: number): FaultKind {
  const total = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  let left = dice * total;
  for (const [kind, weight] of WEIGHTS) {
    if (left < weight) return kind;
    left -= weight;
  }
  return WEIGHTS.at(-1)![0];
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

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
