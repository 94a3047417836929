/**
 * What the journal's depth costs, in one run: the last tree before the hash chain is checked out beside
 * this one (chain, holds and signed receipts), and each tree's own server, with its default serving threads
 * on SQLite, takes durable transfers from its own load generator at 50 connections, in mirrored rounds
 * (before, now, now, before) so that a drift of the machine weighs on both alike. Reported per round:
 * transfers/s, p99, the server's CPU per transfer (from /proc), and how fast `ledger verify` checks the
 * store each run left (entries per second; the tree before the chain has no chain to walk).
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { demoCredentials } from "../tools/harness.ts";
import { cpuPerUnit, ROOT, withTreeAt } from "./trees.ts";

/** The last commit before the chain (the parent of the commit that added it, issue 13 part 1). */
export const BEFORE_CHAIN_REVISION = "48b562e";
/** Connections of both comparisons, ledger depth and growth. */
export const CONNECTIONS = 50;
const PIPELINE = 4;

export interface LedgerCostResult {
  tree: "before" | "now";
  round: number;
  transfersPerSecond: number;
  p99Ms: number;
  serverCpuUsPerTransfer: number;
  verifiedEntries: number;
  verifyEntriesPerSecond: number;
}

/** What a tree's load generator reports, as far as these measurements read it. */
export interface LoadReport {
  measured: { requests_per_second: number; latency_ms: { p99_ms?: number | null } };
  totals: { errors: number; answered: number };
}

/**
 * Durable transfers from {@link CONNECTIONS} demo identities, {@link PIPELINE} in flight each, against
 * `server`, through a tree's own load generator and AEAD (this tree's, or a checkout's).
 */
export async function loadTransfers(
  server: { port: number; caPem(): Promise<string>; credential(name: string): Promise<unknown> },
  tools: { runBench(options: Record<string, unknown>): Promise<LoadReport>; aead: unknown },
  window: { durationMs: number; warmupMs: number },
): Promise<LoadReport> {
  const credentials = await demoCredentials(server, CONNECTIONS);
  return await tools.runBench({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credentials,
    clients: CONNECTIONS,
    durationMs: window.durationMs,
    warmupMs: window.warmupMs,
    mix: { balance: 0, transfer: 1, contact: 0 },
    pipeline: PIPELINE,
    aead: tools.aead,
  });
}

/** Measures both trees for `durationMs` per round; nothing (and says why) when git cannot check one out. */
export async function measureLedgerCost(
  options: { durationMs: number; warmupMs: number; reference: string },
): Promise<LedgerCostResult[]> {
  const measured = await withTreeAt(options.reference, "ledger cost", async (before) => {
    const trees = [{ tree: "before" as const, root: before }, { tree: "now" as const, root: ROOT }];
    const results: LedgerCostResult[] = [];
    for (const [index, { tree, root }] of [...trees, ...[...trees].reverse()].entries()) {
      const result = await measureTree(root, { tree, round: index < 2 ? 1 : 2, ...options });
      results.push(result);
      console.log(
        `ledger ${tree.padEnd(6)} round ${result.round}: ${
          result.transfersPerSecond.toFixed(0)
        } transfers/s, ` +
          `p99 ${result.p99Ms.toFixed(1)} ms, server ${
            result.serverCpuUsPerTransfer.toFixed(0)
          } us CPU each; ` +
          `verify ${result.verifyEntriesPerSecond.toFixed(0)} entries/s over ${result.verifiedEntries}`,
      );
    }
    return results;
  });
  return measured ?? [];
}

async function measureTree(
  root: string,
  run: { tree: "before" | "now"; round: number; durationMs: number; warmupMs: number },
): Promise<LedgerCostResult> {
  const harness = await import(`${root}tools/harness.ts`);
  const { runBench } = await import(`${root}client/bench/run.ts`);
  const { FAST_AEAD } = await import(`${root}protocol/node_crypto.ts`);
  const { SqliteLedger } = await import(`${root}server/ledger/sqlite.ts`);
  await using server = await harness.startServer({ args: ["--demo-clients", String(CONNECTIONS)] });
  // The CPU covers the warm-up too; so does the count it is divided by.
  const { result: report, cpuUs } = await cpuPerUnit(
    server.pid,
    () => loadTransfers(server, { runBench, aead: FAST_AEAD }, run),
    (report) => report.totals.answered,
  );
  assert(report.totals.errors === 0, `The ${run.tree} tree's transfers all succeed`);
  await using ledger = SqliteLedger.open(`${server.dataDir}/bank.db`);
  const startedMs = performance.now();
  const verified = await ledger.verify();
  const seconds = (performance.now() - startedMs) / 1000;
  assert(verified.ok, `The ${run.tree} tree's store verifies`);
  return {
    tree: run.tree,
    round: run.round,
    transfersPerSecond: report.measured.requests_per_second,
    p99Ms: report.measured.latency_ms.p99_ms ?? Number.NaN,
    serverCpuUsPerTransfer: cpuUs,
    verifiedEntries: verified.entries,
    verifyEntriesPerSecond: verified.entries / seconds,
  };
}

if (import.meta.main) {
  const durationMs = Number(Deno.args[0] ?? "10") * 1000;
  await measureLedgerCost({ durationMs, warmupMs: 1_000, reference: Deno.args[1] ?? BEFORE_CHAIN_REVISION });
}
