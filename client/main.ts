/**
 * bank-client: runs one or more clients against the bank server, each with its own identity, and prints
 * what the original design printed.
 *
 * ```sh
 * deno task client                       # the seed's Test Case 1 as client-1
 * deno task client --clients 3           # clients 1 to 3 at once
 * deno task client --task "Check Balance" --task "Transfer $12.34 to Account XYZ"
 * ```
 *
 * Exit codes: 0 every task succeeded; 1 a task was refused (e.g. `Invalid Request`); 2 usage error;
 * 3 a client could not connect, authenticate or get an answer.
 *
 * `bank-client bench` is the load generator (client/bench.ts): `bank-client bench --clients 50 --duration 10s
 * --mix 8:1:1 --pipeline 4 [--json]`; `bank-client bench --help` lists its options.
 *
 * @module
 */
import { fileExists, readTextFileLimited } from "../lib/files.ts";
import { Gate } from "../lib/gate.ts";
import { decodeCredential } from "../protocol/credential.ts";
import type { Credential } from "../protocol/credential.ts";
import {
  BENCH_CLIENTS_MAX,
  BENCH_DURATION_MS_MAX,
  BENCH_DURATION_MS_MIN,
  BENCH_PIPELINE_MAX,
  BENCH_WARMUP_MS_DEFAULT,
  BENCH_WARMUP_MS_MAX,
  CA_FILE_BYTES_MAX,
  CLIENT_CONNECTS_IN_FLIGHT_MAX,
  CLIENT_RUN_CLIENTS_MAX,
  CLIENT_RUN_TASKS_MAX,
} from "./limits.ts";
import {
  CREDENTIAL_FILE_BYTES_MAX,
  HOST_DEFAULT,
  PORT_DEFAULT,
  TEXT_COMMAND_BYTES_MAX,
} from "../protocol/limits.ts";
import { formatOptionHelp, Options, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import { caPathOf, credentialPathOf, DATA_DIR_DEFAULT, demoIdentityName } from "../protocol/demo.ts";
import { DEFAULT_TASKS } from "../protocol/text.ts";
import {
  benchExitCode,
  formatBenchJson,
  formatBenchReport,
  parseDurationMs,
  parseMix,
  runBench,
} from "./bench.ts";
import type { BenchMix, BenchProgress } from "./bench.ts";
import { aeadByName } from "../protocol/aead.ts";
import type { AeadName } from "../protocol/aead.ts";
import {
  EXIT_OK,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
  exitCodeOf,
  jsonReporter,
  runOneClient,
  textReporter,
  withProgress,
} from "./run.ts";
import denoConfig from "../deno.json" with { type: "json" };

const CLIENT_OPTIONS: readonly OptionSpec[] = [
  { name: "host", env: "BANK_HOST", value: "HOST", defaultText: HOST_DEFAULT, help: "server address" },
  {
    name: "port",
    env: "BANK_PORT",
    value: "PORT",
    defaultText: String(PORT_DEFAULT),
    help: "server TLS port",
  },
  {
    name: "data",
    env: "BANK_DATA",
    value: "DIR",
    defaultText: DATA_DIR_DEFAULT,
    help: "server data directory (CA, credentials)",
  },
  {
    name: "ca",
    env: "BANK_CA",
    value: "FILE",
    defaultText: "DIR/ca.crt",
    help: "CA certificate to verify the server",
  },
  {
    name: "identity",
    env: "BANK_IDENTITY",
    value: "FILE",
    defaultText: "DIR/clients/client-N.json",
    help: "credential file (one client only)",
  },
  { name: "clients", value: "N", defaultText: "1", help: "clients to run at once, as client-1 … client-N" },
  { name: "task", value: "TEXT", repeatable: true, help: "task to send (repeatable; default: Test Case 1)" },
  { name: "json", boolean: true, help: "print one JSON report at the end instead of lines" },
  { name: "help", boolean: true, help: "show this help" },
  { name: "version", boolean: true, help: "show the version" },
];

const USAGE = `bank-client ${denoConfig.version}: sends banking tasks to bank-server

Usage: bank-client [options]

Options:
${formatOptionHelp(CLIENT_OPTIONS)}

Commands:
  bank-client bench [options]  load test: many connections, checked answers, latency percentiles
                               (bank-client bench --help)

Exit codes: 0 all tasks succeeded, 1 a task was refused, 2 usage error, 3 no connection or no answer.`;

interface ClientRun {
  host: string;
  port: number;
  caPath: string;
  credentialPaths: string[];
  tasks: string[];
  json: boolean;
}

function parseClientRun(
  args: string[],
  env: (name: string) => string | undefined,
): ClientRun | "help" | "version" {
  const options = new Options(args, { specs: CLIENT_OPTIONS, env });
  if (options.boolean("help")) return "help";
  if (options.boolean("version")) return "version";
  if (options.positional.length > 0) throw new UsageError(`Unexpected argument "${options.positional[0]}"`);
  const dataDir = options.string("data") ?? DATA_DIR_DEFAULT;
  const clients = options.integer("clients", { min: 1, max: CLIENT_RUN_CLIENTS_MAX, fallback: 1 });
  const identity = options.string("identity");
  if (identity !== undefined && clients !== 1) {
    throw new UsageError("--identity names one client: drop --clients");
  }
  const tasks = options.strings("task");
  if (tasks.length > CLIENT_RUN_TASKS_MAX) {
    throw new UsageError(`At most ${CLIENT_RUN_TASKS_MAX} tasks per run`);
  }
  const tooLong = tasks.find((task) => new TextEncoder().encode(task).length > TEXT_COMMAND_BYTES_MAX);
  if (tooLong !== undefined) throw new UsageError(`A task is longer than ${TEXT_COMMAND_BYTES_MAX} bytes`);
  const credentialPaths = identity !== undefined
    ? [identity]
    : Array.from({ length: clients }, (_, index) => credentialPathOf(dataDir, demoIdentityName(index + 1)));
  return {
    host: options.string("host") ?? HOST_DEFAULT,
    port: options.integer("port", { min: 1, max: 65_535, fallback: PORT_DEFAULT }),
    caPath: options.string("ca") ?? caPathOf(dataDir),
    credentialPaths,
    tasks: tasks.length > 0 ? tasks : [...DEFAULT_TASKS],
    json: options.boolean("json"),
  };
}

async function loadCredential(path: string): Promise<Credential> {
  const text = await readTextFileLimited(path, { maxBytes: CREDENTIAL_FILE_BYTES_MAX, what: "credential" });
  const decoded = decodeCredential(text);
  if (!decoded.ok) throw new Error(`Cannot use credential "${path}": ${decoded.error}`);
  return decoded.credential;
}

async function main(args: string[]): Promise<number> {
  if (args[0] === "bench") return await benchMain(args.slice(1));
  let run: ClientRun;
  try {
    const parsed = parseClientRun(args, (name) => Deno.env.get(name));
    if (parsed === "help" || parsed === "version") {
      console.log(parsed === "help" ? USAGE : `bank-client ${denoConfig.version}`);
      return EXIT_OK;
    }
    run = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bank-client: ${error.message}\nRun "bank-client --help" for the options.`);
    return EXIT_USAGE;
  }
  let caPem: string;
  let credentials: Credential[];
  try {
    caPem = await readTextFileLimited(run.caPath, { maxBytes: CA_FILE_BYTES_MAX, what: "CA certificate" });
    credentials = await Promise.all(run.credentialPaths.map(loadCredential));
  } catch (error) {
    console.error(`bank-client: ${error instanceof Error ? error.message : String(error)}`);
    console.error(
      "Start the server once (deno task serve) to create the CA and the demo credentials, or pass --ca/--identity.",
    );
    return EXIT_UNREACHABLE;
  }
  const base = run.json ? jsonReporter() : textReporter();
  const reporter = credentials.length > 1 && Deno.stderr.isTerminal()
    ? withProgress(base, credentials.length)
    : base;
  const connects = new Gate(CLIENT_CONNECTS_IN_FLIGHT_MAX);
  const reports = await Promise.all(
    credentials.map((credential, index) =>
      runOneClient(
        index + 1,
        { host: run.host, port: run.port, caPem, credential, tasks: run.tasks, connects },
        reporter,
      )
    ),
  );
  reporter.end(reports);
  return exitCodeOf(reports);
}

// ---------------------------------------------------------------------------------------------------------
// bank-client bench

const BENCH_CLIENTS_DEFAULT = 10;
const BENCH_DURATION_MS_DEFAULT = 10_000;
const BENCH_MIX_DEFAULT = "8:1:1";
const BENCH_SEED_MAX = 2 ** 32 - 1;
const BENCH_PROGRESS_WIDTH_MAX = 200;

const BENCH_OPTIONS: readonly OptionSpec[] = [
  ...CLIENT_OPTIONS.filter((spec) => ["host", "port", "data", "ca"].includes(spec.name)),
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
  const dataDir = options.string("data") ?? DATA_DIR_DEFAULT;
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
    host: options.string("host") ?? HOST_DEFAULT,
    port: options.integer("port", { min: 1, max: 65_535, fallback: PORT_DEFAULT }),
    dataDir,
    caPath: options.string("ca") ?? caPathOf(dataDir),
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

async function benchMain(args: string[]): Promise<number> {
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
    caPem = await readTextFileLimited(command.caPath, {
      maxBytes: CA_FILE_BYTES_MAX,
      what: "CA certificate",
    });
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

if (import.meta.main) Deno.exit(await main(Deno.args));
