/**
 * bank-server: the TLS transaction server and its monitor.
 *
 * ```sh
 * deno task serve                # 127.0.0.1:8443 (TLS), monitor on http://127.0.0.1:5000
 * deno task serve --help
 * ```
 *
 * Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM), 1 when startup fails, 2 for a usage error.
 * `bank-server accounts …` and `bank-server ledger verify` administer the ledger (server/admin.ts).
 *
 * @module
 */
import { ensureDevCertificates, loadCertificateFiles } from "./certs/mod.ts";
import { createMonitorApp } from "./monitor/app.ts";
import { isAssertionFailure } from "./protocol/assert.ts";
import { randomBytes } from "./protocol/bytes.ts";
import { AES_KEY_BYTES } from "./protocol/limits.ts";
import { formatOptionHelp, UsageError } from "./protocol/options.ts";
import { parseServerConfig, SERVER_OPTIONS } from "./server/config.ts";
import type { ServerConfig } from "./server/config.ts";
import { openDemoAccounts } from "./server/demo.ts";
import { ensurePrivateDir } from "./server/files.ts";
import { IdentityStore } from "./server/identities.ts";
import { describeStore, openLedger } from "./server/ledger/mod.ts";
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdmin } from "./server/admin.ts";
import { startBankListener } from "./server/listener.ts";
import { configureLogging, serverLogger } from "./server/log.ts";
import { ServerStats } from "./server/stats.ts";
import denoConfig from "./deno.json" with { type: "json" };

const USAGE = `bank-server ${denoConfig.version}: a TLS banking transaction server

Usage: bank-server [options]
       bank-server accounts|ledger … (see below)

Options:
${formatOptionHelp(SERVER_OPTIONS)}

Exit codes: 0 clean shutdown, 1 startup failure, 2 usage error.

${ADMIN_USAGE}`;

const log = serverLogger("main");

async function main(args: string[]): Promise<number> {
  const env = (name: string) => Deno.env.get(name);
  if ((ADMIN_COMMANDS as readonly string[]).includes(args[0] ?? "")) return await admin(args, env);
  let config: ServerConfig;
  try {
    config = parseServerConfig(args, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bank-server: ${error.message}\nRun "bank-server --help" for the options.`);
    return 2;
  }
  if (config.help) return print(USAGE);
  if (config.version) return print(`bank-server ${denoConfig.version}`);
  await configureLogging(config.logLevel);
  try {
    return await serve(config);
  } catch (error) {
    if (error instanceof Error && !isAssertionFailure(error)) {
      log.error("Startup failed: {message}", { message: error.message });
      return 1;
    }
    throw error;
  }
}

async function serve(config: ServerConfig): Promise<number> {
  await ensurePrivateDir(config.dataDir);
  const tls = config.certPath !== undefined && config.keyPath !== undefined
    ? await loadCertificateFiles(config.certPath, config.keyPath)
    : await ensureDevCertificates(config.dataDir);
  const identities = await IdentityStore.open(config.dataDir, { demoClients: config.demoClients });
  const store = {
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
  };
  const ledger = await openLedger(store);
  const opened = await openDemoAccounts(ledger, identities.names());
  log.info("Ledger: {store}; {opened} demo accounts opened", { store: describeStore(store), opened });
  const stats = new ServerStats();
  const listener = withContext(`Cannot listen on ${config.host}:${config.port}`, () =>
    startBankListener({
      hostname: config.host,
      port: config.port,
      certPem: tls.certPem,
      keyPem: tls.keyPem,
      maxConnections: config.maxConnections,
    }, {
      settings: config,
      ledger,
      lookupAuthKey: (name) => identities.lookupAuthKey(name),
      decoyAuthKey: randomBytes(AES_KEY_BYTES),
      stats,
    }));
  const monitorAbort = new AbortController();
  const monitor = withContext(
    `Cannot serve the monitor on ${config.monitorHost}:${config.monitorPort}`,
    () =>
      Deno.serve({
        hostname: config.monitorHost,
        port: config.monitorPort,
        signal: monitorAbort.signal,
        onListen: () => {},
      }, createMonitorApp({ stats }).fetch),
  );
  const { hostname, port } = listener.addr;
  log.info("Bank server listening on {address} (TLS, {identities} identities, CA {ca})", {
    address: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    identities: identities.names().length,
    ca: tls.caPath,
  });
  log.info("Monitor listening on http://{address}/status", {
    address: `${
      monitor.addr.hostname.includes(":") ? `[${monitor.addr.hostname}]` : monitor.addr.hostname
    }:${monitor.addr.port}`,
  });
  await waitForSignal();
  log.info("Shutting down");
  await listener.close();
  monitorAbort.abort();
  await monitor.finished;
  await ledger.close();
  return 0;
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

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}

async function admin(args: string[], env: (name: string) => string | undefined): Promise<number> {
  try {
    return await runAdmin(args, env);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`bank-server: ${error.message}\nRun "bank-server accounts --help" for the commands.`);
      return 2;
    }
    if (error instanceof Error && !isAssertionFailure(error)) {
      console.error(`bank-server: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function print(text: string): number {
  console.log(text);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
