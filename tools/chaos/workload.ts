/**
 * The chaos checker's workload: clients that send structured transfers between random accounts, holds that
 * they capture at once, and balance reads, each write under its own idempotency key. A request whose outcome
 * is unknown (no answer in time, the connection lost, `unavailable`) is sent again, unchanged, until its
 * outcome is known or the run's grace period ends, possibly through another server. Every attempt is
 * recorded: the history the verdict is drawn from.
 *
 * Each client's transfer amounts are distinct (1 cent, 2 cents, ...), so a journal entry can be matched to
 * the request it came from by identity and amount alone, without trusting the server's idempotency keys:
 * that is how a double application shows.
 *
 * @module
 */
import { BankConnection } from "../../client/connection.ts";
import type { Credential } from "../../protocol/credential.ts";
import { seededRandom } from "../../lib/random.ts";
import { sleep } from "../../lib/sleep.ts";

/** A logical write and what became of it. */
export interface Operation {
  id: number;
  client: number;
  identity: string;
  kind: "transfer" | "hold";
  key: string;
  to: string;
  amountMinor: bigint;
  attempts: number;
  /** `ok`/`exists`: done; `refused`: a definite refusal (`code`); `unknown`: no outcome learned in time. */
  outcome: "ok" | "exists" | "refused" | "unknown";
  code?: string;
  transferId?: string;
  /** A hold's id; its capture's transfer id, or null when the capture's outcome stayed unknown. */
  holdId?: string;
  captureTransferId?: string | null;
  startedMs: number;
  endedMs: number;
}

/** One attempt, as a line of the history file. */
export interface Attempt {
  t_ms: number;
  client: number;
  op: number;
  kind: string;
  key: string;
  attempt: number;
  server: number;
  answer: string;
}

export interface WorkloadOptions {
  clients: number;
  seed: number;
  /** Where client n connects on attempt k: a port (the servers' proxies). */
  portFor(client: number, attempt: number): { port: number; server: number };
  caPem: string;
  credentials: Credential[];
  /** Accounts of the clients, by client number (1-based), which are also the transfer targets. */
  accounts: string[];
  /** New requests stop at `endMs`; unknown ones are retried until `graceEndMs`. */
  endMs: number;
  graceEndMs: number;
  /** Per-request wait for an answer. */
  timeoutMs: number;
  record(attempt: Attempt): void;
  /** Every answered read or write, for the throughput timeline. */
  answered(atMs: number): void;
}

type Wire = Record<string, unknown>;

/** Runs every client until `endMs` (and its unknown requests until `graceEndMs`); returns every write. */
export async function runWorkload(options: WorkloadOptions): Promise<Operation[]> {
  const operations: Operation[] = [];
  let nextId = 0;
  await Promise.all(Array.from({ length: options.clients }, async (_, index) => {
    const client = index + 1;
    const random = seededRandom(options.seed * 7_919 + client);
    const session = new Session(options, client);
    try {
      for (let sent = 1; performance.now() < options.endMs; sent++) {
        const dice = random();
        if (dice < 0.2) {
          await session.read();
          continue;
        }
        const choices = options.accounts.filter((_, other) => other !== index);
        const operation: Operation = {
          id: nextId++,
          client,
          identity: `client-${client}`,
          kind: dice < 0.3 ? "hold" : "transfer",
          key: `chaos-${options.seed}-${client}-${sent}`,
          to: choices[Math.floor(random() * choices.length)]!,
          amountMinor: BigInt(sent),
          attempts: 0,
          outcome: "unknown",
          startedMs: performance.now(),
          endedMs: 0,
        };
        operations.push(operation);
        await (operation.kind === "hold" ? session.holdAndCapture(operation) : session.transfer(operation));
        operation.endedMs = performance.now();
      }
    } finally {
      await session.close();
    }
  }));
  return operations;
}

/** One client's connection, reopened whenever an attempt fails, and its requests. */
class Session {
  readonly #options: WorkloadOptions;
  readonly #client: number;
  #connection: BankConnection | null = null;
  #server = 0;
  #attempts = 0;
  #requests = 0;

  constructor(options: WorkloadOptions, client: number) {
    this.#options = options;
    this.#client = client;
  }

  async read(): Promise<void> {
    await this.#once({ op: "balance" }, { kind: "balance", op: -1, key: "", attempt: 1 }).catch(() => null);
  }

  async transfer(operation: Operation): Promise<void> {
    const answer = await this.#untilKnown(operation, {
      op: "transfer",
      to: operation.to,
      amount_minor: operation.amountMinor.toString(),
      idempotency_key: operation.key,
    });
    if (answer !== null) operation.transferId = String((answer.result as Wire).transfer_id);
  }

  async holdAndCapture(operation: Operation): Promise<void> {
    const answer = await this.#untilKnown(operation, {
      op: "hold",
      to: operation.to,
      amount_minor: operation.amountMinor.toString(),
      idempotency_key: operation.key,
      expires_in_s: 3_600,
    });
    if (answer === null) return;
    const holdId = String((answer.result as Wire).hold_id);
    operation.holdId = holdId;
    // The capture is idempotent by its hold: at most once, a replay answers the same entry.
    const capture = { ...operation, outcome: "unknown" as Operation["outcome"], attempts: 0 };
    const captured = await this.#untilKnown(capture, { op: "capture", hold_id: holdId });
    operation.attempts += capture.attempts;
    if (captured !== null) {
      operation.captureTransferId = String((captured.result as Wire).capture_transfer_id);
    }
    if (capture.outcome === "unknown") operation.captureTransferId = null;
    if (capture.outcome === "refused") operation.code = `capture ${capture.code}`;
  }

  /** Sends `request` until an answer other than `unavailable` arrives or the grace period ends. */
  async #untilKnown(operation: Operation, request: Wire): Promise<Wire | null> {
    while (performance.now() < this.#options.graceEndMs) {
      operation.attempts += 1;
      const tag = {
        kind: String(request.op),
        op: operation.id,
        key: operation.key,
        attempt: operation.attempts,
      };
      const answer = await this.#once(request, tag).catch(() => null);
      if (answer !== null && answer.ok === true) {
        const status = String((answer.result as Wire).status);
        operation.outcome = status === "exists" ? "exists" : "ok";
        return answer;
      }
      const code = answer === null ? null : String((answer.error as Wire | undefined)?.code);
      if (code !== null && code !== "unavailable") {
        operation.outcome = "refused";
        operation.code = code;
        return null;
      }
      await sleep(50 + Math.min(500, 50 * operation.attempts));
    }
    operation.outcome = "unknown";
    return null;
  }

  /** One attempt: the answer, or a throw (no connection, no answer in time, connection lost). */
  async #once(request: Wire, tag: Omit<Attempt, "t_ms" | "client" | "server" | "answer">): Promise<Wire> {
    const record = (answer: string) =>
      this.#options.record({
        t_ms: Math.round(performance.now()),
        client: this.#client,
        server: this.#server,
        ...tag,
        answer,
      });
    try {
      if (this.#connection === null) {
        const where = this.#options.portFor(this.#client, ++this.#attempts);
        this.#server = where.server;
        this.#connection = await BankConnection.connect({
          host: "127.0.0.1",
          port: where.port,
          caPem: this.#options.caPem,
          credential: this.#options.credentials[this.#client - 1]!,
          timeoutMs: this.#options.timeoutMs,
        });
      }
      const answer = await this.#connection.sendStructured({
        v: 1,
        id: `r${++this.#requests}`,
        ...request,
      }) as Wire;
      this.#options.answered(performance.now());
      record(
        answer.ok === true
          ? `ok ${String((answer.result as Wire).status ?? "")}`.trim()
          : `error ${String((answer.error as Wire | undefined)?.code)}`,
      );
      return answer;
    } catch (error) {
      record(`lost: ${error instanceof Error ? error.message : String(error)}`);
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = null;
    await connection?.close().catch(() => {});
  }
}
