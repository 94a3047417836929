/**
 * Test-only hooks, for the chaos checker's negative controls (tools/chaos/): each breaks a guarantee on
 * purpose, so that a run can prove the checker sees the breakage. A hook is off unless its environment
 * variable holds exactly the value below, and the server says so loudly at start; no flag, no default, no
 * configuration file turns one on.
 *
 * @module
 */
import { randomBytes, toBase64Url } from "../lib/bytes.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { serverLogger } from "./log.ts";

const log = serverLogger("test-hooks");

/** Transfers forget their idempotency key: a retried transfer is applied again (double application). */
export const FORGET_IDEMPOTENCY_ENV = "BANK_TEST_ONLY_FORGET_IDEMPOTENCY";
export const FORGET_IDEMPOTENCY_VALUE = "break-exactly-once";

/** PostgreSQL commits are acknowledged before they are durable: an immediate stop loses acknowledged writes. */
export const ASYNC_COMMIT_ENV = "BANK_TEST_ONLY_ASYNC_COMMIT";
export const ASYNC_COMMIT_VALUE = "lose-acknowledged-writes";

/** The store's options any hook the environment turns on asks for. */
export function storeTestHooks(env: (name: string) => string | undefined): { asyncCommitForTests?: true } {
  if (env(ASYNC_COMMIT_ENV) !== ASYNC_COMMIT_VALUE) return {};
  log.warn(
    "TEST-ONLY HOOK: PostgreSQL commits are acknowledged before they are durable. Never in production.",
  );
  return { asyncCommitForTests: true };
}

/** The ledger, with any hook the environment turns on applied to it. */
export function withTestHooks(ledger: Ledger, env: (name: string) => string | undefined): Ledger {
  if (env(FORGET_IDEMPOTENCY_ENV) !== FORGET_IDEMPOTENCY_VALUE) return ledger;
  log.warn(
    "TEST-ONLY HOOK: transfers forget their idempotency keys; retries apply twice. Never in production.",
  );
  return {
    ...ledger,
    transfer: (input) =>
      ledger.transfer({ ...input, idempotencyKey: `${input.idempotencyKey}~${toBase64Url(randomBytes(6))}` }),
  };
}
