/**
 * A ledger that reports to the server's statistics: how long each write takes to commit, and each
 * journaled transfer for the dashboard's recent list. Reads pass straight through.
 *
 * @module
 */
import type { StatsSink } from "./stats/sink.ts";
import type {
  AccountStatus,
  ContactDetails,
  ContactResult,
  Ledger,
  OpenAccountInput,
  OpenAccountResult,
  StatusResult,
  TransferInput,
  TransferResult,
} from "./ledger/ledger.ts";

/** Wraps `ledger` so that its writes are timed and its transfers shown. */
export function instrumentLedger(ledger: Ledger, stats: StatsSink): Ledger {
  const timed = async <T>(write: () => Promise<T>): Promise<T> => {
    const startedMs = performance.now();
    const result = await write();
    stats.ledgerCommitted(performance.now() - startedMs);
    return result;
  };
  return {
    store: ledger.store,
    accountsOf: (owner) => ledger.accountsOf(owner),
    listAccounts: (query) => ledger.listAccounts(query),
    findTransfer: (identity, key) => ledger.findTransfer(identity, key),
    history: (owner, query) => ledger.history(owner, query),
    contactHistory: (owner, query) => ledger.contactHistory(owner, query),
    verify: () => ledger.verify(),
    chainHead: () => ledger.chainHead(),
    chainPage: (position) => ledger.chainPage(position),
    entryAt: (entry) => ledger.entryAt(entry),
    ping: () => ledger.ping(),
    close: () => ledger.close(),
    [Symbol.asyncDispose]: () => ledger.close(),
    openAccount: (input: OpenAccountInput): Promise<OpenAccountResult> =>
      timed(() => ledger.openAccount(input)),
    setAccountStatus: (id: string, status: AccountStatus): Promise<StatusResult> =>
      timed(() => ledger.setAccountStatus(id, status)),
    updateContact: (owner: string, details: ContactDetails): Promise<ContactResult> =>
      timed(() => ledger.updateContact(owner, details)),
    hold: (input) => timed(() => ledger.hold(input)),
    captureHold: (input) => timed(() => ledger.captureHold(input)),
    voidHold: (input) => timed(() => ledger.voidHold(input)),
    reverse: (input) => timed(() => ledger.reverse(input)),
    transfer: async (input: TransferInput): Promise<TransferResult> => {
      const result = await timed(() => ledger.transfer(input));
      if (result.code === "ok") {
        const { sourceAccountId, targetAccountId, amountMinor, createdAt } = result.transfer;
        stats.transferJournaled({ sourceAccountId, targetAccountId, amountMinor, at: createdAt });
      }
      return result;
    },
  };
}
