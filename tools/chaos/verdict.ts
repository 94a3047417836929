/**
 * The chaos checker's verdict, drawn from the recorded history and the final state read from the store
 * itself (and, for the clients' balances, through the server): money is neither created nor destroyed, no
 * balance is below zero, every acknowledged write is journaled exactly once and as acknowledged, no refused
 * write is, every unknown outcome resolved to zero or one application, replaying the journal in commit order
 * gives the final balances (and never a negative one on the way), and `ledger verify` passes.
 *
 * Entries are matched to requests by the requesting identity, kind and amount (each client's amounts are
 * distinct), never by the idempotency key alone: a server that forgot keys could not hide behind them.
 *
 * @module
 */
import { ACCOUNTS_PAGE_MAX } from "../../server/ledger/limits.ts";
import { chainPagesOf } from "../../server/ledger/chain.ts";
import type { ChainEntry } from "../../server/ledger/chain.ts";
import type { Account, BankStore, VerifyReport } from "../../server/ledger/ledger.ts";
import type { Operation } from "./workload.ts";

/** What the store holds at the end: accounts, the journal in commit order, and its own verification. */
export interface StoreState {
  accounts: Account[];
  entries: ChainEntry[];
  verify: VerifyReport;
}

export interface Anomaly {
  kind: string;
  detail: string;
}

export interface Verdict {
  anomalies: Anomaly[];
  /** Writes by outcome, and how the unknown ones resolved. */
  outcomes: Record<string, number>;
}

/** Every account of the store, a page at a time. */
export async function readAccounts(store: BankStore): Promise<Account[]> {
  const accounts: Account[] = [];
  for (let after = "";;) {
    const page = await store.listAccounts({ limit: ACCOUNTS_PAGE_MAX, after });
    accounts.push(...page);
    if (page.length < ACCOUNTS_PAGE_MAX) return accounts;
    after = page.at(-1)!.id;
  }
}

/** Reads the whole final state (bounded by the run: every entry it made is held in memory once). */
export async function readStoreState(store: BankStore): Promise<StoreState> {
  const accounts = await readAccounts(store);
  const entries: ChainEntry[] = [];
  for await (const page of chainPagesOf(store)) {
    for (const link of page.links) {
      const entry = page.entries.get(link.entry);
      if (entry !== undefined) entries.push(entry);
    }
  }
  return { accounts, entries, verify: await store.verify() };
}

/** Judges the run. `clientAccounts[n - 1]` is client n's account; `served` its balance read through the server. */
export function judge(
  operations: readonly Operation[],
  state: StoreState,
  context: { clientAccounts: string[]; initialCustomerMinor: bigint; served: Map<string, bigint> },
): Verdict {
  const anomalies: Anomaly[] = [];
  const found = (kind: string, detail: string) => anomalies.push({ kind, detail });
  const outcomes: Record<string, number> = {};
  const count = (name: string) => (outcomes[name] = (outcomes[name] ?? 0) + 1);

  const byRequest = new Map<string, ChainEntry[]>();
  for (const entry of state.entries) {
    if (entry.kind !== "transfer" && entry.kind !== "capture") continue;
    const key = `${entry.identity}|${entry.kind}|${entry.amountMinor}`;
    byRequest.set(key, [...(byRequest.get(key) ?? []), entry]);
  }
  const matched = new Set<ChainEntry>();
  for (const operation of operations) {
    const kind = operation.kind === "hold" ? "capture" : "transfer";
    const entries = byRequest.get(`${operation.identity}|${kind}|${operation.amountMinor}`) ?? [];
    for (const entry of entries) matched.add(entry);
    const name = `${operation.kind} ${operation.key}`;
    if (entries.length > 1) {
      found(
        "applied_twice",
        `${name}: ${entries.length} entries (${entries.map((e) => e.entry).join(", ")})`,
      );
    }
    const fate = fateOf(operation);
    if (fate.acknowledged !== null) {
      count(`${operation.kind} acknowledged`);
      const entry = entries.find((candidate) => candidate.transferId === fate.acknowledged) ?? entries[0];
      if (entry === undefined) {
        found("lost_acknowledged", `${name}: answered ${fate.acknowledged}, not in the journal`);
      } else if (entry.transferId !== fate.acknowledged || entry.targetAccountId !== operation.to) {
        found(
          "acknowledged_differently",
          `${name}: answered ${fate.acknowledged} to ${operation.to}, journaled ${entry.transferId} to ${entry.targetAccountId}`,
        );
      }
    } else if (fate.refused) {
      count(`${operation.kind} refused`);
      if (entries.length > 0) {
        found(
          "refused_but_applied",
          `${name}: refused (${operation.code}), journaled as entry ${entries[0]!.entry}`,
        );
      }
    } else {
      // Zero or one application, whichever the journal says.
      count(`${operation.kind} unknown, resolved ${entries.length === 0 ? "not applied" : "applied"}`);
    }
  }
  const chaosIdentities = new Set(operations.map((operation) => operation.identity));
  for (const entry of state.entries) {
    const ours = (entry.kind === "transfer" || entry.kind === "capture") &&
      chaosIdentities.has(entry.identity);
    if (ours && !matched.has(entry)) {
      found(
        "unexplained_entry",
        `entry ${entry.entry}: ${entry.kind} ${entry.amountMinor} by ${entry.identity}`,
      );
    }
  }
  checkBalances(state, context, found);
  return { anomalies, outcomes };
}

/**
 * What the client learned of a write: the transfer id it was answered with (a hold's: its capture's), a
 * definite refusal (of the transfer, the hold, or the hold's capture), or neither.
 */
function fateOf(operation: Operation): { acknowledged: string | null; refused: boolean } {
  if (operation.kind === "transfer") {
    const acknowledged = operation.outcome === "ok" || operation.outcome === "exists";
    return {
      acknowledged: acknowledged ? operation.transferId ?? null : null,
      refused: operation.outcome === "refused",
    };
  }
  if (typeof operation.captureTransferId === "string") {
    return { acknowledged: operation.captureTransferId, refused: false };
  }
  return { acknowledged: null, refused: operation.outcome === "refused" || operation.code !== undefined };
}

/** Conservation, no balance below zero, the journal replayed in commit order, the server's word, verify. */
function checkBalances(
  state: StoreState,
  context: { initialCustomerMinor: bigint; served: Map<string, bigint> },
  found: (kind: string, detail: string) => void,
): void {
  const stored = new Map(state.accounts.map((account) => [account.id, account]));
  const total = state.accounts.reduce((sum, account) => sum + account.balanceMinor, 0n);
  if (total !== 0n) found("total_not_zero", `all balances add up to ${total}`);
  const customers = state.accounts.filter((account) => account.kind === "customer");
  const customerTotal = customers.reduce((sum, account) => sum + account.balanceMinor, 0n);
  if (customerTotal !== context.initialCustomerMinor) {
    found("money_changed", `customers hold ${customerTotal}, started with ${context.initialCustomerMinor}`);
  }
  for (const account of customers) {
    if (account.balanceMinor < 0n) found("negative_balance", `${account.id}: ${account.balanceMinor}`);
  }
  const replayed = new Map<string, bigint>();
  for (const entry of state.entries) {
    for (const posting of entry.postings) {
      const balance = (replayed.get(posting.accountId) ?? 0n) + posting.amountMinor;
      replayed.set(posting.accountId, balance);
      if (balance < 0n && stored.get(posting.accountId)?.kind === "customer") {
        found("negative_during_replay", `${posting.accountId} at entry ${entry.entry}: ${balance}`);
      }
    }
  }
  for (const account of state.accounts) {
    const balance = replayed.get(account.id) ?? 0n;
    if (balance !== account.balanceMinor) {
      found("replay_mismatch", `${account.id}: journal gives ${balance}, stored ${account.balanceMinor}`);
    }
  }
  for (const [id, balance] of context.served) {
    const account = stored.get(id);
    if (account?.balanceMinor !== balance) {
      found("server_disagrees", `${id}: served ${balance}, stored ${account?.balanceMinor}`);
    }
  }
  if (!state.verify.ok) found("verify_failed", state.verify.problems.join("; "));
}
