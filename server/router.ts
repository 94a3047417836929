/**
 * Maps each request kind to its handler.
 *
 * @module
 */
import { handleBalance } from "./handlers/balance.ts";
import { handleUpdateContact } from "./handlers/contact.ts";
import { handleHistory } from "./handlers/history.ts";
import { handleTransfer } from "./handlers/transfer.ts";
import { handleCapture, handleHold, handleRefund, handleVoid } from "./handlers/holds.ts";
import { handleEnrol, handleRotateKey } from "./handlers/keys.ts";
import type { BankRequest, HandlerContext, Outcome } from "./handlers/types.ts";

/**
 * Runs the handler for a request's operation. A session authenticated with an invite's key may only
 * enrol: every other request is refused `not_allowed` before any handler runs.
 */
export function route(request: BankRequest, context: HandlerContext): Promise<Outcome> {
  if (context.session.kind === "invite" && request.operation !== "enrol") {
    const message = "this session may only enrol a key (it was opened with an invite)";
    return Promise.resolve({ operation: request.operation, ok: false, code: "not_allowed", message });
  }
  switch (request.operation) {
    case "balance":
      return handleBalance(request, context);
    case "transfer":
      return handleTransfer(request, context);
    case "hold":
      return handleHold(request, context);
    case "capture":
      return handleCapture(request, context);
    case "void":
      return handleVoid(request, context);
    case "refund":
      return handleRefund(request, context);
    case "history":
      return handleHistory(request, context);
    case "update_contact":
      return handleUpdateContact(request, context);
    case "enrol":
      return handleEnrol(request, context);
    case "rotate_key":
      return handleRotateKey(request, context);
  }
}
