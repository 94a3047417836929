/**
 * Running clients through their tasks, and reporting what happened: the seed's lines as they happen, or
 * one JSON document at the end (`--json`), with a progress line on a terminal when many clients run.
 *
 * @module
 */
import type { Credential } from "../protocol/credential.ts";
import { isFailureAnswer } from "../protocol/text.ts";
import type { Gate } from "../lib/gate.ts";
import { BankConnection, ClientError } from "./connection.ts";

export const EXIT_OK = 0;
export const EXIT_TASK_REFUSED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

const PROGRESS_INTERVAL_MS = 100;

/** What one client did. */
export interface ClientReport {
  client: number;
  identity: string;
  connected: boolean;
  tasks: { task: string; response: string; refused: boolean }[];
  error?: string;
}

/** Where a run's events go. */
export interface Reporter {
  line(client: number, text: string): void;
  finished(report: ClientReport): void;
  end(reports: ClientReport[]): void;
}

/** The original design's output: `Client 1: Sent task: …` lines as they happen. */
export function textReporter(): Reporter {
  return {
    line: (client, text) => console.log(`Client ${client}: ${text}`),
    finished: () => {},
    end: () => {},
  };
}

/** One JSON document at the end: `{ "ok": …, "clients": [ … ] }`. */
export function jsonReporter(): Reporter {
  return {
    line: () => {},
    finished: () => {},
    end: (reports) => {
      const ok = reports.every((report) =>
        report.error === undefined && report.tasks.every((task) => !task.refused)
      );
      console.log(JSON.stringify({ ok, clients: reports }, null, 2));
    },
  };
}

/** Adds a progress line on stderr (a terminal) to another reporter. */
export function withProgress(inner: Reporter, total: number): Reporter {
  let done = 0;
  let tasks = 0;
  let failed = 0;
  let lastMs = 0;
  const encoder = new TextEncoder();
  const draw = (force: boolean) => {
    const nowMs = Date.now();
    if (!force && nowMs - lastMs < PROGRESS_INTERVAL_MS) return;
    lastMs = nowMs;
    const text = `\r\x1b[2K${done}/${total} clients done, ${tasks} tasks answered, ${failed} clients failed`;
    Deno.stderr.writeSync(encoder.encode(text));
  };
  return {
    line: (client, text) => inner.line(client, text),
    finished(report) {
      done += 1;
      tasks += report.tasks.length;
      if (report.error !== undefined) failed += 1;
      draw(done === total);
      inner.finished(report);
    },
    end(reports) {
      Deno.stderr.writeSync(encoder.encode("\n"));
      inner.end(reports);
    },
  };
}

/** Runs one client through its tasks; returns what it did. */
export async function runOneClient(
  client: number,
  parts: {
    host: string;
    port: number;
    caPem: string;
    credential: Credential;
    tasks: readonly string[];
    connects: Gate;
  },
  reporter: Reporter,
): Promise<ClientReport> {
  const report: ClientReport = { client, identity: parts.credential.identity, connected: false, tasks: [] };
  const say = (text: string) => reporter.line(client, text);
  let connection: BankConnection | undefined;
  try {
    connection = await parts.connects.run(() => BankConnection.connect(parts));
    report.connected = true;
    say("Connected.");
    for (const task of parts.tasks) {
      say(`Sent task: ${task}`);
      const response = await connection.sendText(task);
      say(`Server response: ${response}`);
      report.tasks.push({ task, response, refused: isFailureAnswer(response) });
    }
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    report.error = error.message;
    say(`Error: ${error.message}`);
  } finally {
    await connection?.close();
  }
  reporter.finished(report);
  return report;
}

/** The exit code of a whole run. */
export function exitCodeOf(reports: readonly ClientReport[]): number {
  if (reports.some((report) => report.error !== undefined)) return EXIT_UNREACHABLE;
  if (reports.some((report) => report.tasks.some((task) => task.refused))) return EXIT_TASK_REFUSED;
  return EXIT_OK;
}
