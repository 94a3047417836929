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
 * `bank-client bench` is the load generator (client/bench/): `bank-client bench --clients 50 --duration 10s
 * --mix 8:1:1 --pipeline 4 [--json]`; `bank-client bench --help` lists its options.
 *
 * @module
 */
import { Gate } from "../lib/gate.ts";
import type { Credential } from "../protocol/credential.ts";
import { CLIENT_CONNECTS_IN_FLIGHT_MAX, CLIENT_RUN_CLIENTS_MAX, CLIENT_RUN_TASKS_MAX } from "./limits.ts";
import { TEXT_COMMAND_BYTES_MAX } from "../protocol/limits.ts";
import { formatOptionHelp, Options, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import { credentialPathOf, demoIdentityName } from "../protocol/demo.ts";
import { TASKS_DEFAULT } from "../protocol/text.ts";
import { benchMain } from "./bench/cli.ts";
import { ClientError } from "./connection.ts";
import { KEY_COMMANDS, keyCommandMain } from "./key_commands.ts";
import { LEDGER_COMMANDS, ledgerCommandMain } from "./ledger_commands.ts";
import { KeyChangeError } from "./keys.ts";
import { CONNECTION_OPTIONS, connectionOf, loadCa, loadCredential } from "./setup.ts";
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
  ...CONNECTION_OPTIONS,
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
  bank-client keygen --identity NAME           make a key pair here (bank-client keygen --help)
  bank-client enrol --identity NAME --invite CODE   register a key with a one-time code
  bank-client rotate-key [--credential FILE]   replace this client's key
  bank-client transfer|hold|capture|void|refund ...   money over structured requests, receipts saved
                               with --receipts DIR (bank-client transfer --help)
  bank-client receipt verify FILE              check a receipt against the bank key you pinned
  bank-client history [--as-of ENTRY|TIME]     a statement: entries with the balance after each

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
  const { host, port, dataDir, caPath } = connectionOf(options);
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
    host,
    port,
    caPath,
    credentialPaths,
    tasks: tasks.length > 0 ? tasks : [...TASKS_DEFAULT],
    json: options.boolean("json"),
  };
}

/** Runs a key, money or receipt command, turning its expected failures into a message and an exit code. */
async function commandMain(
  command: typeof KEY_COMMANDS[number] | typeof LEDGER_COMMANDS[number],
  args: string[],
): Promise<number> {
  try {
    const ledgerCommand = LEDGER_COMMANDS.find((name) => name === command);
    if (ledgerCommand !== undefined) return await ledgerCommandMain(ledgerCommand, args);
    return await keyCommandMain(command as typeof KEY_COMMANDS[number], args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(
        `bank-client ${command}: ${error.message}\nRun "bank-client ${command} --help" for the options.`,
      );
      return EXIT_USAGE;
    }
    if (error instanceof KeyChangeError) {
      console.error(`bank-client ${command}: ${error.message}`);
      return 1;
    }
    if (!(error instanceof ClientError) && !(error instanceof Deno.errors.NotFound) && !isFileError(error)) {
      throw error;
    }
    console.error(`bank-client ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_UNREACHABLE;
  }
}

function isFileError(error: unknown): boolean {
  return error instanceof Error && /^Cannot (read|use|write) /.test(error.message);
}

async function main(args: string[]): Promise<number> {
  if (args[0] === "bench") return await benchMain(args.slice(1));
  const command = [...KEY_COMMANDS, ...LEDGER_COMMANDS].find((name) => name === args[0]);
  if (command !== undefined) return await commandMain(command, args.slice(1));
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
    caPem = await loadCa(run.caPath);
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

if (import.meta.main) Deno.exit(await main(Deno.args));
