/**
 * Running the server: open the store, start the TLS listener, the identity watcher and the monitor, then
 * on SIGINT or SIGTERM drain (stop accepting, answer requests in flight, close) and close the store.
 *
 * @module
 */
import { ensureDevCertificates, loadCertificateFiles } from "../certs/mod.ts";
import { createMonitorApp } from "../monitor/app.ts";
import { FAST_AEAD } from "../protocol/aead.ts";
import { randomBytes } from "../protocol/bytes.ts";
import { AES_KEY_BYTES, IDENTITIES_MAX, IDENTITIES_PAGE_MAX } from "../protocol/limits.ts";
import type { ServerConfig } from "./config.ts";
import { openDemoAccounts } from "./demo.ts";
import { ensurePrivateDir } from "./files.ts";
import { IdentityWatcher, provisionDemoIdentities } from "./identities.ts";
import { instrumentLedger } from "./ledger/instrumented.ts";
import type { IdentityDirectory } from "./ledger/ledger.ts";
import { describeStore, openStore } from "./ledger/mod.ts";
import { startBankListener } from "./listener.ts";
import { serverLogger } from "./log.ts";
import type { SessionControl } from "./session.ts";
import { ServerStats } from "./stats.ts";

const STATS_TICK_MS = 1_000;
const log = serverLogger("main");

/** Serves until a signal asks to stop; returns the exit code (0 after a clean shutdown). */
export async function serve(config: ServerConfig): Promise<number> {
  await ensurePrivateDir(config.dataDir);
  const tls = config.certPath !== undefined && config.keyPath !== undefined
    ? await loadCertificateFiles(config.certPath, config.keyPath)
    : await ensureDevCertificates(config.dataDir);
  const where = {
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
  };
  await using store = await openStore(where);
  const demoIdentities = await provisionDemoIdentities(store, {
    dataDir: config.dataDir,
    count: config.demoClients,
  });
  const demoAccounts = await openDemoAccounts(store, await allIdentityNames(store));
  log.info("Store: {store}; {identities} demo identities and {accounts} demo accounts made", {
    store: describeStore(where),
    identities: demoIdentities,
    accounts: demoAccounts,
  });

  const stats = new ServerStats();
  const sessions = new Set<SessionControl>();
  const watcher = new IdentityWatcher(store, (change) => {
    const ended = listener.endSessionsOf(change.name, {
      belowGeneration: change.generation,
      reason: `identity ${change.status === "revoked" ? "revoked" : "rotated"}`,
    });
    log.info("Identity {name} is now {status} (generation {generation}); {ended} sessions ended", {
      ...change,
      ended,
    });
  });
  const listener = withContext(`Cannot listen on ${config.host}:${config.port}`, () =>
    startBankListener({
      hostname: config.host,
      port: config.port,
      certPem: tls.certPem,
      keyPem: tls.keyPem,
      maxConnections: config.maxConnections,
    }, {
      settings: config,
      ledger: instrumentLedger(store, stats),
      identities: store,
      latestGeneration: (name) => watcher.latestGeneration(name),
      decoyAuthKey: randomBytes(AES_KEY_BYTES),
      stats,
      sessions,
      aead: FAST_AEAD,
    }));
  await watcher.start();

  const monitorAbort = new AbortController();
  const app = createMonitorApp({
    stats,
    ready: async () => !stats.draining && (await store.ping().then(() => true, () => false)),
    ...(config.monitorToken === undefined ? {} : { token: config.monitorToken }),
  });
  const monitor = withContext(
    `Cannot serve the monitor on ${config.monitorHost}:${config.monitorPort}`,
    () =>
      Deno.serve({
        hostname: config.monitorHost,
        port: config.monitorPort,
        signal: monitorAbort.signal,
        onListen: () => {},
      }, app.fetch),
  );
  const ticker = setInterval(() => stats.tick(), STATS_TICK_MS);
  log.info("Bank server listening on {address} (TLS, CA {ca})", {
    address: formatAddress(listener.addr),
    ca: tls.caPath,
  });
  log.info("Monitor listening on http://{address}/status", { address: formatAddress(monitor.addr) });

  const signal = await waitForSignal();
  log.info("Received {signal}: draining (up to {timeout} ms)", { signal, timeout: config.shutdownTimeoutMs });
  stats.startDraining();
  const { cut } = await listener.drain(config.shutdownTimeoutMs);
  clearInterval(ticker);
  await watcher.stop();
  monitorAbort.abort();
  await monitor.finished;
  log.info("Stopped: {answered} requests answered, {cut} connections cut at the deadline", {
    answered: stats.snapshot().tasks_processed,
    cut,
  });
  return 0;
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

/** Runs `start`, prefixing a failure's message with what was being attempted. */
function withContext<T>(attempt: string, start: () => T): T {
  try {
    return start();
  } catch (error) {
    throw new Error(`${attempt}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

function formatAddress(address: Deno.NetAddr): string {
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
