/**
 * The benchmark suite (`deno task bench`): measures the bank server against the physical limit of this
 * machine (a bare TLS echo with the same framing and client pattern, started in the same run) and, where
 * `pgbench` and PostgreSQL are available, against PostgreSQL's own TPC-B-like workload; then holds 10,000
 * idle sessions and measures the memory they cost. Prints a table of every figure with its ratio to the
 * baseline and writes `docs/PERFORMANCE.md`.
 *
 * ```sh
 * deno task bench                                   # SQLite, and PostgreSQL when DATABASE_URL is set
 * deno task bench --duration 5s --connections 1,10,50 --stores sqlite --sessions 0 --big-store none
 * ```
 *
 * @module
 */
import { parseDurationMs } from "../lib/options.ts";
import { runBench } from "../client/bench/run.ts";
import type { BenchMix, BenchReport } from "../client/bench/types.ts";
import { BankConnection } from "../client/connection.ts";
import { FAST_AEAD } from "../protocol/node_crypto.ts";
import { CLIENT_CONNECTS_IN_FLIGHT_MAX } from "../client/limits.ts";
import type { Credential } from "../protocol/credential.ts";
import { createTestDatabase } from "../server/ledger/testing.ts";
import { demoCredentials, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";
import { runEchoClients } from "./echo.ts";
import { measureHandshakeVersions, V1_REVISION } from "./handshakes.ts";
import { BEFORE_CHAIN_REVISION, measureLedgerCost } from "./ledger_cost.ts";
import { measureGrowth } from "./big_store.ts";
import { growthLine } from "./report.ts";
import type { GrowthResult } from "./big_store.ts";
import type { EchoReport } from "./echo.ts";
import { cpuPerUnit } from "./trees.ts";
import { parseArgs } from "@std/cli/parse-args";

const ROOT = new URL("../", import.meta.url).pathname;
const MIXES: Record<string, BenchMix> = {
  balance: { balance: 1, transfer: 0, contact: 0 },
  transfer: { balance: 0, transfer: 1, contact: 0 },
  seed: { balance: 1, transfer: 1, contact: 1 },
};
const DEMO_IDENTITIES = 1_000;
/** Sessions opened at once: within what the server lets one address hold unauthenticated. */
const SESSION_BATCH = CLIENT_CONNECTS_IN_FLIGHT_MAX;
/**
 * pgbench's shapes: one client on the smallest scale (a lone customer), and 50 clients on scale 50 (at least
 * its clients, as its own guidance asks, so that it measures more than branch contention).
 */
const PGBENCH_SHAPES = [{ clients: 1, scale: 1 }, { clients: 50, scale: 50 }] as const;
/** pgbench's shortest run: its rate swings between runs on a shared machine, more so in short ones. */
const PGBENCH_SECONDS_MIN = 5;
/** Each round of the ledger-cost comparison at least this long: its two trees differ by tens of percent. */
const LEDGER_COST_MS_MIN = 5_000;
/** The main matrix runs one serving thread; the scaling section varies it. */
const MATRIX_WORKERS = 1;
/** How long a matrix server may take to open its demo identities and accounts. */
const MATRIX_STARTUP_TIMEOUT_MS = 180_000;
/** The big stores `--big-store` builds unless told otherwise. */
const BIG_STORES_DEFAULT = "2000000,10000000";

interface Settings {
  durationMs: number;
  warmupMs: number;
  connections: number[];
  /** TLS listeners compared side by side (`--listeners node,deno`; `none` skips it). */
  listeners: string[];
  stores: ("sqlite" | "postgres")[];
  mixes: string[];
  sessions: number;
  /** The tree handshake version 2 is compared with (`--handshake-reference REV`; `none` skips it). */
  handshakeReference: string;
  /** The tree before the journal's chain, holds and receipts (`--chain-reference REV`; `none` skips it). */
  chainReference: string;
  /** Entries of the big stores measured beside a fresh one (`--big-store 2000000,10000000`, the default; `none` skips). */
  bigStores: number[];
  out: string;
  databaseUrl: string | undefined;
}

interface Row {
  store: string;
  mix: string;
  clients: number;
  report: BenchReport;
  /** The server process's CPU (user and system, from /proc) per answer, warm-up included in both. */
  serverCpuUs: number;
}

/** `--big-store`: entries of each big store, ascending, or `none`. */
function bigStoresOf(flag: string): number[] {
  if (flag === "none") return [];
  const sizes = flag.split(",").map(Number).filter((entries) => Number.isSafeInteger(entries) && entries > 0);
  return [...new Set(sizes)].sort((left, right) => left - right);
}

function readSettings(): Settings {
  const flags = parseArgs(Deno.args, {
    string: [
      "duration",
      "warmup",
      "connections",
      "stores",
      "mixes",
      "sessions",
      "out",
      "listeners",
      "handshake-reference",
      "chain-reference",
      "big-store",
    ],
  }) as Record<string, string | undefined>;
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const stores = (flags.stores ?? (databaseUrl === undefined ? "sqlite" : "sqlite,postgres")).split(",");
  return {
    durationMs: parseDurationMs(flags.duration ?? "3s") ?? 3_000,
    warmupMs: parseDurationMs(flags.warmup ?? "1s") ?? 1_000,
    connections: (flags.connections ?? "1,10,50,200,1000").split(",").map(Number),
    listeners: (flags.listeners ?? "node,deno").split(",").filter((kind) =>
      kind === "node" || kind === "deno"
    ),
    stores: stores.filter((store): store is "sqlite" | "postgres" =>
      store === "sqlite" || store === "postgres"
    ),
    mixes: (flags.mixes ?? "balance,transfer,seed").split(",").filter((mix) => mix in MIXES),
    sessions: Number(flags.sessions ?? "10000"),
    handshakeReference: flags["handshake-reference"] ?? V1_REVISION,
    chainReference: flags["chain-reference"] ?? BEFORE_CHAIN_REVISION,
    bigStores: bigStoresOf(flags["big-store"] ?? BIG_STORES_DEFAULT),
    out: flags.out ?? `${ROOT}docs/PERFORMANCE.md`,
    databaseUrl,
  };
}

/** The echo baseline at every connection count, against its own process; `sealed` adds the channel's AES-GCM. */
async function measureEcho(
  settings: Settings,
  server: { dataDir: string; caPem: string; sealed: boolean },
): Promise<Map<number, EchoReport>> {
  const { dataDir, caPem, sealed } = server;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${ROOT}bench/echo.ts`,
      "serve",
      "--cert",
      `${dataDir}/server.crt`,
      "--key",
      `${dataDir}/server.key`,
      ...(sealed ? ["--sealed"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  const port = Number(/port (\d+)/.exec(first.value ?? "")?.[1]);
  const results = new Map<number, EchoReport>();
  try {
    for (const clients of settings.connections) {
      const { result: report, cpuUs } = await cpuPerUnit(child.pid, () =>
        runEchoClients({
          port,
          caPem,
          clients,
          durationMs: settings.durationMs,
          warmupMs: settings.warmupMs,
          sealed,
        }), (report) => report.answered);
      results.set(clients, { ...report, serverCpuUs: cpuUs });
      console.log(
        `${sealed ? "sealed    " : "echo      "}${String(clients).padStart(5)} conns  ${
          report.requests_per_second.toFixed(0).padStart(8)
        } req/s  server ${cpuUs.toFixed(0)} us CPU each`,
      );
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
  return results;
}

/** pgbench's runs at one shape (clients and scale): the better run (`tps`, the harder bar) and each run. */
export interface PgbenchFigure {
  clients: number;
  scale: number;
  tps: number;
  runs: number[];
}

/** PostgreSQL's TPC-B-like workload, durable commits, at each of {@link PGBENCH_SHAPES}; null when it cannot run. */
async function measurePgbench(settings: Settings): Promise<Map<number, number> | null> {
  if (settings.databaseUrl === undefined) return null;
  const pgbench = await new Deno.Command("pgbench", { args: ["--version"] }).output().catch(() => null);
  if (pgbench === null || !pgbench.success) return null;
  const results = new Map<number, number>();
  for (const { clients, scale } of PGBENCH_SHAPES) {
    await using database = await createTestDatabase(settings.databaseUrl);
    const init = await new Deno.Command("pgbench", {
      args: ["-i", "-q", "-s", String(scale), database.url],
    }).output();
    if (!init.success) return null;
    const seconds = String(Math.max(PGBENCH_SECONDS_MIN, Math.round(settings.durationMs / 1000)));
    const run = await new Deno.Command("pgbench", {
      args: ["-c", String(clients), "-j", String(Math.min(clients, 2)), "-T", seconds, database.url],
    }).output();
    const tps = Number(/tps = ([0-9.]+)/.exec(new TextDecoder().decode(run.stdout))?.[1]);
    if (!Number.isFinite(tps)) return null;
    results.set(clients, tps);
    console.log(
      `pgbench   ${String(clients).padStart(2)} clients  ${tps.toFixed(0)} tps (TPC-B-like, scale ${scale})`,
    );
  }
  return results;
}

/** Both pgbench passes (before and after the bank's runs) as one figure per shape. */
function pgbenchFigures(passes: (Map<number, number> | null)[]): PgbenchFigure[] {
  return PGBENCH_SHAPES.flatMap(({ clients, scale }) => {
    const runs = passes.flatMap((pass) => pass?.get(clients) ?? []);
    return runs.length === 0 ? [] : [{ clients, scale, tps: Math.max(...runs), runs }];
  });
}

/** One load-generator run against a server, for the run's duration, seeded by its connection count. */
function benchAgainst(
  server: ServerHandle,
  parts: { caPem: string; credentials: Credential[]; clients: number; mix: BenchMix; settings: Settings },
): Promise<BenchReport> {
  return runBench({
    host: "127.0.0.1",
    port: server.port,
    caPem: parts.caPem,
    credentials: parts.credentials,
    clients: parts.clients,
    durationMs: parts.settings.durationMs,
    warmupMs: parts.settings.warmupMs,
    mix: parts.mix,
    aead: FAST_AEAD,
    seed: parts.clients,
  });
}

/** Every mix at every connection count against one store. */
async function measureBank(settings: Settings, server: ServerHandle, store: string): Promise<Row[]> {
  const caPem = await server.caPem();
  const credentials = await demoCredentials(
    server,
    Math.min(DEMO_IDENTITIES, Math.max(...settings.connections)),
  );
  const rows: Row[] = [];
  for (const mix of settings.mixes) {
    for (const clients of settings.connections) {
      const { result: report, cpuUs } = await cpuPerUnit(
        server.pid,
        () => benchAgainst(server, { caPem, credentials, clients, mix: MIXES[mix]!, settings }),
        (report) => report.totals.answered,
      );
      rows.push({ store, mix, clients, report, serverCpuUs: cpuUs });
      const { requests_per_second: rate, latency_ms: latency } = report.measured;
      console.log(
        `${store.padEnd(9)} ${mix.padEnd(8)} ${String(clients).padStart(5)} conns ${
          rate.toFixed(0).padStart(8)
        } req/s` +
          `  p99 ${latency.p99_ms?.toFixed(2)} ms  server ${
            cpuUs.toFixed(0)
          } us CPU each  errors ${report.totals.errors}`,
      );
    }
  }
  return rows;
}

/** One TLS listener's figures in one round: balance checks at a few connection counts, and sessions/s. */
export interface ListenerResult {
  kind: string;
  round: number;
  rows: { clients: number; report: BenchReport }[];
  handshakesPerSecond: number;
}

/** Connection counts the listeners are compared at. */
const LISTENER_CONNECTIONS = [1, 50, 1000];
/** Sessions opened at once when measuring handshakes per second. */
const HANDSHAKES_IN_FLIGHT = CLIENT_CONNECTS_IN_FLIGHT_MAX;

/**
 * The serving listener (node:tls) beside Deno.listenTls, in one run: full sessions (TLS and the bank
 * handshake) opened and closed per second, then balance checks at 1, 50 and 1,000 connections. Two rounds
 * in mirrored order (node, deno, deno, node), so that a drift of the machine weighs on both alike.
 */
async function measureListeners(settings: Settings): Promise<ListenerResult[]> {
  const results: ListenerResult[] = [];
  const order = [...settings.listeners, ...[...settings.listeners].reverse()];
  for (const [index, kind] of order.entries()) {
    const round = index < settings.listeners.length ? 1 : 2;
    await using server = await startServer({
      args: ["--demo-clients", String(DEMO_IDENTITIES), "--workers", "1", "--tls-listener", kind],
    });
    const caPem = await server.caPem();
    const credentials = await demoCredentials(server, DEMO_IDENTITIES);
    // First, on the fresh server: a bench process that has just closed 1,000 sessions stalls for seconds.
    const handshakesPerSecond = await measureHandshakes(server, { caPem, credentials, settings });
    const rows: ListenerResult["rows"] = [];
    for (const clients of LISTENER_CONNECTIONS) {
      const report = await benchAgainst(server, {
        caPem,
        credentials,
        clients,
        mix: MIXES.balance!,
        settings,
      });
      rows.push({ clients, report });
    }
    results.push({ kind, round, rows, handshakesPerSecond });
    console.log(
      `listener  ${kind.padEnd(5)} round ${round}: ${
        rows.map((row) => `${row.clients}: ${row.report.measured.requests_per_second.toFixed(0)} req/s`).join(
          ", ",
        )
      }, ${handshakesPerSecond.toFixed(0)} handshakes/s`,
    );
  }
  return results;
}

/** Opens and closes full sessions, {@link HANDSHAKES_IN_FLIGHT} at a time, for the run's duration. */
async function measureHandshakes(
  server: ServerHandle,
  parts: { caPem: string; credentials: Credential[]; settings: Settings },
): Promise<number> {
  const endMs = performance.now() + parts.settings.durationMs;
  let opened = 0;
  await Promise.all(Array.from({ length: HANDSHAKES_IN_FLIGHT }, async (_, worker) => {
    while (performance.now() < endMs) {
      const connection = await BankConnection.connect({
        host: "127.0.0.1",
        port: server.port,
        caPem: parts.caPem,
        credential: parts.credentials[(opened + worker) % parts.credentials.length]!,
      });
      await connection.close();
      opened += 1;
    }
  }));
  return opened / (parts.settings.durationMs / 1000);
}

/** Balance checks at 50 connections with 1, 2, … serving threads, up to one per core. */
async function measureScaling(settings: Settings): Promise<{ workers: number; report: BenchReport }[]> {
  const results: { workers: number; report: BenchReport }[] = [];
  const cores = navigator.hardwareConcurrency || 1;
  for (let workers = 1; workers <= cores; workers++) {
    await using server = await startServer({ args: ["--demo-clients", "50", "--workers", String(workers)] });
    const report = await runBench({
      host: "127.0.0.1",
      port: server.port,
      caPem: await server.caPem(),
      credentials: await demoCredentials(server, 50),
      clients: 50,
      durationMs: settings.durationMs,
      warmupMs: settings.warmupMs,
      mix: MIXES.balance!,
      aead: FAST_AEAD,
    });
    results.push({ workers, report });
    console.log(
      `scaling   ${workers} threads  ${report.measured.requests_per_second.toFixed(0).padStart(8)} req/s`,
    );
  }
  return results;
}

/** Holds many idle authenticated sessions, measures the server's memory per session and active latency. */
async function measureSessions(settings: Settings, server: ServerHandle) {
  if (settings.sessions <= 0) return null;
  const rss = async () => {
    const text = await (await fetch(`http://127.0.0.1:${server.monitorPort}/metrics`)).text();
    return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1]);
  };
  const caPem = await server.caPem();
  const credentials = await demoCredentials(server, DEMO_IDENTITIES);
  const before = await rss();
  const held: BankConnection[] = [];
  const startedMs = performance.now();
  for (let index = 0; index < settings.sessions; index += SESSION_BATCH) {
    const batch = Array.from(
      { length: Math.min(SESSION_BATCH, settings.sessions - index) },
      (_, offset) =>
        BankConnection.connect({
          host: "127.0.0.1",
          port: server.port,
          caPem,
          credential: credentials[(index + offset) % credentials.length]!,
        }),
    );
    held.push(...await Promise.all(batch));
  }
  const openMs = performance.now() - startedMs;
  const after = await rss();
  const active = await runBench({
    host: "127.0.0.1",
    port: server.port,
    caPem,
    credentials,
    clients: 10,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    mix: MIXES.balance!,
    aead: FAST_AEAD,
  });
  await Promise.all(held.map((connection) => connection.close()));
  const result = {
    sessions: held.length,
    openSeconds: openMs / 1000,
    rssBeforeBytes: before,
    rssAfterBytes: after,
    bytesPerSession: (after - before) / held.length,
    activeP99Ms: active.measured.latency_ms.p99_ms,
    activeRate: active.measured.requests_per_second,
  };
  console.log(
    `sessions  ${result.sessions} held, ${(after / 2 ** 20).toFixed(0)} MiB RSS, ${
      (result.bytesPerSession / 1024).toFixed(1)
    } KiB each`,
  );
  return result;
}

/** A fresh store and each big store of `--big-store`, in mirrored rounds in this run. */
async function measureGrowthRows(settings: Settings): Promise<GrowthResult[]> {
  if (settings.bigStores.length === 0) return [];
  const growth = await measureGrowth(settings.bigStores, {
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
  });
  for (const result of growth) console.log(`growth    ${growthLine(result)}`);
  return growth;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const rows: Row[] = [];
  // pgbench runs before the bank's runs and after them; ratios use the better of the two, the harder bar.
  const pgbenchBefore = await measurePgbench(settings);
  let echo = new Map<number, EchoReport>();
  let sealedEcho = new Map<number, EchoReport>();
  let sessions: Awaited<ReturnType<typeof measureSessions>> = null;
  for (const store of settings.stores) {
    const database = store === "postgres" && settings.databaseUrl !== undefined
      ? await createTestDatabase(settings.databaseUrl)
      : undefined;
    const args = [
      "--demo-clients",
      String(DEMO_IDENTITIES),
      "--max-connections",
      String(settings.sessions + 1_000),
      "--workers",
      String(MATRIX_WORKERS),
      ...(database ? ["--database", database.url] : []),
    ];
    try {
      // 1,000 demo identities and accounts, one durable commit each: some 20 s on PostgreSQL here.
      await using server = await startServer({ args, startupTimeoutMs: MATRIX_STARTUP_TIMEOUT_MS });
      if (echo.size === 0) {
        const baseline = { dataDir: server.dataDir, caPem: await server.caPem() };
        echo = await measureEcho(settings, { ...baseline, sealed: false });
        sealedEcho = await measureEcho(settings, { ...baseline, sealed: true });
      }
      rows.push(...await measureBank(settings, server, store));
      if (store === "sqlite") sessions = await measureSessions(settings, server);
    } finally {
      await database?.[Symbol.asyncDispose]();
    }
  }
  const scaling = await measureScaling(settings);
  const listeners = await measureListeners(settings);
  const handshakes = settings.handshakeReference === "none" ? [] : await measureHandshakeVersions({
    durationMs: settings.durationMs,
    reference: settings.handshakeReference,
  });
  const ledgerCost = settings.chainReference === "none" ? [] : await measureLedgerCost({
    durationMs: Math.max(settings.durationMs, LEDGER_COST_MS_MIN),
    warmupMs: settings.warmupMs,
    reference: settings.chainReference,
  });
  const growth = await measureGrowthRows(settings);
  const pgbench = pgbenchFigures([pgbenchBefore, await measurePgbench(settings)]);
  const { writePerformanceReport } = await import("./report.ts");
  await writePerformanceReport({
    settings,
    rows,
    echo,
    sealedEcho,
    pgbench,
    sessions,
    scaling,
    listeners,
    handshakes,
    ledgerCost,
    growth,
  });
  console.log(`Wrote ${settings.out}`);
}

export type { Row, Settings };
export type SessionsResult = Awaited<ReturnType<typeof measureSessions>>;
export type ScalingResult = Awaited<ReturnType<typeof measureScaling>>;

if (import.meta.main) await main();
