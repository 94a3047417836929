/**
 * The SQLite connection of one serving thread, and the discipline around it: pragmas spelled out (WAL,
 * `synchronous=FULL`, foreign keys, a busy timeout), one write transaction at a time (taking the threads'
 * shared write lock without blocking when there is one), reads that arrive together sharing one snapshot,
 * and prepared statements reused.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";
import { assert } from "../../lib/assert.ts";
import { MicrotaskBatch } from "../../lib/microtask_batch.ts";
import { DeadlineExceeded } from "./group_commit.ts";
import { SQLITE_BUSY_TIMEOUT_MS } from "./limits.ts";
import type { ThreadWriteLock } from "./write_lock.ts";

/** Deno 2.9's node:sqlite has `setReturnArrays` (Node 24's API); its type declarations lack it. */
type ArrayStatement = StatementSync & { setReturnArrays(enabled: boolean): void };

/**
 * SQL that reads only: a query, or a pragma that is not set. Anything else through `get`, `all` or `arrays`
 * must run inside {@link SqliteDatabase.write}, which counts it for {@link SqliteDatabase.changeVersion}.
 */
const READ_ONLY_SQL = /^\s*(SELECT\b|PRAGMA\s+\w+\s*(\(|$))/i;
const WRITING_SQL = /\b(INSERT|UPDATE|DELETE|RETURNING)\b/i;

/** A read waiting for its batch's read transaction. */
interface PendingRead {
  run: () => void;
  fail: (error: unknown) => void;
}

/** A row as node:sqlite returns it (integers as bigints). */
export type Row = Record<string, SQLInputValue>;

export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The same, for statements that return rows as arrays. */
  readonly #arrayStatements = new Map<string, StatementSync>();
  /** Reads that arrive together, run in one read transaction. */
  readonly #reads = new MicrotaskBatch<PendingRead>((batch) => this.#runReads(batch));
  /** Counts the changes this connection has seen: see {@link SqliteDatabase.changeVersion}. */
  #version = 0;
  #dataVersion: SQLOutputValue = null;
  /** Inside {@link SqliteDatabase.write}'s work. */
  #writing = false;
  /** Statements checked to read only, so that each is checked once. */
  readonly #readOnly = new Set<string>();
  /** Taken around every write transaction when several threads of this process share the file. */
  readonly #writeLock: ThreadWriteLock | undefined;
  #closed = false;

  private constructor(db: DatabaseSync, writeLock: ThreadWriteLock | undefined) {
    this.#db = db;
    this.#writeLock = writeLock;
  }

  /** Opens (creating if needed) the file at `path`, or `:memory:`, with the pragmas set. */
  static open(path: string, options: { writeLock?: ThreadWriteLock } = {}): SqliteDatabase {
    const db = new DatabaseSync(path);
    try {
      db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteDatabase(db, options.writeLock);
  }

  /** Runs SQL text without parameters (migrations, savepoints). */
  exec(sql: string): void {
    this.#version += 1;
    this.#db.exec(sql);
  }

  /**
   * A number that grows whenever what this connection reads may have changed since it was last taken: a
   * commit by any other connection to the file, from another thread or process (SQLite's `data_version`,
   * which the shared WAL index tells at the cost of one statement), or a write by this one. Two equal
   * numbers mean nothing was committed in between, so a read made after the first is still true.
   */
  changeVersion(): number {
    assert(!this.#closed, "Cannot use a closed ledger");
    // Inside a transaction data_version is the snapshot's, not the file's.
    assert(!this.#db.isTransaction, "A change version is taken outside any transaction");
    const [dataVersion] = this.#statement("PRAGMA data_version", "arrays")
      .get() as unknown as SQLOutputValue[];
    if (dataVersion !== this.#dataVersion) {
      this.#dataVersion = dataVersion ?? null;
      this.#version += 1;
    }
    return this.#version;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get isTransaction(): boolean {
    return this.#db.isTransaction;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** Runs `work` with a page cache of `mib` MiB on this connection, then gives the cache its old size. */
  withPageCache<T>(mib: number, work: () => T): T {
    assert(Number.isInteger(mib) && mib >= 1, `A page cache of ${mib} MiB must be a whole number from 1`);
    const size = Number(this.#db.prepare("PRAGMA cache_size").get()?.cache_size);
    assert(Number.isInteger(size), "SQLite tells its page cache's size");
    this.#db.exec(`PRAGMA cache_size = ${-mib * 1024}`);
    try {
      return work();
    } finally {
      this.#db.exec(`PRAGMA cache_size = ${size}`);
    }
  }

  /** Runs `work` in a transaction holding the write lock; commits only if it returns. */
  write<T>(work: () => T): T {
    assert(!this.#closed, "Cannot use a closed ledger");
    this.#db.exec("BEGIN IMMEDIATE");
    this.#writing = true;
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#writing = false;
      this.#version += 1;
    }
  }

  /**
   * Runs `work` as a write transaction, once this thread holds the write lock when it shares the file with
   * other threads. A batch waits at most until its deadline (then it is not applied); any other write at most
   * as long as SQLite would wait for another process.
   */
  async writeAsync<T>(work: () => T, options: { deadlineMs?: number } = {}): Promise<T> {
    const lock = this.#writeLock;
    if (lock === undefined) return this.write(work);
    const waitMs = options.deadlineMs === undefined
      ? SQLITE_BUSY_TIMEOUT_MS
      : options.deadlineMs - performance.now();
    if (!(await lock.acquire(waitMs))) {
      if (options.deadlineMs !== undefined) {
        throw new DeadlineExceeded("The write lock stayed taken past the deadline");
      }
      throw new Error(`Another thread held the ledger's write lock for ${SQLITE_BUSY_TIMEOUT_MS} ms`);
    }
    try {
      return this.write(work);
    } finally {
      lock.release();
    }
  }

  /**
   * Runs a read in a consistent snapshot. Reads that arrive while one is pending run together in one read
   * transaction: opening and closing a snapshot costs several times more than an indexed lookup, and every
   * read of the batch still starts after its request arrived, so it sees every commit acknowledged before.
   * Writes are synchronous from BEGIN to COMMIT, so a batch never runs inside a write transaction.
   */
  read<T>(work: () => T): Promise<T> {
    assert(!this.#closed, "Cannot use a closed ledger");
    return new Promise<T>((resolve, reject) => {
      this.#reads.add({
        run: () => {
          try {
            resolve(work());
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      });
    });
  }

  #runReads(batch: PendingRead[]): void {
    if (this.#closed) {
      for (const read of batch) read.fail(new Error("The ledger was closed"));
      return;
    }
    assert(!this.#db.isTransaction, "A read batch must not run inside a transaction");
    try {
      this.#db.exec("BEGIN");
    } catch (error) {
      for (const read of batch) read.fail(error);
      return;
    }
    for (const read of batch) read.run();
    // Every read has answered; ending a read-only transaction cannot lose anything, and must not throw here.
    try {
      if (this.#db.isTransaction) this.#db.exec("COMMIT");
    } catch {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    }
  }

  /** A statement that returns rows: one that may write must be inside a write transaction. */
  #query(sql: string, shape: "objects" | "arrays" = "objects"): StatementSync {
    if (!this.#writing && !this.#readOnly.has(sql)) {
      assert(
        READ_ONLY_SQL.test(sql) && !WRITING_SQL.test(sql),
        `A statement that may write runs inside write(): ${sql.slice(0, 60)}`,
      );
      this.#readOnly.add(sql);
    }
    return this.#statement(sql, shape);
  }

  #statement(sql: string, shape: "objects" | "arrays" = "objects"): StatementSync {
    const cache = shape === "objects" ? this.#statements : this.#arrayStatements;
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      statement.setReadBigInts(true);
      if (shape === "arrays") (statement as ArrayStatement).setReturnArrays(true);
      cache.set(sql, statement);
    }
    return statement;
  }

  /** Rows as arrays of values in the statement's column order: cheaper than objects on long scans. */
  arrays(sql: string, parameters: SQLInputValue[] = []): SQLOutputValue[][] {
    return this.#query(sql, "arrays").all(...parameters) as unknown as SQLOutputValue[][];
  }

  all(sql: string, parameters: SQLInputValue[] = []): Row[] {
    return this.#query(sql).all(...parameters) as Row[];
  }

  get(sql: string, parameters: SQLInputValue[] = []): Row | undefined {
    return this.#query(sql).get(...parameters) as Row | undefined;
  }

  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, parameters: SQLInputValue[] = []): number {
    this.#version += 1;
    return Number(this.#statement(sql).run(...parameters).changes);
  }
}
