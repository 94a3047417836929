/**
 * Opens the configured ledger store: PostgreSQL when a database URL is given, otherwise the embedded SQLite
 * file `bank.db` in the data directory.
 *
 * @module
 */
import type { BankStore } from "./ledger.ts";
import { ensurePrivateFile, fileExists, PRIVATE_FILE_MODE } from "../../lib/files.ts";
import { PostgresLedger } from "./postgres.ts";
import { SqliteLedger } from "./sqlite.ts";
import type { Migration } from "./schema.ts";
import { ThreadWriteLock } from "./write_lock.ts";

export type { BankStore, Ledger } from "./ledger.ts";

/** The file name of the embedded ledger inside the data directory. */
export const SQLITE_FILE = "bank.db";

/**
 * Opens the store: `databaseUrl` (postgres://…) when given, else SQLite in `dataDir`. Threads of one
 * process that share the SQLite file pass the same `sqliteWriteLock` buffer, so that they take turns to
 * write without blocking (see write_lock.ts).
 */
export async function openStore(
  options: {
    dataDir: string;
    databaseUrl?: string;
    sqliteWriteLock?: SharedArrayBuffer;
    asyncCommitForTests?: boolean;
    /** Told which SQLite migrations are about to run (one may take minutes on a large store). */
    onMigrations?: (pending: readonly Migration[]) => void;
  },
): Promise<BankStore> {
  if (options.databaseUrl !== undefined) {
    return await PostgresLedger.open(options.databaseUrl, {
      asyncCommitForTests: options.asyncCommitForTests === true,
    });
  }
  const path = `${options.dataDir}/${SQLITE_FILE}`;
  await ensurePrivateFile(path);
  for (const suffix of ["-wal", "-shm"]) {
    if (await fileExists(`${path}${suffix}`)) await Deno.chmod(`${path}${suffix}`, PRIVATE_FILE_MODE);
  }
  const lock = options.sqliteWriteLock;
  return SqliteLedger.open(path, {
    ...(lock === undefined ? {} : { writeLock: new ThreadWriteLock(lock) }),
    ...(options.onMigrations === undefined ? {} : { onMigrations: options.onMigrations }),
  });
}

/** Describes where a ledger lives without any password, for logs. */
export function describeStore(options: { dataDir: string; databaseUrl?: string }): string {
  if (options.databaseUrl === undefined) return `sqlite ${options.dataDir}/${SQLITE_FILE}`;
  try {
    const url = new URL(options.databaseUrl);
    return `postgres ${url.hostname}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "postgres (unparsable URL)";
  }
}
