/**
 * The identity directory over SQLite: identities and their public keys (keys.ts decides what a change may
 * do). Writes go through the database's one writer, so change numbers follow commit order.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { encodeKey } from "../../protocol/handshake_crypto.ts";
import type {
  IdentityChanges,
  IdentityDirectory,
  IdentityKey,
  IdentityRecord,
  KeyChangeResult,
  NewKey,
} from "./ledger.ts";
import { isUsable, judgeNewKey, newKeyColumns, toIdentityKey } from "./keys.ts";
import type { IdentityKeyRow } from "./keys.ts";
import { IDENTITIES_PAGE_MAX, IDENTITY_KEYS_PAGE_MAX } from "./limits.ts";
import { toIdentityChanges, toIdentityRecord } from "./rows.ts";
import type { IdentityRow } from "./rows.ts";
import { checkPage } from "./rules.ts";
import type { SqliteDatabase } from "./sqlite_database.ts";

const NEXT_CHANGE = "(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM identities)";

export class SqliteIdentities implements IdentityDirectory {
  readonly #db: SqliteDatabase;
  readonly #now: () => Date;

  constructor(db: SqliteDatabase, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  lookupKey(name: string, keyId: string): Promise<{ key: IdentityKey; generation: number } | null> {
    return this.#db.read(() => {
      const row = this.#db.get(
        `SELECT k.*, i.generation FROM identity_keys k JOIN identities i ON i.name = k.identity
         WHERE k.identity = ? AND k.key_id = ? AND i.status = 'active'`,
        [name, keyId],
      );
      if (row === undefined) return null;
      const key = toIdentityKey(row as unknown as IdentityKeyRow);
      return isUsable(key, this.#now()) ? { key, generation: Number(row.generation) } : null;
    });
  }

  addIdentity(name: string): Promise<"ok" | "exists"> {
    return this.#db.writeAsync(() => {
      if (this.#db.get("SELECT name FROM identities WHERE name = ?", [name]) !== undefined) return "exists";
      const now = this.#now().toISOString();
      this.#db.run(
        `INSERT INTO identities (name, status, generation, change_seq, created_at, updated_at)
         VALUES (?, 'active', 1, ${NEXT_CHANGE}, ?, ?)`,
        [name, now, now],
      );
      return "ok";
    });
  }

  addKey(name: string, key: NewKey): Promise<KeyChangeResult> {
    return this.#db.writeAsync(() => {
      const problem = this.#judge(name, key, { replacing: false });
      if (problem !== null) return problem;
      this.#insertKey(name, key);
      this.#bump(name);
      return "ok";
    });
  }

  replaceKey(name: string, change: { oldKeyId: string; key: NewKey }): Promise<KeyChangeResult> {
    return this.#db.writeAsync(() => {
      const old = this.#db.get("SELECT * FROM identity_keys WHERE identity = ? AND key_id = ?", [
        name,
        change.oldKeyId,
      ]);
      if (old === undefined || !isUsable(toIdentityKey(old as unknown as IdentityKeyRow), this.#now())) {
        return "not_found";
      }
      const problem = this.#judge(name, change.key, { replacing: true });
      if (problem !== null) return problem;
      this.#revokeKeyRow(name, change.oldKeyId);
      this.#insertKey(name, change.key);
      this.#bump(name);
      return "ok";
    });
  }

  revokeKey(name: string, keyId: string): Promise<"ok" | "not_found"> {
    return this.#db.writeAsync(() => {
      if (!this.#revokeKeyRow(name, keyId)) return "not_found";
      this.#bump(name);
      return "ok";
    });
  }

  spendInviteAttempt(name: string): Promise<void> {
    return this.#db.writeAsync(() => {
      this.#db.run(
        `UPDATE identity_keys SET attempts_left = attempts_left - 1, updated_at = ?
         WHERE identity = ? AND kind = 'invite' AND status = 'active' AND attempts_left > 0`,
        [this.#now().toISOString(), name],
      );
    });
  }

  listKeys(name: string, query: { limit: number }): Promise<IdentityKey[]> {
    checkPage(query.limit, { max: IDENTITY_KEYS_PAGE_MAX, what: "Key" });
    return this.#db.read(() =>
      this.#db.all(
        `SELECT * FROM identity_keys WHERE identity = ?
         ORDER BY status = 'active' DESC, created_at DESC, key_id LIMIT ?`,
        [name, query.limit],
      ).map((row) => toIdentityKey(row as unknown as IdentityKeyRow))
    );
  }

  revokeIdentity(name: string): Promise<"ok" | "not_found"> {
    return this.#db.writeAsync(() => {
      const changed = this.#db.run(
        `UPDATE identities SET status = 'revoked', generation = generation + 1, change_seq = ${NEXT_CHANGE},
           updated_at = ? WHERE name = ? AND status = 'active'`,
        [this.#now().toISOString(), name],
      );
      assert(changed <= 1, `Identity ${name} must be one row`);
      if (changed === 0) return "not_found";
      this.#db.run(
        "UPDATE identity_keys SET status = 'revoked', updated_at = ? WHERE identity = ? AND status = 'active'",
        [this.#now().toISOString(), name],
      );
      return "ok";
    });
  }

  listIdentities(query: { limit: number; after?: string }): Promise<IdentityRecord[]> {
    checkPage(query.limit, { max: IDENTITIES_PAGE_MAX, what: "Identity" });
    return this.#db.read(() =>
      this.#db.all("SELECT * FROM identities WHERE name > ? ORDER BY name LIMIT ?", [
        query.after ?? "",
        query.limit,
      ])
        .map((row) => toIdentityRecord(row as unknown as IdentityRow))
    );
  }

  countIdentities(): Promise<number> {
    return this.#db.read(() => Number(this.#db.get("SELECT COUNT(*) AS n FROM identities")!.n));
  }

  identityChangesSince(cursor: number, query: { limit: number }): Promise<IdentityChanges> {
    checkPage(query.limit, { max: IDENTITIES_PAGE_MAX, what: "Identity change" });
    return this.#db.read(() => {
      const rows = this.#db.all(
        "SELECT name, status, generation, change_seq FROM identities WHERE change_seq > ? ORDER BY change_seq LIMIT ?",
        [cursor, query.limit],
      ) as unknown as IdentityRow[];
      return toIdentityChanges(cursor, rows);
    });
  }

  /** The checks of a new key, inside the write. */
  #judge(name: string, key: NewKey, options: { replacing: boolean }): KeyChangeResult | null {
    const identity = this.#db.get("SELECT status FROM identities WHERE name = ?", [name]);
    const now = this.#now();
    const usableKeys =
      this.#db.all("SELECT * FROM identity_keys WHERE identity = ? AND status = 'active'", [name])
        .map((row) => toIdentityKey(row as unknown as IdentityKeyRow))
        .filter((existing) => isUsable(existing, now)).length;
    const known = this.#db.get(
      "SELECT key_id FROM identity_keys WHERE public_key = ? OR (identity = ? AND key_id = ?)",
      [
        encodeKey(key.publicKey),
        name,
        key.keyId,
      ],
    );
    return judgeNewKey({
      identityActive: identity?.status === "active",
      usableKeys,
      publicKeyKnown: known !== undefined,
      replacing: options.replacing,
    });
  }

  #insertKey(name: string, key: NewKey): void {
    const columns = newKeyColumns(key);
    const now = this.#now().toISOString();
    this.#db.run(
      `INSERT INTO identity_keys (identity, key_id, public_key, kind, status, expires_at, attempts_left,
         created_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)`,
      [
        name,
        columns.key_id,
        columns.public_key,
        columns.kind,
        columns.expires_at?.toISOString() ?? null,
        columns.attempts_left,
        now,
        now,
      ],
    );
  }

  #revokeKeyRow(name: string, keyId: string): boolean {
    const changed = this.#db.run(
      "UPDATE identity_keys SET status = 'revoked', updated_at = ? WHERE identity = ? AND key_id = ? AND status = 'active'",
      [this.#now().toISOString(), name, keyId],
    );
    assert(changed <= 1, `Key ${keyId} of ${name} must be one row`);
    return changed === 1;
  }

  /** A new generation and change number for an identity whose keys changed. */
  #bump(name: string): void {
    const changed = this.#db.run(
      `UPDATE identities SET generation = generation + 1, change_seq = ${NEXT_CHANGE}, updated_at = ? WHERE name = ?`,
      [this.#now().toISOString(), name],
    );
    assert(changed === 1, `Identity ${name} must be one row`);
  }
}
