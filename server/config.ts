/**
 * The server's configuration: every option by flag or `BANK_...` environment variable, checked once at
 * startup so that a bad value stops the server with a clear message (exit code 2).
 *
 * @module
 */
import {
  FRAME_BYTES_DEFAULT,
  FRAME_BYTES_MAX,
  FRAME_BYTES_MIN,
  HOST_DEFAULT,
  PORT_DEFAULT,
  TRANSFER_MINOR_MAX,
} from "../protocol/limits.ts";
import { DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { formatDollars, parseDollars } from "../protocol/money.ts";
import { Options, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import type { Rate } from "./admission.ts";
import {
  ADDRESS_CONNECTS_BURST_DEFAULT,
  ADDRESS_CONNECTS_PER_SECOND_DEFAULT,
  ADDRESS_PENDING_MAX_DEFAULT,
  CONNECTIONS_MAX,
  CONNECTIONS_MIN,
  DEMO_CLIENTS_DEFAULT,
  DEMO_CLIENTS_MAX,
  FD_RESERVE_DEFAULT,
  FD_RESERVE_MIN,
  FRAME_TIMEOUT_MS_DEFAULT,
  HANDSHAKE_TIMEOUT_MS_DEFAULT,
  IDENTITY_REQUESTS_BURST_DEFAULT,
  IDENTITY_REQUESTS_PER_SECOND_DEFAULT,
  IDENTITY_SESSIONS_MAX_DEFAULT,
  IDLE_TIMEOUT_MS_DEFAULT,
  MONITOR_ADDRESS_CONNECTIONS_MAX_DEFAULT,
  MONITOR_BODY_BYTES_MAX_DEFAULT,
  MONITOR_BYTES_MAX,
  MONITOR_CONNECTIONS_MAX,
  MONITOR_CONNECTIONS_MAX_DEFAULT,
  MONITOR_HEADER_BYTES_MAX_DEFAULT,
  MONITOR_PORT_DEFAULT,
  MONITOR_REQUEST_TIMEOUT_MS_DEFAULT,
  RATE_BURST_MAX,
  RATE_PER_SECOND_MAX,
  SHUTDOWN_TIMEOUT_MS_DEFAULT,
  TIMEOUT_MS_MAX,
  TIMEOUT_MS_MIN,
  TRANSFER_MINOR_LIMIT_DEFAULT,
  WEB_PORT_DEFAULT,
  WORKERS_MAX,
} from "./limits.ts";
import { TLS_LISTENER_KINDS } from "./peer.ts";
import type { TlsListenerKind } from "./peer.ts";
import { isMonitorToken, MONITOR_TOKEN_CHARACTERS_MIN, MONITOR_TOKEN_RULE } from "../monitor/token.ts";

export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
export type LogLevelName = typeof LOG_LEVELS[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = typeof LOG_FORMATS[number];
/** Hosts only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

export interface ServerConfig {
  help: boolean;
  version: boolean;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  certPath?: string;
  keyPath?: string;
  monitorHost: string;
  monitorPort: number;
  /** The web app's HTTPS port; 0 when it is off. */
  webPort: number;
  /** Origins besides the listener's own that the web app may be reached at. */
  webOrigins: string[];
  demoClients: number;
  frameBytesMax: number;
  handshakeTimeoutMs: number;
  frameTimeoutMs: number;
  idleTimeoutMs: number;
  /** TLS connections held at once by the process; null: as many as the open-file limit allows. */
  maxConnections: number | null;
  /** Files kept free of connections; null: the default for the open-file limit. */
  fdReserve: number | null;
  addressPendingMax: number;
  addressConnects: Rate;
  identitySessionsMax: number;
  identityRequests: Rate;
  monitor: MonitorBudget;
  tlsListener: TlsListenerKind;
  transferLimitMinor: bigint;
  logLevel: LogLevelName;
  logFormat: LogFormat;
  monitorToken?: string;
  shutdownTimeoutMs: number;
  /** Serving threads sharing the TLS port: the main thread and `workers - 1` worker threads. */
  workers: number;
}

/** The monitor's own caps. */
export interface MonitorBudget {
  connectionsMax: number;
  addressConnectionsMax: number;
  headerBytesMax: number;
  bodyBytesMax: number;
  requestTimeoutMs: number;
}

export const DATA_OPTION: OptionSpec = {
  name: "data",
  env: "BANK_DATA",
  value: "DIR",
  defaultText: DATA_DIR_DEFAULT,
  help: "data directory",
};
export const DATABASE_OPTION: OptionSpec = {
  name: "database",
  env: "DATABASE_URL",
  value: "URL",
  defaultText: "SQLite file DIR/bank.db",
  help: "PostgreSQL ledger, postgres://user@host:port/db",
};

export const SERVER_OPTIONS: readonly OptionSpec[] = [
  {
    name: "host",
    env: "BANK_HOST",
    value: "HOST",
    defaultText: HOST_DEFAULT,
    help: "address to listen on (TLS)",
  },
  {
    name: "port",
    env: "BANK_PORT",
    value: "PORT",
    defaultText: String(PORT_DEFAULT),
    help: "TLS port; 0 picks a free one",
  },
  DATA_OPTION,
  DATABASE_OPTION,
  { name: "cert", env: "BANK_CERT", value: "FILE", help: "server certificate (PEM) instead of the dev CA's" },
  { name: "key", env: "BANK_KEY", value: "FILE", help: "private key (PEM) of --cert" },
  {
    name: "monitor-host",
    env: "BANK_MONITOR_HOST",
    value: "HOST",
    defaultText: HOST_DEFAULT,
    help: "monitor address",
  },
  {
    name: "monitor-port",
    env: "BANK_MONITOR_PORT",
    value: "PORT",
    defaultText: String(MONITOR_PORT_DEFAULT),
    help: "monitor HTTP port",
  },
  {
    name: "web-port",
    env: "BANK_WEB_PORT",
    value: "PORT",
    defaultText: String(WEB_PORT_DEFAULT),
    help: "HTTPS port of the web app and its WebSocket (same host and certificate); 0: off",
  },
  {
    name: "web-origin",
    env: "BANK_WEB_ORIGIN",
    value: "URL,…",
    help: "more origins the web app is reached at (https://bank.example), comma-separated",
  },
  {
    name: "demo-clients",
    env: "BANK_DEMO_CLIENTS",
    value: "N",
    defaultText: String(DEMO_CLIENTS_DEFAULT),
    help: "demo identities made on first start (0: none)",
  },
  {
    name: "frame-max-bytes",
    env: "BANK_FRAME_MAX_BYTES",
    value: "N",
    defaultText: String(FRAME_BYTES_DEFAULT),
    help: "largest frame accepted",
  },
  {
    name: "handshake-timeout-ms",
    env: "BANK_HANDSHAKE_TIMEOUT_MS",
    value: "MS",
    defaultText: String(HANDSHAKE_TIMEOUT_MS_DEFAULT),
    help: "time for TLS and authentication",
  },
  {
    name: "frame-timeout-ms",
    env: "BANK_FRAME_TIMEOUT_MS",
    value: "MS",
    defaultText: String(FRAME_TIMEOUT_MS_DEFAULT),
    help: "time to finish a started frame",
  },
  {
    name: "idle-timeout-ms",
    env: "BANK_IDLE_TIMEOUT_MS",
    value: "MS",
    defaultText: String(IDLE_TIMEOUT_MS_DEFAULT),
    help: "idle time before a session is closed",
  },
  {
    name: "max-connections",
    env: "BANK_MAX_CONNECTIONS",
    value: "N",
    defaultText: "open-file limit - reserve - monitor connections",
    help: "TLS connections the process holds at once",
  },
  {
    name: "fd-reserve",
    env: "BANK_FD_RESERVE",
    value: "N",
    defaultText: `${FD_RESERVE_DEFAULT}, or a quarter of a small limit`,
    help: "open files kept free of connections (store, monitor, logs)",
  },
  {
    name: "address-pending-max",
    env: "BANK_ADDRESS_PENDING_MAX",
    value: "N",
    defaultText: String(ADDRESS_PENDING_MAX_DEFAULT),
    help: "unauthenticated connections one address may hold",
  },
  {
    name: "address-connects-per-second",
    env: "BANK_ADDRESS_CONNECTS_PER_SECOND",
    value: "N",
    defaultText: String(ADDRESS_CONNECTS_PER_SECOND_DEFAULT),
    help: "new connections one address may open per second",
  },
  {
    name: "address-connects-burst",
    env: "BANK_ADDRESS_CONNECTS_BURST",
    value: "N",
    defaultText: String(ADDRESS_CONNECTS_BURST_DEFAULT),
    help: "new connections one address may open at once",
  },
  {
    name: "identity-sessions-max",
    env: "BANK_IDENTITY_SESSIONS_MAX",
    value: "N",
    defaultText: String(IDENTITY_SESSIONS_MAX_DEFAULT),
    help: "sessions one identity may hold at once",
  },
  {
    name: "identity-requests-per-second",
    env: "BANK_IDENTITY_REQUESTS_PER_SECOND",
    value: "N",
    defaultText: String(IDENTITY_REQUESTS_PER_SECOND_DEFAULT),
    help: "requests one identity may send per second",
  },
  {
    name: "identity-requests-burst",
    env: "BANK_IDENTITY_REQUESTS_BURST",
    value: "N",
    defaultText: String(IDENTITY_REQUESTS_BURST_DEFAULT),
    help: "requests one identity may send at once",
  },
  {
    name: "tls-listener",
    env: "BANK_TLS_LISTENER",
    value: "KIND",
    defaultText: "node",
    help: "node (node:tls) or deno (Deno.listenTls: for measurement only, see README)",
  },
  {
    name: "transfer-limit",
    env: "BANK_TRANSFER_LIMIT",
    value: "AMOUNT",
    defaultText: formatDollars(TRANSFER_MINOR_LIMIT_DEFAULT),
    help: "largest single transfer",
  },
  {
    name: "log-level",
    env: "BANK_LOG_LEVEL",
    value: "LEVEL",
    defaultText: "info",
    help: `one of ${LOG_LEVELS.join(", ")}`,
  },
  {
    name: "log-format",
    env: "BANK_LOG_FORMAT",
    value: "FORMAT",
    defaultText: "text",
    help: "text (one readable line per event) or json (JSON lines)",
  },
  {
    name: "monitor-token",
    env: "BANK_MONITOR_TOKEN",
    value: "TOKEN",
    help: `bearer token for the monitor; required off loopback (${MONITOR_TOKEN_RULE})`,
  },
  {
    name: "monitor-max-connections",
    env: "BANK_MONITOR_MAX_CONNECTIONS",
    value: "N",
    defaultText: String(MONITOR_CONNECTIONS_MAX_DEFAULT),
    help: "monitor connections at once",
  },
  {
    name: "monitor-address-connections-max",
    env: "BANK_MONITOR_ADDRESS_CONNECTIONS_MAX",
    value: "N",
    defaultText: String(MONITOR_ADDRESS_CONNECTIONS_MAX_DEFAULT),
    help: "monitor connections one address may hold",
  },
  {
    name: "monitor-header-max-bytes",
    env: "BANK_MONITOR_HEADER_MAX_BYTES",
    value: "N",
    defaultText: String(MONITOR_HEADER_BYTES_MAX_DEFAULT),
    help: "largest monitor request line and headers",
  },
  {
    name: "monitor-body-max-bytes",
    env: "BANK_MONITOR_BODY_MAX_BYTES",
    value: "N",
    defaultText: String(MONITOR_BODY_BYTES_MAX_DEFAULT),
    help: "largest monitor request body",
  },
  {
    name: "monitor-request-timeout-ms",
    env: "BANK_MONITOR_REQUEST_TIMEOUT_MS",
    value: "MS",
    defaultText: String(MONITOR_REQUEST_TIMEOUT_MS_DEFAULT),
    help: "time to read a whole monitor request",
  },
  {
    name: "shutdown-timeout-ms",
    env: "BANK_SHUTDOWN_TIMEOUT_MS",
    value: "MS",
    defaultText: String(SHUTDOWN_TIMEOUT_MS_DEFAULT),
    help: "on SIGINT/SIGTERM, time allowed for requests in flight",
  },
  {
    name: "workers",
    env: "BANK_WORKERS",
    value: "N",
    defaultText: "one per core",
    help: "serving threads sharing the TLS port",
  },
  { name: "help", boolean: true, help: "show this help" },
  { name: "version", boolean: true, help: "show the version" },
];

/** Serving threads by default: one per core this process may use. */
export const WORKERS_DEFAULT = Math.max(1, Math.min(WORKERS_MAX, navigator.hardwareConcurrency || 1));

/** Reads and checks the server's options. Throws {@link UsageError} with a clear message. */
export function parseServerConfig(
  args: string[],
  env: (name: string) => string | undefined,
): ServerConfig {
  const options = new Options(args, { specs: SERVER_OPTIONS, env });
  if (options.positional.length > 0) throw new UsageError(`Unexpected argument "${options.positional[0]}"`);
  const certPath = options.string("cert");
  const keyPath = options.string("key");
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  const read = readersOf(options);
  const config: ServerConfig = {
    help: options.boolean("help"),
    version: options.boolean("version"),
    host: nonEmpty(options.string("host") ?? HOST_DEFAULT, "host"),
    port: options.integer("port", { min: 0, max: 65_535, fallback: PORT_DEFAULT }),
    dataDir: nonEmpty(options.string("data") ?? DATA_DIR_DEFAULT, "data"),
    monitorHost: nonEmpty(options.string("monitor-host") ?? HOST_DEFAULT, "monitor-host"),
    monitorPort: options.integer("monitor-port", { min: 0, max: 65_535, fallback: MONITOR_PORT_DEFAULT }),
    webPort: options.integer("web-port", { min: 0, max: 65_535, fallback: WEB_PORT_DEFAULT }),
    webOrigins: parseOrigins(options.string("web-origin")),
    demoClients: options.integer("demo-clients", {
      min: 0,
      max: DEMO_CLIENTS_MAX,
      fallback: DEMO_CLIENTS_DEFAULT,
    }),
    frameBytesMax: options.integer("frame-max-bytes", {
      min: FRAME_BYTES_MIN,
      max: FRAME_BYTES_MAX,
      fallback: FRAME_BYTES_DEFAULT,
    }),
    handshakeTimeoutMs: read.timeout("handshake-timeout-ms", HANDSHAKE_TIMEOUT_MS_DEFAULT),
    frameTimeoutMs: read.timeout("frame-timeout-ms", FRAME_TIMEOUT_MS_DEFAULT),
    idleTimeoutMs: read.timeout("idle-timeout-ms", IDLE_TIMEOUT_MS_DEFAULT),
    ...parseAdmission(options, read),
    monitor: parseMonitorLimits(read),
    tlsListener: parseChoice(options.string("tls-listener") ?? "node", {
      name: "tls-listener",
      choices: TLS_LISTENER_KINDS,
    }),
    transferLimitMinor: parseTransferLimit(options.string("transfer-limit")),
    logLevel: parseLogLevel(options.string("log-level") ?? "info"),
    logFormat: parseLogFormat(options.string("log-format") ?? "text"),
    shutdownTimeoutMs: read.timeout("shutdown-timeout-ms", SHUTDOWN_TIMEOUT_MS_DEFAULT),
    workers: options.integer("workers", { min: 1, max: WORKERS_MAX, fallback: WORKERS_DEFAULT }),
  };
  const monitorToken = parseMonitorToken(options.string("monitor-token"), config.monitorHost);
  const databaseUrl = parseDatabaseUrl(options.string("database"));
  return {
    ...config,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...(monitorToken === undefined ? {} : { monitorToken }),
    ...(certPath === undefined ? {} : { certPath }),
    ...(keyPath === undefined ? {} : { keyPath }),
  };
}

/** `--web-origin`: https origins, no path; each is written as browsers send it in `Origin`. */
function parseOrigins(text: string | undefined): string[] {
  if (text === undefined || text.trim() === "") return [];
  return text.split(",").map((part) => {
    const trimmed = part.trim();
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new UsageError(`--web-origin: "${trimmed}" is not a URL`);
    }
    if (
      url.protocol !== "https:" || url.pathname !== "/" || url.search !== "" || url.hash !== "" ||
      url.username
    ) {
      throw new UsageError(`--web-origin: "${trimmed}" must be https://HOST[:PORT] with nothing after it`);
    }
    return url.origin;
  });
}

/** The readers of bounded numbers every group of options shares. */
function readersOf(options: Options) {
  const timeout = (name: string, fallback: number) =>
    options.integer(name, { min: TIMEOUT_MS_MIN, max: TIMEOUT_MS_MAX, fallback });
  const count = (name: string, bounds: { min?: number; max: number; fallback: number }) =>
    options.integer(name, { min: bounds.min ?? 1, max: bounds.max, fallback: bounds.fallback });
  const rate = (name: string, burst: string, fallback: Rate): Rate => ({
    perSecond: count(name, { max: RATE_PER_SECOND_MAX, fallback: fallback.perSecond }),
    burst: count(burst, { max: RATE_BURST_MAX, fallback: fallback.burst }),
  });
  return { timeout, count, rate };
}
type Readers = ReturnType<typeof readersOf>;

/** Who may connect, how fast and how many at once (see the README's Budgets). */
function parseAdmission(options: Options, read: Readers): Pick<
  ServerConfig,
  | "maxConnections"
  | "fdReserve"
  | "addressPendingMax"
  | "addressConnects"
  | "identitySessionsMax"
  | "identityRequests"
> {
  return {
    maxConnections: optionalCount(options, "max-connections", { min: CONNECTIONS_MIN, max: CONNECTIONS_MAX }),
    fdReserve: optionalCount(options, "fd-reserve", { min: FD_RESERVE_MIN, max: CONNECTIONS_MAX }),
    addressPendingMax: read.count("address-pending-max", {
      max: CONNECTIONS_MAX,
      fallback: ADDRESS_PENDING_MAX_DEFAULT,
    }),
    addressConnects: read.rate("address-connects-per-second", "address-connects-burst", {
      perSecond: ADDRESS_CONNECTS_PER_SECOND_DEFAULT,
      burst: ADDRESS_CONNECTS_BURST_DEFAULT,
    }),
    identitySessionsMax: read.count("identity-sessions-max", {
      max: CONNECTIONS_MAX,
      fallback: IDENTITY_SESSIONS_MAX_DEFAULT,
    }),
    identityRequests: read.rate("identity-requests-per-second", "identity-requests-burst", {
      perSecond: IDENTITY_REQUESTS_PER_SECOND_DEFAULT,
      burst: IDENTITY_REQUESTS_BURST_DEFAULT,
    }),
  };
}

/** The monitor's own caps and deadline. */
function parseMonitorLimits(read: Readers): ServerConfig["monitor"] {
  return {
    connectionsMax: read.count("monitor-max-connections", {
      max: MONITOR_CONNECTIONS_MAX,
      fallback: MONITOR_CONNECTIONS_MAX_DEFAULT,
    }),
    addressConnectionsMax: read.count("monitor-address-connections-max", {
      max: MONITOR_CONNECTIONS_MAX,
      fallback: MONITOR_ADDRESS_CONNECTIONS_MAX_DEFAULT,
    }),
    headerBytesMax: read.count("monitor-header-max-bytes", {
      min: 1024,
      max: MONITOR_BYTES_MAX,
      fallback: MONITOR_HEADER_BYTES_MAX_DEFAULT,
    }),
    bodyBytesMax: read.count("monitor-body-max-bytes", {
      min: 0,
      max: MONITOR_BYTES_MAX,
      fallback: MONITOR_BODY_BYTES_MAX_DEFAULT,
    }),
    requestTimeoutMs: read.timeout("monitor-request-timeout-ms", MONITOR_REQUEST_TIMEOUT_MS_DEFAULT),
  };
}

/** Checks a database URL's shape; the error never repeats the URL, which may hold a password. */
export function parseDatabaseUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text === "") throw new UsageError("--database must not be empty");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError("--database must be a URL like postgres://user@host:5432/db");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new UsageError(`--database must be a postgres:// URL, got a ${url.protocol} URL`);
  }
  return text;
}

function parseTransferLimit(text: string | undefined): bigint {
  if (text === undefined) return TRANSFER_MINOR_LIMIT_DEFAULT;
  const amount = parseDollars(text, TRANSFER_MINOR_MAX);
  if (!amount.ok) {
    throw new UsageError(
      `--transfer-limit must be a dollar amount up to ${formatDollars(TRANSFER_MINOR_MAX)}`,
    );
  }
  return amount.amountMinor;
}

/** The monitor's token: required whenever the monitor is reachable from other machines. */
function parseMonitorToken(token: string | undefined, monitorHost: string): string | undefined {
  if (token === undefined) {
    if (isLoopbackHost(monitorHost)) return undefined;
    throw new UsageError(
      `The monitor would listen on ${monitorHost}, reachable from other machines: set --monitor-token ` +
        `(or BANK_MONITOR_TOKEN) to a secret of at least ${MONITOR_TOKEN_CHARACTERS_MIN} characters, ` +
        `or keep --monitor-host ${HOST_DEFAULT}`,
    );
  }
  if (!isMonitorToken(token)) throw new UsageError(`--monitor-token must be ${MONITOR_TOKEN_RULE}`);
  return token;
}

function parseLogFormat(text: string): LogFormat {
  return parseChoice(text, { name: "log-format", choices: LOG_FORMATS });
}

function parseLogLevel(text: string): LogLevelName {
  return parseChoice(text, { name: "log-level", choices: LOG_LEVELS });
}

function parseChoice<T extends string>(text: string, option: { name: string; choices: readonly T[] }): T {
  const choice = option.choices.find((name) => name === text);
  if (choice === undefined) {
    throw new UsageError(`--${option.name} must be one of ${option.choices.join(", ")}`);
  }
  return choice;
}

/** A whole-number option with no fixed default (the server derives one); null when not given. */
function optionalCount(options: Options, name: string, bounds: { min: number; max: number }): number | null {
  return options.string(name) === undefined ? null : options.integer(name, { ...bounds, fallback: 0 });
}

function nonEmpty(text: string, name: string): string {
  if (text.trim() === "") throw new UsageError(`--${name} must not be empty`);
  return text;
}
