/**
 * `deno task fuzz`: every fuzz target for at least 100,000 cases from one seed, then the live server
 * target; bounded in time, prints the seed (and the commit) so that a failing run can be replayed.
 *
 * ```sh
 * deno task fuzz                              # 100,000 cases per target, a fresh seed
 * deno task fuzz --seed 1234 --runs 500000    # replay or go further
 * deno task fuzz --target "frame reader" --seconds 30
 * ```
 *
 * Exit codes: 0 every target held, 1 a target failed (its smallest case is printed), 2 usage error.
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";
import { startServer } from "../tools/harness.ts";
import { fuzzLiveServer } from "./live.ts";
import { FUZZ_TARGETS, runTarget } from "./targets.ts";

const RUNS_DEFAULT = 100_000;
/** Each target stops after this long even if its cases are not done (the run then fails). */
const SECONDS_PER_TARGET_DEFAULT = 300;
const LIVE_CONNECTIONS_DEFAULT = 2_000;
const LIVE_REQUESTS_DEFAULT = 20_000;

async function main(args: string[]): Promise<number> {
  const flags = parseArgs(args, {
    string: ["seed", "runs", "seconds", "target", "live-connections", "live-requests"],
  });
  const seed = flags.seed === undefined ? crypto.getRandomValues(new Uint32Array(1))[0]! : Number(flags.seed);
  const runs = Number(flags.runs ?? RUNS_DEFAULT);
  const seconds = Number(flags.seconds ?? SECONDS_PER_TARGET_DEFAULT);
  const numbers = [seed, runs, seconds];
  if (!numbers.every((value) => Number.isInteger(value) && value >= 0) || runs < 1) {
    console.error("Usage: deno task fuzz [--seed N] [--runs N] [--seconds S] [--target NAME]");
    return 2;
  }
  const targets = FUZZ_TARGETS.filter((target) => flags.target === undefined || target.name === flags.target);
  console.log(`fuzz: seed ${seed}, ${runs} cases per target, commit ${await commit()}`);
  console.log(`      replay with: deno task fuzz --seed ${seed} --runs ${runs}`);
  let failed = false;
  for (const target of targets) {
    const outcome = await runTarget(target, { runs, seed, timeLimitMs: seconds * 1000 });
    const rate = Math.round(outcome.runs / Math.max(outcome.seconds, 0.001));
    const verdict = outcome.failed
      ? "FAILED"
      : outcome.runs < runs
      ? `stopped at the time limit`
      : "no failures";
    console.log(
      `${target.name.padEnd(30)} ${String(outcome.runs).padStart(8)} cases in ${
        outcome.seconds.toFixed(1)
      } s (${rate}/s): ${verdict}`,
    );
    if (outcome.report !== undefined) console.log(outcome.report);
    if (outcome.failed || outcome.runs < runs) failed = true;
  }
  if (flags.target === undefined || flags.target === "live server") {
    const connections = Number(flags["live-connections"] ?? LIVE_CONNECTIONS_DEFAULT);
    const requests = Number(flags["live-requests"] ?? LIVE_REQUESTS_DEFAULT);
    const startedMs = performance.now();
    await using server = await startServer({
      args: [
        "--demo-clients",
        "3",
        "--handshake-timeout-ms",
        "2000",
        "--identity-requests-per-second",
        "1000000",
      ],
    });
    const report = await fuzzLiveServer(server, { connections, requests, seed });
    const crashes = server.logs().filter((line) => /Uncaught|AssertionFailure|\[FTL\]/.test(line));
    const verdict = crashes.length === 0 && server.alive() ? "no failures, still serving" : "FAILED";
    console.log(
      `${"live server".padEnd(30)} ${String(report.connections).padStart(8)} garbage connections and ` +
        `${report.requests} sealed requests in ${
          ((performance.now() - startedMs) / 1000).toFixed(1)
        } s: ${verdict}`,
    );
    if (verdict === "FAILED") {
      console.log(crashes.join("\n"));
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

async function commit(): Promise<string> {
  const output = await new Deno.Command("git", { args: ["rev-parse", "--short", "HEAD"], stderr: "null" })
    .output().catch(() => null);
  return output?.success === true ? new TextDecoder().decode(output.stdout).trim() : "unknown";
}

if (import.meta.main) Deno.exit(await main(Deno.args));
