/**
 * One serving thread: a TLS listener over a store, with its own sessions and its own identity watcher.
 * The main thread runs one; with `--workers N`, each worker thread runs another on the same port. The main
 * thread's also serves the web port (the app's files, and bank sessions over WebSockets) when it is on.
 *
 * @module
 */
import { FAST_AEAD, nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import type { Signer } from "../protocol/handshake_crypto.ts";
import { randomBytes } from "../lib/bytes.ts";
import { KEY_BYTES } from "../protocol/limits.ts";
import { Admission } from "./admission.ts";
import type { BudgetMemory } from "./admission.ts";
import { isLoopbackHost } from "./config.ts";
import type { ServerConfig } from "./config.ts";
import { activeKeyIds, IdentityWatcher } from "./identities.ts";
import { loadBankKey } from "./bank_key.ts";
import { instrumentLedger } from "./instrumented_ledger.ts";
import { withTestHooks } from "./test_hooks.ts";
import { installPostgresDriverGuard } from "./ledger/postgres_guard.ts";
import type { BankStore } from "./ledger/ledger.ts";
import { startBankListener } from "./listener.ts";
import type { BankListener, ListenerContext, ListenerOptions } from "./listener.ts";
import { serverLogger } from "./log.ts";
import type { PeerAddress } from "./peer.ts";
import type { SessionControl } from "./session_control.ts";
import { createWebApp } from "./web/app.ts";
import { serveWebConnection } from "./web/serve.ts";
import type { StatsSink } from "./stats/sink.ts";

const log = serverLogger("node");

export interface ServingNode {
  readonly addr: PeerAddress;
  /** Where the web app listens, when this node serves it. */
  readonly webAddr: PeerAddress | null;
  /** Stops accepting, answers requests in flight (for at most `timeoutMs`), closes, stops watching. */
  drain(timeoutMs: number): Promise<{ cut: number }>;
}

/** Starts a listener on `port` (0: a free one) serving from `store`, reporting to `stats`. */
export async function startNode(options: {
  config: ServerConfig;
  tls: { certPem: string; keyPem: string };
  store: BankStore;
  stats: StatsSink;
  port: number;
  reusePort: boolean;
  /** The bank's signing key, when the caller has it already (worker threads read it from the data directory). */
  bank?: Signer;
  /** The web port (claimed already) and the origins its pages and WebSockets may come from. */
  web?: { port: number; origins: ReadonlySet<string> };
  /** The process's shared budgets, and how many TLS connections they allow. */
  budgets: { memory: BudgetMemory; connectionsMax: number };
}): Promise<ServingNode> {
  const { config, store, stats } = options;
  const admission = new Admission(options.budgets.memory, {
    connectionsMax: options.budgets.connectionsMax,
    addressPendingMax: config.addressPendingMax,
    addressConnects: config.addressConnects,
    identitySessionsMax: config.identitySessionsMax,
    identityRequests: config.identityRequests,
  });
  installPostgresDriverGuard((error) =>
    log.error("Survived postgres.js bug porsager/postgres#1208: {stack}", { stack: error.stack })
  );
  const sessions = new Set<SessionControl>();
  const bank = options.bank ?? await loadBankKey(config.dataDir, nodeHandshakeCrypto);
  const decoy = await nodeHandshakeCrypto.signer(randomBytes(KEY_BYTES));
  const watcher = new IdentityWatcher(store, (change) => {
    // The keys are read after the change: a session whose key is no longer among them ends.
    const keys = change.status === "active" ? activeKeyIds(store, change.name) : Promise.resolve([]);
    keys.then((active) => {
      const ended = listener.endSessionsOf(change.name, {
        belowGeneration: change.generation,
        activeKeyIds: new Set(active),
        reason: change.status === "revoked" ? "identity revoked" : "key revoked",
      });
      log.info("Identity {name} changed: {status}, generation {generation}; {ended} sessions ended", {
        ...change,
        ended,
      });
    }).catch((error: unknown) => {
      log.warning("Cannot read the keys of {name}: {kind}", {
        name: change.name,
        kind: error instanceof Error ? error.name : "error",
      });
    });
  });
  const listenerOptions: ListenerOptions = {
    kind: config.tlsListener,
    hostname: config.host,
    port: options.port,
    certPem: options.tls.certPem,
    keyPem: options.tls.keyPem,
    reusePort: options.reusePort,
    admission,
  };
  const context: ListenerContext = {
    settings: config,
    ledger: withTestHooks(instrumentLedger(store, stats), (name) => Deno.env.get(name)),
    identities: store,
    latestGeneration: (name) => watcher.latestGeneration(name),
    bank,
    decoyPublicKey: decoy.publicKey,
    crypto: nodeHandshakeCrypto,
    stats,
    sessions,
    admission,
    aead: FAST_AEAD,
  };
  const listener = await withContextAsync(
    `Cannot listen on ${config.host}:${options.port}`,
    () => startBankListener(listenerOptions, context),
  );
  let webListener: BankListener | null = null;
  if (options.web !== undefined) {
    const { origins } = options.web;
    const app = createWebApp({ bankPublicKey: bank.publicKey, origins, hsts: !isLoopbackHost(config.host) });
    const web = { app: app.fetch, origins };
    webListener = await withContextAsync(
      `Cannot serve the web app on ${config.host}:${options.web.port}`,
      () =>
        startBankListener({
          ...listenerOptions,
          port: options.web!.port,
          serve: (conn, parts) => serveWebConnection(conn, parts, web),
        }, context),
    ).catch(async (error) => {
      await listener.drain(0);
      throw error;
    });
  }
  await watcher.start();
  return {
    addr: listener.addr,
    webAddr: webListener?.addr ?? null,
    async drain(timeoutMs) {
      const [result, web] = await Promise.all([
        listener.drain(timeoutMs),
        webListener?.drain(timeoutMs) ?? { cut: 0 },
      ]);
      await watcher.stop();
      return { cut: result.cut + web.cut };
    },
  };
}

/** Runs `start`, prefixing a failure's message with what was being attempted. */
export function withContext<T>(attempt: string, start: () => T): T {
  try {
    return start();
  } catch (error) {
    throw contextError(attempt, error);
  }
}

/** {@link withContext} for work that completes later. */
export async function withContextAsync<T>(attempt: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    throw contextError(attempt, error);
  }
}

function contextError(attempt: string, error: unknown): Error {
  return new Error(`${attempt}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
