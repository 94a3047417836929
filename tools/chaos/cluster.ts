/**
 * A throwaway PostgreSQL cluster for the chaos checker: `initdb` into a temporary directory, its own port
 * on 127.0.0.1, stopped immediately and started again on command, removed at the end. Never the machine's
 * shared cluster. As root, PostgreSQL's programs run as the `postgres` user (they refuse root).
 *
 * @module
 */
import { freePort } from "../harness.ts";

const BIN = "/usr/lib/postgresql/15/bin";

export class PostgresCluster implements AsyncDisposable {
  readonly #dir: string;
  readonly port: number;
  readonly #settings: string[];

  private constructor(dir: string, port: number, settings: string[]) {
    this.#dir = dir;
    this.port = port;
    this.#settings = settings;
  }

  /** Creates and starts a cluster; `settings` are extra `-c name=value` for the server (a negative control). */
  static async create(settings: string[] = []): Promise<PostgresCluster> {
    const dir = await Deno.makeTempDir({ prefix: "bank-chaos-pg-" });
    if (Deno.uid() === 0) await run("chown", ["postgres", dir], { asPostgres: false });
    const cluster = new PostgresCluster(dir, freePort(), settings);
    try {
      await run(`${BIN}/initdb`, ["-D", `${dir}/data`, "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
      await cluster.start();
      await run(`${BIN}/createdb`, ["-h", "127.0.0.1", "-p", String(cluster.port), "-U", "postgres", "bank"]);
    } catch (error) {
      await cluster[Symbol.asyncDispose]();
      throw error;
    }
    return cluster;
  }

  /** The cluster's own database for the bank. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/bank`;
  }

  async start(): Promise<void> {
    const options = [
      "-p",
      String(this.port),
      "-k",
      this.#dir,
      "-c",
      "listen_addresses=127.0.0.1",
      ...this.#settings,
    ];
    await run(`${BIN}/pg_ctl`, [
      "-D",
      `${this.#dir}/data`,
      "-l",
      `${this.#dir}/log`,
      "-w",
      "-o",
      options.join(" "),
      "start",
    ]);
  }

  /** An immediate stop: every backend killed, no checkpoint, as in a crash of the database. */
  async stopImmediately(): Promise<void> {
    await run(`${BIN}/pg_ctl`, ["-D", `${this.#dir}/data`, "-m", "immediate", "-w", "stop"]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await run(`${BIN}/pg_ctl`, ["-D", `${this.#dir}/data`, "-m", "immediate", "-w", "stop"]).catch(() => {});
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** Runs a program (as `postgres` when this process is root), throwing with its output when it fails. */
async function run(program: string, args: string[], options = { asPostgres: true }): Promise<void> {
  const asPostgres = options.asPostgres && Deno.uid() === 0;
  const output = await new Deno.Command(asPostgres ? "runuser" : program, {
    args: asPostgres ? ["-u", "postgres", "--", program, ...args] : args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    throw new Error(`${program.split("/").at(-1)} failed: ${text.trim().slice(-500)}`);
  }
}
