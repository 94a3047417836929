/**
 * The harness of tests, benchmarks and fuzzing: starts the real server process on free loopback ports and
 * runs the real client, so that they exercise the same code paths a user does. Every wait is bounded.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { TextLineStream } from "@std/streams/text-line-stream";
import { BankConnection } from "../client/connection.ts";
import { KEY_COMMANDS } from "../client/key_commands.ts";
import { LEDGER_COMMANDS } from "../client/ledger_commands.ts";
import { NodeTlsConn } from "../server/tls_node.ts";
import { decodeCredential } from "../protocol/credential.ts";
import type { Credential } from "../protocol/credential.ts";
import denoConfig from "../deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url).pathname;
const STARTUP_TIMEOUT_MS = 30_000;
const LOG_WAIT_TIMEOUT_MS = 10_000;
const LOG_LINES_MAX = 100_000;
/** The permissions of a task in deno.json, so tests run the programs exactly as `deno task` does. */
function taskPermissions(task: string): string[] {
  const tasks = denoConfig.tasks as Record<string, string>;
  const command = tasks[task];
  if (command === undefined) throw new Error(`deno.json has no task ${task}`);
  return command.split(" ").filter((word) =>
    word.startsWith("--allow-") || word.startsWith("--unstable-") || word === "--no-prompt"
  );
}

/**
 * The environment for a child program: ours, without the database settings (a test names its database
 * explicitly with --database, so a DATABASE_URL meant for the test runner never leaks into a server).
 */
function childEnv(): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => name !== "DATABASE_URL" && !name.startsWith("PG")),
  );
  return { ...env, NO_COLOR: "1" };
}

const SERVER_PERMISSIONS = taskPermissions("serve");
/** bank-client's commands, which come before its options. */
const CLIENT_COMMANDS: readonly string[] = ["bench", ...KEY_COMMANDS, ...LEDGER_COMMANDS];
const CLIENT_PERMISSIONS = taskPermissions("client");

/** What the seed's Test Case 1 prints for client 1 after `Client 1: Connected.`. */
export const TEST_CASE_1_LINES: readonly string[] = [
  "Client 1: Sent task: Check Balance",
  "Client 1: Server response: Balance: $500",
  "Client 1: Sent task: Transfer $100 to Account XYZ",
  "Client 1: Server response: Transaction Successful",
  "Client 1: Sent task: Update Contact Information",
  "Client 1: Server response: Contact Information Updated",
];

export interface ServerHandle extends AsyncDisposable {
  /** The server's process id (its open files are in /proc/PID/fd). */
  pid: number;
  port: number;
  monitorPort: number;
  /** The web app's port (0: off, unless the test asked for it with `web: true`). */
  webPort: number;
  dataDir: string;
  /** Every stderr line so far. */
  logs(): string[];
  /** Waits until a log line matches; throws after a bounded wait. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits until connections 1 to `count` have all logged their close (they may close in any order). */
  waitForClosed(count: number): Promise<void>;
  status(): Promise<Record<string, number>>;
  credential(name: string): Promise<Credential>;
  caPem(): Promise<string>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** True while the server process runs. */
  alive(): boolean;
}

/** How to start a program: `deno run` of a source file by default, or a compiled binary. */
export interface Program {
  executable: string;
  args: string[];
}

export const SERVER_SOURCE: Program = {
  executable: Deno.execPath(),
  args: ["run", ...SERVER_PERMISSIONS, `${ROOT}main.ts`],
};
export const CLIENT_SOURCE: Program = {
  executable: Deno.execPath(),
  args: ["run", ...CLIENT_PERMISSIONS, `${ROOT}client/main.ts`],
};

/** A child's output, line by line (the first {@link LOG_LINES_MAX}), and waits for a line to appear. */
class LogWatch {
  readonly lines: string[] = [];
  running = true;
  /** The exit code, once the child has exited and its output is read to the end. */
  readonly exited: Promise<number>;
  readonly #waiters = new Set<() => void>();

  constructor(child: Deno.ChildProcess) {
    const status = child.status.then((status) => {
      this.running = false;
      this.#wakeAll();
      return status.code;
    });
    const pumps = Promise.all([this.#pump(child.stdout), this.#pump(child.stderr)]);
    this.exited = status.then(async (code) => {
      await pumps;
      return code;
    });
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());
    for await (const line of reader) {
      if (this.lines.length < LOG_LINES_MAX) this.lines.push(String(line));
      this.#wakeAll();
    }
  }

  #wakeAll(): void {
    for (const wake of this.#waiters) wake();
  }

  /** The first line matching `pattern`, waiting up to `timeoutMs`; throws with the log when none comes. */
  waitForLog = async (pattern: RegExp, timeoutMs = LOG_WAIT_TIMEOUT_MS): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (!this.running) {
        throw new Error(`Server exited before logging ${pattern}:\n${this.lines.join("\n")}`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`No log line matched ${pattern} within ${timeoutMs} ms:\n${this.lines.join("\n")}`);
      }
      await this.#nextLine(Math.min(remaining, 200));
    }
  };

  #nextLine(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }
}

/** The server's command line: free ports, one serving thread unless a test asks for more, then `extra`. */
function serverArgs(
  program: Program,
  parts: { dataDir: string; webPort: number; extra: string[] },
): string[] {
  // One serving thread: counters then settle at once, so tests can be exact.
  const workers = parts.extra.includes("--workers") ? [] : ["--workers", "1"];
  return [
    ...program.args,
    ...["--data", parts.dataDir, "--port", "0", "--monitor-port", "0", "--web-port", String(parts.webPort)],
    ...workers,
    ...parts.extra,
  ];
}

/** A port nobody listens on now (the kernel's choice), for a server that must be told one. */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = probe.addr as Deno.NetAddr;
  probe.close();
  return port;
}

/** How a test starts a server: extra flags, its data directory, the program, the web port, extra variables. */
export interface StartOptions {
  args?: string[];
  dataDir?: string;
  program?: Program;
  web?: boolean;
  env?: Record<string, string>;
  /** How long the server may take to listen (default {@link STARTUP_TIMEOUT_MS}). */
  startupTimeoutMs?: number;
}

/**
 * The credentials of demo identities `client-1` to `client-COUNT` (`--demo-clients`) of a server: this tree's
 * handle, or another tree's, which has the same method.
 */
export function demoCredentials<C>(
  server: { credential(name: string): Promise<C> },
  count: number,
): Promise<C[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => server.credential(`client-${index + 1}`)));
}

/** Starts the server with a fresh data directory (unless one is given) and the given extra flags. */
export async function startServer(options: StartOptions = {}): Promise<ServerHandle> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "bank-test-" });
  const ownsDataDir = options.dataDir === undefined;
  const program = options.program ?? SERVER_SOURCE;
  // The web port is off unless asked for; 0 turns it off, so a free one is found here.
  const webPort = options.web === true ? freePort() : 0;
  const args = serverArgs(program, { dataDir, webPort, extra: options.args ?? [] });
  const env = { ...childEnv(), ...options.env };
  const piped = { stdin: "null", stdout: "piped", stderr: "piped" } as const;
  const child = new Deno.Command(program.executable, { args, ...piped, clearEnv: true, env }).spawn();
  const watch = new LogWatch(child);
  const { waitForLog } = watch;

  const listeningPattern = /Bank server listening on \S+:(\d+) /;
  const monitorPattern = /Monitor listening on http:\/\/\S+:(\d+)\/status/;
  const startupMs = options.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;
  const port = Number(listeningPattern.exec(await waitForLog(listeningPattern, startupMs))![1]);
  const monitorPort = Number(monitorPattern.exec(await waitForLog(monitorPattern, startupMs))![1]);

  const stop = async (signal: Deno.Signal = "SIGTERM"): Promise<number> => {
    if (watch.running) child.kill(signal);
    return await watch.exited;
  };
  return {
    pid: child.pid,
    port,
    monitorPort,
    webPort,
    dataDir,
    logs: () => [...watch.lines],
    waitForLog,
    waitForClosed: async (count) => {
      for (let n = 1; n <= count; n++) await waitForLog(new RegExp(`Connection ${n} from \\S+ closed`));
    },
    status: async () => {
      const response = await fetch(`http://127.0.0.1:${monitorPort}/status`);
      return await response.json();
    },
    credential: async (name) => {
      const decoded = decodeCredential(await Deno.readTextFile(`${dataDir}/clients/${name}.json`));
      if (!decoded.ok) throw new Error(decoded.error);
      return decoded.credential;
    },
    caPem: () => Deno.readTextFile(`${dataDir}/ca.crt`),
    stop,
    alive: () => watch.running,
    /** Stops the server, then checks its ledger with `bank-server ledger verify`: after every test. */
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
      const extra = options.args ?? [];
      const database = extra.indexOf("--database");
      const databaseUrl = database >= 0 ? extra[database + 1] : undefined;
      const verified = await runAdmin(["ledger", "verify"], {
        dataDir,
        ...(databaseUrl === undefined ? {} : { databaseUrl }),
      });
      if (ownsDataDir) await Deno.remove(dataDir, { recursive: true });
      if (verified.code !== 0) {
        throw new Error(`Ledger verify failed after the test:\n${verified.stdout}${verified.stderr}`);
      }
    },
  };
}

export interface ClientRunResult {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs the client (`client/main.ts` unless another program is given) against a server. */
export async function runClient(
  server: ServerHandle,
  args: string[],
  options: { program?: Program } = {},
): Promise<ClientRunResult> {
  const program = options.program ?? CLIENT_SOURCE;
  // A command (bench, keygen, …) comes first; the server's address and data follow it.
  const command = CLIENT_COMMANDS.includes(args[0] ?? "") ? [args[0]!] : [];
  const rest = command.length === 0 ? args : args.slice(1);
  const output = await new Deno.Command(program.executable, {
    args: [...program.args, ...command, "--data", server.dataDir, "--port", `${server.port}`, ...rest],
    stdin: "null",
    clearEnv: true,
    env: childEnv(),
  }).output();
  return collect(output);
}

function collect(output: Deno.CommandOutput): ClientRunResult {
  const stdout = new TextDecoder().decode(output.stdout);
  return {
    code: output.code,
    stdout,
    stderr: new TextDecoder().decode(output.stderr),
    lines: stdout.split("\n").filter((line) => line !== ""),
  };
}

/** The lines of one client in a multi-client run, in order. */
export function linesOf(result: ClientRunResult, client: number): string[] {
  return result.lines.filter((line) => line.startsWith(`Client ${client}: `));
}

/** A raw TLS connection to the server, verified against its CA, for crafting frames by hand. */
export async function connectRaw(server: ServerHandle): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [await server.caPem()],
  });
  await conn.handshake();
  return conn;
}

/** Reads until the peer closes the connection; returns everything it sent. Bounded in time and size. */
export async function readUntilClosed(
  conn: Deno.Conn,
  options: { timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    conn.close();
  }, options.timeoutMs ?? LOG_WAIT_TIMEOUT_MS);
  try {
    const buffer = new Uint8Array(4096);
    while (total < 1024 * 1024) {
      const count = await conn.read(buffer);
      if (count === null) break;
      chunks.push(buffer.slice(0, count));
      total += count;
    }
  } catch {
    // A reset is also the server closing the connection.
  } finally {
    clearTimeout(timer);
  }
  if (expired) throw new Error("The server did not close the connection in time");
  try {
    conn.close();
  } catch {
    // Closed by the server already.
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/** The port a connection uses on our side, to find its line in the server log. */
export function localPort(conn: Deno.Conn): number {
  return (conn.localAddr as Deno.NetAddr).port;
}

/** Runs `bank-server <args>` (an administration command) against a data directory and database. */
export async function runAdmin(
  args: string[],
  options: { dataDir: string; databaseUrl?: string },
): Promise<ClientRunResult> {
  const database = options.databaseUrl === undefined ? [] : ["--database", options.databaseUrl];
  const output = await new Deno.Command(SERVER_SOURCE.executable, {
    args: [...SERVER_SOURCE.args, ...args, "--data", options.dataDir, ...database],
    stdin: "null",
    clearEnv: true,
    env: childEnv(),
  }).output();
  return collect(output);
}

/** The server process's open files, counted in /proc/PID/fd. */
export function openFilesOf(server: ServerHandle): number {
  let count = 0;
  for (const _entry of Deno.readDirSync(`/proc/${server.pid}/fd`)) count += 1;
  return count;
}

/**
 * An authenticated session from a chosen loopback source address (127.0.0.2 …), which the server budgets
 * apart from 127.0.0.1; TLS is verified against the server's CA like any other connection.
 */
export async function connectFrom(
  server: ServerHandle,
  name: string,
  options: { from: string },
): Promise<BankConnection> {
  const caPem = await server.caPem();
  const connect = () => {
    const raw = net.connect({ host: "127.0.0.1", port: server.port, localAddress: options.from });
    const socket = tls.connect({ socket: raw, host: "127.0.0.1", ca: caPem, servername: "localhost" });
    const conn = new NodeTlsConn(socket, {
      remote: { hostname: "127.0.0.1", port: server.port },
      raw,
      secureEvent: "secureConnect",
    });
    return Promise.resolve(conn);
  };
  return await BankConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    caPem,
    credential: await server.credential(name),
    connect,
  });
}

/** An authenticated session with the server as one of its identities, verified against its CA. */
export async function connectAs(server: ServerHandle, name: string): Promise<BankConnection> {
  return await BankConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credential: await server.credential(name),
  });
}
