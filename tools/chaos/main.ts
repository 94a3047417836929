/**
 * `deno task chaos`: the whole bank under a realistic workload while faults are injected on a schedule,
 * then a verdict on the history (Jepsen's bank workload, in the small). Seeded and bounded in time; prints
 * the seed and the git commit so a run can be repeated, a table of operations, outcomes, faults, recovery
 * and anomalies, writes the history as JSON lines, and exits 1 on any anomaly.
 *
 * ```sh
 * deno task chaos                          # 60 s over SQLite, a random seed
 * deno task chaos --duration 20s --seed 7  # the same run again
 * deno task chaos --control double-apply   # the checker must see the double applications it causes
 * ```
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { formatOptionHelp, Options, parseDurationMs, UsageError } from "../../lib/options.ts";
import type { OptionSpec } from "../../lib/options.ts";
import { BankConnection } from "../../client/connection.ts";
import { SqliteLedger } from "../../server/ledger/sqlite.ts";
import { FORGET_IDEMPOTENCY_ENV, FORGET_IDEMPOTENCY_VALUE } from "../../server/test_hooks.ts";
import { runAdmin, startServer } from "../harness.ts";
import type { ServerHandle } from "../harness.ts";
import { TcpProxy } from "../tcp_proxy.ts";
import { recoveries, runFaults } from "./faults.ts";
import type { FaultRecord, FaultTarget } from "./faults.ts";
import { judge, readStoreState } from "./verdict.ts";
import type { Verdict } from "./verdict.ts";
import { runWorkload } from "./workload.ts";
import type { Attempt, Operation } from "./workload.ts";

const OPTIONS: readonly OptionSpec[] = [
  {
    name: "duration",
    value: "TIME",
    defaultText: "60s",
    help: "how long clients send new requests (5s ... 1h)",
  },
  { name: "seed", value: "N", defaultText: "random", help: "seed of the workload and the fault schedule" },
  {
    name: "clients",
    value: "N",
    defaultText: "8",
    help: "clients, each its own identity and account (2 ... 64)",
  },
  { name: "history", value: "FILE", defaultText: "chaos-SEED.jsonl", help: "where the history is written" },
  { name: "control", value: "KIND", help: "double-apply: a negative control the checker must catch" },
  { name: "help", boolean: true, help: "show this help" },
];
/** Unknown outcomes are retried this long after new requests stop. */
const GRACE_MS = 30_000;
const REQUEST_TIMEOUT_MS = 2_000;
const RECOVERY_SHARE = 0.8;

/** The servers, each behind its own proxy, and their store: what the faults act on. */
class Bank implements FaultTarget {
  readonly servers = 1;
  #server: ServerHandle;
  readonly proxy: TcpProxy;
  readonly #restart: () => Promise<ServerHandle>;

  private constructor(server: ServerHandle, restart: () => Promise<ServerHandle>) {
    this.#server = server;
    this.#restart = restart;
    this.proxy = new TcpProxy({ hostname: "127.0.0.1", port: server.port });
  }

  static async start(
    options: { dataDir: string; clients: number; env: Record<string, string> },
  ): Promise<Bank> {
    const launch = () =>
      startServer({
        dataDir: options.dataDir,
        args: ["--demo-clients", String(options.clients)],
        env: options.env,
      });
    return new Bank(await launch(), launch);
  }

  get server(): ServerHandle {
    return this.#server;
  }

  async killAndRestart(_server: number): Promise<string> {
    const startedMs = performance.now();
    await this.#server.stop("SIGKILL");
    this.#server = await this.#restart();
    this.proxy.upstream = { hostname: "127.0.0.1", port: this.#server.port };
    return `killed; serving again after ${Math.round(performance.now() - startedMs)} ms`;
  }

  async pause(_server: number, milliseconds: number): Promise<void> {
    Deno.kill(this.#server.pid, "SIGSTOP");
    try {
      await sleep(milliseconds);
    } finally {
      Deno.kill(this.#server.pid, "SIGCONT");
    }
  }

  async delay(_server: number, milliseconds: number, forMs: number): Promise<void> {
    this.proxy.delayMs = milliseconds;
    await sleep(forMs);
    this.proxy.delayMs = 0;
  }

  async blackhole(_server: number, forMs: number): Promise<void> {
    this.proxy.blackhole = true;
    await sleep(forMs);
    this.proxy.blackhole = false;
  }

  cut(_server: number): number {
    return this.proxy.cutAll();
  }
}

async function main(args: string[]): Promise<number> {
  const options = new Options(args, { specs: OPTIONS, env: () => undefined });
  if (options.boolean("help")) {
    console.log(
      `deno task chaos: the bank under load and faults, then a verdict\n\n${formatOptionHelp(OPTIONS)}`,
    );
    return 0;
  }
  const durationMs = parseDurationMs(options.string("duration") ?? "60s");
  if (durationMs === null || durationMs < 5_000 || durationMs > 3_600_000) {
    throw new UsageError("--duration: 5s ... 1h");
  }
  const seed = options.integer("seed", {
    min: 0,
    max: 2 ** 31 - 1,
    fallback: crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1,
  });
  const clients = options.integer("clients", { min: 2, max: 64, fallback: 8 });
  const control = options.string("control");
  if (control !== undefined && control !== "double-apply") {
    throw new UsageError(`--control ${control}: double-apply`);
  }
  const historyPath = options.string("history") ?? `chaos-${seed}.jsonl`;
  console.log(
    `chaos: seed ${seed}, commit ${await gitCommit()}, ${durationMs / 1000} s, ${clients} clients, SQLite` +
      (control === undefined ? "" : `, control ${control}`),
  );

  const dataDir = await Deno.makeTempDir({ prefix: "bank-chaos-" });
  const history = await Deno.open(historyPath, { write: true, create: true, truncate: true });
  const write = (line: Record<string, unknown>) =>
    history.writeSync(new TextEncoder().encode(`${JSON.stringify(line, jsonable)}\n`));
  try {
    write({
      type: "run",
      seed,
      commit: await gitCommit(),
      duration_ms: durationMs,
      clients,
      store: "sqlite",
      control: control ?? null,
    });
    const env: Record<string, string> = control === "double-apply"
      ? { [FORGET_IDEMPOTENCY_ENV]: FORGET_IDEMPOTENCY_VALUE }
      : {};
    const bank = await Bank.start({ dataDir, clients, env });
    const result = await exercise(bank, { seed, clients, durationMs, write });
    const verdict = await judgeStore(bank, dataDir, result);
    for (const operation of result.operations) write({ type: "operation", ...operation });
    for (const anomaly of verdict.anomalies) write({ type: "anomaly", ...anomaly });
    printTable(result, verdict);
    console.log(`history: ${historyPath}`);
    if (control === "double-apply") {
      const seen = verdict.anomalies.filter((anomaly) => anomaly.kind === "applied_twice").length;
      console.log(
        seen > 0
          ? `control passed: the checker saw ${seen} double applications`
          : "control FAILED: no double application seen",
      );
      return seen > 0 ? 0 : 1;
    }
    return verdict.anomalies.length === 0 ? 0 : 1;
  } finally {
    history.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

interface Exercised {
  operations: Operation[];
  faults: FaultRecord[];
  answeredMs: number[];
  startMs: number;
  endMs: number;
  initialCustomerMinor: bigint;
  clientAccounts: string[];
  served: Map<string, bigint>;
}

/** The workload and the faults together, then every fault healed and each client's balance read. */
async function exercise(
  bank: Bank,
  run: { seed: number; clients: number; durationMs: number; write(line: Record<string, unknown>): void },
): Promise<Exercised> {
  const server = bank.server;
  const caPem = await server.caPem();
  const identities = Array.from({ length: run.clients }, (_, index) => `client-${index + 1}`);
  const credentials = await Promise.all(identities.map((name) => server.credential(name)));
  const clientAccounts = identities.map((_, index) => `ACC-${String(index + 1).padStart(4, "0")}`);
  const initialCustomerMinor = await customerTotal(server.dataDir);
  const answeredMs: number[] = [];
  const startMs = performance.now();
  const endMs = startMs + run.durationMs;
  const [operations, faults] = await Promise.all([
    runWorkload({
      clients: run.clients,
      seed: run.seed,
      portFor: () => ({ port: bank.proxy.port, server: 0 }),
      caPem,
      credentials,
      accounts: clientAccounts,
      endMs,
      graceEndMs: endMs + GRACE_MS,
      timeoutMs: REQUEST_TIMEOUT_MS,
      record: (attempt: Attempt) => run.write({ type: "attempt", ...attempt }),
      answered: (atMs) => answeredMs.push(atMs),
    }),
    runFaults(bank, {
      seed: run.seed,
      endMs,
      record: (fault) => run.write({ type: "fault", ...fault }),
    }),
  ]);
  const served = new Map<string, bigint>();
  for (const [index, credential] of credentials.entries()) {
    const connection = await BankConnection.connect({
      host: "127.0.0.1",
      port: bank.server.port,
      caPem,
      credential,
    });
    try {
      const answer = await connection.sendStructured({ v: 1, id: "final", op: "balance" });
      assert(answer.ok === true, `The final balance read of ${identities[index]} is answered`);
      for (
        const account of (answer.result as { accounts: { account_id: string; balance_minor: string }[] })
          .accounts
      ) {
        served.set(account.account_id, BigInt(account.balance_minor));
      }
    } finally {
      await connection.close();
    }
  }
  return { operations, faults, answeredMs, startMs, endMs, initialCustomerMinor, clientAccounts, served };
}

/** Stops the server, reads the store directly, runs the real `ledger verify`, and judges. */
async function judgeStore(bank: Bank, dataDir: string, result: Exercised): Promise<Verdict> {
  await bank.server.stop("SIGTERM");
  await bank.proxy[Symbol.asyncDispose]();
  const state = await (async () => {
    await using store = SqliteLedger.open(`${dataDir}/bank.db`);
    return await readStoreState(store);
  })();
  const verdict = judge(result.operations, state, result);
  const verified = await runAdmin(["ledger", "verify"], { dataDir });
  if (verified.code !== 0) {
    verdict.anomalies.push({ kind: "ledger_verify_failed", detail: verified.stdout.trim() });
  }
  return verdict;
}

async function customerTotal(dataDir: string): Promise<bigint> {
  await using store = SqliteLedger.open(`${dataDir}/bank.db`);
  const state = await readStoreState(store);
  return state.accounts.filter((a) => a.kind === "customer").reduce((sum, a) => sum + a.balanceMinor, 0n);
}

function printTable(result: Exercised, verdict: Verdict): void {
  const rows: [string, string][] = [];
  const writes = result.operations.length;
  rows.push([
    "operations",
    `${writes} writes (${
      result.operations.filter((o) => o.kind === "hold").length
    } holds captured at once), ${result.answeredMs.length} answers in all`,
  ]);
  for (const [outcome, count] of Object.entries(verdict.outcomes).sort()) {
    rows.push(["  outcome", `${count} ${outcome}`]);
  }
  const byKind = new Map<string, number>();
  for (const fault of result.faults) byKind.set(fault.kind, (byKind.get(fault.kind) ?? 0) + 1);
  rows.push([
    "faults",
    `${result.faults.length}: ${[...byKind].map(([kind, count]) => `${kind} ${count}`).join(", ")}`,
  ]);
  const recovered = recoveries(result.answeredMs, result.faults, {
    quietFromMs: result.startMs,
    share: RECOVERY_SHARE,
    runEndMs: result.endMs,
  });
  const times = recovered.filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
  rows.push([
    "recovery",
    times.length === 0
      ? "no fault recovered before the next one"
      : `to ${RECOVERY_SHARE * 100}% of the quiet rate: median ${times[times.length >> 1]} ms, max ${
        times.at(-1)
      } ms` +
        ` (${recovered.length - times.length} faults followed by another first)`,
  ]);
  const kinds = new Map<string, number>();
  for (const anomaly of verdict.anomalies) kinds.set(anomaly.kind, (kinds.get(anomaly.kind) ?? 0) + 1);
  rows.push([
    "anomalies",
    kinds.size === 0 ? "none" : [...kinds].map(([kind, count]) => `${kind} ${count}`).join(", "),
  ]);
  for (const anomaly of verdict.anomalies.slice(0, 10)) rows.push(["  " + anomaly.kind, anomaly.detail]);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, text] of rows) console.log(`${label.padEnd(width)}  ${text}`);
}

function jsonable(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

async function gitCommit(): Promise<string> {
  try {
    const output = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`deno task chaos: ${error.message}`);
    Deno.exit(2);
  }
}
