/**
 * `deno task chaos`: the whole bank under a realistic workload while faults are injected on a schedule,
 * then a verdict on the history (Jepsen's bank workload, in the small). Seeded and bounded in time; prints
 * the seed and the git commit so a run can be repeated, a table of operations, outcomes, faults, recovery
 * and anomalies, writes the history as JSON lines, and exits 1 on any anomaly.
 *
 * ```sh
 * deno task chaos                          # 60 s over SQLite, a random seed
 * deno task chaos --duration 20s --seed 7  # the same run again
 * deno task chaos --store postgres         # two servers on a throwaway PostgreSQL cluster
 * deno task chaos --control double-apply   # the checker must see the double applications it causes
 * deno task chaos --store postgres --control lost-writes   # ... and the writes a non-durable database loses
 * ```
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { formatOptionHelp, Options, parseDurationMs, UsageError } from "../../lib/options.ts";
import type { OptionSpec } from "../../lib/options.ts";
import { BankConnection } from "../../client/connection.ts";
import type { Credential } from "../../protocol/credential.ts";
import {
  ASYNC_COMMIT_ENV,
  ASYNC_COMMIT_VALUE,
  FORGET_IDEMPOTENCY_ENV,
  FORGET_IDEMPOTENCY_VALUE,
} from "../../server/test_hooks.ts";
import { ChaosBank } from "./bank.ts";
import { PostgresCluster } from "./cluster.ts";
import { DATABASE_FAULTS, recoveries, runFaults, SERVER_FAULTS } from "./faults.ts";
import type { FaultKind, FaultRecord } from "./faults.ts";
import { judge, readAccounts, readStoreState } from "./verdict.ts";
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
    name: "store",
    value: "KIND",
    defaultText: "sqlite",
    help: "sqlite, or postgres (a throwaway cluster of its own)",
  },
  {
    name: "servers",
    value: "N",
    defaultText: "1 (sqlite), 2 (postgres)",
    help: "server processes on the store",
  },
  {
    name: "clients",
    value: "N",
    defaultText: "8",
    help: "clients, each its own identity and account (2 ... 64)",
  },
  { name: "history", value: "FILE", defaultText: "chaos-SEED.jsonl", help: "where the history is written" },
  {
    name: "control",
    value: "KIND",
    help: "a negative control the checker must catch: double-apply, or lost-writes (postgres)",
  },
  { name: "help", boolean: true, help: "show this help" },
];
/** Unknown outcomes are retried this long after new requests stop. */
const GRACE_MS = 30_000;
const REQUEST_TIMEOUT_MS = 2_000;
const RECOVERY_SHARE = 0.8;
/**
 * PostgreSQL writing asynchronously committed WAL as late as it may: with the servers' commits made
 * asynchronous by a test-only hook, an immediate stop then loses acknowledged writes.
 */
const NON_DURABLE_SETTINGS = ["-c synchronous_commit=off", "-c wal_writer_delay=10000ms"];
/** The lost-writes control crashes the database, nothing else. */
const LOST_WRITES_FAULTS: readonly [FaultKind, number][] = [["db-restart", 1]];

interface Run {
  durationMs: number;
  seed: number;
  store: "sqlite" | "postgres";
  servers: number;
  clients: number;
  historyPath: string;
  control: "double-apply" | "lost-writes" | undefined;
}

function readRun(options: Options): Run {
  const durationMs = parseDurationMs(options.string("duration") ?? "60s");
  if (durationMs === null || durationMs < 5_000 || durationMs > 3_600_000) {
    throw new UsageError("--duration: 5s ... 1h");
  }
  const random = crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;
  const seed = options.integer("seed", { min: 0, max: 2 ** 31 - 1, fallback: random });
  const store = options.string("store") ?? "sqlite";
  if (store !== "sqlite" && store !== "postgres") {
    throw new UsageError(`--store ${store}: sqlite or postgres`);
  }
  // SQLite's file is served by one process here; PostgreSQL by as many as asked.
  const servers = store === "sqlite"
    ? options.integer("servers", { min: 1, max: 1, fallback: 1 })
    : options.integer("servers", { min: 1, max: 4, fallback: 2 });
  const control = options.string("control");
  if (
    control !== undefined && control !== "double-apply" &&
    !(control === "lost-writes" && store === "postgres")
  ) {
    throw new UsageError(`--control ${control}: double-apply, or lost-writes with --store postgres`);
  }
  return {
    durationMs,
    seed,
    store,
    servers,
    clients: options.integer("clients", { min: 2, max: 64, fallback: 8 }),
    historyPath: options.string("history") ?? `chaos-${seed}.jsonl`,
    control,
  };
}

async function main(args: string[]): Promise<number> {
  const options = new Options(args, { specs: OPTIONS, env: () => undefined });
  if (options.boolean("help")) {
    console.log(
      `deno task chaos: the bank under load and faults, then a verdict\n\n${formatOptionHelp(OPTIONS)}`,
    );
    return 0;
  }
  const run = readRun(options);
  const commit = await gitCommit();
  console.log(
    `chaos: seed ${run.seed}, commit ${commit}, ${run.durationMs / 1000} s, ${run.clients} clients, ` +
      `${run.servers} server(s) on ${run.store}${
        run.control === undefined ? "" : `, control ${run.control}`
      }`,
  );
  const history = await Deno.open(run.historyPath, { write: true, create: true, truncate: true });
  const write = (line: Record<string, unknown>) =>
    history.writeSync(new TextEncoder().encode(`${JSON.stringify(line, jsonable)}\n`));
  try {
    write({ type: "run", commit, ...run, control: run.control ?? null });
    const verdict = await runChaos(run, write);
    console.log(`history: ${run.historyPath}`);
    return run.control === undefined
      ? (verdict.anomalies.length === 0 ? 0 : 1)
      : controlVerdict(run.control, verdict);
  } finally {
    history.close();
  }
}

/** Starts the bank (and its database), runs the workload under faults, judges, prints the table. */
async function runChaos(run: Run, write: (line: Record<string, unknown>) => void): Promise<Verdict> {
  const env: Record<string, string> = run.control === "double-apply"
    ? { [FORGET_IDEMPOTENCY_ENV]: FORGET_IDEMPOTENCY_VALUE }
    : run.control === "lost-writes"
    ? { [ASYNC_COMMIT_ENV]: ASYNC_COMMIT_VALUE }
    : {};
  // The lost-writes control: commits acknowledged before their WAL is written, then immediate stops.
  await using cluster = run.store === "postgres"
    ? await PostgresCluster.create(run.control === "lost-writes" ? NON_DURABLE_SETTINGS : [])
    : undefined;
  await using bank = await ChaosBank.start({
    servers: run.servers,
    clients: run.clients,
    env,
    ...(cluster === undefined ? {} : { cluster }),
  });
  // Interrupted (Ctrl-C, SIGTERM), the run still stops its servers and removes its database and files.
  const interrupted = async () => {
    await bank[Symbol.asyncDispose]();
    await cluster?.[Symbol.asyncDispose]();
    Deno.exit(130);
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, interrupted);
  using _listeners = {
    [Symbol.dispose]: () => signals.forEach((signal) => Deno.removeSignalListener(signal, interrupted)),
  };
  const kinds = run.control === "lost-writes"
    ? LOST_WRITES_FAULTS
    : bank.database
    ? [...SERVER_FAULTS, ...DATABASE_FAULTS]
    : SERVER_FAULTS;
  const result = await exercise(bank, { ...run, kinds, write });
  const verdict = await judgeStore(bank, result);
  for (const operation of result.operations) write({ type: "operation", ...operation });
  for (const anomaly of verdict.anomalies) write({ type: "anomaly", ...anomaly });
  printTable(result, verdict);
  return verdict;
}

/** A negative control passes when the checker reports the anomaly the control causes. */
function controlVerdict(control: "double-apply" | "lost-writes", verdict: Verdict): number {
  const expected = control === "double-apply" ? "applied_twice" : "lost_acknowledged";
  const seen = verdict.anomalies.filter((anomaly) => anomaly.kind === expected).length;
  console.log(
    seen > 0
      ? `control passed: the checker reported ${seen} ${expected}`
      : `control FAILED: no ${expected} reported`,
  );
  return seen > 0 ? 0 : 1;
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

/** The workload and the faults together, then each client's balance read through a server. */
async function exercise(
  bank: ChaosBank,
  run: Run & { kinds: readonly [FaultKind, number][]; write(line: Record<string, unknown>): void },
): Promise<Exercised> {
  const server = bank.server(0);
  const caPem = await server.caPem();
  const identities = Array.from({ length: run.clients }, (_, index) => `client-${index + 1}`);
  const credentials = await Promise.all(identities.map((name) => server.credential(name)));
  const clientAccounts = identities.map((_, index) => `ACC-${String(index + 1).padStart(4, "0")}`);
  const initialCustomerMinor = await customerTotal(bank);
  const answeredMs: number[] = [];
  const startMs = performance.now();
  const endMs = startMs + run.durationMs;
  const [operations, faults] = await Promise.all([
    runWorkload({
      clients: run.clients,
      seed: run.seed,
      // Each new connection of a client goes to the next server: a retry may land on another one.
      portFor: (client, attempt) => {
        const index = (client + attempt) % bank.servers;
        return { port: bank.proxies[index]!.port, server: index };
      },
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
      kinds: run.kinds,
      record: (fault) => {
        run.write({ type: "fault", ...fault });
        const at = ((fault.startMs - startMs) / 1000).toFixed(1);
        console.log(
          `fault     ${at.padStart(5)} s  ${fault.kind} server ${fault.server + 1}: ${fault.detail}`,
        );
      },
    }),
  ]);
  const served = await balancesServed(bank, { caPem, credentials });
  return { operations, faults, answeredMs, startMs, endMs, initialCustomerMinor, clientAccounts, served };
}

/** Every client's balance as a server answers it, once the faults are over (retried while it recovers). */
async function balancesServed(
  bank: ChaosBank,
  parts: { caPem: string; credentials: Credential[] },
): Promise<Map<string, bigint>> {
  const served = new Map<string, bigint>();
  for (const credential of parts.credentials) {
    for (let attempt = 1;; attempt++) {
      try {
        const port = bank.server(attempt % bank.servers).port;
        const connection = await BankConnection.connect({
          host: "127.0.0.1",
          port,
          caPem: parts.caPem,
          credential,
        });
        try {
          const answer = await connection.sendStructured({ v: 1, id: "final", op: "balance" });
          assert(answer.ok === true, `The final balance read of ${credential.identity} is answered`);
          const { accounts } = answer.result as { accounts: { account_id: string; balance_minor: string }[] };
          for (const account of accounts) served.set(account.account_id, BigInt(account.balance_minor));
          break;
        } finally {
          await connection.close();
        }
      } catch (error) {
        if (attempt >= FINAL_READ_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  return served;
}

/** The final balance reads are retried this many times, half a second apart, while a server recovers. */
const FINAL_READ_ATTEMPTS = 60;

/** Stops the servers, reads the store directly, runs the real `ledger verify`, and judges. */
async function judgeStore(bank: ChaosBank, result: Exercised): Promise<Verdict> {
  await bank.stopServers();
  const state = await (async () => {
    await using store = await bank.openStore();
    return await readStoreState(store);
  })();
  const verdict = judge(result.operations, state, result);
  const verified = await bank.verify();
  if (verified.code !== 0) {
    verdict.anomalies.push({ kind: "ledger_verify_failed", detail: verified.stdout.trim() });
  }
  return verdict;
}

/** What the customers hold before the run: the accounts alone, not the whole state the verdict reads. */
async function customerTotal(bank: ChaosBank): Promise<bigint> {
  await using store = await bank.openStore();
  const accounts = await readAccounts(store);
  return accounts.filter((a) => a.kind === "customer").reduce((sum, a) => sum + a.balanceMinor, 0n);
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

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`deno task chaos: ${error.message}`);
    Deno.exit(2);
  }
}
