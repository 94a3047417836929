/**
 * `bank-server ledger export`: the journal in commit order, streamed a chain page at a time, so memory stays
 * bounded whatever the store's size.
 *
 * ```sh
 * bank-server ledger export [--from ENTRY|DATE|TIME] [--to ENTRY|DATE|TIME] [--format csv|json] [--output FILE]
 * ```
 *
 * Each entry carries its chain position and hash, so the JSON export (one object per line, exactly as
 * journaled, postings included) is enough to recompute the chain with another program (docs/LEDGER.md).
 * CSV is one row per entry for spreadsheets: RFC 4180 quoting, and a cell a spreadsheet would run as a
 * formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) is prefixed with `'`. With `--output`,
 * the file appears whole or not at all; on a terminal, a progress line counts the pages.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { PRIVATE_FILE_MODE, renameDurably } from "../lib/files.ts";
import { randomBytes, toBase64Url, utf8 } from "../lib/bytes.ts";
import { UsageError } from "../lib/options.ts";
import type { Options } from "../lib/options.ts";
import { parseCutOff } from "../protocol/time.ts";
import { writeAll } from "../protocol/frame.ts";
import { chainPagesOf } from "./ledger/chain.ts";
import type { ChainEntry } from "./ledger/chain.ts";
import type { BankStore } from "./ledger/ledger.ts";

type Format = "csv" | "json";

/** One end of the range: an entry number, or a time (a date alone is its first or last millisecond). */
type Bound = { entry: bigint } | { time: string };

const CSV_COLUMNS = [
  "position",
  "entry",
  "hash",
  "kind",
  "transfer_id",
  "identity",
  "idempotency_key",
  "from",
  "to",
  "amount_minor",
  "created_at",
  "hold_id",
  "original_entry",
  "reason",
] as const;

/** Runs the export; returns the exit code. */
export async function exportLedger(store: BankStore, options: Options, subject: string | undefined) {
  if (subject !== undefined) throw new UsageError(`Unexpected argument "${subject}"`);
  const format = options.string("format") ?? "json";
  if (format !== "csv" && format !== "json") throw new UsageError(`--format ${format}: csv or json`);
  const from = boundOf("from", options.string("from"));
  const to = boundOf("to", options.string("to"));
  if (from !== null && to !== null && "entry" in from && "entry" in to && from.entry > to.entry) {
    throw new UsageError("--from is after --to");
  }
  const output = options.string("output");
  const sink = await openSink(output);
  try {
    const head = await store.chainHead();
    const progress = Deno.stderr.isTerminal() ? new Progress(head.position) : null;
    if (format === "csv") await sink.write(`${CSV_COLUMNS.join(",")}\r\n`);
    let exported = 0;
    for await (const page of chainPagesOf(store)) {
      const lines: string[] = [];
      for (const link of page.links) {
        const entry = page.entries.get(link.entry);
        assert(
          entry !== undefined,
          `Chain position ${link.position} names entry ${link.entry}, not in the journal`,
        );
        assert(typeof link.hash === "string", `Chain position ${link.position} holds a malformed hash`);
        if (!within(entry, from, to)) continue;
        const row = { position: link.position, hash: link.hash, ...entry };
        lines.push(format === "csv" ? csvLine(row) : `${JSON.stringify(jsonOf(row))}\n`);
      }
      await sink.write(lines.join(""));
      exported += lines.length;
      progress?.show(page.links.at(-1)!.position, exported);
    }
    progress?.done();
    await sink.finish();
    console.error(
      `Exported ${exported} entries (${format}) of ${head.position} in the chain` +
        (output === undefined ? "" : ` to ${output}`),
    );
    return 0;
  } catch (error) {
    await sink.abandon();
    throw error;
  }
}

function boundOf(name: "from" | "to", text: string | undefined): Bound | null {
  if (text === undefined) return null;
  if (/^[0-9]{1,19}$/.test(text) && BigInt(text) < 2n ** 63n) return { entry: BigInt(text) };
  const time = parseCutOff(text, name === "from" ? "start" : "end");
  if (time === null) {
    throw new UsageError(`--${name} ${text}: an entry number, a date (2026-12-01) or a time with its zone`);
  }
  return { time };
}

function within(entry: ChainEntry, from: Bound | null, to: Bound | null): boolean {
  const after = (bound: Bound) =>
    "entry" in bound ? entry.entry >= bound.entry : entry.createdAt >= bound.time;
  const before = (bound: Bound) =>
    "entry" in bound ? entry.entry <= bound.entry : entry.createdAt <= bound.time;
  return (from === null || after(from)) && (to === null || before(to));
}

type Exported = ChainEntry & { position: bigint; hash: string };

function jsonOf(row: Exported): Record<string, unknown> {
  return {
    position: row.position.toString(),
    entry: row.entry.toString(),
    hash: row.hash,
    kind: row.kind,
    transfer_id: row.transferId,
    identity: row.identity,
    idempotency_key: row.idempotencyKey,
    from: row.sourceAccountId,
    to: row.targetAccountId,
    amount_minor: row.amountMinor.toString(),
    created_at: row.createdAt,
    postings: row.postings.map((posting) => ({
      account_id: posting.accountId,
      amount_minor: posting.amountMinor.toString(),
    })),
    hold_id: row.holdId,
    original_entry: row.originalEntry?.toString() ?? null,
    reason: row.reason,
  };
}

function csvLine(row: Exported): string {
  const json = jsonOf(row);
  return `${CSV_COLUMNS.map((column) => csvCell(json[column])).join(",")}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Where the export goes: standard output, or a temporary file renamed over `--output` once complete. */
async function openSink(output: string | undefined) {
  if (output === undefined) {
    return {
      write: (text: string) => writeAll(Deno.stdout, utf8(text)),
      finish: () => Promise.resolve(),
      abandon: () => Promise.resolve(),
    };
  }
  const temporary = `${output}.tmp-${toBase64Url(randomBytes(6))}`;
  const file = await Deno.open(temporary, { write: true, createNew: true, mode: PRIVATE_FILE_MODE });
  let open = true;
  const close = () => {
    if (open) file.close();
    open = false;
  };
  return {
    write: (text: string) => writeAll(file, utf8(text)),
    finish: async () => {
      await file.sync();
      close();
      await renameDurably(temporary, output);
    },
    // After any failure, the partial copy of the journal goes: closed once, then removed.
    abandon: async () => {
      close();
      await Deno.remove(temporary).catch(() => {});
    },
  };
}

/** A progress line on a terminal, redrawn at most every 200 ms. */
class Progress {
  #shownAt = 0;
  constructor(readonly total: bigint) {}
  show(position: bigint, exported: number): void {
    if (performance.now() - this.#shownAt < 200) return;
    this.#shownAt = performance.now();
    const percent = this.total === 0n ? 100n : (position * 100n) / this.total;
    Deno.stderr.writeSync(
      utf8(
        `\rexporting: ${position} of ${this.total} chain positions (${percent}%), ${exported} entries written`,
      ),
    );
  }
  done(): void {
    if (this.#shownAt > 0) Deno.stderr.writeSync(utf8("\n"));
  }
}
