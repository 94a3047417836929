/**
 * Brings a PostgreSQL ledger to this program's schema: the pending migrations in one transaction, under an
 * advisory lock so that one server process migrates while the others wait; the migration that adds the
 * hash chain also links every entry journaled before it.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { backfillPostgresChain } from "./postgres_chain.ts";
import { MIGRATION_LOCK_KEY } from "./postgres_sql.ts";
import type { Database } from "./postgres_sql.ts";
import { CHAIN_MIGRATION, MIGRATIONS, MIGRATIONS_TABLE, planMigrations } from "./schema.ts";

export async function migratePostgres(sql: Database, now: () => Date): Promise<void> {
  await sql.begin("isolation level read committed", async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await tx.unsafe(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
         version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
    );
    const rows = await tx<{ version: number }[]>`SELECT version FROM ${
      tx(MIGRATIONS_TABLE)
    } ORDER BY version`;
    const applied = rows.map((row) => row.version);
    for (const migration of planMigrations(applied, "PostgreSQL")) {
      await tx.unsafe(migration.postgres);
      await tx`INSERT INTO ${tx(MIGRATIONS_TABLE)} (version, name, applied_at)
        VALUES (${migration.version}, ${migration.name}, ${now()})`;
      // A store journaled before the chain existed gets its entries linked, oldest first, once.
      if (migration.version === CHAIN_MIGRATION) await backfillPostgresChain(tx);
    }
    const [count] = await tx<{ versions: bigint }[]>`SELECT COUNT(*) AS versions FROM ${
      tx(MIGRATIONS_TABLE)
    }`;
    assert(count?.versions === BigInt(MIGRATIONS.length), "Every migration must be applied exactly once");
  });
}
