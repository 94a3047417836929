/**
 * The web banking app: enrol this browser with a one-time code, then accounts, transfers, history, contact
 * details and the key, over one end-to-end encrypted session (docs/PROTOCOL.md, over a WebSocket). Views are
 * sections of index.html chosen by the URL's fragment; every change is announced to screen readers.
 *
 * @module
 */
import { fromBase64Url } from "../../lib/bytes.ts";
import { BankRequestError, ClientError, enrolWithInvite } from "../../client/mod.ts";
import type { AccountView, HistoryView } from "../../client/mod.ts";
import { parseInviteCode } from "../../protocol/invite.ts";
import { isAccountId } from "../../protocol/messages.ts";
import { formatDollars, parseDollars } from "../../protocol/money.ts";
import { isIdentityName } from "../../protocol/credential.ts";
import { TRANSFER_MINOR_MAX } from "../../protocol/limits.ts";
import { connectOptions, WebBank } from "./bank.ts";
import type { ConnectionState } from "./bank.ts";
import {
  forgetEverything,
  forgetPending,
  heldKeyOf,
  listPending,
  loadKey,
  makeBrowserKey,
  saveKey,
  savePending,
} from "./keystore.ts";
import type { PendingTransfer, StoredKey } from "./keystore.ts";
import { CANNOT_REACH, CODE_REFUSED, KEY_REFUSED, messageFor, OUTCOME_UNKNOWN } from "./messages.ts";

const VIEWS = [
  "loading",
  "enrol",
  "accounts",
  "transfer",
  "history",
  "contact",
  "security",
  "ended",
] as const;
type View = typeof VIEWS[number];
/** Views of a signed-in customer, reachable from the navigation. */
const SIGNED_IN_VIEWS: readonly View[] = ["accounts", "transfer", "history", "contact", "security"];
const HISTORY_PAGE = 20;

const state: {
  key: StoredKey | null;
  bank: WebBank | null;
  accounts: AccountView[];
  historyBefore: bigint | null;
} = { key: null, bank: null, accounts: [], historyBefore: null };

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`index.html has no #${id}`);
  return found as T;
}

// ---- Messages and views ---------------------------------------------------------------------------

function say(kind: "error" | "success", text: string): void {
  const other = element(kind === "error" ? "success" : "error");
  other.hidden = true;
  const target = element(kind);
  target.textContent = text;
  target.hidden = false;
}

function clearMessages(): void {
  element("error").hidden = true;
  element("success").hidden = true;
}

function show(view: View): void {
  for (const name of VIEWS) element(`view-${name}`).hidden = name !== view;
  const signedIn = SIGNED_IN_VIEWS.includes(view);
  element("nav").hidden = !signedIn;
  element("who").hidden = state.key === null;
  for (const link of element("nav").querySelectorAll("a")) {
    if (link.getAttribute("href") === `#${view}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  element(`view-${view}`).querySelector<HTMLElement>("h1")?.focus();
}

function showConnection(connection: ConnectionState): void {
  const notice = element("connection");
  if (connection === "key_refused") {
    element("ended-reason").textContent = KEY_REFUSED;
    notice.hidden = true;
    show("ended");
    return;
  }
  notice.hidden = connection === "online";
  notice.textContent = connection === "offline" ? CANNOT_REACH : "Connecting to the bank…";
  if (connection === "online" && !element("view-loading").hidden) route();
}

/** Says why a request failed, in the customer's words. */
function explain(error: unknown): string {
  if (error instanceof BankRequestError) return messageFor(error.code, error.detail);
  if (error instanceof ClientError) return CANNOT_REACH;
  return `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs a form's work with its button disabled; reports a failure. */
async function busy(form: HTMLFormElement | HTMLButtonElement, work: () => Promise<void>): Promise<void> {
  const buttons = form instanceof HTMLFormElement ? [...form.querySelectorAll("button")] : [form];
  for (const button of buttons) button.disabled = true;
  clearMessages();
  try {
    await work();
  } catch (error) {
    say("error", explain(error));
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function route(): void {
  if (state.key === null) return show("enrol");
  if (!element("view-ended").hidden) return;
  const asked = location.hash.slice(1) as View;
  const view = SIGNED_IN_VIEWS.includes(asked) ? asked : "accounts";
  show(view);
  clearMessages();
  if (view === "accounts" || view === "transfer") void loadAccounts();
  if (view === "transfer") void showPending();
  if (view === "history") void loadHistory(true);
  if (view === "security") fillSecurity();
}

// ---- Signing in ----------------------------------------------------------------------------------

function bankPublicKey(): Uint8Array {
  const content = document.querySelector<HTMLMetaElement>('meta[name="bank-public-key"]')?.content ?? "";
  const key = fromBase64Url(content);
  if (key === null || key.length !== 32) throw new Error("The page does not carry the bank's key");
  return key;
}

async function signIn(key: StoredKey): Promise<void> {
  state.key = key;
  element("identity").textContent = key.identity;
  const held = await heldKeyOf(key.privateKey, key.publicKey);
  state.bank = new WebBank(
    { held, identity: key.identity, bankPublicKey: key.bankPublicKey },
    showConnection,
  );
  await state.bank.start().catch(() => {});
}

async function enrol(form: HTMLFormElement): Promise<void> {
  const identity = (form.elements.namedItem("identity") as HTMLInputElement).value.trim();
  const code = parseInviteCode((form.elements.namedItem("code") as HTMLInputElement).value);
  if (!isIdentityName(identity)) {
    return say("error", "An identity name is letters, digits, '.', '_' or '-', at most 64.");
  }
  if (code === null) {
    return say("error", "A code is 32 letters and digits, as the bank gave it (dashes optional).");
  }
  const pinned = bankPublicKey();
  const fresh = await makeBrowserKey();
  try {
    await enrolWithInvite({ ...connectOptions(), identity, code, bankPublicKey: pinned, fresh });
  } catch (error) {
    if (error instanceof ClientError && error.failure?.code === "handshake_failed") {
      return say("error", CODE_REFUSED);
    }
    throw error;
  }
  const key: StoredKey = {
    identity,
    keyId: fresh.keyId,
    publicKey: fresh.publicKey,
    privateKey: fresh.privateKey,
    bankPublicKey: pinned,
    enrolledAt: new Date().toISOString(),
  };
  await saveKey(key);
  form.reset();
  await signIn(key);
  history.replaceState(null, "", "#accounts"); // no hashchange: the message below stays
  route();
  say("success", `This browser is enrolled as ${identity}.`);
}

async function signOut(): Promise<void> {
  await state.bank?.stop();
  await forgetEverything();
  state.key = null;
  state.bank = null;
  state.accounts = [];
  element("identity").textContent = "";
  history.replaceState(null, "", location.pathname);
  show("enrol");
  say("success", "Signed out: this browser no longer holds a key for the bank.");
}

// ---- Accounts and transfers ------------------------------------------------------------------------

async function loadAccounts(): Promise<void> {
  if (state.bank === null) return;
  try {
    state.accounts = await state.bank.run((client) => client.balance());
  } catch (error) {
    return say("error", explain(error));
  }
  const list = element("accounts");
  list.replaceChildren(...state.accounts.map((account) => {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "account-id";
    name.textContent = account.accountId;
    const balance = document.createElement("strong");
    balance.className = "balance";
    balance.dataset.testid = `balance-${account.accountId}`;
    // What may be spent; when holds reserve part of it, the ledger balance beside it.
    balance.textContent = formatDollars(account.availableMinor);
    item.append(name, balance);
    if (account.availableMinor !== account.balanceMinor) {
      item.append(` available (${formatDollars(account.balanceMinor)} in the ledger)`);
    }
    if (account.status === "frozen") item.append(" (frozen)");
    return item;
  }));
  if (state.accounts.length === 0) list.textContent = "You have no account yet.";
  const from = element<HTMLSelectElement>("transfer-from");
  const chosen = from.value;
  from.replaceChildren(...state.accounts.map((account) => {
    const option = document.createElement("option");
    option.value = account.accountId;
    option.textContent = `${account.accountId} (${formatDollars(account.availableMinor)})`;
    return option;
  }));
  if (state.accounts.some((account) => account.accountId === chosen)) from.value = chosen;
}

/** Reads the transfer form: null (and says why) when it is not a transfer the bank could make. */
function readTransfer(form: HTMLFormElement): PendingTransfer | null {
  const from = (form.elements.namedItem("from") as HTMLSelectElement).value;
  const to = (form.elements.namedItem("to") as HTMLInputElement).value.trim();
  const typed = (form.elements.namedItem("amount") as HTMLInputElement).value.trim();
  if (!isAccountId(to)) {
    say("error", "An account is up to 32 letters, digits, '_' or '-'.");
    return null;
  }
  const amount = parseDollars(typed.startsWith("$") ? typed : `$${typed}`, TRANSFER_MINOR_MAX);
  if (!amount.ok) {
    say("error", messageFor(amount.code));
    return null;
  }
  return {
    idempotencyKey: `web-${crypto.randomUUID()}`,
    from,
    to,
    amountMinor: amount.amountMinor.toString(),
    sentAt: new Date().toISOString(),
  };
}

/** Sends a transfer whose idempotency key is stored already; only a known outcome forgets it. */
async function send(transfer: PendingTransfer): Promise<void> {
  const bank = state.bank!;
  let outcome;
  try {
    outcome = await bank.run((client) =>
      client.transfer({
        to: transfer.to,
        amountMinor: BigInt(transfer.amountMinor),
        idempotencyKey: transfer.idempotencyKey,
        ...(transfer.from === "" ? {} : { from: transfer.from }),
      })
    );
  } catch (error) {
    if (error instanceof BankRequestError && error.code !== "unavailable") {
      await forgetPending(transfer.idempotencyKey);
      await showPending();
      throw error;
    }
    await showPending();
    say("error", OUTCOME_UNKNOWN);
    return;
  }
  await forgetPending(transfer.idempotencyKey);
  await showPending();
  const amount = formatDollars(outcome.amountMinor);
  say("success", `Sent ${amount} from ${outcome.sourceAccountId} to ${outcome.targetAccountId}.`);
  await loadAccounts();
}

async function transfer(form: HTMLFormElement): Promise<void> {
  const pending = readTransfer(form);
  if (pending === null) return;
  // Stored before it is sent: if the page or the network dies now, the retry reuses the same key.
  await savePending(pending);
  form.reset();
  await send(pending);
}

/** Lists transfers whose outcome is unknown, each with a button that resends it under its key. */
async function showPending(): Promise<void> {
  const pending = await listPending();
  const box = element("pending");
  box.hidden = pending.length === 0;
  box.replaceChildren(...pending.map((transfer) => {
    const line = document.createElement("p");
    line.textContent =
      `Not yet confirmed: ${formatDollars(BigInt(transfer.amountMinor))} to ${transfer.to}, ` +
      `sent ${new Date(transfer.sentAt).toLocaleString()}. `;
    const again = document.createElement("button");
    again.type = "button";
    again.textContent = "Check again";
    again.addEventListener("click", () => void busy(again, () => send(transfer)));
    line.append(again);
    return line;
  }));
}

// ---- History, contact, key -------------------------------------------------------------------------

function describePosting(item: HistoryView): string {
  if (item.kind === "deposit") return `Opening deposit to ${item.accountId}`;
  return item.amountMinor < 0n
    ? `To ${item.counterpartyAccountId} from ${item.accountId}`
    : `From ${item.counterpartyAccountId} to ${item.accountId}`;
}

async function loadHistory(fresh: boolean): Promise<void> {
  if (state.bank === null) return;
  if (fresh) state.historyBefore = null;
  const before = state.historyBefore;
  let page;
  try {
    page = await state.bank.run((client) =>
      client.history({ limit: HISTORY_PAGE, ...(before === null ? {} : { before }) })
    );
  } catch (error) {
    return say("error", explain(error));
  }
  const rows = page.items.map((item) => {
    const row = document.createElement("tr");
    const when = document.createElement("td");
    when.textContent = new Date(item.createdAt).toLocaleString();
    const what = document.createElement("td");
    what.textContent = describePosting(item);
    const amount = document.createElement("td");
    amount.className = item.amountMinor < 0n ? "amount out" : "amount in";
    const magnitude = item.amountMinor < 0n ? -item.amountMinor : item.amountMinor;
    amount.textContent = `${item.amountMinor < 0n ? "−" : "+"}${
      formatDollars(magnitude, { cents: "always" })
    }`;
    const after = document.createElement("td");
    after.className = "amount";
    after.textContent = formatDollars(item.balanceAfterMinor, { cents: "always" });
    row.append(when, what, amount, after);
    return row;
  });
  const body = element("history");
  if (fresh) body.replaceChildren(...rows);
  else body.append(...rows);
  element("history-empty").hidden = body.children.length > 0;
  state.historyBefore = page.nextBefore;
  element("history-older").hidden = page.nextBefore === null;
}

async function updateContact(form: HTMLFormElement): Promise<void> {
  const details: { email?: string; phone?: string; address?: string } = {};
  for (const field of ["email", "phone", "address"] as const) {
    const value = (form.elements.namedItem(field) as HTMLInputElement).value.trim();
    if (value !== "") details[field] = value;
  }
  const changed = await state.bank!.run((client) => client.updateContact(details));
  form.reset();
  say(
    "success",
    changed.length === 0 ? "Your details on file are confirmed." : `Updated: ${changed.join(", ")}.`,
  );
}

function fillSecurity(): void {
  const key = state.key!;
  element("security-identity").textContent = key.identity;
  element("security-key").textContent = key.keyId;
  element("security-enrolled").textContent = new Date(key.enrolledAt).toLocaleString();
}

async function rotate(): Promise<void> {
  const fresh = await makeBrowserKey();
  const rotated = await state.bank!.run((client) => client.rotateKey(fresh));
  const key: StoredKey = {
    ...state.key!,
    keyId: rotated.keyId,
    publicKey: fresh.publicKey,
    privateKey: fresh.privateKey,
  };
  await saveKey(key);
  state.key = key;
  state.bank!.replaceKey(fresh);
  fillSecurity();
  say("success", `This browser's key was replaced; the old one (${rotated.revokedKeyId}) no longer works.`);
}

// ---- Wiring ------------------------------------------------------------------------------------------

function onSubmit(id: string, work: (form: HTMLFormElement) => Promise<void>): void {
  const form = element<HTMLFormElement>(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, () => work(form));
  });
}

function onClick(id: string, work: () => Promise<void>): void {
  const button = element<HTMLButtonElement>(id);
  button.addEventListener("click", () => void busy(button, work));
}

async function main(): Promise<void> {
  onSubmit("enrol-form", enrol);
  onSubmit("transfer-form", transfer);
  onSubmit("contact-form", updateContact);
  onClick("refresh", loadAccounts);
  onClick("history-older", () => loadHistory(false));
  onClick("rotate", rotate);
  onClick("sign-out", signOut);
  onClick("ended-sign-out", signOut);
  addEventListener("hashchange", route);
  const key = await loadKey();
  if (key === undefined) return show("enrol");
  await signIn(key);
  if (!element("view-loading").hidden) route();
}

main().catch((error) => say("error", explain(error)));
