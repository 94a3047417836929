/**
 * The short version of `deno task fuzz` that `deno task test` runs: every target for 1,000 cases, and the
 * live server for a few hundred. The seed is fresh each run (set BANK_FUZZ_SEED to replay one); a failure
 * prints it, with the smallest failing case.
 */
import { assert, assertEquals } from "@std/assert";
import { startServer } from "../tools/harness.ts";
import { fuzzLiveServer } from "./live.ts";
import { FUZZ_TARGETS, runTarget } from "./targets.ts";

const SEED = Number(Deno.env.get("BANK_FUZZ_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0]);
const RUNS = 1_000;

for (const target of FUZZ_TARGETS) {
  Deno.test(`fuzz: ${target.name} holds for ${RUNS} random and mutated inputs`, async () => {
    const outcome = await runTarget(target, { runs: RUNS, seed: SEED, timeLimitMs: 60_000 });
    assert(!outcome.failed, `seed ${SEED} (BANK_FUZZ_SEED=${SEED} to replay): ${outcome.report}`);
    assertEquals(outcome.runs, RUNS, "every case ran within the time limit");
  });
}

Deno.test("fuzz: the live server answers garbage and random requests with defined codes and keeps serving", async () => {
  await using server = await startServer({
    args: [
      "--demo-clients",
      "3",
      "--handshake-timeout-ms",
      "1000",
      "--identity-requests-per-second",
      "1000000",
    ],
  });
  const report = await fuzzLiveServer(server, { connections: 100, requests: 300, seed: SEED });
  assertEquals(report.connections, 100, `seed ${SEED}`);
  assertEquals(report.requests, 300, `seed ${SEED}`);
  assert(server.alive());
  const crashes = server.logs().filter((line) => /Uncaught|AssertionFailure|\[FTL\]/.test(line));
  assertEquals(crashes, [], `seed ${SEED}`);
});
