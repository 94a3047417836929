/**
 * The accounts a balance check read, kept per owner for as long as the store has not changed. One SQLite
 * connection keeps one: a hit costs one `PRAGMA data_version` (its own tiny read) instead of a read
 * transaction over the account query with its holds and the rows' conversion. The connection's change
 * version (see {@link SqliteDatabase.changeVersion}) covers every commit, by this thread, another thread or
 * another process, so a balance check never answers from before a commit that was acknowledged before it
 * arrived.
 *
 * An account with active holds is not kept: its spendable balance changes when a hold expires, with no
 * commit at all. Nor is an answer kept past a clock that steps back before the read, when an expired hold
 * would count again.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { MicrotaskBatch } from "../../lib/microtask_batch.ts";
import type { Account } from "./ledger.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";

/** An owner's accounts as read, and the ledger's time of the read. */
interface Kept {
  accounts: readonly Account[];
  readAtMs: number;
}

/** A copy a caller may change without changing what is kept. */
function copyOf(account: Account): Account {
  return { ...account, createdAt: new Date(account.createdAt) };
}

export class AccountsCache {
  readonly #byOwner = new Map<string, Kept>();
  readonly #accountsMax: number;
  #accounts = 0;
  /** The change version every kept entry was read at or after. */
  #version = -1;

  /** Keeps at most `accountsMax` accounts, of however many owners. */
  constructor(accountsMax: number) {
    assert(Number.isSafeInteger(accountsMax) && accountsMax > 0, "The cache keeps at least one account");
    this.#accountsMax = accountsMax;
  }

  /**
   * The owner's accounts (a copy of each) if kept at `version` by a read no later than `nowMs`, or
   * undefined. A newer version empties the cache.
   */
  get(owner: string, at: { version: number; nowMs: number }): Account[] | undefined {
    if (at.version !== this.#version) {
      assert(at.version > this.#version, "A change version never goes back");
      this.#byOwner.clear();
      this.#accounts = 0;
      this.#version = at.version;
      return undefined;
    }
    const kept = this.#byOwner.get(owner);
    if (kept === undefined || at.nowMs < kept.readAtMs) return undefined;
    return kept.accounts.map(copyOf);
  }

  /**
   * Keeps what a read that started at `version` (taken before the read, so the rows are at least that
   * new) found at `readAtMs`, unless the cache has moved on or an account has active holds. A full cache
   * starts again (cheaper than evicting one by one from the front of a Map, and a cache that fills up
   * between two commits serves more owners than it can keep anyway).
   */
  set(owner: string, read: { version: number; readAtMs: number }, accounts: readonly Account[]): void {
    assert(
      accounts.every((account) => account.owner === owner),
      `Only ${owner}'s accounts are kept as theirs`,
    );
    if (read.version !== this.#version || accounts.length > this.#accountsMax) return;
    if (accounts.some((account) => account.heldMinor !== 0n)) return;
    this.#forget(owner);
    if (this.#accounts + accounts.length > this.#accountsMax) {
      this.#byOwner.clear();
      this.#accounts = 0;
    }
    this.#byOwner.set(owner, { accounts: accounts.map(copyOf), readAtMs: read.readAtMs });
    this.#accounts += accounts.length;
    assert(this.#accounts <= this.#accountsMax, "The cache stays within its bound");
  }

  #forget(owner: string): void {
    const kept = this.#byOwner.get(owner);
    if (kept === undefined) return;
    this.#byOwner.delete(owner);
    this.#accounts -= kept.accounts.length;
  }

  /** Owners kept now. */
  get size(): number {
    return this.#byOwner.size;
  }
}

/** How {@link CachedAccounts} reads an owner's accounts at a time, and the ledger's clock. */
export interface AccountsSource {
  db: SqliteDatabase;
  cache: AccountsCache;
  now: () => Date;
  read: (owner: string, now: Date) => Account[];
}

/** A balance check waiting for its batch. */
interface PendingCheck {
  owner: string;
  resolve: (accounts: Account[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Balance checks through the cache. Checks that arrive together are answered together: one change version
 * for all of them, taken once every one of them has arrived (so it sees every commit acknowledged before
 * any of them), then one read transaction for those not kept.
 */
export class CachedAccounts {
  readonly #source: AccountsSource;
  readonly #checks = new MicrotaskBatch<PendingCheck>((batch) => this.#answer(batch));

  constructor(source: AccountsSource) {
    this.#source = source;
  }

  /** The owner's accounts as the source finds them, unless kept since the last change. */
  accountsOf(owner: string): Promise<Account[]> {
    return new Promise<Account[]>((resolve, reject) => this.#checks.add({ owner, resolve, reject }));
  }

  #answer(batch: PendingCheck[]): void {
    const source = this.#source;
    let version: number;
    try {
      version = source.db.changeVersion();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const nowMs = source.now().getTime();
    for (const pending of batch) {
      const kept = source.cache.get(pending.owner, { version, nowMs });
      if (kept !== undefined) {
        pending.resolve(kept);
        continue;
      }
      source.db.read(() => {
        const readAt = source.now();
        const accounts = source.read(pending.owner, readAt);
        source.cache.set(pending.owner, { version, readAtMs: readAt.getTime() }, accounts);
        return accounts;
      }).then(pending.resolve, pending.reject);
    }
  }
}
