/**
 * The operator's journal commands:
 *
 * ```sh
 * bank-server ledger verify [--receipts DIR]      balances, postings, the hash chain, and customers' receipts
 * bank-server ledger head                         the chain's latest entry and hash
 * bank-server ledger reverse TRANSFER_ID --reason TEXT [--amount AMOUNT] [--key KEY] [--receipts DIR]
 * bank-server ledger export [--from ENTRY|DATE|TIME] [--to …] [--format csv|json] [--output FILE]
 * ```
 *
 * `--receipts DIR` checks every `*.json` receipt in DIR: signed by this bank's key, and the entry it names
 * still in the journal, unchanged, with the chain hash the receipt states. A rewrite of history that
 * recomputed every later hash passes the chain's own check, but not the receipts customers kept.
 *
 * @module
 */
import { toBase64Url } from "../lib/bytes.ts";
import { ensurePrivateDir, PUBLIC_FILE_MODE, readTextFileLimited, writeFileAtomic } from "../lib/files.ts";
import { UsageError } from "../lib/options.ts";
import type { Options, OptionSpec } from "../lib/options.ts";
import { DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { formatDollars, parseDollars } from "../protocol/money.ts";
import { nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import { RECEIPT_FILE_BYTES_MAX, TRANSFER_MINOR_MAX } from "../protocol/limits.ts";
import { readReceipt, receiptFileName, receiptFileText, verifyReceipt } from "../protocol/receipt.ts";
import type { Receipt } from "../protocol/receipt.ts";
import { loadBankKey } from "./bank_key.ts";
import { formatHash } from "./ledger/chain.ts";
import type { ChainHead } from "./ledger/chain.ts";
import { BANK_OWNER } from "./ledger/ledger.ts";
import type { BankStore, Ledger } from "./ledger/ledger.ts";
import { REVERSAL_REASON_CHARS_MAX } from "./ledger/schema.ts";
import { RECEIPTS_PER_VERIFY_MAX } from "./limits.ts";
import { exportLedger } from "./admin_export.ts";
import { receiptOf } from "./handlers/receipts.ts";

export const LEDGER_OPTIONS: readonly OptionSpec[] = [
  {
    name: "receipts",
    value: "DIR",
    help: "ledger verify: also check every receipt (*.json) in DIR; ledger reverse: save its receipt there",
  },
  {
    name: "reason",
    value: "TEXT",
    help: `ledger reverse: why (at most ${REVERSAL_REASON_CHARS_MAX} characters)`,
  },
  { name: "amount", value: "AMOUNT", help: "ledger reverse: how much (default: all that is left)" },
  { name: "key", value: "KEY", help: "ledger reverse: idempotency key (default: a new one, printed)" },
  { name: "from", value: "ENTRY|DATE|TIME", help: "ledger export: the first entry (number, date or time)" },
  { name: "to", value: "ENTRY|DATE|TIME", help: "ledger export: the last entry (number, date or time)" },
  { name: "format", value: "csv|json", defaultText: "json", help: "ledger export: JSON lines or CSV" },
  { name: "output", value: "FILE", help: "ledger export: write FILE (whole or not at all), not stdout" },
];

export const LEDGER_USAGE =
  `  bank-server ledger verify [--receipts DIR]       balances, postings, hash chain, customers' receipts
  bank-server ledger head                          the chain's latest entry and hash
  bank-server ledger reverse TRANSFER_ID --reason TEXT [--amount AMOUNT] [--key KEY] [--receipts DIR]
  bank-server ledger export [--from ENTRY|DATE|TIME] [--to …] [--format csv|json] [--output FILE]`;

type LedgerAction = (store: BankStore, options: Options, subject: string | undefined) => Promise<number>;

export const LEDGER_ACTIONS: Record<string, LedgerAction> = {
  "ledger verify": verifyLedger,
  "ledger head": printHead,
  "ledger reverse": reverseTransfer,
  "ledger export": exportLedger,
};

async function verifyLedger(ledger: Ledger, options: Options, subject: string | undefined): Promise<number> {
  if (subject !== undefined) throw new UsageError(`Unexpected argument "${subject}"`);
  const directory = options.string("receipts");
  const report = await ledger.verify();
  for (const problem of report.problems) console.log(`PROBLEM ${problem}`);
  let receiptsOk = true;
  if (directory !== undefined) {
    const bank = await loadBankKey(options.string("data") ?? DATA_DIR_DEFAULT, nodeHandshakeCrypto);
    const checked = await checkReceipts(ledger, directory, bank.publicKey);
    for (const problem of checked.problems) console.log(`PROBLEM ${problem}`);
    console.log(`${checked.count} receipts checked, ${checked.problems.length} do not match the journal`);
    receiptsOk = checked.problems.length === 0;
  }
  const { links, head } = report.chain;
  const summary =
    `${report.accounts} accounts, ${report.entries} journal entries, balances total ${report.totalMinor}, ` +
    `${links} chain links verified (head ${formatHead(head)})`;
  const ok = report.ok && receiptsOk;
  console.log(`${ok ? "Ledger verified" : "Ledger verification FAILED"} (${ledger.store}): ${summary}`);
  return ok ? 0 : 1;
}

/** Checks every receipt in `directory` against the journal; names each one that does not match. */
async function checkReceipts(
  ledger: Ledger,
  directory: string,
  bankKey: Uint8Array,
): Promise<{ count: number; problems: string[] }> {
  const names: string[] = [];
  for await (const item of Deno.readDir(directory)) {
    if (!item.isFile || !item.name.endsWith(".json")) continue;
    if (names.length === RECEIPTS_PER_VERIFY_MAX) {
      throw new UsageError(`--receipts ${directory}: more than ${RECEIPTS_PER_VERIFY_MAX} receipts`);
    }
    names.push(item.name);
  }
  names.sort();
  const problems: string[] = [];
  for (const name of names) {
    const path = `${directory}/${name}`;
    const problem = await receiptProblem(ledger, path, bankKey);
    if (problem !== null) problems.push(`Receipt ${path}: ${problem}`);
  }
  return { count: names.length, problems };
}

async function receiptProblem(ledger: Ledger, path: string, bankKey: Uint8Array): Promise<string | null> {
  let receipt: Receipt | null = null;
  try {
    receipt = readReceipt(
      JSON.parse(await readTextFileLimited(path, { bytesMax: RECEIPT_FILE_BYTES_MAX, what: "receipt" })),
    );
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  if (receipt === null) return "not a well-formed receipt";
  if (!(await verifyReceipt(nodeHandshakeCrypto, receipt, bankKey))) return "not signed by this bank's key";
  const found = await ledger.entryAt(receipt.entry);
  if (found === null) return `entry ${receipt.entry} is no longer in the journal`;
  const { transfer, link, kind } = found;
  const same = kind === receipt.kind && transfer.id === receipt.transferId &&
    transfer.sourceAccountId === receipt.sourceAccountId &&
    transfer.targetAccountId === receipt.targetAccountId &&
    transfer.amountMinor === receipt.amountMinor && transfer.createdAt.toISOString() === receipt.createdAt;
  if (!same) {
    return `entry ${receipt.entry} is not what the bank signed (the journal says ${kind} ${transfer.id}, ` +
      `${
        formatDollars(transfer.amountMinor)
      } from ${transfer.sourceAccountId} to ${transfer.targetAccountId})`;
  }
  if (link.hash !== receipt.hash) {
    return `entry ${receipt.entry}'s chain hash is ${link.hash}, the bank signed ${receipt.hash}: ` +
      "history up to it was rewritten";
  }
  return null;
}

/** `bank-server ledger head`: the latest link of the journal's hash chain. */
async function printHead(ledger: Ledger, _options: Options, subject: string | undefined): Promise<number> {
  if (subject !== undefined) throw new UsageError(`Unexpected argument "${subject}"`);
  console.log(formatHead(await ledger.chainHead()));
  return 0;
}

/** `bank-server ledger reverse`: an operator's reversal, a new entry linked to the original. */
async function reverseTransfer(
  ledger: Ledger,
  options: Options,
  subject: string | undefined,
): Promise<number> {
  if (subject === undefined) throw new UsageError("ledger reverse needs the TRANSFER_ID to reverse");
  const reason = options.string("reason");
  if (reason === undefined || reason.trim() === "" || reason.length > REVERSAL_REASON_CHARS_MAX) {
    throw new UsageError(`--reason TEXT: why, 1 to ${REVERSAL_REASON_CHARS_MAX} characters`);
  }
  const amountText = options.string("amount");
  const amount = amountText === undefined ? undefined : parseDollars(amountText, TRANSFER_MINOR_MAX);
  if (amount !== undefined && !amount.ok) throw new UsageError(`--amount ${amountText}: ${amount.code}`);
  const key = options.string("key") ?? crypto.randomUUID();
  // The bank's key signs the receipt: read before anything is journaled, so a missing key changes nothing.
  const bank = await loadBankKey(options.string("data") ?? DATA_DIR_DEFAULT, nodeHandshakeCrypto);
  const result = await ledger.reverse({
    kind: "reversal",
    identity: BANK_OWNER,
    transferId: subject,
    idempotencyKey: `reversal:${key}`,
    reason,
    ...(amount === undefined ? {} : { amountMinor: amount.amountMinor }),
  });
  if (result.code !== "ok" && result.code !== "exists") {
    console.error(`Cannot reverse ${subject}: ${result.code}`);
    return 1;
  }
  const { reversal, link } = result;
  console.log(
    `${result.code === "ok" ? "Reversed" : "Already reversed under key " + key + ":"} ` +
      `${formatDollars(reversal.amountMinor)} of ${subject} (${formatDollars(result.reversedMinor)} of ` +
      `${
        formatDollars(result.original.amountMinor)
      } in all): entry ${link.entry}, transfer ${reversal.id}, key ${key}`,
  );
  // The operator's answer carries a receipt like every other journaling answer: signed, and kept if asked.
  const receipt = await receiptOf(bank, { kind: "reversal", transfer: reversal, link });
  const directory = options.string("receipts");
  if (directory !== undefined) {
    await ensurePrivateDir(directory);
    const path = `${directory}/${receiptFileName(receipt)}`;
    await writeFileAtomic(path, receiptFileText(receipt), { mode: PUBLIC_FILE_MODE });
    console.log(`Receipt for entry ${receipt.entry} saved in ${path}`);
  } else {
    console.log(
      `Receipt: entry ${receipt.entry}, chain hash ${receipt.hash}, signature ${
        toBase64Url(receipt.signature)
      }`,
    );
  }
  return 0;
}

function formatHead(head: ChainHead): string {
  return head.entry === null
    ? `empty ${formatHash(head.hash)}`
    : `entry ${head.entry} ${formatHash(head.hash)}`;
}
