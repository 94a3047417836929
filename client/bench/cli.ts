/**
 * `bank-client bench`: its options, its reading of durations and mixes, and the command itself (the load
 * generator is client/bench/run.ts).
 *
 * @module
 */
import { fileExists } from "../../lib/files.ts";
import { formatOptionHelp, Options, parseDurationMs, UsageError } from "../../lib/options.ts";
import type { OptionSpec } from "../../lib/options.ts";
import { aeadByName } from "../../protocol/node_crypto.ts";
import type { AeadName } from "../../protocol/node_crypto.ts";
import type { Credential } from "../../protocol/credential.ts";
import { credentialPathOf, demoIdentityName } from "../../protocol/demo.ts";
import {
  BENCH_CLIENTS_MAX,
  BENCH_DURATION_MS_MAX,
  BENCH_DURATION_MS_MIN,
  BENCH_MIX_WEIGHT_MAX,
  BENCH_PIPELINE_MAX,
  BENCH_WARMUP_MS_DEFAULT,
  BENCH_WARMUP_MS_MAX,
} from "../limits.ts";
import { EXIT_OK, EXIT_TASK_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE } from "../run.ts";
import { CONNECTION_OPTIONS, connectionOf, loadCa, loadCredential } from "../setup.ts";
import { formatBenchJson, formatBenchReport } from "./report.ts";
import { runBench } from "./run.ts";
import type { BenchMix, BenchProgress, BenchReport } from "./types.ts";

const MIX_PATTERN = /^([0-9]{1,4}):([0-9]{1,4}):([0-9]{1,4})$/;

/** Reads a mix `BALANCE:TRANSFER:CONTACT` of whole weights, at least one of them positive; null otherwise. */
export function parseMix(text: string): BenchMix | null {
  const match = MIX_PATTERN.exec(text);
  if (match === null) return null;
  const mix = { balance: Number(match[1]), transfer: Number(match[2]), contact: Number(match[3]) };
  return isValidMix(mix) ? mix : null;
}

export function isValidMix(mix: BenchMix): boolean {
  const weights = [mix.balance, mix.transfer, mix.contact];
  const inRange = weights.every((weight) =>
    Number.isInteger(weight) && weight >= 0 && weight <= BENCH_MIX_WEIGHT_MAX
  );
  return inRange && weights.some((weight) => weight > 0);
}

/** The process exit code for a bench: 0 all well, 1 any error, 3 no connection could be made. */
export function benchExitCode(report: BenchReport): number {
  if (report.connections.opened === 0) return EXIT_UNREACHABLE;
  return report.ok ? EXIT_OK : EXIT_TASK_REFUSED;
}

const BENCH_CLIENTS_DEFAULT = 10;
const BENCH_DURATION_MS_DEFAULT = 10_000;
const BENCH_MIX_DEFAULT = "8:1:1";
const BENCH_SEED_MAX = 2 ** 32 - 1;
const BENCH_PROGRESS_WIDTH_MAX = 200;

const BENCH_OPTIONS: readonly OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  {
    name: "clients",
    value: "N",
    defaultText: `${BENCH_CLIENTS_DEFAULT}`,
    help: `connections (at most ${BENCH_CLIENTS_MAX}), as client-1 … client-N`,
  },
  { name: "duration", value: "TIME", defaultText: "10s", help: "measured time: 500ms, 10s, 2m (at most 1h)" },
  { name: "warmup", value: "TIME", defaultText: "1s", help: "time sending before measuring (not counted)" },
  {
    name: "mix",
    value: "B:T:C",
    defaultText: BENCH_MIX_DEFAULT,
    help: "weights of balance, transfer and update_contact requests",
  },
  {
    name: "pipeline",
    value: "N",
    defaultText: "1",
    help: `requests in flight per connection (1 … ${BENCH_PIPELINE_MAX})`,
  },
  { name: "seed", value: "N", defaultText: "1", help: "seed of the request mix and the transfer targets" },
  {
    name: "aead",
    value: "NAME",
    defaultText: "hybrid",
    help: "AES-256-GCM implementation of the bench: hybrid, node or webcrypto",
  },
  { name: "json", boolean: true, help: "print one JSON report instead of the summary" },
  { name: "help", boolean: true, help: "show this help" },
];

const BENCH_USAGE = `bank-client bench: measures the bank server under load

Usage: bank-client bench [options]

Options:
${formatOptionHelp(BENCH_OPTIONS)}

Connection i authenticates as client-i from DIR/clients (cycling over the credentials found when fewer
exist) and keeps --pipeline structured requests in flight. Every answer is checked; a refusal or a wrong
answer counts as an error. The report gives requests/s and latency percentiles over the measured window,
errors by code, connect, TLS and handshake times, and the bench's own CPU cost. A transfer moves 1 cent
to another identity's demo account.

Exit codes: 0 no errors, 1 a request failed or a connection failed, 2 usage error, 3 no connection could be
made.`;

interface BenchCommand {
  host: string;
  port: number;
  dataDir: string;
  caPath: string;
  clients: number;
  durationMs: number;
  warmupMs: number;
  mix: BenchMix;
  pipeline: number;
  seed: number;
  aead: AeadName;
  json: boolean;
}

const AEAD_NAMES: readonly AeadName[] = ["hybrid", "node", "webcrypto"];

function parseBenchCommand(args: string[], env: (name: string) => string | undefined): BenchCommand | "help" {
  const options = new Options(args, { specs: BENCH_OPTIONS, env });
  if (options.boolean("help")) return "help";
  if (options.positional.length > 0) throw new UsageError(`Unexpected argument "${options.positional[0]}"`);
  const { host, port, dataDir, caPath } = connectionOf(options);
  const mixText = options.string("mix") ?? BENCH_MIX_DEFAULT;
  const mix = parseMix(mixText);
  if (mix === null) {
    throw new UsageError(
      `--mix must be three whole weights BALANCE:TRANSFER:CONTACT, not all 0, got "${clip(mixText)}"`,
    );
  }
  const aead = options.string("aead") ?? "hybrid";
  if (!(AEAD_NAMES as readonly string[]).includes(aead)) {
    throw new UsageError(`--aead must be one of ${AEAD_NAMES.join(", ")}, got "${clip(aead)}"`);
  }
  return {
    host,
    port,
    dataDir,
    caPath,
    clients: options.integer("clients", { min: 1, max: BENCH_CLIENTS_MAX, fallback: BENCH_CLIENTS_DEFAULT }),
    durationMs: durationOption(options, {
      name: "duration",
      min: BENCH_DURATION_MS_MIN,
      max: BENCH_DURATION_MS_MAX,
      fallback: BENCH_DURATION_MS_DEFAULT,
    }),
    warmupMs: durationOption(options, {
      name: "warmup",
      min: 0,
      max: BENCH_WARMUP_MS_MAX,
      fallback: BENCH_WARMUP_MS_DEFAULT,
    }),
    mix,
    pipeline: options.integer("pipeline", { min: 1, max: BENCH_PIPELINE_MAX, fallback: 1 }),
    seed: options.integer("seed", { min: 0, max: BENCH_SEED_MAX, fallback: 1 }),
    aead: aead as AeadName,
    json: options.boolean("json"),
  };
}

/** A duration option such as `500ms`, `10s` or `2m`, within [min, max]. */
function durationOption(
  options: Options,
  bounds: { name: string; min: number; max: number; fallback: number },
): number {
  const name = bounds.name;
  const text = options.string(name);
  if (text === undefined) return bounds.fallback;
  const valueMs = parseDurationMs(text);
  if (valueMs === null) {
    throw new UsageError(`--${name} must be a duration such as 500ms, 10s or 2m, got "${clip(text)}"`);
  }
  if (valueMs < bounds.min || valueMs > bounds.max) {
    throw new UsageError(
      `--${name} must be between ${bounds.min} ms and ${bounds.max} ms, got ${valueMs} ms ("${clip(text)}")`,
    );
  }
  return valueMs;
}

function clip(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}

/**
 * The credentials `client-1` … `client-N` that exist in the data directory, in order, up to the first
 * missing one; connections cycle over them.
 */
async function loadBenchCredentials(dataDir: string, clients: number): Promise<Credential[]> {
  const credentials: Credential[] = [];
  for (let number = 1; number <= clients; number++) {
    const path = credentialPathOf(dataDir, demoIdentityName(number));
    if (!(await fileExists(path))) break;
    credentials.push(await loadCredential(path));
  }
  if (credentials.length === 0) {
    throw new Error(
      `No credentials to bench with: "${credentialPathOf(dataDir, demoIdentityName(1))}" does not exist`,
    );
  }
  return credentials;
}

/** A progress line on stderr, redrawn in place. */
function progressLine(): { onProgress: (progress: BenchProgress) => void; end: () => void } {
  const encoder = new TextEncoder();
  let drawn = false;
  return {
    onProgress(progress) {
      const text = `${progress.phase}: ${progress.connections} connections, ${progress.sent} sent, ` +
        `${progress.answered} answered, ${progress.requestsPerSecond} req/s, ${progress.errors} errors`;
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text.slice(0, BENCH_PROGRESS_WIDTH_MAX)}`));
      drawn = true;
    },
    end() {
      if (drawn) Deno.stderr.writeSync(encoder.encode("\n"));
    },
  };
}

/** `bank-client bench …`: returns the exit code. */
export async function benchMain(args: string[]): Promise<number> {
  let command: BenchCommand;
  try {
    const parsed = parseBenchCommand(args, (name) => Deno.env.get(name));
    if (parsed === "help") {
      console.log(BENCH_USAGE);
      return EXIT_OK;
    }
    command = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bank-client bench: ${error.message}\nRun "bank-client bench --help" for the options.`);
    return EXIT_USAGE;
  }
  let caPem: string;
  let credentials: Credential[];
  try {
    caPem = await loadCa(command.caPath);
    credentials = await loadBenchCredentials(command.dataDir, command.clients);
  } catch (error) {
    console.error(`bank-client bench: ${error instanceof Error ? error.message : String(error)}`);
    console.error("Start the server once (deno task serve) to create the CA and the demo credentials.");
    return EXIT_UNREACHABLE;
  }
  const progress = !command.json && Deno.stderr.isTerminal() ? progressLine() : undefined;
  const stopping = new AbortController();
  const onSignal = () => stopping.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const report = await runBench({
      host: command.host,
      port: command.port,
      caPem,
      credentials,
      clients: command.clients,
      durationMs: command.durationMs,
      warmupMs: command.warmupMs,
      mix: command.mix,
      pipeline: command.pipeline,
      seed: command.seed,
      aead: aeadByName(command.aead),
      stop: stopping.signal,
      ...(progress === undefined ? {} : { onProgress: progress.onProgress }),
    });
    progress?.end();
    console.log(command.json ? formatBenchJson(report) : formatBenchReport(report));
    return benchExitCode(report);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
