/**
 * `bank-client history`: a statement of the caller's accounts, newest first, with the balance after each
 * entry, one page at a time, optionally as of an entry number or a time.
 *
 * ```sh
 * bank-client history [--account ACC] [--limit N] [--before ENTRY] [--as-of ENTRY|TIME] [--json]
 * ```
 *
 * @module
 */
import { UsageError } from "../lib/options.ts";
import type { Options } from "../lib/options.ts";
import { HISTORY_PAGE_MAX } from "../protocol/limits.ts";
import { readAsOf } from "../protocol/messages.ts";
import type { AsOfView, HistoryView } from "../protocol/messages.ts";
import { formatDollars } from "../protocol/money.ts";
import { parseCutOff } from "../protocol/time.ts";
import type { BankClient } from "./mod.ts";

/** Prints one page of the statement; the last line says how to ask for the next. */
export async function printStatement(client: BankClient, options: Options): Promise<void> {
  const account = options.string("account");
  const before = cursorOf(options.string("before"));
  const asOf = asOfOf(options.string("as-of"));
  const page = await client.history({
    limit: limitOf(options.string("limit")),
    ...(account === undefined ? {} : { account }),
    ...(before === undefined ? {} : { before }),
    ...(asOf === undefined ? {} : { asOf }),
  });
  if (options.boolean("json")) {
    console.log(JSON.stringify({
      items: page.items.map((item) => ({
        ...item,
        entry: item.entry.toString(),
        amountMinor: item.amountMinor.toString(),
        balanceAfterMinor: item.balanceAfterMinor.toString(),
      })),
      nextBefore: page.nextBefore?.toString() ?? null,
    }));
    return;
  }
  if (page.items.length === 0) {
    console.log("No entries");
    return;
  }
  const rows = [["ENTRY", "TIME", "KIND", "ACCOUNT", "AMOUNT", "BALANCE AFTER", "COUNTERPARTY"]];
  for (const item of page.items) rows.push(rowOf(item));
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) {
    console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd());
  }
  if (page.nextBefore !== null) console.log(`More: --before ${page.nextBefore}`);
}

function rowOf(item: HistoryView): string[] {
  return [
    item.entry.toString(),
    item.createdAt,
    item.kind,
    item.accountId,
    signedDollars(item.amountMinor),
    signedDollars(item.balanceAfterMinor),
    item.counterpartyAccountId,
  ];
}

function signedDollars(amountMinor: bigint): string {
  const text = formatDollars(amountMinor < 0n ? -amountMinor : amountMinor, { cents: "always" });
  return amountMinor < 0n ? `-${text}` : text;
}

function limitOf(text: string | undefined): number {
  if (text === undefined) return 20;
  const limit = /^[1-9][0-9]{0,3}$/.test(text) ? Number(text) : 0;
  if (limit < 1 || limit > HISTORY_PAGE_MAX) {
    throw new UsageError(`--limit: a whole number from 1 to ${HISTORY_PAGE_MAX}`);
  }
  return limit;
}

function cursorOf(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const asOf = readAsOf(text);
  if (asOf === null || !("entry" in asOf)) throw new UsageError(`--before ${text}: an entry number`);
  return asOf.entry;
}

/** `--as-of`: an entry number, a date (its last millisecond, UTC) or an ISO 8601 time with its zone. */
function asOfOf(text: string | undefined): AsOfView | undefined {
  if (text === undefined) return undefined;
  if (/^[0-9]+$/.test(text)) {
    const entry = readAsOf(text);
    if (entry === null) throw new UsageError(`--as-of ${text}: entry number out of range`);
    return entry;
  }
  const time = parseCutOff(text, "end");
  if (time === null) {
    throw new UsageError(`--as-of ${text}: an entry number, a date (2026-12-01) or a time with its zone`);
  }
  return { time };
}
