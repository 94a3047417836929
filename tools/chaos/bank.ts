/**
 * The bank under test: one or more server processes on one store, each behind a TCP fault proxy its
 * clients connect through; on PostgreSQL (a throwaway cluster, cluster.ts) the servers reach the database
 * through one more proxy, so the network to the database can fail too. This is what the faults act on.
 *
 * @module
 */
import { openStore } from "../../server/ledger/mod.ts";
import type { BankStore } from "../../server/ledger/ledger.ts";
import { runAdmin, startServer } from "../harness.ts";
import type { ClientRunResult, ServerHandle } from "../harness.ts";
import { TcpProxy } from "../tcp_proxy.ts";
import type { PostgresCluster } from "./cluster.ts";
import type { FaultTarget } from "./faults.ts";
import { sleep } from "../../lib/sleep.ts";

export interface BankOptions {
  servers: number;
  clients: number;
  /** Extra environment of every server process (a test-only hook). */
  env: Record<string, string>;
  /** The database, when the store is PostgreSQL; SQLite otherwise. */
  cluster?: PostgresCluster;
}

export class ChaosBank implements FaultTarget, AsyncDisposable {
  readonly dataDir: string;
  readonly proxies: TcpProxy[];
  readonly #handles: ServerHandle[];
  readonly #launch: () => Promise<ServerHandle>;
  readonly #cluster: PostgresCluster | undefined;
  readonly #database: TcpProxy | undefined;
  /** Set once the bank is torn down: a restart already under way must not start another server. */
  #closed = false;

  private constructor(
    parts: { dataDir: string; handles: ServerHandle[]; launch: () => Promise<ServerHandle> },
    cluster: PostgresCluster | undefined,
    database: TcpProxy | undefined,
  ) {
    this.dataDir = parts.dataDir;
    this.#handles = parts.handles;
    this.#launch = parts.launch;
    this.#cluster = cluster;
    this.#database = database;
    this.proxies = parts.handles.map((handle) => new TcpProxy({ hostname: "127.0.0.1", port: handle.port }));
  }

  static async start(options: BankOptions): Promise<ChaosBank> {
    const dataDir = await Deno.makeTempDir({ prefix: "bank-chaos-" });
    const cluster = options.cluster;
    const database = cluster === undefined
      ? undefined
      : new TcpProxy({ hostname: "127.0.0.1", port: cluster.port });
    const store = cluster === undefined || database === undefined
      ? []
      : ["--database", cluster.url.replace(`:${cluster.port}/`, `:${database.port}/`)];
    const args = ["--demo-clients", String(options.clients), ...store];
    const launch = () => startServer({ dataDir, args, env: options.env });
    // One at a time: the first provisions the demo identities the others find.
    const handles: ServerHandle[] = [];
    for (let index = 0; index < options.servers; index++) handles.push(await launch());
    return new ChaosBank({ dataDir, handles, launch }, cluster, database);
  }

  get servers(): number {
    return this.#handles.length;
  }

  get database(): boolean {
    return this.#cluster !== undefined;
  }

  server(index: number): ServerHandle {
    return this.#handles[index]!;
  }

  /** The store read directly, not through any server or proxy. */
  openStore(): Promise<BankStore> {
    return openStore({ dataDir: this.dataDir, ...(this.#cluster ? { databaseUrl: this.#cluster.url } : {}) });
  }

  verify(): Promise<ClientRunResult> {
    return runAdmin(["ledger", "verify"], {
      dataDir: this.dataDir,
      ...(this.#cluster ? { databaseUrl: this.#cluster.url } : {}),
    });
  }

  async killAndRestart(index: number): Promise<string> {
    const startedMs = performance.now();
    await this.#handles[index]!.stop("SIGKILL");
    const restarted = await this.#launch();
    if (this.#closed) {
      await restarted.stop("SIGKILL");
      return "killed; not restarted (the run was interrupted)";
    }
    this.#handles[index] = restarted;
    this.proxies[index]!.upstream = { hostname: "127.0.0.1", port: this.#handles[index]!.port };
    return `killed; serving again after ${Math.round(performance.now() - startedMs)} ms`;
  }

  async pause(index: number, milliseconds: number): Promise<void> {
    const pid = this.#handles[index]!.pid;
    Deno.kill(pid, "SIGSTOP");
    try {
      await sleep(milliseconds);
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
  }

  async delay(index: number, milliseconds: number, forMs: number): Promise<void> {
    await withDelay(this.proxies[index]!, milliseconds, forMs);
  }

  async blackhole(index: number, forMs: number): Promise<void> {
    const proxy = this.proxies[index]!;
    proxy.blackhole = true;
    await sleep(forMs);
    proxy.blackhole = false;
  }

  cut(index: number): number {
    return this.proxies[index]!.cutAll();
  }

  /** PostgreSQL stopped immediately (a crash of the database), down for `downMs`, then started again. */
  async restartDatabase(downMs: number): Promise<void> {
    await this.#cluster!.stopImmediately();
    await sleep(downMs);
    await this.#cluster!.start();
  }

  /** Every connection between the servers and the database cut at once, commits in flight included. */
  cutDatabase(): number {
    return this.#database!.cutAll();
  }

  async delayDatabase(milliseconds: number, forMs: number): Promise<void> {
    await withDelay(this.#database!, milliseconds, forMs);
  }

  /** Heals every proxy and stops the servers (the store stays, for the verdict). */
  async stopServers(): Promise<void> {
    for (const proxy of [...this.proxies, ...(this.#database ? [this.#database] : [])]) {
      proxy.delayMs = 0;
      proxy.blackhole = false;
    }
    for (const handle of this.#handles) await handle.stop("SIGTERM");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    for (const handle of this.#handles) await handle.stop("SIGKILL");
    for (const proxy of this.proxies) await proxy[Symbol.asyncDispose]();
    await this.#database?.[Symbol.asyncDispose]();
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}

async function withDelay(proxy: TcpProxy, milliseconds: number, forMs: number): Promise<void> {
  proxy.delayMs = milliseconds;
  await sleep(forMs);
  proxy.delayMs = 0;
}
