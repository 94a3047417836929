/**
 * Handshake versions side by side, in one run: the last tree with handshake version 1 (a symmetric proof
 * over a shared secret) is checked out beside this one, and each tree's own server and client open and
 * close full sessions (TLS and the bank handshake) against each other, in mirrored rounds (v1, v2, v2, v1)
 * so that a drift of the machine weighs on both alike. Reported: sessions per second, and the CPU time the
 * server process (read from /proc) and the client spent per session.
 *
 * @module
 */
import process from "node:process";
import { nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import { CLIENT_CONNECTS_IN_FLIGHT_MAX } from "../client/limits.ts";
import { CLOCK_TICKS_PER_SECOND, cpuTicksOf, ROOT, withTreeAt } from "./trees.ts";
import { demoCredentials } from "../tools/harness.ts";

/** The last commit whose handshake is version 1 (the parent of the commit that replaced it). */
export const V1_REVISION = "83052e0";
const IDENTITIES = 50;

export interface HandshakeResult {
  version: "v1" | "v2";
  round: number;
  sessionsPerSecond: number;
  serverCpuUsPerSession: number;
  clientCpuUsPerSession: number;
}

/** The parts of a tree's harness and client the measurement uses (both trees have them). */
interface Tree {
  version: "v1" | "v2";
  startServer(options: { args: string[] }): Promise<
    AsyncDisposable & {
      pid: number;
      port: number;
      caPem(): Promise<string>;
      credential(name: string): Promise<unknown>;
    }
  >;
  connect(options: Record<string, unknown>): Promise<{ close(): Promise<void> }>;
  /** What the tree's client is told beyond host, port, CA and credential. */
  clientOptions: Record<string, unknown>;
}

/**
 * Measures both versions for `durationMs` per round; returns nothing (and says why) when the reference
 * tree cannot be checked out (a shallow clone, no git).
 */
export async function measureHandshakeVersions(
  options: { durationMs: number; reference: string },
): Promise<HandshakeResult[]> {
  const measured = await withTreeAt(options.reference, "handshake versions", async (checkout) => {
    const trees = await Promise.all([treeAt(checkout, "v1"), treeAt(ROOT, "v2")]);
    const results: HandshakeResult[] = [];
    for (const [index, tree] of [...trees, ...[...trees].reverse()].entries()) {
      const result = await measureTree(tree, { round: index < 2 ? 1 : 2, durationMs: options.durationMs });
      results.push(result);
      console.log(
        `handshake ${tree.version} round ${result.round}: ${
          result.sessionsPerSecond.toFixed(0)
        } sessions/s, ` +
          `server ${result.serverCpuUsPerSession.toFixed(0)} us CPU each, client ${
            result.clientCpuUsPerSession.toFixed(0)
          } us`,
      );
    }
    return results;
  });
  return measured ?? [];
}

async function treeAt(root: string, version: "v1" | "v2"): Promise<Tree> {
  const harness = await import(`${root}tools/harness.ts`);
  const connection = await import(`${root}client/connection.ts`);
  return {
    version,
    startServer: harness.startServer,
    connect: (options) => connection.BankConnection.connect(options),
    // Version 2's client signs with node:crypto here, as its server does: the faster of its two choices.
    clientOptions: version === "v2" ? { crypto: nodeHandshakeCrypto } : {},
  };
}

async function measureTree(tree: Tree, run: { round: number; durationMs: number }): Promise<HandshakeResult> {
  await using server = await tree.startServer({
    args: ["--demo-clients", String(IDENTITIES), "--workers", "1"],
  });
  const caPem = await server.caPem();
  const credentials = await demoCredentials(server, IDENTITIES);
  const open = (index: number) =>
    tree.connect({
      host: "127.0.0.1",
      port: server.port,
      caPem,
      credential: credentials[index % credentials.length],
      ...tree.clientOptions,
    });
  // Warm both ends (JIT, key caches) before the measured window.
  for (let index = 0; index < IDENTITIES; index++) await (await open(index)).close();

  const serverBefore = await cpuTicksOf(server.pid);
  const clientBefore = process.cpuUsage();
  const startedMs = performance.now();
  const endMs = startedMs + run.durationMs;
  let opened = 0;
  await Promise.all(Array.from({ length: CLIENT_CONNECTS_IN_FLIGHT_MAX }, async (_, worker) => {
    while (performance.now() < endMs) {
      await (await open(opened + worker)).close();
      opened += 1;
    }
  }));
  const seconds = (performance.now() - startedMs) / 1000;
  const serverTicks = await cpuTicksOf(server.pid) - serverBefore;
  const client = process.cpuUsage(clientBefore);
  return {
    version: tree.version,
    round: run.round,
    sessionsPerSecond: opened / seconds,
    serverCpuUsPerSession: serverTicks / CLOCK_TICKS_PER_SECOND * 1e6 / opened,
    clientCpuUsPerSession: (client.user + client.system) / opened,
  };
}

if (import.meta.main) {
  const durationMs = Number(Deno.args[0] ?? "5") * 1000;
  await measureHandshakeVersions({ durationMs, reference: Deno.args[1] ?? V1_REVISION });
}
