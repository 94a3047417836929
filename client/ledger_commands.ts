/**
 * The client's money commands over structured requests, and receipts:
 *
 * ```sh
 * bank-client transfer --to ACC --amount $12.34 [--from ACC] [--key K] [--receipts DIR]
 * bank-client hold --to ACC --amount $50 [--expires-in SECONDS] [--key K]
 * bank-client capture HOLD_ID [--amount $40] [--receipts DIR]
 * bank-client void HOLD_ID
 * bank-client refund TRANSFER_ID [--amount $5] [--key K] [--receipts DIR]
 * bank-client receipt verify FILE [--credential FILE]
 * bank-client history [--account ACC] [--limit N] [--before ENTRY] [--as-of ENTRY|TIME] [--json]
 * ```
 *
 * With `--receipts DIR` every receipt the bank answers with is saved there as `ENTRY-TRANSFER_ID.json`;
 * `receipt verify` checks one offline against the bank key the credential pinned. A customer who keeps
 * receipts can prove what the bank journaled (`bank-server ledger verify --receipts DIR`).
 *
 * @module
 */
import { ensurePrivateDir, PUBLIC_FILE_MODE, readTextFileLimited, writeFileAtomic } from "../lib/files.ts";
import { formatOptionHelp, Options, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import { credentialPathOf, DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import { formatDollars, parseDollars } from "../protocol/money.ts";
import { HOLD_EXPIRY_S_MAX, RECEIPT_FILE_BYTES_MAX, TRANSFER_MINOR_MAX } from "../protocol/limits.ts";
import { readReceipt, receiptFileName, receiptFileText, verifyReceipt } from "../protocol/receipt.ts";
import type { Receipt } from "../protocol/receipt.ts";
import { BankClient, BankRequestError } from "./mod.ts";
import { CONNECTION_OPTIONS, connectionOf, loadCa, loadCredential } from "./setup.ts";
import { printStatement } from "./statement_command.ts";

const LEDGER_OPTIONS: readonly OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  {
    name: "credential",
    value: "FILE",
    defaultText: "DIR/clients/client-1.json",
    help: "the identity to act as (receipt verify: whose pinned bank key)",
  },
  { name: "to", value: "ACCOUNT", help: "transfer, hold: the account to pay" },
  { name: "from", value: "ACCOUNT", help: "transfer, hold: which of your accounts pays (default: oldest)" },
  { name: "amount", value: "AMOUNT", help: "e.g. $12.34 (capture, refund: default the whole)" },
  { name: "key", value: "KEY", help: "idempotency key: the same key never moves money twice (default: new)" },
  { name: "expires-in", value: "SECONDS", defaultText: "604800", help: "hold: expiry, seconds" },
  { name: "receipts", value: "DIR", help: "save every receipt in DIR" },
  { name: "account", value: "ACCOUNT", help: "history: one of your accounts (default: all)" },
  { name: "limit", value: "N", defaultText: "20", help: "history: entries per page" },
  { name: "before", value: "ENTRY", help: "history: the next page, from the last page's More: line" },
  { name: "as-of", value: "ENTRY|TIME", help: "history: a statement up to an entry, a date or a time" },
  { name: "json", boolean: true, help: "history: print the page as JSON" },
  { name: "help", boolean: true, help: "show this help" },
];

export const LEDGER_COMMANDS = [
  "transfer",
  "hold",
  "capture",
  "void",
  "refund",
  "receipt",
  "history",
] as const;
export type LedgerCommand = typeof LEDGER_COMMANDS[number];

export const LEDGER_USAGE = `Money and receipts:
  bank-client transfer --to ACCOUNT --amount AMOUNT [--from ACCOUNT] [--key KEY] [--receipts DIR]
  bank-client hold --to ACCOUNT --amount AMOUNT [--expires-in SECONDS] [--key KEY]
  bank-client capture HOLD_ID [--amount AMOUNT] [--receipts DIR]
  bank-client void HOLD_ID
  bank-client refund TRANSFER_ID [--amount AMOUNT] [--key KEY] [--receipts DIR]
  bank-client receipt verify FILE [--credential FILE]
  bank-client history [--account ACCOUNT] [--limit N] [--before ENTRY] [--as-of ENTRY|TIME] [--json]

Options:
${formatOptionHelp(LEDGER_OPTIONS)}`;

/** Runs one money or receipt command; returns the exit code (0 done, 1 refused or invalid, 2 usage). */
export async function ledgerCommandMain(command: LedgerCommand, args: string[]): Promise<number> {
  const options = new Options(args, { specs: LEDGER_OPTIONS, env: (name) => Deno.env.get(name) });
  if (options.boolean("help")) {
    console.log(LEDGER_USAGE);
    return 0;
  }
  if (command === "receipt") return await receiptCommand(options);
  const [subject, extra] = options.positional;
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`);
  const needsSubject = command === "capture" || command === "void" || command === "refund";
  if (needsSubject !== (subject !== undefined)) {
    throw new UsageError(
      needsSubject ? `${command} needs the id it acts on` : `Unexpected argument "${subject}"`,
    );
  }
  const credentialPath = options.string("credential") ??
    credentialPathOf(options.string("data") ?? DATA_DIR_DEFAULT, "client-1");
  const where = connectionOf(options);
  const client = await BankClient.connect({
    ...where,
    caPem: await loadCa(where.caPath),
    credential: await loadCredential(credentialPath),
  });
  try {
    const receipt = await act(client, command, options, subject ?? "");
    const directory = options.string("receipts");
    if (receipt !== null && directory !== undefined) await saveReceipt(directory, receipt);
    return 0;
  } catch (error) {
    if (!(error instanceof BankRequestError)) throw error;
    console.error(`bank-client ${command}: refused (${error.code}): ${error.detail}`);
    return 1;
  } finally {
    await client.close();
  }
}

/** Does one command and prints what happened; returns the receipt the bank answered with, if any. */
async function act(client: BankClient, command: LedgerCommand, options: Options, subject: string) {
  if (command === "history") {
    await printStatement(client, options);
    return null;
  }
  const key = options.string("key");
  const keyed = key === undefined ? {} : { idempotencyKey: key };
  const amount = amountOf(options);
  const say = (status: string, text: string) =>
    console.log(`${status === "exists" ? "Already done" : "Done"}: ${text}`);
  if (command === "transfer" || command === "hold") {
    const to = options.string("to");
    if (to === undefined || amount === undefined) throw new UsageError(`${command} needs --to and --amount`);
    const from = options.string("from");
    const request = { to, amountMinor: amount, ...keyed, ...(from === undefined ? {} : { from }) };
    if (command === "transfer") {
      const transfer = await client.transfer(request);
      say(
        transfer.status,
        `transfer ${transfer.transferId}, ${formatDollars(transfer.amountMinor)} to ${to}`,
      );
      return transfer.receipt;
    }
    const hold = await client.hold({ ...request, expiresInS: expiryOf(options) });
    say(
      hold.status,
      `hold ${hold.holdId}, ${formatDollars(hold.amountMinor)} for ${to} until ${hold.expiresAt}`,
    );
    return null;
  }
  if (command === "capture") {
    const captured = await client.capture(subject, amount);
    say(
      captured.status,
      `captured ${
        formatDollars(captured.capturedMinor)
      } of hold ${subject} (transfer ${captured.captureTransferId})`,
    );
    return captured.receipt;
  }
  if (command === "void") {
    const voided = await client.void(subject);
    say(voided.status, `hold ${subject} released`);
    return null;
  }
  const refund = await client.refund({
    transferId: subject,
    ...keyed,
    ...(amount === undefined ? {} : { amountMinor: amount }),
  });
  say(refund.status, `refund ${refund.transferId}, ${formatDollars(refund.amountMinor)} of ${subject}`);
  return refund.receipt;
}

function amountOf(options: Options): bigint | undefined {
  const text = options.string("amount");
  if (text === undefined) return undefined;
  const parsed = parseDollars(text, TRANSFER_MINOR_MAX);
  if (!parsed.ok) throw new UsageError(`--amount ${text}: ${parsed.code}`);
  return parsed.amountMinor;
}

function expiryOf(options: Options): number {
  const text = options.string("expires-in") ?? "604800";
  const seconds = /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : 0;
  if (seconds < 1 || seconds > HOLD_EXPIRY_S_MAX) {
    throw new UsageError(`--expires-in: whole seconds from 1 to ${HOLD_EXPIRY_S_MAX}`);
  }
  return seconds;
}

async function saveReceipt(directory: string, receipt: Receipt): Promise<void> {
  await ensurePrivateDir(directory);
  const path = `${directory}/${receiptFileName(receipt)}`;
  await writeFileAtomic(path, receiptFileText(receipt), { mode: PUBLIC_FILE_MODE });
  console.log(`Receipt for entry ${receipt.entry} saved in ${path}`);
}

/** `receipt verify FILE`: the receipt is well formed and signed by the bank key the credential pinned. */
async function receiptCommand(options: Options): Promise<number> {
  const [verb, path, extra] = options.positional;
  if (verb !== "verify" || path === undefined || extra !== undefined) {
    throw new UsageError("receipt verify FILE");
  }
  const credential = await loadCredential(
    options.string("credential") ?? credentialPathOf(options.string("data") ?? DATA_DIR_DEFAULT, "client-1"),
  );
  const text = await readTextFileLimited(path, { bytesMax: RECEIPT_FILE_BYTES_MAX, what: "receipt" });
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const receipt = readReceipt(parsed);
  if (receipt === null) {
    console.error(`Receipt ${path} is not a well-formed receipt`);
    return 1;
  }
  if (!(await verifyReceipt(nodeHandshakeCrypto, receipt, credential.bankPublicKey))) {
    console.error(`Receipt ${path} is NOT signed by the bank key ${credential.identity} pinned`);
    return 1;
  }
  console.log(
    `Receipt ${path} verified: entry ${receipt.entry} (${receipt.kind} ${receipt.transferId}), ` +
      `${formatDollars(receipt.amountMinor)} from ${receipt.sourceAccountId} to ${receipt.targetAccountId} ` +
      `at ${receipt.createdAt}, chain hash ${receipt.hash}`,
  );
  return 0;
}
