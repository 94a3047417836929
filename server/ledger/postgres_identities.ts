/**
 * The identity directory over PostgreSQL: identities and their public keys (keys.ts decides what a change
 * may do). Every write locks the identities table first, so change numbers are handed out in commit order
 * across every server process and a watcher following them never skips one.
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
import { lockIdentities } from "./postgres_sql.ts";
import type { Query, Transaction } from "./postgres_sql.ts";
import { toIdentityChanges, toIdentityRecord } from "./rows.ts";
import type { IdentityRow } from "./rows.ts";
import { checkPage } from "./rules.ts";

/** How the directory reaches the database: plain queries, retried write transactions, and the clock. */
export interface PostgresAccess {
  use<T>(work: (sql: Query) => Promise<T>): Promise<T>;
  write<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  now(): Date;
}

export class PostgresIdentities implements IdentityDirectory {
  readonly #db: PostgresAccess;

  constructor(access: PostgresAccess) {
    this.#db = access;
  }

  lookupKey(name: string, keyId: string): Promise<{ key: IdentityKey; generation: number } | null> {
    return this.#db.use(async (sql) => {
      const [row] = await sql<(IdentityKeyRow & { generation: bigint })[]>`
        SELECT k.*, i.generation FROM identity_keys k JOIN identities i ON i.name = k.identity
        WHERE k.identity = ${name} AND k.key_id = ${keyId} AND i.status = 'active'`;
      if (row === undefined) return null;
      const key = toIdentityKey(row);
      return isUsable(key, this.#db.now()) ? { key, generation: Number(row.generation) } : null;
    });
  }

  addIdentity(name: string): Promise<"ok" | "exists"> {
    return this.#db.write(async (tx) => {
      await lockIdentities(tx);
      const [existing] = await tx`SELECT name FROM identities WHERE name = ${name}`;
      if (existing !== undefined) return "exists";
      const now = this.#db.now();
      await tx`
        INSERT INTO identities (name, status, generation, change_seq, created_at, updated_at)
        VALUES (${name}, 'active', 1, (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM identities), ${now}, ${now})`;
      return "ok";
    });
  }

  addKey(name: string, key: NewKey): Promise<KeyChangeResult> {
    return this.#db.write(async (tx) => {
      await lockIdentities(tx);
      const problem = await this.#judge(tx, name, key, { replacing: false });
      if (problem !== null) return problem;
      await this.#insertKey(tx, name, key);
      await this.#bump(tx, name);
      return "ok";
    });
  }

  replaceKey(name: string, change: { oldKeyId: string; key: NewKey }): Promise<KeyChangeResult> {
    return this.#db.write(async (tx) => {
      await lockIdentities(tx);
      const [old] = await tx<IdentityKeyRow[]>`
        SELECT * FROM identity_keys WHERE identity = ${name} AND key_id = ${change.oldKeyId}`;
      if (old === undefined || !isUsable(toIdentityKey(old), this.#db.now())) return "not_found";
      const problem = await this.#judge(tx, name, change.key, { replacing: true });
      if (problem !== null) return problem;
      await this.#revokeKeyRow(tx, name, change.oldKeyId);
      await this.#insertKey(tx, name, change.key);
      await this.#bump(tx, name);
      return "ok";
    });
  }

  revokeKey(name: string, keyId: string): Promise<"ok" | "not_found"> {
    return this.#db.write(async (tx) => {
      await lockIdentities(tx);
      if (!(await this.#revokeKeyRow(tx, name, keyId))) return "not_found";
      await this.#bump(tx, name);
      return "ok";
    });
  }

  spendInviteAttempt(name: string): Promise<void> {
    return this.#db.write(async (tx) => {
      await tx`
        UPDATE identity_keys SET attempts_left = attempts_left - 1, updated_at = ${this.#db.now()}
        WHERE identity = ${name} AND kind = 'invite' AND status = 'active' AND attempts_left > 0`;
    });
  }

  listKeys(name: string, query: { limit: number }): Promise<IdentityKey[]> {
    checkPage(query.limit, { max: IDENTITY_KEYS_PAGE_MAX, what: "Key" });
    return this.#db.use(async (sql) => {
      const rows = await sql<IdentityKeyRow[]>`
        SELECT * FROM identity_keys WHERE identity = ${name}
        ORDER BY status = 'active' DESC, created_at DESC, key_id LIMIT ${query.limit}`;
      return rows.map(toIdentityKey);
    });
  }

  revokeIdentity(name: string): Promise<"ok" | "not_found"> {
    return this.#db.write(async (tx) => {
      await lockIdentities(tx);
      const now = this.#db.now();
      const rows = await tx`
        UPDATE identities SET status = 'revoked', generation = generation + 1,
          change_seq = (SELECT MAX(change_seq) + 1 FROM identities), updated_at = ${now}
        WHERE name = ${name} AND status = 'active' RETURNING name`;
      assert(rows.length <= 1, `Identity ${name} must be one row`);
      if (rows.length === 0) return "not_found";
      await tx`
        UPDATE identity_keys SET status = 'revoked', updated_at = ${now}
        WHERE identity = ${name} AND status = 'active'`;
      return "ok";
    });
  }

  listIdentities(query: { limit: number; after?: string }): Promise<IdentityRecord[]> {
    checkPage(query.limit, { max: IDENTITIES_PAGE_MAX, what: "Identity" });
    return this.#db.use(async (sql) => {
      const rows = await sql<IdentityRow[]>`
        SELECT * FROM identities WHERE name > ${query.after ?? ""} ORDER BY name LIMIT ${query.limit}`;
      return rows.map(toIdentityRecord);
    });
  }

  countIdentities(): Promise<number> {
    return this.#db.use(async (sql) => {
      const [row] = await sql<{ n: bigint }[]>`SELECT COUNT(*) AS n FROM identities`;
      return Number(row?.n ?? 0n);
    });
  }

  identityChangesSince(cursor: number, query: { limit: number }): Promise<IdentityChanges> {
    checkPage(query.limit, { max: IDENTITIES_PAGE_MAX, what: "Identity change" });
    return this.#db.use(async (sql) => {
      const rows = await sql<IdentityRow[]>`
        SELECT name, status, generation, change_seq, created_at, updated_at FROM identities
        WHERE change_seq > ${cursor} ORDER BY change_seq LIMIT ${query.limit}`;
      return toIdentityChanges(cursor, rows);
    });
  }

  async #judge(tx: Query, name: string, key: NewKey, options: { replacing: boolean }) {
    const [identity] = await tx<{ status: string }[]>`SELECT status FROM identities WHERE name = ${name}`;
    const active = await tx<IdentityKeyRow[]>`
      SELECT * FROM identity_keys WHERE identity = ${name} AND status = 'active'`;
    const now = this.#db.now();
    const [known] = await tx`
      SELECT key_id FROM identity_keys
      WHERE public_key = ${encodeKey(key.publicKey)} OR (identity = ${name} AND key_id = ${key.keyId})`;
    return judgeNewKey({
      identityActive: identity?.status === "active",
      usableKeys: active.map(toIdentityKey).filter((existing) => isUsable(existing, now)).length,
      publicKeyKnown: known !== undefined,
      replacing: options.replacing,
    });
  }

  async #insertKey(tx: Query, name: string, key: NewKey): Promise<void> {
    const columns = newKeyColumns(key);
    const now = this.#db.now();
    await tx`
      INSERT INTO identity_keys (identity, key_id, public_key, kind, status, expires_at, attempts_left,
        created_at, updated_at)
      VALUES (${name}, ${columns.key_id}, ${columns.public_key}, ${columns.kind}, 'active',
        ${columns.expires_at}, ${columns.attempts_left}, ${now}, ${now})`;
  }

  async #revokeKeyRow(tx: Query, name: string, keyId: string): Promise<boolean> {
    const rows = await tx`
      UPDATE identity_keys SET status = 'revoked', updated_at = ${this.#db.now()}
      WHERE identity = ${name} AND key_id = ${keyId} AND status = 'active' RETURNING key_id`;
    assert(rows.length <= 1, `Key ${keyId} of ${name} must be one row`);
    return rows.length === 1;
  }

  /** A new generation and change number for an identity whose keys changed. */
  async #bump(tx: Query, name: string): Promise<void> {
    const rows = await tx`
      UPDATE identities SET generation = generation + 1,
        change_seq = (SELECT MAX(change_seq) + 1 FROM identities), updated_at = ${this.#db.now()}
      WHERE name = ${name} RETURNING name`;
    assert(rows.length === 1, `Identity ${name} must be one row`);
  }
}
