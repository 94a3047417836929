/**
 * The operators' live dashboard, bundled into `dashboard.js` (`deno task bundle:dashboard`) and served
 * by the monitor at `GET /` beside `index.html` and `dashboard.css`, under a Content-Security-Policy with no
 * inline script or style.
 *
 * The page polls `GET /status` and `GET /api/series` once a second. When its address carries a fragment
 * `#token=…`, it sends the token as `Authorization: Bearer …`; the fragment never reaches a server, and
 * the token never goes into a query string. A 401 shows how to open the page with the token. Every value
 * reaches the DOM through `textContent` or an attribute, never as markup.
 *
 * Stable hooks for tests (`data-testid`), each number also in `data-value`:
 *
 * | data-testid                                                | what                                          |
 * | ---------------------------------------------------------- | --------------------------------------------- |
 * | `connections-open`, `connections-total`, `rejected`        | connection counters                           |
 * | `rejection-rate`, `open-files`                             | rejections/s over the last 10 s; open files   |
 * | `tasks-processed`, `tasks-failed`, `uptime`, `draining`    | request counters, seconds, boolean            |
 * | `chart-throughput`, `chart-latency`, `chart-connections`, `chart-errors` | SVG charts (`data-peak`, `data-latest`, `data-total`, `data-samples`) |
 * | `recent-transfers` (tbody), `recent-transfer` (row)        | cells carry `data-field` `at`, `from`, `to`, `amount` |
 * | `unauthorized`                                             | the 401 message (hidden otherwise)            |
 * | `poll-state`                                               | live / failed / unauthorized                  |
 *
 * @module
 */
import { isAccountId } from "../../protocol/messages.ts";
import type { RecentTransfer, SeriesSample, StatusSnapshot } from "../source.ts";
import { CHARTS, drawChart, WINDOW_SECONDS_MIN } from "./charts.ts";
import {
  formatAmount,
  formatClock,
  formatCompact,
  formatCount,
  formatDuration,
  formatSpan,
} from "./format.ts";
import { MONITOR_TOKEN_RULE } from "../token.ts";
import { getJson, isCount, readSeries, readStatus, readToken, type Token } from "./read.ts";

const POLL_INTERVAL_MS = 1000;
const REJECTION_RATE_SECONDS = 10;

interface Counter {
  id: string;
  field: keyof StatusSnapshot;
  format(value: never): string;
  warn?: true;
}

const COUNTERS: readonly Counter[] = [
  { id: "connections-open", field: "connections", format: formatCount },
  { id: "connections-total", field: "connections_total", format: formatCount },
  { id: "rejected", field: "connections_rejected", format: formatCount, warn: true },
  { id: "tasks-processed", field: "tasks_processed", format: formatCount },
  { id: "tasks-failed", field: "tasks_failed", format: formatCount, warn: true },
  { id: "uptime", field: "uptime_seconds", format: formatDuration },
  { id: "draining", field: "draining", format: (draining: boolean) => (draining ? "Yes, draining" : "No") },
];

const view: { samples: SeriesSample[]; transfers: RecentTransfer[] } = { samples: [], transfers: [] };

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`The page has no element #${id}`);
  return found;
}

function byTestId(id: string): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (found === null) throw new Error(`The page has no element with data-testid ${id}`);
  return found;
}

function clear(target: HTMLElement): void {
  target.textContent = "—";
  target.removeAttribute("data-value");
  target.classList.remove("warn");
}

/** The state line; its live region changes only with the state, so screen readers are not told every second. */
function setPollState(state: "live" | "failed" | "unauthorized", text: string, updated = ""): void {
  element("poll-state").dataset.state = state;
  const live = element("poll-text");
  if (live.textContent !== text) live.textContent = text;
  element("updated-at").textContent = updated;
  element("main").classList.toggle("stale", state === "failed");
}

function renderCounters(status: StatusSnapshot | null): void {
  for (const counter of COUNTERS) {
    const target = byTestId(counter.id);
    if (status === null) {
      clear(target);
      continue;
    }
    const value = status[counter.field];
    target.dataset.value = String(value);
    target.textContent = counter.format(value as never);
    target.classList.toggle("warn", counter.warn === true && (value as number) > 0);
  }
  renderOpenFiles(status);
}

/** Open files against the limit; shown in red past 90 % of it. */
function renderOpenFiles(status: StatusSnapshot | null): void {
  const target = byTestId("open-files");
  const open = status?.open_files;
  const limit = status?.open_files_limit;
  if (!isCount(open)) {
    clear(target);
    if (status !== null) target.textContent = "unknown";
    return;
  }
  target.dataset.value = String(open);
  target.textContent = isCount(limit) ? formatCount(open) + " of " + formatCompact(limit) : formatCount(open);
  target.title = isCount(limit) ? formatCount(open) + " of " + formatCount(limit) + " open files" : "";
  target.classList.toggle("warn", isCount(limit) && open > 0.9 * limit);
}

/** Rejections per second, averaged over the last (up to) 10 seconds of the series. */
function renderRejectionRate(samples: readonly SeriesSample[]): void {
  const target = byTestId("rejection-rate");
  const recent = samples.slice(-REJECTION_RATE_SECONDS);
  if (recent.length === 0) return clear(target);
  const rate = recent.reduce((sum, sample) => sum + sample.rejected, 0) / recent.length;
  target.dataset.value = String(rate);
  target.textContent = (rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)) + "/s";
  target.classList.toggle("warn", rate > 0);
}

function cell(text: string, field: string, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  td.dataset.field = field;
  if (className !== undefined) td.className = className;
  return td;
}

function timeCell(at: Date): HTMLTableCellElement {
  if (Number.isNaN(at.getTime())) return cell("invalid time", "at");
  const td = cell("", "at");
  const stamp = document.createElement("time");
  stamp.dateTime = at.toISOString();
  stamp.title = at.toISOString();
  stamp.textContent = formatClock(at);
  td.append(stamp);
  return td;
}

function transferRow(transfer: RecentTransfer): HTMLTableRowElement {
  const row = document.createElement("tr");
  row.dataset.testid = "recent-transfer";
  const from = isAccountId(transfer.from) ? transfer.from : "invalid account";
  const to = isAccountId(transfer.to) ? transfer.to : "invalid account";
  const amount = formatAmount(transfer.amount_minor) ?? "invalid amount";
  row.append(
    timeCell(new Date(transfer.at)),
    cell(from, "from", "id"),
    cell(to, "to", "id"),
    cell(amount, "amount", "num"),
  );
  return row;
}

function renderTransfers(transfers: readonly RecentTransfer[]): void {
  const rows = transfers.map(transferRow);
  if (rows.length === 0) {
    const row = document.createElement("tr");
    const empty = cell("No transfers yet", "empty", "empty");
    empty.colSpan = 4;
    row.append(empty);
    rows.push(row);
  }
  element("transfers-body").replaceChildren(...rows);
}

function renderCharts(): void {
  let span = WINDOW_SECONDS_MIN;
  for (const chart of CHARTS) span = drawChart(chart, view.samples);
  element("window-text").textContent = "last " + formatSpan(span);
  renderRejectionRate(view.samples);
}

function showUnauthorized(token: Token): void {
  const reasons = {
    absent: "this monitor requires a token.",
    invalid: `the token in the address is not a monitor token (${MONITOR_TOKEN_RULE}).`,
    present: "the token in the address was not accepted.",
  };
  element("unauthorized-reason").textContent = reasons[token.kind];
  element("token-address").textContent = location.pathname + "#token=…";
  element("unauthorized").hidden = false;
  view.samples = [];
  view.transfers = [];
  renderCounters(null);
  renderTransfers([]);
  renderCharts();
  setPollState("unauthorized", "Unauthorized");
}

async function pollOnce(): Promise<void> {
  const token = readToken(location.hash);
  if (token.kind === "invalid") return showUnauthorized(token);
  const [status, series] = await Promise.all([getJson("./status", token), getJson("./api/series", token)]);
  if (status.kind === "unauthorized" || series.kind === "unauthorized") return showUnauthorized(token);
  element("unauthorized").hidden = true;
  if (status.kind === "failed" || series.kind === "failed") {
    const detail = status.kind === "failed" ? status.detail : series.kind === "failed" ? series.detail : "";
    return setPollState("failed", "Cannot reach the server (" + detail + "); retrying every second");
  }
  const counters = readStatus(status.body);
  const data = readSeries(series.body);
  if (counters === null || data === null) {
    return setPollState("failed", "The server sent data this page does not understand; retrying");
  }
  view.samples = data.samples;
  view.transfers = data.transfers;
  renderCounters(counters);
  renderTransfers(view.transfers);
  renderCharts();
  setPollState("live", "Live", "· updated " + formatClock(new Date()));
}

/** One poll at a time: a poll asked for while one runs follows it at once; otherwise one per second. */
const poller: { timer?: ReturnType<typeof setTimeout>; running: boolean; again: boolean } = {
  running: false,
  again: false,
};

async function poll(): Promise<void> {
  if (poller.running) {
    poller.again = true;
    return;
  }
  poller.running = true;
  clearTimeout(poller.timer);
  try {
    await pollOnce();
  } catch (error) {
    setPollState("failed", "The page failed to update; retrying");
    console.error(error);
  } finally {
    poller.running = false;
    if (poller.again) {
      poller.again = false;
      poll();
    } else {
      poller.timer = setTimeout(poll, POLL_INTERVAL_MS);
    }
  }
}

let resizeFrame = 0;
globalThis.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(renderCharts);
});
globalThis.addEventListener("hashchange", () => poll());
renderCharts();
poll();
