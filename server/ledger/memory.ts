/**
 * An in-memory ledger: the reference implementation of {@link Ledger}'s behaviour, for tests and
 * development. Each method runs to completion without awaiting, so operations are atomic.
 *
 * @module
 */
import { assert } from "../../protocol/assert.ts";
import { BALANCE_MINOR_MAX, TRANSFER_MINOR_MAX } from "../../protocol/limits.ts";
import type {
  Account,
  ContactDetails,
  ContactField,
  ContactResult,
  Ledger,
  OpenAccountInput,
  OpenAccountResult,
  Transfer,
  TransferInput,
  TransferResult,
  VerifyReport,
} from "./ledger.ts";

/** One line of the journal: money entering through an opening deposit, or moving between accounts. */
type JournalEntry =
  | { kind: "deposit"; accountId: string; amountMinor: bigint }
  | { kind: "transfer"; transfer: Transfer };

interface ContactChange {
  owner: string;
  details: ContactDetails;
  changed: ContactField[];
  at: Date;
}

export class MemoryLedger implements Ledger {
  readonly #accounts = new Map<string, Account>();
  readonly #journal: JournalEntry[] = [];
  readonly #transfersByKey = new Map<string, Transfer>();
  readonly #contacts = new Map<string, ContactDetails>();
  readonly #contactHistory: ContactChange[] = [];
  readonly #now: () => Date;
  #closed = false;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  accountsOf(owner: string): Promise<Account[]> {
    this.#assertOpen();
    const owned = [...this.#accounts.values()].filter((account) => account.owner === owner);
    return Promise.resolve(owned.map((account) => ({ ...account })));
  }

  openAccount(input: OpenAccountInput): Promise<OpenAccountResult> {
    this.#assertOpen();
    assert(input.depositMinor >= 0n, `Opening deposit ${input.depositMinor} must not be negative`);
    assert(input.depositMinor <= BALANCE_MINOR_MAX, `Opening deposit ${input.depositMinor} is over the cap`);
    if (this.#accounts.has(input.id)) return Promise.resolve({ code: "account_exists" });
    const account: Account = {
      id: input.id,
      owner: input.owner,
      currency: "USD",
      balanceMinor: input.depositMinor,
      status: "open",
      createdAt: this.#now(),
    };
    this.#accounts.set(account.id, account);
    this.#journal.push({ kind: "deposit", accountId: account.id, amountMinor: input.depositMinor });
    return Promise.resolve({ code: "ok", account: { ...account } });
  }

  transfer(input: TransferInput): Promise<TransferResult> {
    this.#assertOpen();
    return Promise.resolve(this.#transferNow(input));
  }

  #transferNow(input: TransferInput): TransferResult {
    const previous = this.#transfersByKey.get(idempotencySlot(input));
    if (previous !== undefined) {
      return sameTransfer(previous, input) ? { code: "exists", transfer: previous } : {
        code: "key_reused_with_other_fields",
      };
    }
    if (input.amountMinor <= 0n) return { code: "amount_must_be_positive" };
    if (input.amountMinor > TRANSFER_MINOR_MAX) return { code: "amount_over_limit" };
    const source = input.sourceAccountId === undefined
      ? [...this.#accounts.values()].find((account) => account.owner === input.identity)
      : this.#accounts.get(input.sourceAccountId);
    if (source === undefined || source.owner !== input.identity) return { code: "account_not_found" };
    if (source.id === input.targetAccountId) return { code: "accounts_must_differ" };
    const target = this.#accounts.get(input.targetAccountId);
    if (target === undefined) return { code: "account_not_found" };
    if (source.status === "frozen" || target.status === "frozen") return { code: "account_frozen" };
    if (source.balanceMinor < input.amountMinor) return { code: "insufficient_funds" };
    assert(
      target.balanceMinor + input.amountMinor <= BALANCE_MINOR_MAX,
      `Account ${target.id} would overflow`,
    );

    const totalBefore = this.#totalMinor();
    source.balanceMinor -= input.amountMinor;
    target.balanceMinor += input.amountMinor;
    const transfer: Transfer = {
      id: crypto.randomUUID(),
      idempotencyKey: input.idempotencyKey,
      identity: input.identity,
      sourceAccountId: source.id,
      targetAccountId: target.id,
      amountMinor: input.amountMinor,
      createdAt: this.#now(),
    };
    this.#journal.push({ kind: "transfer", transfer });
    this.#transfersByKey.set(idempotencySlot(input), transfer);
    assert(source.balanceMinor >= 0n, `Account ${source.id} went negative`);
    assert(this.#totalMinor() === totalBefore, "A transfer must not change the total of all balances");
    return { code: "ok", transfer: { ...transfer } };
  }

  updateContact(owner: string, details: ContactDetails): Promise<ContactResult> {
    this.#assertOpen();
    const current = this.#contacts.get(owner) ?? {};
    const fields = Object.keys(details) as ContactField[];
    const changed = fields.filter((field) => current[field] !== details[field]);
    this.#contacts.set(owner, { ...current, ...details });
    this.#contactHistory.push({ owner, details: { ...details }, changed, at: this.#now() });
    return Promise.resolve({ code: "ok", changed });
  }

  verify(): Promise<VerifyReport> {
    this.#assertOpen();
    const expected = new Map<string, bigint>();
    for (const entry of this.#journal) {
      if (entry.kind === "deposit") {
        expected.set(entry.accountId, (expected.get(entry.accountId) ?? 0n) + entry.amountMinor);
      } else {
        const { sourceAccountId, targetAccountId, amountMinor } = entry.transfer;
        expected.set(sourceAccountId, (expected.get(sourceAccountId) ?? 0n) - amountMinor);
        expected.set(targetAccountId, (expected.get(targetAccountId) ?? 0n) + amountMinor);
      }
    }
    const problems: string[] = [];
    for (const account of this.#accounts.values()) {
      const journaled = expected.get(account.id) ?? 0n;
      if (journaled !== account.balanceMinor) {
        problems.push(`Account ${account.id}: balance ${account.balanceMinor}, journal says ${journaled}`);
      }
      if (account.balanceMinor < 0n) problems.push(`Account ${account.id}: negative balance`);
    }
    const report = { accounts: this.#accounts.size, totalMinor: this.#totalMinor(), problems };
    return Promise.resolve({ ok: problems.length === 0, ...report });
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #totalMinor(): bigint {
    let total = 0n;
    for (const account of this.#accounts.values()) total += account.balanceMinor;
    return total;
  }

  #assertOpen(): void {
    assert(!this.#closed, "Cannot use a closed ledger");
  }
}

/** Idempotency keys are scoped to the identity that made them. */
function idempotencySlot(input: { identity: string; idempotencyKey: string }): string {
  return `${input.identity}\u0000${input.idempotencyKey}`;
}

function sameTransfer(previous: Transfer, input: TransferInput): boolean {
  const sourceMatches = input.sourceAccountId === undefined ||
    input.sourceAccountId === previous.sourceAccountId;
  return sourceMatches && previous.targetAccountId === input.targetAccountId &&
    previous.amountMinor === input.amountMinor;
}
