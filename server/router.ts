/**
 * Maps each request kind to its handler.
 *
 * @module
 */
import { handleBalance } from "./handlers/balance.ts";
import { handleUpdateContact } from "./handlers/contact.ts";
import { handleHistory } from "./handlers/history.ts";
import { handleTransfer } from "./handlers/transfer.ts";
import type { BankRequest, HandlerContext, Outcome } from "./handlers/types.ts";

/** Runs the handler for a request's operation. */
export function route(request: BankRequest, context: HandlerContext): Promise<Outcome> {
  switch (request.operation) {
    case "balance":
      return handleBalance(request, context);
    case "transfer":
      return handleTransfer(request, context);
    case "history":
      return handleHistory(request, context);
    case "update_contact":
      return handleUpdateContact(request, context);
  }
}
