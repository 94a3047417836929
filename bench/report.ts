/**
 * Turns the benchmark's figures into `docs/PERFORMANCE.md`: the machine, every figure with its ratio to the
 * echo baseline measured in the same run, the targets with what was measured, and how to reproduce.
 *
 * @module
 */
import type { EchoReport } from "./echo.ts";
import type { HandshakeResult } from "./handshakes.ts";
import type { LedgerCostResult } from "./ledger_cost.ts";
import type { GrowthResult, GrowthRound } from "./big_store.ts";
import type { ListenerResult, PgbenchFigure, Row, ScalingResult, SessionsResult, Settings } from "./run.ts";
import { CLIENT_CONNECTS_IN_FLIGHT_MAX as CONNECTS } from "../client/limits.ts";

interface Figures {
  settings: Settings;
  rows: Row[];
  echo: Map<number, EchoReport>;
  /** The same echo sealing and opening every frame both ways, as the bank's channel does. */
  sealedEcho: Map<number, EchoReport>;
  /** pgbench at each shape it ran (none without PostgreSQL): the better run, and each run's figure. */
  pgbench: PgbenchFigure[];
  sessions: SessionsResult;
  scaling: ScalingResult;
  listeners: ListenerResult[];
  handshakes: HandshakeResult[];
  ledgerCost: LedgerCostResult[];
  growth: GrowthResult[];
}

const GIB = 2 ** 30;

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function fixed(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function machine(): string {
  const cpu = (() => {
    try {
      return /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown";
    } catch {
      return "unknown";
    }
  })();
  const memory = Deno.systemMemoryInfo();
  return `${navigator.hardwareConcurrency} cores (${cpu}), ${(memory.total / GIB).toFixed(0)} GiB, ` +
    `Deno ${Deno.version.deno} on ${Deno.build.os}; client and server share the machine`;
}

function table(figures: Figures): string[] {
  const lines = [
    "| store | mix | connections | requests/s | x echo | p50 ms | p99 ms | p99.9 ms | max ms | errors | server CPU per request | client CPU |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const echoRow = (label: string, echo: EchoReport) => {
    const ratio = echo.requests_per_second / (figures.echo.get(echo.clients)?.requests_per_second ?? NaN);
    lines.push(
      `| ${label} | 64 B frames | ${echo.clients} | ${fixed(echo.requests_per_second, 0)} | ${
        fixed(ratio)
      } | ` +
        `${fixed(echo.latency.p50_ms)} | ${fixed(echo.latency.p99_ms)} | ${fixed(echo.latency.p99_9_ms)} | ` +
        `${fixed(echo.latency.max_ms)} | 0 | ${fixed(echo.serverCpuUs, 0)} µs | - |`,
    );
  };
  for (const echo of figures.echo.values()) echoRow("echo (baseline)", echo);
  for (const echo of figures.sealedEcho.values()) echoRow("sealed echo", echo);
  for (const row of figures.rows) {
    const { measured, totals, client_cost: cost } = row.report;
    const echo = figures.echo.get(row.clients)?.requests_per_second;
    const ratio = echo === undefined ? null : measured.requests_per_second / echo;
    const latency = measured.latency_ms;
    lines.push(
      `| ${row.store} | ${row.mix} | ${row.clients} | ${fixed(measured.requests_per_second, 0)} | ${
        fixed(ratio)
      } | ` +
        `${fixed(latency.p50_ms)} | ${fixed(latency.p99_ms)} | ${fixed(latency.p99_9_ms)} | ${
          fixed(latency.max_ms)
        } | ` +
        `${totals.errors} | ${fixed(row.serverCpuUs, 0)} µs | ${fixed(cost.cpu_cores)} cores |`,
    );
  }
  return lines;
}

/** One line of the targets table: what was asked, what this run measured, and whether it was met. */
interface TargetLine {
  target: string;
  measured: string;
  met: boolean | null;
}

const count = (value: number) => Math.round(value).toLocaleString("en-US");

/** The rate of `mix` at `clients` connections on `store`, with its p50 and p99, if this run measured it. */
function bankFigure(figures: Figures, where: { store: string; mix: string; clients: number }) {
  const row = figures.rows.find((row) =>
    row.store === where.store && row.mix === where.mix && row.clients === where.clients
  );
  if (row === undefined) return null;
  const { requests_per_second: rate, latency_ms: latency } = row.report.measured;
  return { rate, p50: latency.p50_ms ?? Infinity, p99: latency.p99_ms ?? Infinity, cpuUs: row.serverCpuUs };
}

/** Balance checks against the sealed echo: the wire's own limit with the channel's crypto. */
function balanceTarget(figures: Figures): TargetLine[] {
  const balance = bankFigure(figures, { store: "sqlite", mix: "balance", clients: 50 });
  const sealed = figures.sealedEcho.get(50);
  if (balance === null || sealed === undefined) return [];
  const ratio = balance.rate / sealed.requests_per_second;
  return [{
    target: "balance checks at 50 connections ≥ 0.85 x the sealed echo, p99 < 10 ms",
    measured:
      `${fixed(ratio)} x (${count(balance.rate)}/s against ${count(sealed.requests_per_second)}/s), ` +
      `p99 ${fixed(balance.p99)} ms; server CPU ${
        fixed(balance.cpuUs, 0)
      } µs per request against the sealed ` +
      `echo's ${fixed(sealed.serverCpuUs, 0)} µs`,
    met: ratio >= 0.85 && balance.p99 < 10,
  }];
}

/** Durable transfers against pgbench's TPC-B-like transaction at the same number of clients. */
function transferTargets(figures: Figures): TargetLine[] {
  const shapes = [
    { store: "sqlite", clients: 1, factor: 1, p99: Infinity },
    { store: "sqlite", clients: 50, factor: 3, p99: 25 },
    { store: "postgres", clients: 50, factor: 1.5, p99: Infinity },
  ];
  return shapes.flatMap(({ store, clients, factor, p99 }): TargetLine[] => {
    const transfer = bankFigure(figures, { store, mix: "transfer", clients });
    const pgbench = figures.pgbench.find((run) => run.clients === clients);
    const target =
      `durable transfers on ${store} at ${clients} connection${clients === 1 ? "" : "s"} ≥ ${factor} ` +
      `x pgbench (${clients} client${clients === 1 ? "" : "s"}, scale ${pgbench?.scale ?? clients})` +
      (Number.isFinite(p99) ? `, p99 < ${p99} ms` : "");
    if (transfer === null) return [];
    const latency = `p50 ${fixed(transfer.p50)} ms, p99 ${fixed(transfer.p99)} ms`;
    if (pgbench === undefined) {
      return [{ target, measured: `${count(transfer.rate)}/s, ${latency}; pgbench not run`, met: null }];
    }
    const ratio = transfer.rate / pgbench.tps;
    return [{
      target,
      measured: `${fixed(ratio)} x (${count(transfer.rate)}/s against ${count(pgbench.tps)} tps), ${latency}`,
      met: ratio >= factor && transfer.p99 < p99,
    }];
  });
}

/** The deepest store measured against the fresh one; the targets are set at 10,000,000 entries. */
function growthTargets(figures: Figures): TargetLine[] {
  const [fresh, ...big] = figures.growth;
  const deepest = big.at(-1);
  if (fresh === undefined || deepest === undefined) return [];
  const at = `at ${count(deepest.entries)} entries`;
  const short = deepest.entries < 10_000_000 ? " (target set at 10,000,000)" : "";
  const ratio = deepest.transfersPerSecond / fresh.transfersPerSecond;
  return [
    {
      target: `transfers on a big store ≥ 0.9 x the fresh store${short}`,
      measured: `${fixed(ratio)} x ${at} (${count(deepest.transfersPerSecond)}/s against ${
        count(fresh.transfersPerSecond)
      }/s); balance checks ${fixed(deepest.balancesPerSecond / fresh.balancesPerSecond)} x`,
      met: ratio >= 0.9,
    },
    {
      target: `at most 200 bytes per entry on disk${short}`,
      measured: `${fixed(deepest.bytesPerEntry, 0)} bytes ${at}`,
      met: deepest.bytesPerEntry <= 200,
    },
    {
      target: `\`ledger verify\` ≥ 500,000 entries/s${short}`,
      measured: `${count(deepest.verifyEntriesPerSecond)} entries/s ${at}`,
      met: deepest.verifyEntriesPerSecond >= 500_000,
    },
  ];
}

function sessionsTarget(figures: Figures): TargetLine[] {
  const sessions = figures.sessions;
  if (sessions === null) return [];
  return [{
    target: "10,000 idle sessions in under 1 GiB",
    measured: `${sessions.sessions} sessions, ${fixed(sessions.rssAfterBytes / 2 ** 20, 0)} MiB RSS (${
      fixed(sessions.bytesPerSession / 1024, 1)
    } KiB each)`,
    met: sessions.sessions >= 10_000 && sessions.rssAfterBytes < GIB,
  }];
}

/** The targets table: every figure from this run, beside what was asked of it. */
function targets(figures: Figures): string[] {
  const lines = [
    ...balanceTarget(figures),
    ...transferTargets(figures),
    ...growthTargets(figures),
    ...sessionsTarget(figures),
  ];
  return [
    "| target | measured in this run | met |",
    "| --- | --- | --- |",
    ...lines.map((line) =>
      `| ${line.target} | ${line.measured} | ${line.met === null ? "-" : line.met ? "yes" : "**no**"} |`
    ),
  ];
}

/** What the channel's own crypto leaves of the echo, and how close balance checks come to that. */
function ceiling(figures: Figures): string[] {
  const echo = figures.echo.get(50)?.requests_per_second;
  const sealed = figures.sealedEcho.get(50)?.requests_per_second;
  const balance = figures.rows.find((row) =>
    row.store === "sqlite" && row.mix === "balance" && row.clients === 50
  )
    ?.report.measured.requests_per_second;
  if (echo === undefined || sealed === undefined) return [];
  return [
    `The sealed echo (the same echo, sealing and opening every frame both ways with the channel's ` +
    `AES-256-GCM, and nothing else) reached ${fixed(sealed, 0)} requests/s at 50 connections, ${
      fixed(sealed / echo)
    } x echo: that is what the per-frame encryption the protocol requires leaves of the echo here` +
    (balance === undefined ? "." : `. Balance checks reached ${fixed(balance / sealed)} x the sealed echo.`),
    "",
  ];
}

/** The TLS listeners side by side: what each costs a request, and how fast each opens sessions. */
function listenerSection(listeners: ListenerResult[]): string[] {
  if (listeners.length === 0) return [];
  const counts = listeners[0]!.rows.map((row) => row.clients);
  const kinds = [...new Set(listeners.map((listener) => listener.kind))];
  const line = (label: string, rates: number[], sessions: number) =>
    `| ${label} | ${rates.map((rate) => fixed(rate, 0)).join(" | ")} | ${fixed(sessions, 0)} |`;
  const rounds = [...listeners].sort((a, b) => a.kind.localeCompare(b.kind) || a.round - b.round).map((run) =>
    line(
      `${run.kind}, round ${run.round}`,
      run.rows.map((row) => row.report.measured.requests_per_second),
      run.handshakesPerSecond,
    )
  );
  const means = kinds.map((kind) => {
    const runs = listeners.filter((listener) => listener.kind === kind);
    const rates = counts.map((_, at) =>
      mean(runs.map((run) => run.rows[at]!.report.measured.requests_per_second))
    );
    return line(`**${kind}, mean**`, rates, mean(runs.map((run) => run.handshakesPerSecond)));
  });
  return [
    "## TLS listeners",
    "",
    "Balance checks (SQLite, one serving thread) and full sessions opened and closed per second (TLS and the " +
    "bank handshake, 32 at a time), with each TLS listener, two rounds in mirrored order in the same run. " +
    "`node` (node:net and node:tls) serves: it closes a socket in every phase, the TLS handshake included, " +
    "and admits a connection before any TLS work. `deno` (Deno.listenTls) cannot close a socket whose " +
    "handshake is pending.",
    "",
    `| listener | ${counts.map((count) => `${count} conn req/s`).join(" | ")} | sessions/s |`,
    `| --- | ${counts.map(() => "---:").join(" | ")} | ---: |`,
    ...rounds,
    ...means,
    "",
  ];
}

/** Handshake version 1 (the last tree that had it) beside version 2, each tree's own server and client. */
function handshakeSection(handshakes: HandshakeResult[], reference: string): string[] {
  if (handshakes.length === 0) return [];
  const meanOf = (version: string, pick: (result: HandshakeResult) => number) =>
    mean(handshakes.filter((result) => result.version === version).map(pick));
  const ratio = (pick: (result: HandshakeResult) => number) => fixed(meanOf("v2", pick) / meanOf("v1", pick));
  return [
    "## Handshakes, version 1 and version 2",
    "",
    `Full sessions (TLS and the bank handshake) opened and closed, ${CONNECTS} at a time, by each tree's own ` +
    `client against its own server (SQLite, one serving thread): version 1 from \`${reference}\` (checked out ` +
    "beside this tree), version 2 from this one; rounds in mirrored order. Server CPU is the server process's " +
    "user and system time over the window (from /proc), divided by the sessions opened; it includes TLS.",
    "",
    "| version | round | sessions/s | server CPU per session | client CPU per session |",
    "| ------- | ----: | ---------: | ---------------------: | ---------------------: |",
    ...handshakes.map((result) =>
      `| ${result.version} | ${result.round} | ${fixed(result.sessionsPerSecond, 0)} | ${
        fixed(result.serverCpuUsPerSession, 0)
      } µs | ${fixed(result.clientCpuUsPerSession, 0)} µs |`
    ),
    "",
    `Version 2 / version 1 (means of the rounds): sessions/s ${
      ratio((r) => r.sessionsPerSecond)
    }, server CPU ` +
    `${ratio((r) => r.serverCpuUsPerSession)}, client CPU ${ratio((r) => r.clientCpuUsPerSession)}. ` +
    "`deno bench bench/handshake_bench.ts` times the handshake alone, in one process, on both crypto back ends.",
    "",
  ];
}

/** Durable transfers before the chain and now (chain, holds, receipts), each tree's own server and client. */
function ledgerCostSection(results: LedgerCostResult[], reference: string): string[] {
  if (results.length === 0) return [];
  const meanOf = (tree: string, pick: (result: LedgerCostResult) => number) =>
    mean(results.filter((result) => result.tree === tree).map(pick));
  const ratio = (pick: (result: LedgerCostResult) => number) =>
    fixed(meanOf("now", pick) / meanOf("before", pick));
  return [
    "## The ledger's depth: chain, holds and receipts",
    "",
    `Durable transfers at 50 connections (4 in flight each), SQLite, each tree's own server (default serving ` +
    `threads) and load generator: the tree before the hash chain from \`${reference}\` (checked out beside this ` +
    "one), and this tree, whose transfers also link each entry into the chain, judge against available " +
    "balances and answer with a signed receipt; rounds in mirrored order. Server CPU covers the warm-up and " +
    "the window, divided by the transfers answered in both. Verify is `ledger verify` over the store the run " +
    "left (balances and postings; and the chain, for this tree).",
    "",
    "| tree | round | transfers/s | p99 ms | server CPU per transfer | verify entries/s | entries |",
    "| ---- | ----: | ----------: | -----: | ----------------------: | ---------------: | ------: |",
    ...results.map((result) =>
      `| ${result.tree} | ${result.round} | ${fixed(result.transfersPerSecond, 0)} | ${
        fixed(result.p99Ms, 1)
      } | ` +
      `${fixed(result.serverCpuUsPerTransfer, 0)} µs | ${fixed(result.verifyEntriesPerSecond, 0)} | ` +
      `${result.verifiedEntries} |`
    ),
    "",
    `Now / before (means of the rounds): transfers/s ${ratio((r) => r.transfersPerSecond)}, server CPU ` +
    `${ratio((r) => r.serverCpuUsPerTransfer)}, verify entries/s ${ratio((r) => r.verifyEntriesPerSecond)}.`,
    "",
  ];
}

/** One figure of each round of a store, as whole numbers: `1,803, 1,460`. */
function formatRounds(result: GrowthResult, figure: (round: GrowthRound) => number): string {
  return result.rounds.map((round) => fixed(figure(round), 0)).join(", ");
}

/** One store's figures on one line, as the bench prints them while it runs. */
export function growthLine(result: GrowthResult): string {
  return `${String(result.entries).padStart(9)} entries (built in ${fixed(result.buildSeconds, 0)} s): ` +
    `${fixed(result.transfersPerSecond, 0)} transfers/s (${
      formatRounds(result, (round) => round.transfersPerSecond)
    }), ${fixed(result.balancesPerSecond, 0)} balances/s (${
      formatRounds(result, (round) => round.balancesPerSecond)
    }), ${fixed(result.bytesPerEntry, 0)} B/entry, verify ${
      fixed(result.verifyEntriesPerSecond, 0)
    } entries/s`;
}

/** Durable transfers, bytes per entry and verify speed on big stores beside a fresh one, in one run. */
function growthSection(growth: GrowthResult[]): string[] {
  const [fresh] = growth;
  if (fresh === undefined) return [];
  return [
    "## The ledger as it grows",
    "",
    "Durable transfers at 50 connections (4 in flight each, SQLite, the server's default threads), then " +
    "balance checks at 50 connections (one in flight each), on a fresh " +
    "store and on stores already holding millions of entries (made by `bench/big_store.ts` with balances and " +
    "a hash chain that verify), in one run. Every store is built first, then measured in two rounds in " +
    "mirrored order (fresh to deepest, then back); each figure is the mean of its rounds, which follow it in " +
    "parentheses; a second round finds its store deeper by the first round's transfers. Balance checks are " +
    "mostly answered from the serving thread's balance cache (nothing commits while they run), so they " +
    "measure the session more than the store. Bytes per entry is the store's file over its journal " +
    "entries; verify is `ledger verify` over the whole store.",
    "",
    "| entries | built in | transfers/s (rounds) | x fresh | balance checks/s (rounds) | x fresh | bytes per entry | verify entries/s |",
    "| ------: | -------: | -------------------: | ------: | ------------------------: | ------: | --------------: | ---------------: |",
    ...growth.map((result) =>
      `| ${result.entries} | ${fixed(result.buildSeconds, 0)} s | ${fixed(result.transfersPerSecond, 0)} (${
        formatRounds(result, (round) => round.transfersPerSecond)
      }) | ${fixed(result.transfersPerSecond / fresh.transfersPerSecond)} | ${
        fixed(result.balancesPerSecond, 0)
      } (${formatRounds(result, (round) => round.balancesPerSecond)}) | ${
        fixed(result.balancesPerSecond / fresh.balancesPerSecond)
      } | ${fixed(result.bytesPerEntry, 0)} | ${fixed(result.verifyEntriesPerSecond, 0)} |`
    ),
    "",
  ];
}

function sessionsSection(sessions: Figures["sessions"]): string[] {
  if (sessions === null) return ["The idle-sessions figure was not measured.", ""];
  const block = [
    `## Idle sessions`,
    "",
    `${sessions.sessions} authenticated idle sessions opened in ${
      fixed(sessions.openSeconds, 1)
    } s; server RSS ` +
    `${fixed(sessions.rssBeforeBytes / 2 ** 20, 0)} MiB before, ${
      fixed(sessions.rssAfterBytes / 2 ** 20, 0)
    } MiB after ` +
    `(${fixed(sessions.bytesPerSession / 1024, 1)} KiB per session). Meanwhile 10 active clients got ` +
    `${fixed(sessions.activeRate, 0)} balance answers/s with p99 ${fixed(sessions.activeP99Ms)} ms.`,
  ];
  return [block.join("\n"), ""];
}

function scalingSection(scaling: Figures["scaling"]): string[] {
  return [
    "## From one core to all",
    "",
    "Balance checks at 50 connections with 1 to N serving threads (`--workers`), SQLite, same run. The load " +
    "generator runs on the same cores, so on a small machine more threads compete with it.",
    "",
    "| serving threads | requests/s | p99 ms |",
    "| ---: | ---: | ---: |",
    ...scaling.map((entry) =>
      `| ${entry.workers} | ${fixed(entry.report.measured.requests_per_second, 0)} | ${
        fixed(entry.report.measured.latency_ms.p99_ms)
      } |`
    ),
    "",
  ];
}

export async function writePerformanceReport(figures: Figures): Promise<void> {
  const { settings } = figures;
  const text = [
    "# Performance",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}. Each figure ran ${
      settings.durationMs / 1000
    } s after a ` +
    `${
      settings.warmupMs / 1000
    } s warmup, one request in flight per connection. Only ratios from one run compare: ` +
    "the machine is shared and noisy.",
    "",
    "## Targets",
    "",
    ...targets(figures),
    "",
    ...ceiling(figures),
    "## Every figure",
    "",
    "`x echo` divides by the bare TLS echo (same framing, 64-byte frames, same client pattern) at the same number of " +
    "connections, measured in this run; the sealed echo adds the channel's AES-256-GCM to every frame, both ways. " +
    "Mixes: `balance` only, `transfer` only (durable, group-committed), and " +
    "the original design's `seed` mix (balance, transfer, contact update in equal parts). Every answer is checked.",
    "",
    ...table(figures),
    "",
    figures.pgbench.length === 0
      ? "PostgreSQL's `pgbench` did not run (it needs `pgbench` and `DATABASE_URL`)."
      : "PostgreSQL's own TPC-B-like workload (five statements, durable commits), run before and after the " +
        "bank's runs; the ratios divide by the better run: " +
        figures.pgbench.map((run) =>
          `${run.clients} client${run.clients === 1 ? "" : "s"} at scale ${run.scale}, ${
            run.runs.map((tps) => fixed(tps, 0)).join(" and ")
          } transactions/s`
        ).join("; ") + ".",
    "",
    ...sessionsSection(figures.sessions),
    ...scalingSection(figures.scaling),
    ...listenerSection(figures.listeners),
    ...handshakeSection(figures.handshakes, figures.settings.handshakeReference),
    ...ledgerCostSection(figures.ledgerCost, figures.settings.chainReference),
    ...growthSection(figures.growth),
    // Profiles are taken by hand (bench/profile.md says how); the report carries them as written.
    (await Deno.readTextFile(new URL("./profile.md", import.meta.url))).trimEnd(),
    "",
    "## Reproduce",
    "",
    "```sh",
    "deno task bench                      # SQLite; PostgreSQL and pgbench too when DATABASE_URL is set",
    "deno task bench --duration 10s --connections 10,50 --stores sqlite --sessions 0",
    "deno task bench --big-store 2000000  # big stores of these sizes only (none: skip them)",
    "deno task bench:micro                # Deno.bench: framing, AES-GCM seal/open",
    "deno task client bench --clients 50 --duration 10s --mix 8:1:1   # against a running server",
    "```",
    "",
  ].join("\n");
  await Deno.writeTextFile(settings.out, text);
  // Formatted like every other file, so `deno task check` stays green after a benchmark run.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", settings.out] }).output();
  console.log("\n" + targets(figures).join("\n"));
}
