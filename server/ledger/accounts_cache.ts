/**
 * The accounts a balance check read, kept per owner for as long as the store has not changed. One SQLite
 * connection keeps one: a hit costs one `PRAGMA data_version` instead of a read transaction, the account
 * query with its holds and the rows' conversion. The connection's change version (see
 * {@link SqliteDatabase.changeVersion}) covers every commit, by this thread, another thread or another
 * process, so a balance check never answers from before a commit that was acknowledged before it arrived.
 *
 * An account with active holds is not kept: its spendable balance changes when a hold expires, with no
 * commit at all.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import type { Account } from "./ledger.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";

export class AccountsCache {
  readonly #byOwner = new Map<string, readonly Account[]>();
  readonly #ownersMax: number;
  /** The change version every kept entry was read at or after. */
  #version = -1;

  constructor(ownersMax: number) {
    assert(Number.isSafeInteger(ownersMax) && ownersMax > 0, "The cache keeps at least one owner");
    this.#ownersMax = ownersMax;
  }

  /** The owner's accounts if kept at `version` (a copy of each), or undefined; a newer version empties it. */
  get(owner: string, version: number): Account[] | undefined {
    if (version !== this.#version) {
      this.#byOwner.clear();
      this.#version = version;
      return undefined;
    }
    return this.#byOwner.get(owner)?.map((account) => ({ ...account }));
  }

  /**
   * Keeps what a read that started at `version` (taken before the read, so the rows are at least that
   * new) found, unless the cache has moved on or an account has active holds. The oldest owner makes room.
   */
  set(owner: string, version: number, accounts: readonly Account[]): void {
    if (version !== this.#version) return;
    if (accounts.some((account) => account.heldMinor !== 0n)) return;
    this.#byOwner.delete(owner);
    if (this.#byOwner.size >= this.#ownersMax) {
      this.#byOwner.delete(this.#byOwner.keys().next().value!);
    }
    this.#byOwner.set(owner, accounts.map((account) => ({ ...account })));
  }

  get size(): number {
    return this.#byOwner.size;
  }
}

/** Reads through `cache`: the owner's accounts as `read` finds them, unless kept since the last change. */
export function cachedAccounts(
  db: SqliteDatabase,
  cache: AccountsCache,
  owner: string,
  read: () => Account[],
): Promise<Account[]> {
  const version = db.changeVersion();
  const kept = cache.get(owner, version);
  if (kept !== undefined) return Promise.resolve(kept);
  return db.read(() => {
    const accounts = read();
    cache.set(owner, version, accounts);
    return accounts;
  });
}
