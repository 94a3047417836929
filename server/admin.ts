/**
 * The operator's ledger commands:
 *
 * ```sh
 * bank-server accounts open --owner NAME --deposit AMOUNT [--id ID]
 * bank-server accounts list [--owner NAME] [--limit N] [--after ID]
 * bank-server accounts freeze ID
 * bank-server accounts unfreeze ID
 * bank-server ledger verify|head|reverse …  (admin_ledger.ts)
 * bank-server clients …                 (admin_clients.ts)
 * ```
 *
 * Each works on the same store the server uses (`--data`, `--database`), prints to stdout, and exits 0 on
 * success, 1 when the ledger refused or verification failed, 2 for a usage error.
 *
 * @module
 */
import { isIdentityName, isReservedIdentityName } from "../protocol/credential.ts";
import { ACCOUNTS_PAGE_MAX, ACCOUNTS_PER_OWNER_MAX } from "./ledger/limits.ts";
import { isAccountId } from "../protocol/messages.ts";
import { formatDollars } from "../protocol/money.ts";
import { formatOptionHelp, Options, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import { DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { DATA_OPTION, DATABASE_OPTION, parseDatabaseUrl } from "./config.ts";
import { ensurePrivateDir } from "../lib/files.ts";
import { CLIENT_ACTIONS, CLIENT_OPTIONS, CLIENT_USAGE } from "./admin_clients.ts";
import { parseDeposit } from "./admin_deposit.ts";
import type { Account, BankStore, Ledger } from "./ledger/ledger.ts";
import { LEDGER_ACTIONS, LEDGER_OPTIONS, LEDGER_USAGE } from "./admin_ledger.ts";
import { openStore } from "./ledger/mod.ts";

export const ADMIN_COMMANDS = ["accounts", "ledger", "clients"] as const;

const ADMIN_OPTIONS: readonly OptionSpec[] = [
  DATA_OPTION,
  DATABASE_OPTION,
  { name: "owner", value: "NAME", help: "account owner (an identity name)" },
  {
    name: "deposit",
    value: "AMOUNT",
    defaultText: "$0",
    help: "opening deposit, e.g. $500 or $12.34 (clients invite: $500, as demo identities get)",
  },
  { name: "id", value: "ID", help: "account id to open (default: generated)" },
  { name: "limit", value: "N", defaultText: "100", help: `accounts to list (at most ${ACCOUNTS_PAGE_MAX})` },
  { name: "after", value: "ID", help: "list accounts after this id (paging)" },
  ...LEDGER_OPTIONS,
  ...CLIENT_OPTIONS,
  { name: "help", boolean: true, help: "show this help" },
];

export const ADMIN_USAGE = `Ledger administration:
  bank-server accounts open --owner NAME --deposit AMOUNT [--id ID]
  bank-server accounts list [--owner NAME] [--limit N] [--after ID]
  bank-server accounts freeze ID
  bank-server accounts unfreeze ID
${LEDGER_USAGE}
${CLIENT_USAGE}

Options:
${formatOptionHelp(ADMIN_OPTIONS)}

Exit codes: 0 done, 1 refused or verification failed, 2 usage error.`;

type Action = (store: BankStore, options: Options, subject: string | undefined) => Promise<number>;

const ACTIONS: Record<string, Action> = {
  "accounts open": openAccount,
  "accounts list": listAccounts,
  "accounts freeze": (ledger, _options, subject) => setStatus(ledger, subject, "frozen"),
  "accounts unfreeze": (ledger, _options, subject) => setStatus(ledger, subject, "open"),
  ...LEDGER_ACTIONS,
  ...CLIENT_ACTIONS,
};

/** Runs one administration command; returns the exit code. Throws {@link UsageError} for bad usage. */
export async function runAdmin(args: string[], env: (name: string) => string | undefined): Promise<number> {
  const options = new Options(args, { specs: ADMIN_OPTIONS, env });
  if (options.boolean("help")) {
    console.log(ADMIN_USAGE);
    return 0;
  }
  const [group, verb, subject, extra] = options.positional;
  const action = ACTIONS[`${group} ${verb}`];
  if (action === undefined) throw new UsageError(`Unknown command "${[group, verb].join(" ").trim()}"`);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`);
  const databaseUrl = parseDatabaseUrl(options.string("database"));
  const dataDir = options.string("data") ?? DATA_DIR_DEFAULT;
  await ensurePrivateDir(dataDir);
  await using store = await openStore({ dataDir, ...(databaseUrl === undefined ? {} : { databaseUrl }) });
  return await action(store, options, subject);
}

async function openAccount(ledger: Ledger, options: Options, subject: string | undefined): Promise<number> {
  if (subject !== undefined) throw new UsageError(`Unexpected argument "${subject}"`);
  const owner = options.string("owner");
  if (owner === undefined || !isIdentityName(owner) || isReservedIdentityName(owner)) {
    throw new UsageError("--owner must be a client identity name (not bank or external)");
  }
  const id = options.string("id");
  if (id !== undefined && !isAccountId(id)) {
    throw new UsageError("--id must be 1 to 32 letters, digits, - or _");
  }
  const depositMinor = parseDeposit(options.string("deposit"), 0n);
  const result = await ledger.openAccount({
    owner,
    depositMinor,
    ...(id === undefined ? {} : { id }),
  });
  if (result.code !== "ok") {
    const reasons = {
      account_exists: `Account ${id} already exists`,
      owner_account_limit:
        `${owner} already holds ${ACCOUNTS_PER_OWNER_MAX} accounts, the most one owner may hold`,
      issuance_over_limit: "This deposit would take all money deposited past the bank's issuance cap",
    };
    console.error(reasons[result.code]);
    return 1;
  }
  console.log(formatAccount(result.account));
  return 0;
}

async function listAccounts(ledger: Ledger, options: Options, subject: string | undefined): Promise<number> {
  if (subject !== undefined) throw new UsageError(`Unexpected argument "${subject}"`);
  const limit = options.integer("limit", { min: 1, max: ACCOUNTS_PAGE_MAX, fallback: 100 });
  const owner = options.string("owner");
  const after = options.string("after");
  const accounts = await ledger.listAccounts({
    limit,
    ...(owner === undefined ? {} : { owner }),
    ...(after === undefined ? {} : { after }),
  });
  console.log(
    ["ID".padEnd(14), "OWNER".padEnd(16), "KIND".padEnd(9), "STATUS".padEnd(7), "BALANCE"].join(" "),
  );
  for (const account of accounts) console.log(formatAccount(account));
  return 0;
}

async function setStatus(
  ledger: Ledger,
  subject: string | undefined,
  status: "open" | "frozen",
): Promise<number> {
  if (subject === undefined || !isAccountId(subject)) {
    throw new UsageError("Name the account: accounts freeze ID");
  }
  const result = await ledger.setAccountStatus(subject, status);
  if (result.code !== "ok") {
    console.error(`No customer account ${subject}`);
    return 1;
  }
  console.log(formatAccount(result.account));
  return 0;
}

function formatAccount(account: Account): string {
  const balance = account.balanceMinor < 0n
    ? `-${formatDollars(-account.balanceMinor)}`
    : formatDollars(account.balanceMinor);
  return [
    account.id.padEnd(14),
    account.owner.padEnd(16),
    account.kind.padEnd(9),
    account.status.padEnd(7),
    balance,
  ]
    .join(" ");
}
