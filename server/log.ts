/**
 * Logging through LogTape: one line per event on stderr, so stdout stays free for command output.
 * Nothing secret is ever passed to a logger: no keys, secrets, nonces or contact details.
 *
 * @module
 */
import { configure, getLogger, getTextFormatter } from "@logtape/logtape";
import type { Logger, LogRecord } from "@logtape/logtape";
import { utf8 } from "../lib/bytes.ts";
import type { LogFormat, LogLevelName } from "./config.ts";

/** Sends the server's log lines to stderr at `level` and above, as text lines or JSON lines. */
export async function configureLogging(options: { level: LogLevelName; format: LogFormat }): Promise<void> {
  const { level } = options;
  const format = options.format === "json"
    ? formatJsonLine
    : getTextFormatter({ timestamp: "date-time-timezone", category: ".", value: "bare" });
  const stderr = (record: LogRecord) => {
    Deno.stderr.writeSync(utf8(format(record)));
  };
  await configure({
    reset: true,
    sinks: { stderr },
    loggers: [
      { category: ["bank"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/**
 * One JSON object per line: time, level, logger, the message rendered as text would show it, and every
 * property as its own field, for log tools to index.
 */
function formatJsonLine(record: LogRecord): string {
  const message = record.message.map((part) => (typeof part === "string" ? part : String(part))).join("");
  const line = {
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level.toUpperCase(),
    logger: record.category.join("."),
    message,
    ...record.properties,
  };
  return JSON.stringify(line, (_key, value) => (typeof value === "bigint" ? value.toString() : value)) + "\n";
}

/** The logger of one part of the server, e.g. `serverLogger("session")`. */
export function serverLogger(part: string): Logger {
  return getLogger(["bank", part]);
}
