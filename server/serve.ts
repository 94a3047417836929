/**
 * Running the server: open the store, start the TLS listener, the identity watcher and the monitor, then
 * on SIGINT or SIGTERM drain (stop accepting, answer requests in flight, close) and close the store.
 *
 * @module
 */
import { ensureDevCertificates, loadCertificateFiles } from "../certs/mod.ts";
import { createMonitorApp } from "../monitor/app.ts";
import { IDENTITIES_PAGE_MAX } from "./ledger/limits.ts";
import { IDENTITIES_MAX } from "./limits.ts";
import { createBudgetMemory, planConnections } from "./admission.ts";
import type { BudgetMemory, ConnectionPlan } from "./admission.ts";
import type { ServerConfig } from "./config.ts";
import { openDemoAccounts } from "./demo.ts";
import { ensurePrivateDir } from "../lib/files.ts";
import { provisionDemoIdentities } from "./identities.ts";
import { ensureBankKey } from "./bank_key.ts";
import { nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import type { IdentityDirectory } from "./ledger/ledger.ts";
import { describeStore, openStore } from "./ledger/mod.ts";
import { storeTestHooks } from "./test_hooks.ts";
import type { BankStore } from "./ledger/mod.ts";
import { ThreadWriteLock } from "./ledger/write_lock.ts";
import { serverLogger } from "./log.ts";
import { startHttpListener } from "./http_listener.ts";
import type { HttpListener } from "./http_listener.ts";
import { CONNECTIONS_MIN, defaultFdReserve, REJECTION_LOG_INTERVAL_MS } from "./limits.ts";
import { startNode, withContext } from "./node.ts";
import { raiseFileLimit } from "./open_files.ts";
import type { PeerAddress } from "./peer.ts";
import { RejectionLog } from "./rejection_log.ts";
import { webOriginsOf } from "./web/app.ts";
import { formatHash } from "./ledger/chain.ts";
import { ServerStats } from "./stats/server_stats.ts";
import type { FromWorker, ToWorker } from "./worker.ts";

const STATS_TICK_MS = 1_000;
/** How much longer than the drain timeout a worker gets to report before it is terminated anyway. */
const DRAIN_MARGIN_MS = 5_000;
/** Connections allowed where the open-file limit cannot be read (no /proc). */
const CONNECTIONS_WITHOUT_LIMIT = 10_000;
const log = serverLogger("main");

/** Says which schema migrations the store is about to apply (one may take minutes on a large store). */
function logMigrations(store: string, pending: readonly { version: number; name: string }[]): void {
  log.info("Ledger {store}: applying schema {migrations} before serving", {
    store,
    migrations: `migration${pending.length === 1 ? "" : "s"} ` +
      pending.map((migration) => `${migration.version} (${migration.name})`).join(", "),
  });
}

/** Serves until a signal asks to stop; returns the exit code (0 after a clean shutdown). */
export async function serve(config: ServerConfig): Promise<number> {
  await ensurePrivateDir(config.dataDir);
  const tls = await tlsFilesOf(config);
  const where = {
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
  };
  // Serving threads that share a SQLite file take turns to write through one lock, without blocking.
  const sqliteWriteLock = config.workers > 1 ? ThreadWriteLock.createBuffer() : undefined;
  await using store = await openStore({
    ...where,
    ...(sqliteWriteLock === undefined ? {} : { sqliteWriteLock }),
    ...storeTestHooks((name) => Deno.env.get(name)),
    onMigrations: (pending) => logMigrations(describeStore(where), pending),
  });
  const bank = await ensureBankKey(config.dataDir, nodeHandshakeCrypto);
  await provisionDemo(store, config, { storeName: describeStore(where), bankPublicKey: bank.publicKey });

  const stats = new ServerStats();
  const plan = planBudget(config);
  const budgets = { memory: createBudgetMemory(), connectionsMax: plan.connectionsMax };
  // The node:tls listener always shares its port, so that it can rebind it after an out-of-files brush.
  const reusePort = config.tlsListener === "node" || config.workers > 1;
  const port = reusePort ? claimPort(config.host, config.port) : config.port;
  const webPort = config.webPort === 0 ? null : claimPort(config.host, config.webPort);
  const web = webPort === null
    ? {}
    : { web: { port: webPort, origins: webOriginsOf(config.host, webPort, config.webOrigins) } };
  const node = await startNode({ config, tls, store, stats, port, reusePort, budgets, bank, ...web });
  const workers = await startWorkers({
    config,
    tls,
    port: node.addr.port,
    stats,
    budgets,
    count: config.workers - 1,
    ...(sqliteWriteLock === undefined ? {} : { sqliteWriteLock }),
  }).catch(async (error) => {
    await node.drain(0);
    throw error;
  });

  const app = createMonitorApp({
    stats,
    ready: async () => !stats.draining && (await store.ping().then(() => true, () => false)),
    ...(config.monitorToken === undefined ? {} : { token: config.monitorToken }),
  });
  const monitor = withContext(
    `Cannot serve the monitor on ${config.monitorHost}:${config.monitorPort}`,
    () => startMonitor(config, { handler: app.fetch, stats }),
  );
  const stopTimers = startStatsTimers(store, stats);
  logListening(config, { node: node.addr, monitor: monitor.addr, web: node.webAddr, caPath: tls.caPath });

  const signal = await waitForSignal();
  log.info("Received {signal}: draining (up to {timeout} ms)", { signal, timeout: config.shutdownTimeoutMs });
  stats.startDraining();
  const drained = await Promise.all([
    node.drain(config.shutdownTimeoutMs),
    ...workers.map((worker) => worker.drain()),
  ]);
  const cut = drained.reduce((sum, result) => sum + result.cut, 0);
  stopTimers();
  await monitor.close();
  log.info("Stopped: {answered} requests answered, {cut} connections cut at the deadline", {
    answered: stats.snapshot().tasks_processed,
    cut,
  });
  return 0;
}

/**
 * Each second: the statistics' tick, and the journal chain's head for /status and /metrics (one read at a
 * time; a failed read, the store down, leaves the last head shown). Returns what stops both.
 */
function startStatsTimers(store: BankStore, stats: ServerStats): () => void {
  let reading = false;
  const readHead = () => {
    if (reading) return;
    reading = true;
    store.chainHead().then(
      (head) => stats.setLedgerHead({ entry: head.entry, hash: formatHash(head.hash) }),
      () => {},
    ).finally(() => (reading = false));
  };
  readHead();
  const timer = setInterval(() => {
    stats.tick();
    readHead();
  }, STATS_TICK_MS);
  return () => clearInterval(timer);
}

/** Makes the demo identities and their accounts (none when `--demo-clients 0`), and says what the store holds. */
async function provisionDemo(
  store: BankStore,
  config: ServerConfig,
  parts: { storeName: string; bankPublicKey: Uint8Array },
): Promise<void> {
  const { storeName, bankPublicKey } = parts;
  const context = { store, crypto: nodeHandshakeCrypto, bankPublicKey };
  const identities = await provisionDemoIdentities(context, {
    dataDir: config.dataDir,
    count: config.demoClients,
  });
  const accounts = await openDemoAccounts(store, await allIdentityNames(store));
  log.info("Store: {store}; {identities} demo identities keyed and {accounts} demo accounts made", {
    store: storeName,
    identities,
    accounts,
  });
}

function logListening(
  config: ServerConfig,
  at: { node: PeerAddress; monitor: PeerAddress; web: PeerAddress | null; caPath: string },
): void {
  log.info("Bank server listening on {address} (TLS via {kind}, {threads} serving threads, CA {ca})", {
    address: formatAddress(at.node),
    kind: config.tlsListener === "node" ? "node:tls" : "Deno.listenTls",
    threads: config.workers,
    ca: at.caPath,
  });
  if (config.tlsListener === "deno") {
    log.warning(
      "--tls-listener deno cannot close connections still in their TLS handshake: for measurement only",
    );
  }
  if (at.web !== null) {
    log.info("Web app listening on https://{address}/", { address: formatAddress(at.web) });
  }
  log.info("Monitor listening on http://{address}/status", { address: formatAddress(at.monitor) });
}

/** Sizes the connection budget below the open-file limit and logs how the files are shared out. */
function planBudget(config: ServerConfig): ConnectionPlan {
  const limit = raiseFileLimit();
  const plan = planConnections({
    fileLimit: limit?.soft ?? null,
    reserve: config.fdReserve,
    monitorConnections: config.monitor.connectionsMax,
    asked: config.maxConnections,
    fallback: CONNECTIONS_WITHOUT_LIMIT,
    connectionsMin: CONNECTIONS_MIN,
    defaultReserve: defaultFdReserve,
  });
  log.info(
    "Open-file limit {soft} (hard {hard}): up to {connections} TLS connections, {monitor} monitor " +
      "connections, {reserve} files reserved",
    {
      soft: limit?.soft ?? "unknown",
      hard: limit?.hard ?? "unknown",
      connections: plan.connectionsMax,
      monitor: config.monitor.connectionsMax,
      reserve: plan.reserve,
    },
  );
  if (limit !== null && limit.soft < limit.hard) {
    log.warning("The soft open-file limit {soft} is below the hard one {hard}: raise it (ulimit -n)", {
      ...limit,
    });
  }
  if (plan.lowered !== undefined) {
    log.warning("--max-connections {asked} is above what the open-file limit allows: {connections} it is", {
      asked: plan.lowered.asked,
      connections: plan.connectionsMax,
    });
  }
  return plan;
}

/** The monitor's listener, its refusals counted and logged within the rejection log's budget. */
function startMonitor(
  config: ServerConfig,
  parts: { handler: (request: Request) => Response | Promise<Response>; stats: ServerStats },
): HttpListener & { close(): Promise<void> } {
  const rejections = new RejectionLog({
    summarize: (summary) =>
      log.warn("Monitor refused {count} more requests from {from} in the last {seconds} s: {reasons}", {
        ...summary,
        from: summary.address ?? "other addresses",
      }),
  });
  let acceptErrorLoggedMs = -Infinity;
  const listener = startHttpListener({
    hostname: config.monitorHost,
    port: config.monitorPort,
    budget: config.monitor,
    handler: parts.handler,
    onRefused: (refusal, peer: PeerAddress) => {
      parts.stats.monitorRefused(refusal);
      if (!rejections.record(peer.hostname, refusal)) return;
      log.warn("Monitor refused {peer}: {reason}", { peer: formatAddress(peer), reason: refusal });
    },
    onAcceptError: (error) => {
      parts.stats.acceptFailed();
      const nowMs = performance.now();
      if (nowMs - acceptErrorLoggedMs < REJECTION_LOG_INTERVAL_MS) return;
      acceptErrorLoggedMs = nowMs;
      log.error("The monitor could not accept a connection: {error}; backing off", { error: error.message });
    },
  });
  return {
    addr: listener.addr,
    async close() {
      await listener.close();
      rejections.stop();
    },
  };
}

/** Every identity's name, read page by page. */
async function allIdentityNames(store: IdentityDirectory): Promise<string[]> {
  const names: string[] = [];
  for (let page = 0; page <= IDENTITIES_MAX / IDENTITIES_PAGE_MAX; page++) {
    const after = names.at(-1);
    const records = await store.listIdentities({
      limit: IDENTITIES_PAGE_MAX,
      ...(after === undefined ? {} : { after }),
    });
    names.push(...records.map((record) => record.name));
    if (records.length < IDENTITIES_PAGE_MAX) break;
  }
  return names;
}

/**
 * Makes sure nobody else listens on the port before our threads share it (SO_REUSEPORT would otherwise let
 * a second server join the first one's port silently): binds it alone, then lets it go. Port 0 picks one.
 */
function claimPort(hostname: string, port: number): number {
  const probe = withContext(`Cannot listen on ${hostname}:${port}`, () => Deno.listen({ hostname, port }));
  const claimed = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return claimed;
}

/** The operator's certificate and key, or the development CA's, made on first start. */
function tlsFilesOf(config: ServerConfig) {
  return config.certPath !== undefined && config.keyPath !== undefined
    ? loadCertificateFiles(config.certPath, config.keyPath)
    : ensureDevCertificates(config.dataDir);
}

/** A worker thread as the main thread sees it. */
interface WorkerHandle {
  drain(): Promise<{ cut: number }>;
}

interface WorkerOptions {
  config: ServerConfig;
  tls: { certPem: string; keyPem: string };
  port: number;
  stats: ServerStats;
  budgets: { memory: BudgetMemory; connectionsMax: number };
  sqliteWriteLock?: SharedArrayBuffer;
}

/** Starts `count` worker threads serving the same port; resolves when all of them listen. */
async function startWorkers(options: WorkerOptions & { count: number }): Promise<WorkerHandle[]> {
  return await Promise.all(Array.from({ length: options.count }, () => startWorker(options)));
}

function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  let drained: ((result: { cut: number }) => void) | undefined;
  const drain = () =>
    new Promise<{ cut: number }>((done) => {
      const giveUp = setTimeout(
        () => drained?.({ cut: 0 }),
        options.config.shutdownTimeoutMs + DRAIN_MARGIN_MS,
      );
      drained = (result) => {
        clearTimeout(giveUp);
        drained = undefined;
        worker.terminate();
        done(result);
      };
      worker.postMessage({ type: "drain", timeoutMs: options.config.shutdownTimeoutMs } satisfies ToWorker);
    });
  let ready = false;
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === "stats") options.stats.applyDelta(message.delta);
      else if (message.type === "failed") {
        if (ready) drained?.({ cut: 0 });
        else {
          worker.terminate();
          reject(new Error(`A worker thread failed: ${message.message}`));
        }
      } else if (message.type === "drained") drained?.({ cut: message.cut });
      else {
        ready = true;
        resolve({ drain });
      }
    };
    // Before it serves, a worker that fails stops startup with a message; after, its error is left to end
    // the process like any error of the main thread (a broken invariant must not be survived).
    worker.onerror = (event) => {
      if (ready) return;
      event.preventDefault();
      reject(new Error(`A worker thread crashed: ${event.message}`));
    };
    const init: ToWorker = {
      type: "init",
      config: options.config,
      tls: options.tls,
      port: options.port,
      sequence: options.stats.sequence,
      budgets: options.budgets,
      ...(options.sqliteWriteLock === undefined ? {} : { sqliteWriteLock: options.sqliteWriteLock }),
    };
    worker.postMessage(init);
  });
}

function formatAddress(address: PeerAddress): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

function waitForSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((name, index) => Deno.removeSignalListener(name, handlers[index]!));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}
