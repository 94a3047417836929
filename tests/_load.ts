/**
 * A transfer load for the ledger's end-to-end tests: clients send structured transfers with their own
 * idempotency keys among a few shared accounts, and the load records exactly what each client saw.
 *
 * @module
 */
import { BankConnection } from "../client/connection.ts";
import { seededRandom } from "../lib/random.ts";
import type { ServerHandle } from "../tools/harness.ts";

/** One transfer a client sent, with what it heard back (if anything). */
export interface SentTransfer {
  identity: string;
  key: string;
  to: string;
  amountMinor: bigint;
  /** `created`/`exists` with the transfer id, a refusal code, or null when no answer arrived. */
  outcome: { status: "created" | "exists"; transferId: string } | { code: string } | null;
}

export interface LoadOptions {
  /** Servers to spread clients over (client n uses servers[n % servers.length]). */
  servers: ServerHandle[];
  /** Client numbers: client n is identity `client-n` paying from `ACC-000n`. */
  clients: number[];
  /** Accounts transfers go to: a small set, for contention on purpose. */
  targets: string[];
  requestsPerClient: number;
  seed: number;
  /** Stop early when this resolves (e.g. the server was killed). */
  stop?: Promise<void>;
}

/** Runs the load until every client has sent its requests, or lost its connection. */
export async function runTransferLoad(options: LoadOptions): Promise<SentTransfer[]> {
  const sent: SentTransfer[] = [];
  let stopped = false;
  options.stop?.then(() => (stopped = true));
  await Promise.all(options.clients.map(async (client) => {
    const server = options.servers[client % options.servers.length]!;
    const identity = `client-${client}`;
    const random = seededRandom(options.seed * 1_000 + client);
    let connection: BankConnection;
    try {
      connection = await BankConnection.connect({
        host: "127.0.0.1",
        port: server.port,
        caPem: await server.caPem(),
        credential: await server.credential(identity),
      });
    } catch {
      return;
    }
    try {
      for (let index = 0; index < options.requestsPerClient && !stopped; index++) {
        const own = `ACC-${String(client).padStart(4, "0")}`;
        const choices = options.targets.filter((target) => target !== own);
        const to = choices[Math.floor(random() * choices.length)]!;
        const transfer: SentTransfer = {
          identity,
          key: `${identity}-${index}`,
          to,
          amountMinor: BigInt(1 + Math.floor(random() * 9_000)),
          outcome: null,
        };
        sent.push(transfer);
        transfer.outcome = await send(connection, transfer, `r${index}`);
      }
    } catch {
      // The connection died (a killed server): the last transfer stays unanswered.
    } finally {
      await connection.close();
    }
  }));
  return sent;
}

/** Sends one transfer (again) and returns what the server answered. */
export async function send(
  connection: BankConnection,
  transfer: SentTransfer,
  requestId: string,
): Promise<NonNullable<SentTransfer["outcome"]>> {
  const response = await connection.sendStructured({
    v: 1,
    id: requestId,
    op: "transfer",
    to: transfer.to,
    amount_minor: transfer.amountMinor.toString(),
    idempotency_key: transfer.key,
  });
  if (!response.ok) return { code: response.error.code };
  const status = response.result.status;
  if (status !== "created" && status !== "exists") throw new Error(`Unexpected status ${String(status)}`);
  return { status, transferId: String(response.result.transfer_id) };
}

/** The transfers a client saw acknowledged. */
export function acknowledged(sent: SentTransfer[]): (SentTransfer & { outcome: { transferId: string } })[] {
  return sent.filter((
    transfer,
  ): transfer is SentTransfer & { outcome: { status: "created"; transferId: string } } =>
    transfer.outcome !== null && "transferId" in transfer.outcome
  );
}
