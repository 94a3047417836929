/**
 * The bench's report: built from the run's tally when it ends, as one JSON document (`--json`) or lines
 * for a person.
 *
 * @module
 */
import type process from "node:process";
import { assert } from "../../lib/assert.ts";
import type { LatencyHistogram } from "../../lib/histogram.ts";
import { BENCH_OPERATIONS } from "./types.ts";
import type { BenchOperation, BenchOptions, BenchReport, LatencySummary, SetupSummary } from "./types.ts";
import type { BenchRun } from "./run.ts";
import type { Tally } from "./tally.ts";

/** Above this share of one core, the bench itself may be what limits the throughput. */
const SATURATED_CPU_CORES = 0.8;

type CpuUsage = ReturnType<typeof process.cpuUsage>;

export function buildReport(
  run: BenchRun,
  parts: { options: BenchOptions; cpu: { start: CpuUsage; end: CpuUsage } },
): BenchReport {
  const { options, cpu } = parts;
  const { tally } = run;
  assert(tally.sent === tally.answered + tally.unanswered, "Every request sent is answered or lost");
  assert(tally.measuredRequests <= tally.answered, "Measured answers are a part of all answers");
  const windowMs = Math.max(0, tally.windowEndMs - tally.windowStartMs);
  const cpuUserMs = windowMs === 0 ? 0 : Math.max(0, cpu.end.user - cpu.start.user) / 1_000;
  const cpuSystemMs = windowMs === 0 ? 0 : Math.max(0, cpu.end.system - cpu.start.system) / 1_000;
  const cpuCores = windowMs === 0 ? 0 : (cpuUserMs + cpuSystemMs) / windowMs;
  const measured = tally.measuredRequests;
  const byOperation = (operation: BenchOperation) => {
    const figures = tally.byOperation[operation];
    return {
      requests: figures.requests,
      errors: figures.errors,
      latency_ms: latencySummary(figures.latency),
    };
  };
  return {
    ok: tally.errors === 0 && tally.failed === 0 && tally.lost === 0 && tally.opened > 0,
    settings: {
      host: run.host,
      port: run.port,
      clients: options.clients,
      identities: new Set(options.credentials.map((credential) => credential.identity)).size,
      duration_ms: options.durationMs,
      warmup_ms: run.warmupMs,
      pipeline: run.pipeline,
      seed: run.seed,
      mix: { ...run.mix },
      transfer_amount_minor: run.amountMinor.toString(),
    },
    measured: {
      window_ms: round(windowMs),
      requests: measured,
      errors: tally.measuredErrors,
      requests_per_second: windowMs === 0 ? 0 : round(measured * 1_000 / windowMs),
      latency_ms: latencySummary(tally.latency),
      by_operation: {
        balance: byOperation("balance"),
        transfer: byOperation("transfer"),
        contact: byOperation("contact"),
      },
    },
    totals: { sent: tally.sent, answered: tally.answered, errors: tally.errors },
    errors: Object.fromEntries(tally.errorCodes),
    connections: connectionSummary(tally),
    client_cost: {
      cpu_user_ms: round(cpuUserMs),
      cpu_system_ms: round(cpuSystemMs),
      cpu_cores: round(cpuCores),
      cpu_us_per_request: measured === 0 ? null : round((cpuUserMs + cpuSystemMs) * 1_000 / measured),
      saturated: cpuCores >= SATURATED_CPU_CORES,
    },
  };
}

function connectionSummary(tally: Tally): BenchReport["connections"] {
  return {
    opened: tally.opened,
    failed: tally.failed,
    lost: tally.lost,
    renewed: tally.renewed,
    failures: Object.fromEntries(tally.failures),
    first_failure: tally.firstFailure,
    tcp_connect_ms: setupSummary(tally.tcpConnect),
    tls_handshake_ms: setupSummary(tally.tlsHandshake),
    bank_handshake_ms: setupSummary(tally.bankHandshake),
  };
}

function latencySummary(histogram: LatencyHistogram): LatencySummary {
  return {
    count: histogram.count,
    mean_ms: roundOrNull(histogram.meanMs),
    p50_ms: roundOrNull(histogram.quantileMs(0.5)),
    p90_ms: roundOrNull(histogram.quantileMs(0.9)),
    p99_ms: roundOrNull(histogram.quantileMs(0.99)),
    p99_9_ms: roundOrNull(histogram.quantileMs(0.999)),
    max_ms: roundOrNull(histogram.maxMs),
  };
}

function setupSummary(histogram: LatencyHistogram): SetupSummary {
  return {
    count: histogram.count,
    min_ms: roundOrNull(histogram.minMs),
    p50_ms: roundOrNull(histogram.quantileMs(0.5)),
    p99_ms: roundOrNull(histogram.quantileMs(0.99)),
    max_ms: roundOrNull(histogram.maxMs),
  };
}

/** Three decimals: microseconds for milliseconds. */
function round(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value);
}

/** The report as one JSON document, for machines. */
export function formatBenchJson(report: BenchReport): string {
  return JSON.stringify(report, null, 2);
}

/** The report in lines for a person. */
export function formatBenchReport(report: BenchReport): string {
  const { settings, measured, totals, connections, client_cost: cost } = report;
  const mix = `${settings.mix.balance}:${settings.mix.transfer}:${settings.mix.contact}`;
  const errors = Object.entries(report.errors).sort((left, right) => right[1] - left[1]);
  const lines = [
    `bench: ${settings.clients} connections as ${settings.identities} identities, pipeline ${settings.pipeline}, ` +
    `mix balance:transfer:contact ${mix}, seed ${settings.seed}`,
    `  window        ${seconds(measured.window_ms)} after ${seconds(settings.warmup_ms)} warmup`,
    `  requests      ${count(measured.requests)} answered = ${count(measured.requests_per_second)} req/s, ` +
    `${count(measured.errors)} errors`,
    `  latency ms    ${formatLatency(measured.latency_ms)}`,
    ...BENCH_OPERATIONS.map((operation) => {
      const figures = measured.by_operation[operation];
      return `    ${operation.padEnd(12)}${count(figures.requests)} answered, ${
        count(figures.errors)
      } errors; ` +
        formatLatency(figures.latency_ms);
    }),
    `  whole run     ${count(totals.sent)} sent, ${count(totals.answered)} answered, ${
      count(totals.errors)
    } errors`,
    `  errors        ${
      errors.length === 0 ? "none" : errors.map(([code, times]) => `${code} ${count(times)}`).join(", ")
    }`,
    `  connections   ${count(connections.opened)} opened, ${count(connections.failed)} failed, ` +
    `${count(connections.lost)} lost, ${count(connections.renewed)} renewed`,
    ...(connections.first_failure === null ? [] : [`    first failure ${connections.first_failure}`]),
    `    tcp ms      ${formatSetup(connections.tcp_connect_ms)}`,
    `    tls ms      ${formatSetup(connections.tls_handshake_ms)}`,
    `    bank ms     ${formatSetup(connections.bank_handshake_ms)}`,
    `  bench cost    ${count(cost.cpu_user_ms + cost.cpu_system_ms)} ms CPU = ${
      cost.cpu_cores.toFixed(2)
    } cores, ` +
    `${cost.cpu_us_per_request === null ? "-" : cost.cpu_us_per_request.toFixed(1)} µs per request` +
    (cost.saturated ? " (the bench itself may have limited these figures)" : ""),
    `  result        ${report.ok ? "ok" : "FAILED"}`,
  ];
  return lines.join("\n");
}

function formatLatency(summary: LatencySummary): string {
  if (summary.count === 0) return "-";
  const parts = [
    ["p50", summary.p50_ms],
    ["p90", summary.p90_ms],
    ["p99", summary.p99_ms],
    ["p99.9", summary.p99_9_ms],
    ["max", summary.max_ms],
  ] as const;
  return parts.map(([name, value]) => `${name} ${milliseconds(value)}`).join("  ");
}

function formatSetup(summary: SetupSummary): string {
  if (summary.count === 0) return "-";
  return `min ${milliseconds(summary.min_ms)}  p50 ${milliseconds(summary.p50_ms)}  ` +
    `p99 ${milliseconds(summary.p99_ms)}  max ${milliseconds(summary.max_ms)}`;
}

function milliseconds(value: number | null): string {
  if (value === null) return "-";
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}

function seconds(valueMs: number): string {
  return `${(valueMs / 1_000).toFixed(2)} s`;
}

function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}
