/**
 * The receipt every journaling answer carries: the entry's place in the hash chain and what it moved,
 * signed with the bank's key (protocol/receipt.ts).
 *
 * @module
 */
import { signReceipt } from "../../protocol/receipt.ts";
import type { Receipt } from "../../protocol/receipt.ts";
import type { Signer } from "../../protocol/handshake_crypto.ts";
import type { EntryKind, EntryLink, Transfer } from "../ledger/ledger.ts";

/** Signs the receipt of a journaled entry. */
export function receiptOf(
  bank: Signer,
  entry: { kind: Exclude<EntryKind, "deposit">; transfer: Transfer; link: EntryLink },
): Promise<Receipt> {
  const { transfer, link } = entry;
  return signReceipt(bank, {
    entry: link.entry,
    hash: link.hash,
    kind: entry.kind,
    transferId: transfer.id,
    sourceAccountId: transfer.sourceAccountId,
    targetAccountId: transfer.targetAccountId,
    amountMinor: transfer.amountMinor,
    createdAt: transfer.createdAt.toISOString(),
  });
}
