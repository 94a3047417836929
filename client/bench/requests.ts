/**
 * The requests of one bench connection, and the check of each answer: built and read with the typed
 * messages of protocol/messages.ts, so the bench speaks exactly what the client and the server speak.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { seededRandom } from "../../lib/random.ts";
import type { OpenResult } from "../../protocol/channel.ts";
import type { Operation } from "../../protocol/codes.ts";
import { DEMO_TARGET_ACCOUNT_ID } from "../../protocol/demo.ts";
import { decodeResponse, encodeRequest } from "../../protocol/messages.ts";
import { FrameType } from "../../protocol/wire.ts";
import { BENCH_CLIENTS_MAX } from "../limits.ts";
import type { BenchMix, BenchOperation } from "./types.ts";

/** The error code of an answer that is not what its request asked for. */
const WRONG_ANSWER = "wrong_answer";

/** One request sent and not yet answered, with what its answer must repeat. */
export interface BenchRequest {
  id: string;
  operation: BenchOperation;
  plaintext: Uint8Array;
  /** Transfers only ("" and 0 otherwise): what the answer must repeat. */
  target: string;
  key: string;
  amountMinor: bigint;
  sentAtMs: number;
}

/** What a run's requests are made from. */
export interface RequestPlan {
  seed: number;
  /** A tag unique to the run, so keys and e-mail addresses never repeat those of an earlier run. */
  runTag: string;
  mix: BenchMix;
  amountMinor: bigint;
  /** Demo accounts of the identities in use: the transfer targets. */
  targets: readonly string[];
}

const WIRE_OPERATION: Record<BenchOperation, Operation> = {
  balance: "balance",
  transfer: "transfer",
  contact: "update_contact",
};

/**
 * Checks an answer against its request; returns null for the expected success, the server's code for a
 * refusal, or `wrong_answer` for anything else (another id, format or shape, or values not repeated).
 */
export function checkAnswer(request: BenchRequest, opened: Extract<OpenResult, { ok: true }>): string | null {
  if (opened.type !== FrameType.sealedJson) return WRONG_ANSWER;
  const response = decodeResponse(opened.plaintext, WIRE_OPERATION[request.operation]);
  if (response === null || response.id !== request.id) return WRONG_ANSWER;
  if (!response.ok) return response.error.code;
  const { result } = response;
  switch (result.op) {
    case "balance":
      return result.accounts.every((account) => account.currency === "USD") ? null : WRONG_ANSWER;
    case "update_contact":
      return result.changed.length === 1 && result.changed[0] === "email" ? null : WRONG_ANSWER;
    case "transfer": {
      const matches = result.status === "created" && result.targetAccountId === request.target &&
        result.amountMinor === request.amountMinor && result.idempotencyKey === request.key;
      return matches ? null : WRONG_ANSWER;
    }
    case "history":
    case "hold":
    case "capture":
    case "void":
    case "refund":
    case "enrol":
    case "rotate_key":
      return WRONG_ANSWER;
  }
}

/** Makes the requests of one connection: the operation by the seeded mix, unique ids, keys and values. */
export class RequestMaker {
  readonly #random: () => number;
  readonly #plan: RequestPlan;
  readonly #ownAccount: string | null;
  /** Whether any demo account but this connection's own can receive: fixed for the run. */
  readonly #hasOtherTarget: boolean;
  readonly #prefix: string;
  readonly #balanceBelow: number;
  readonly #transferBelow: number;
  #counter = 0;

  constructor(index: number, parts: { plan: RequestPlan; ownAccount: string | null }) {
    const { plan } = parts;
    const total = plan.mix.balance + plan.mix.transfer + plan.mix.contact;
    assert(total > 0, "A mix must have a positive weight");
    assert(index >= 0, `Connection ${index} is out of range`);
    assert(index < BENCH_CLIENTS_MAX, `Connection ${index} is out of range`);
    this.#plan = plan;
    this.#random = seededRandom((plan.seed * 100_003 + index) >>> 0);
    this.#ownAccount = parts.ownAccount;
    const own = parts.ownAccount;
    this.#hasOtherTarget = plan.targets.length - (own !== null && plan.targets.includes(own) ? 1 : 0) > 0;
    this.#prefix = `b${plan.runTag}-${index}`;
    this.#balanceBelow = plan.mix.balance / total;
    this.#transferBelow = (plan.mix.balance + plan.mix.transfer) / total;
  }

  next(): BenchRequest {
    const counter = this.#counter++;
    const id = `r${counter}`;
    const draw = this.#random();
    const base = { id, target: "", key: "", amountMinor: 0n, sentAtMs: 0 };
    if (draw < this.#balanceBelow) {
      return { ...base, operation: "balance", plaintext: encodeRequest({ op: "balance", id }) };
    }
    if (draw < this.#transferBelow) {
      const target = this.#target();
      const key = `${this.#prefix}-${counter}`;
      const { amountMinor } = this.#plan;
      const plaintext = encodeRequest({
        op: "transfer",
        id,
        targetAccountId: target,
        amountMinorText: amountMinor.toString(),
        idempotencyKey: key,
      });
      return { ...base, operation: "transfer", plaintext, target, key, amountMinor };
    }
    const email = `${this.#prefix}.${counter}@bench.example`;
    const plaintext = encodeRequest({ op: "update_contact", id, details: { email } });
    return { ...base, operation: "contact", plaintext };
  }

  /** Another identity's demo account, so money circulates among the identities in use. */
  #target(): string {
    if (!this.#hasOtherTarget) return DEMO_TARGET_ACCOUNT_ID;
    const targets = this.#plan.targets;
    const own = this.#ownAccount;
    const index = Math.floor(this.#random() * targets.length);
    const target = targets[index]!;
    return target === own ? targets[(index + 1) % targets.length]! : target;
  }
}
