/**
 * A worker thread's entry: one more serving thread on the server's port (SO_REUSEPORT), with its own
 * connection to the store, reporting its statistics to the main thread.
 *
 * Messages: main -> worker `init` then `drain`; worker -> main `ready` (or `failed`), `stats`, `drained`.
 *
 * @module
 */
import { isAssertionFailure } from "../lib/assert.ts";
import type { BudgetMemory } from "./admission.ts";
import type { ServerConfig } from "./config.ts";
import { openStore } from "./ledger/mod.ts";
import { storeTestHooks } from "./test_hooks.ts";
import { configureLogging } from "./log.ts";
import { startNode } from "./node.ts";
import type { ServingNode } from "./node.ts";
import { ForwardingStats } from "./stats/forwarding.ts";
import type { StatsDelta } from "./stats/sink.ts";

/** What the main thread sends a worker. */
export type ToWorker =
  | {
    type: "init";
    config: ServerConfig;
    tls: { certPem: string; keyPem: string };
    port: number;
    sequence: SharedArrayBuffer;
    /** The process's shared budgets. */
    budgets: { memory: BudgetMemory; connectionsMax: number };
    /** The lock the serving threads take turns with to write a SQLite ledger. */
    sqliteWriteLock?: SharedArrayBuffer;
  }
  | { type: "drain"; timeoutMs: number };

/** What a worker sends the main thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "stats"; delta: StatsDelta }
  | { type: "drained"; cut: number };

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

let node: ServingNode | undefined;
let closeStore: (() => Promise<void>) | undefined;
let stats: ForwardingStats | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  const work = message.type === "init" ? start(message) : drain(message.timeoutMs);
  work.catch((error: unknown) => {
    if (isAssertionFailure(error)) throw error;
    scope.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  });
};

async function start(message: Extract<ToWorker, { type: "init" }>): Promise<void> {
  const { config } = message;
  await configureLogging({ level: config.logLevel, format: config.logFormat });
  const store = await openStore({
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    ...(message.sqliteWriteLock === undefined ? {} : { sqliteWriteLock: message.sqliteWriteLock }),
    ...storeTestHooks((name) => Deno.env.get(name)),
  });
  closeStore = () => store.close();
  stats = new ForwardingStats({
    sequence: message.sequence,
    send: (delta) => scope.postMessage({ type: "stats", delta }),
  });
  node = await startNode({
    config,
    tls: message.tls,
    store,
    stats,
    port: message.port,
    reusePort: true,
    budgets: message.budgets,
  });
  scope.postMessage({ type: "ready" });
}

async function drain(timeoutMs: number): Promise<void> {
  const { cut } = node === undefined ? { cut: 0 } : await node.drain(timeoutMs);
  stats?.stop();
  await closeStore?.();
  scope.postMessage({ type: "drained", cut });
}
