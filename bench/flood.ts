/**
 * A flood of silent or half-finished peers, to check that the server survives them (the tests use it at
 * CI scale; run it by hand at full scale). Each peer connects from one of the given source addresses
 * (loopback aliases such as 127.0.0.2 work as distinct sources), does its part, then holds its socket and
 * notes when the server closes it. Every wait is bounded: peers give up after `--hold-ms`.
 *
 * | `--mode`     | what each peer does                                                  |
 * | ------------ | -------------------------------------------------------------------- |
 * | `tcp`        | connects and sends nothing                                           |
 * | `hello`      | sends the first 11 bytes of a TLS ClientHello, then nothing          |
 * | `tls`        | completes TLS (verifying the server against `--ca`), then nothing   |
 * | `http-half`  | sends half an HTTP request head (to the monitor), then nothing        |
 *
 * ```sh
 * deno task flood --port 8443 --from 127.0.0.2,127.0.0.3 --count 30000 --mode hello --hold-ms 20000
 * deno task flood --port 5000 --from 127.0.0.4 --count 5000 --mode http-half --hold-ms 20000
 * ```
 *
 * A process holds at most {@link PEERS_PER_PROCESS} sockets (its own open-file limit); larger floods run
 * in several processes, whose reports are added up.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { parseArgs } from "@std/cli/parse-args";

/** Sockets one flood process holds (below a 20,000 open-file limit, with room for the runtime). */
export const PEERS_PER_PROCESS = 15_000;
/** Connects in flight at once, per process. */
export const CONNECTS_IN_FLIGHT = 256;
/** The first 11 bytes of a TLS 1.2+ ClientHello: record header, handshake header, version. */
const CLIENT_HELLO_START = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
const HALF_HTTP = new TextEncoder().encode("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n");
const CLOSE_BUCKETS_S = [1, 2, 5, 10, 12, 15, 20, 30, 60];

export type FloodMode = "tcp" | "hello" | "tls" | "http-half";
export const FLOOD_MODES: readonly FloodMode[] = ["tcp", "hello", "tls", "http-half"];

export interface FloodOptions {
  host: string;
  port: number;
  /** Source addresses, used in turn. */
  from: string[];
  count: number;
  mode: FloodMode;
  /** How long each peer holds its socket before giving up; the flood ends when every peer has. */
  holdMs: number;
  /** The CA that signed the server's certificate (mode `tls`). */
  caPem?: string;
  /** Called once every peer has connected (or failed to), while they hold. */
  onConnected?: (report: FloodReport) => void | Promise<void>;
}

/** What the peers saw. */
export interface FloodReport {
  peers: number;
  connected: number;
  connectFailed: number;
  /** Peers whose part failed before they could hold (e.g. TLS refused because the server closed first). */
  refusedEarly: number;
  /** Peers the server closed while they held, by seconds after they connected (upper bounds). */
  closedBy: Record<string, number>;
  /** Peers still open when they gave up. */
  heldToTheEnd: number;
  /** Seconds from the first connect to the last. */
  connectSeconds: number;
}

/** Runs a flood in this process (at most {@link PEERS_PER_PROCESS} peers). */
export async function flood(options: FloodOptions): Promise<FloodReport> {
  if (options.count > PEERS_PER_PROCESS) {
    throw new Error(`One process holds at most ${PEERS_PER_PROCESS} peers; run several`);
  }
  const report: FloodReport = {
    peers: options.count,
    connected: 0,
    connectFailed: 0,
    refusedEarly: 0,
    closedBy: Object.fromEntries(CLOSE_BUCKETS_S.map((bound) => [`${bound}s`, 0])),
    heldToTheEnd: 0,
    connectSeconds: 0,
  };
  const startedMs = performance.now();
  const holding: Promise<void>[] = [];
  let next = 0;
  const connector = async () => {
    while (next < options.count) {
      const index = next++;
      const peer = await openPeer(options, options.from[index % options.from.length]!);
      if (peer === "failed") report.connectFailed += 1;
      else if (peer === "refused") report.refusedEarly += 1;
      else {
        report.connected += 1;
        holding.push(holdPeer(peer, { report, holdMs: options.holdMs }));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTS_IN_FLIGHT, options.count) }, connector));
  report.connectSeconds = (performance.now() - startedMs) / 1000;
  await options.onConnected?.(report);
  await Promise.all(holding);
  return report;
}

interface OpenPeer {
  socket: net.Socket;
  connectedMs: number;
  closed: Promise<void>;
}

/** Connects one peer and does its part; "refused" when the server closed it before it could. */
async function openPeer(options: FloodOptions, from: string): Promise<OpenPeer | "failed" | "refused"> {
  const raw = net.connect({ host: options.host, port: options.port, localAddress: from });
  raw.on("error", () => {});
  if (!(await reached(raw, "connect"))) {
    raw.destroy();
    return "failed";
  }
  const connectedMs = performance.now();
  let socket: net.Socket = raw;
  if (options.mode === "hello") raw.write(CLIENT_HELLO_START);
  if (options.mode === "http-half") raw.write(HALF_HTTP);
  if (options.mode === "tls") {
    const secure = tls.connect({
      socket: raw,
      host: options.host,
      ca: options.caPem,
      servername: "localhost",
    });
    secure.on("error", () => {});
    if (!(await reached(secure, "secureConnect"))) {
      secure.destroy();
      return "refused";
    }
    socket = secure;
  }
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, connectedMs, closed };
}

/** Whether a socket reaches `event` before it fails or closes. */
function reached(socket: net.Socket, event: "connect" | "secureConnect"): Promise<boolean> {
  return new Promise((resolve) => {
    socket.once(event, () => resolve(true));
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}

/** Holds a peer until the server closes it or `holdMs` passes; counts which. */
async function holdPeer(peer: OpenPeer, parts: { report: FloodReport; holdMs: number }): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<"held">((resolve) => {
    const left = Math.max(0, parts.holdMs - (performance.now() - peer.connectedMs));
    timer = setTimeout(() => resolve("held"), left);
  });
  const outcome = await Promise.race([peer.closed.then(() => "closed" as const), gaveUp]);
  clearTimeout(timer);
  if (outcome === "held") {
    parts.report.heldToTheEnd += 1;
    peer.socket.destroy();
    return;
  }
  const seconds = (performance.now() - peer.connectedMs) / 1000;
  const bound = CLOSE_BUCKETS_S.find((limit) => seconds <= limit) ?? CLOSE_BUCKETS_S.at(-1)!;
  parts.report.closedBy[`${bound}s`]! += 1;
}

/** Adds up the reports of several processes. */
export function addReports(reports: FloodReport[]): FloodReport {
  const total: FloodReport = {
    peers: 0,
    connected: 0,
    connectFailed: 0,
    refusedEarly: 0,
    closedBy: Object.fromEntries(CLOSE_BUCKETS_S.map((bound) => [`${bound}s`, 0])),
    heldToTheEnd: 0,
    connectSeconds: 0,
  };
  for (const report of reports) {
    total.peers += report.peers;
    total.connected += report.connected;
    total.connectFailed += report.connectFailed;
    total.refusedEarly += report.refusedEarly;
    total.heldToTheEnd += report.heldToTheEnd;
    total.connectSeconds = Math.max(total.connectSeconds, report.connectSeconds);
    for (const [bucket, count] of Object.entries(report.closedBy)) total.closedBy[bucket]! += count;
  }
  return total;
}

/** Runs a flood over as many processes as it needs; prints one JSON report when all are done. */
async function main(args: string[]): Promise<number> {
  const flags = parseArgs(args, {
    string: ["host", "port", "from", "count", "mode", "hold-ms", "ca"],
    boolean: ["child"],
  });
  const mode = FLOOD_MODES.find((name) => name === (flags.mode ?? "hello"));
  const count = Number(flags.count ?? "1000");
  const port = Number(flags.port);
  if (mode === undefined || !Number.isInteger(count) || count < 1 || !Number.isInteger(port)) {
    console.error(
      "Usage: deno task flood --port N [--host 127.0.0.1] [--from 127.0.0.2,...] [--count N] " +
        `[--mode ${FLOOD_MODES.join("|")}] [--hold-ms MS] [--ca FILE]`,
    );
    return 2;
  }
  const options: FloodOptions = {
    host: flags.host ?? "127.0.0.1",
    port,
    from: (flags.from ?? "127.0.0.2").split(","),
    count,
    mode,
    holdMs: Number(flags["hold-ms"] ?? "20000"),
    ...(flags.ca === undefined ? {} : { caPem: await Deno.readTextFile(flags.ca) }),
  };
  if (flags.child || count <= PEERS_PER_PROCESS) {
    const report = await flood({
      ...options,
      onConnected: (so) =>
        console.error(
          `flood: ${so.connected} of ${so.peers} peers connected in ${so.connectSeconds.toFixed(1)} s`,
        ),
    });
    console.log(JSON.stringify(report));
    return 0;
  }
  const processes = Math.ceil(count / PEERS_PER_PROCESS);
  const children = Array.from({ length: processes }, (_, index) => {
    const share = Math.floor(count / processes) + (index < count % processes ? 1 : 0);
    const childArgs = [
      "--host",
      options.host,
      "--port",
      String(port),
      "--from",
      options.from.join(","),
      "--count",
      String(share),
      "--mode",
      mode,
      "--hold-ms",
      String(options.holdMs),
      ...(flags.ca === undefined ? [] : ["--ca", flags.ca]),
      "--child",
    ];
    return new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", import.meta.filename!, ...childArgs],
      stdout: "piped",
      stderr: "inherit",
    }).output();
  });
  const outputs = await Promise.all(children);
  const reports = outputs.map((output) => JSON.parse(new TextDecoder().decode(output.stdout)) as FloodReport);
  console.log(JSON.stringify(addReports(reports)));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
