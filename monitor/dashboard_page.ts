/**
 * The operators' live dashboard, served at `GET /` by the monitor: one self-contained page (inline CSS
 * and JavaScript, no external resources) that works offline, inside a compiled binary, and under the
 * monitor's Content-Security-Policy (`script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline';
 * connect-src 'self'`).
 *
 * The page polls `GET /status` and `GET /api/series` once a second. When its address carries a fragment
 * `#token=…`, it sends the token as `Authorization: Bearer …`; the fragment never reaches a server, and
 * the token never goes into a query string. A 401 shows how to open the page with the token.
 *
 * Every value reaches the DOM through `textContent` or an attribute, never as markup. Amounts arrive as
 * digit strings of minor units and are formatted with BigInt arithmetic only.
 *
 * Stable hooks for tests (`data-testid`), each number also in `data-value`:
 *
 * | data-testid                                                       | what                                |
 * | ----------------------------------------------------------------- | ----------------------------------- |
 * | `connections-open`, `connections-total`, `rejected`               | connection counters                 |
 * | `rejection-rate`, `open-files`                                    | rejections per second over the last 10 s; open files (of the limit) |
 * | `tasks-processed`, `tasks-failed`, `uptime`, `draining`           | request counters, seconds, boolean  |
 * | `chart-throughput`, `chart-latency`, `chart-connections`, `chart-errors` | the SVG charts (`data-peak`, `data-latest`, `data-total`, `data-samples`) |
 * | `recent-transfers` (tbody), `recent-transfer` (row)               | cells carry `data-field` `at`, `from`, `to`, `amount` |
 * | `unauthorized`                                                    | the 401 message (hidden otherwise)  |
 * | `poll-state`                                                      | live / failed / unauthorized        |
 *
 * @module
 */

const STYLE = String.raw`
:root {
  color-scheme: light;
  --ink: #1b1f24;
  --muted: #57606a;
  --line: #d0d7de;
  --grid: #eaeef2;
  --panel: #ffffff;
  --page: #f3f5f7;
  --blue: #1f5fbf;
  --orange: #b35400;
  --purple: #6f42c1;
  --red: #b42318;
  --teal: #0b7a6e;
  --green: #1a7f37;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink); line-height: 1.4; }
header {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 0.5rem 1.5rem; padding: 0.9rem 1.5rem; background: var(--panel); border-bottom: 1px solid var(--line);
}
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 0.75rem; }
main > *, .charts > * { min-width: 0; }
main { display: grid; gap: 1rem; max-width: 1440px; margin: 0 auto; padding: 1rem 1.5rem; }
footer { max-width: 1440px; margin: 0 auto; padding: 0 1.5rem 1.5rem; color: var(--muted); font-size: 0.8rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
.poll-state { display: flex; align-items: center; gap: 0.5rem; margin: 0; color: var(--muted); font-size: 0.9rem; }
.dot { display: inline-block; width: 0.65rem; height: 0.65rem; border-radius: 50%; background: var(--muted); }
.poll-state[data-state="live"] .dot { background: var(--green); }
.poll-state[data-state="failed"] .dot, .poll-state[data-state="unauthorized"] .dot { background: var(--red); }
.alert {
  margin: 0; padding: 0.75rem 1rem; border: 1px solid #f1aeb5; border-radius: 8px;
  background: #fdecee; color: #7a1020;
}
.alert[hidden] { display: none; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
.counters { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: 0.75rem; margin: 0; }
.counter {
  display: flex; flex-direction: column; justify-content: space-between;
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 0.7rem 1rem;
}
.counter dt { color: var(--muted); font-size: 0.8rem; }
.counter dd {
  margin: 0.2rem 0 0; font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap;
}
.counter dd.warn { color: var(--red); }
.stale .counter dd, .stale .chart svg, .stale tbody { opacity: 0.5; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); gap: 1rem; }
.chart { margin: 0; }
.chart figcaption {
  display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between;
  gap: 0.25rem 1rem; margin-bottom: 0.25rem;
}
.chart-title { font-weight: 600; }
.unit, .now { color: var(--muted); font-size: 0.85rem; font-weight: 400; }
.now { font-variant-numeric: tabular-nums; }
.chart svg { display: block; width: 100%; height: 170px; }
.legend { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0.25rem 0 0; padding: 0; list-style: none;
  color: var(--muted); font-size: 0.8rem; }
.swatch { display: inline-block; width: 1.4rem; margin-right: 0.35rem; vertical-align: middle;
  border-top: 3px solid var(--c); }
.swatch.dashed { border-top-style: dashed; }
.swatch.dotted { border-top-style: dotted; }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .axis { stroke: var(--line); stroke-width: 1; }
svg text { fill: var(--muted); font-size: 11px; font-family: inherit; }
svg .line { fill: none; stroke: var(--c); stroke-width: 2; stroke-linejoin: round; }
svg .line.dashed { stroke-dasharray: 6 3; }
svg .line.dotted { stroke-dasharray: 2 3; }
svg .area { fill: var(--c); stroke: none; opacity: 0.14; }
.s-requests { --c: var(--blue); }
.s-p50 { --c: var(--teal); }
.s-p90 { --c: var(--orange); }
.s-p99 { --c: var(--purple); }
.s-connections { --c: var(--teal); }
.s-errors { --c: var(--red); }
.s-rejected { --c: var(--orange); }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { color: var(--muted); font-size: 0.8rem; font-weight: 600; }
tbody tr:last-child td { border-bottom: none; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9rem; }
.num { text-align: right; }
td.empty { color: var(--muted); text-align: center; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
@media (max-width: 40rem) {
  header, main, footer { padding-left: 0.75rem; padding-right: 0.75rem; }
  .counter dd { font-size: 1.3rem; }
}
`;

const BODY = String.raw`
<header>
  <h1>Bank server monitor</h1>
  <p class="poll-state" id="poll-state" data-testid="poll-state" data-state="connecting">
    <span class="dot" aria-hidden="true"></span><span id="poll-text" role="status" aria-live="polite">Connecting…</span>
    <span id="updated-at"></span></p>
</header>
<main id="main">
  <p class="alert" id="unauthorized" data-testid="unauthorized" role="alert" hidden>
    <strong>Unauthorized:</strong> <span id="unauthorized-reason">this monitor requires a token.</span>
    Open <code id="token-address">/#token=…</code> with the monitor token (the server's
    <code>--monitor-token</code>). The token stays in the address fragment and is sent only in the
    Authorization header.
  </p>
  <section aria-labelledby="counters-heading">
    <h2 id="counters-heading" class="visually-hidden">Counters</h2>
    <dl class="counters">
      <div class="counter"><dt>Open connections</dt><dd data-testid="connections-open">—</dd></div>
      <div class="counter"><dt>Connections total</dt><dd data-testid="connections-total">—</dd></div>
      <div class="counter"><dt>Rejected connections</dt><dd data-testid="rejected">—</dd></div>
      <div class="counter"><dt>Rejections per second</dt><dd data-testid="rejection-rate">—</dd></div>
      <div class="counter"><dt>Open files</dt><dd data-testid="open-files">—</dd></div>
      <div class="counter"><dt>Tasks processed</dt><dd data-testid="tasks-processed">—</dd></div>
      <div class="counter"><dt>Tasks failed</dt><dd data-testid="tasks-failed">—</dd></div>
      <div class="counter"><dt>Uptime</dt><dd data-testid="uptime">—</dd></div>
      <div class="counter"><dt>Draining</dt><dd data-testid="draining">—</dd></div>
    </dl>
  </section>
  <section class="panel" aria-labelledby="charts-heading">
    <h2 id="charts-heading">Per second, <span id="window-text">last 10 minutes</span></h2>
    <div class="charts">
      <figure class="chart">
        <figcaption><span><span class="chart-title">Throughput</span> <span class="unit">requests/s</span></span>
          <span class="now" data-testid="throughput-now" id="chart-throughput-now">—</span></figcaption>
        <svg id="chart-throughput" data-testid="chart-throughput" role="img" aria-label="Throughput: no data yet"></svg>
        <ul class="legend"><li><span class="swatch s-requests"></span>requests answered</li></ul>
      </figure>
      <figure class="chart">
        <figcaption><span><span class="chart-title">Latency</span> <span class="unit">ms</span></span>
          <span class="now" id="chart-latency-now">—</span></figcaption>
        <svg id="chart-latency" data-testid="chart-latency" role="img" aria-label="Latency: no data yet"></svg>
        <ul class="legend">
          <li><span class="swatch s-p50"></span>p50</li>
          <li><span class="swatch dashed s-p90"></span>p90</li>
          <li><span class="swatch dotted s-p99"></span>p99</li>
        </ul>
      </figure>
      <figure class="chart">
        <figcaption><span><span class="chart-title">Open connections</span> <span class="unit">connections</span></span>
          <span class="now" id="chart-connections-now">—</span></figcaption>
        <svg id="chart-connections" data-testid="chart-connections" role="img"
          aria-label="Open connections: no data yet"></svg>
        <ul class="legend"><li><span class="swatch s-connections"></span>open at the end of each second</li></ul>
      </figure>
      <figure class="chart">
        <figcaption><span><span class="chart-title">Errors and rejections</span> <span class="unit">per second</span></span>
          <span class="now" id="chart-errors-now">—</span></figcaption>
        <svg id="chart-errors" data-testid="chart-errors" role="img" aria-label="Errors and rejections: no data yet"></svg>
        <ul class="legend">
          <li><span class="swatch s-errors"></span>requests refused or failed</li>
          <li><span class="swatch dashed s-rejected"></span>rejected: connections, rate-limited requests, monitor requests</li>
        </ul>
      </figure>
    </div>
  </section>
  <section class="panel" aria-labelledby="transfers-heading">
    <h2 id="transfers-heading">Recent transfers</h2>
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">The most recent transfers, newest first</caption>
        <thead><tr>
          <th scope="col">Time</th><th scope="col">From</th><th scope="col">To</th>
          <th scope="col" class="num">Amount</th>
        </tr></thead>
        <tbody id="transfers-body" data-testid="recent-transfers">
          <tr><td class="empty" colspan="4">No transfers yet</td></tr>
        </tbody>
      </table>
    </div>
  </section>
</main>
<footer>Refreshes every second from <code>/status</code> and <code>/api/series</code>. Times are local.</footer>
<noscript><p class="alert">This dashboard needs JavaScript. The raw data is at /status and /api/series.</p></noscript>
`;

// Written without backticks, "${" or backslashes, so the String.raw template keeps it exactly as is.
const SCRIPT = String.raw`
const POLL_INTERVAL_MS = 1000;
const FETCH_TIMEOUT_MS = 5000;
const SAMPLES_MAX = 600;
const TRANSFERS_MAX = 20;
const TOKEN_CHARS_MAX = 512;
const WINDOW_SECONDS_MIN = 30;
const WINDOW_SECONDS_MAX = 600;
const CHART_HEIGHT_PX = 170;
const TIME_LABEL_PX_MIN = 72;
const SVG_NS = "http://www.w3.org/2000/svg";
const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,17})$/;
const TOKEN_PATTERN = /^[!-~]+$/;
const ACCOUNT_PATTERN = /^[!-~]{1,64}$/;

const COUNTERS = [
  { id: "connections-open", field: "connections", format: formatCount },
  { id: "connections-total", field: "connections_total", format: formatCount },
  { id: "rejected", field: "connections_rejected", format: formatCount, warn: true },
  { id: "tasks-processed", field: "tasks_processed", format: formatCount },
  { id: "tasks-failed", field: "tasks_failed", format: formatCount, warn: true },
  { id: "uptime", field: "uptime_seconds", format: formatDuration },
  { id: "draining", field: "draining", format: (value) => (value ? "Yes, draining" : "No") },
];

const CHARTS = [
  {
    id: "chart-throughput", title: "Throughput", unit: "requests/s", integer: true, fill: true,
    lines: [{ key: "requests", label: "requests" }],
  },
  {
    id: "chart-latency", title: "Latency", unit: "ms", integer: false, fill: false,
    lines: [
      { key: "p50_ms", label: "p50", className: "s-p50" },
      { key: "p90_ms", label: "p90", className: "s-p90", dash: "dashed" },
      { key: "p99_ms", label: "p99", className: "s-p99", dash: "dotted" },
    ],
  },
  {
    id: "chart-connections", title: "Open connections", unit: "connections", integer: true, fill: true,
    lines: [{ key: "connections", label: "open" }],
  },
  {
    id: "chart-errors", title: "Errors and rejections", unit: "per second", integer: true, fill: false,
    lines: [
      { key: "errors", label: "errors" },
      { key: "rejected", label: "rejected", dash: "dashed" },
    ],
  },
];

const view = { samples: [], transfers: [] };
let pollTimer = 0;
let polling = false;
let pollAgain = false;

function byTestId(id) {
  return document.querySelector('[data-testid="' + id + '"]');
}

/** The token from the fragment "#token=...": absent, invalid, or its value. */
function readToken() {
  const fragment = location.hash.startsWith("#") ? location.hash.slice(1) : location.hash;
  const part = fragment.split("&").find((piece) => piece.startsWith("token="));
  if (part === undefined) return { kind: "absent" };
  let value;
  try {
    value = decodeURIComponent(part.slice("token=".length));
  } catch {
    return { kind: "invalid" };
  }
  if (value.length === 0 || value.length > TOKEN_CHARS_MAX || !TOKEN_PATTERN.test(value)) {
    return { kind: "invalid" };
  }
  return { kind: "present", value };
}

/** GETs a JSON route of the monitor; the answer is ok, unauthorized or failed, never a throw. */
async function getJson(path, token) {
  const headers = { accept: "application/json" };
  if (token.kind === "present") headers.authorization = "Bearer " + token.value;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      headers, cache: "no-store", credentials: "omit", redirect: "error", signal: controller.signal,
    });
    if (response.status === 401) return { kind: "unauthorized" };
    if (!response.ok) return { kind: "failed", detail: "HTTP " + response.status };
    return { kind: "ok", body: await response.json() };
  } catch (error) {
    const detail = controller.signal.aborted ? "no answer within 5 s" : "network error";
    return { kind: "failed", detail };
  } finally {
    clearTimeout(timer);
  }
}

function isCount(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

function isMeasure(value) {
  return value === null || (typeof value === "number" && Number.isFinite(value) && value >= 0);
}

function readStatus(body) {
  if (body === null || typeof body !== "object") return null;
  for (const counter of COUNTERS) {
    const value = body[counter.field];
    if (counter.field === "draining" ? typeof value !== "boolean" : !isCount(value)) return null;
  }
  return body;
}

function readSample(sample) {
  if (sample === null || typeof sample !== "object") return null;
  const counts = ["t", "requests", "errors", "rejected", "connections"];
  if (!counts.every((name) => isCount(sample[name]))) return null;
  if (!["p50_ms", "p90_ms", "p99_ms"].every((name) => isMeasure(sample[name]))) return null;
  return sample;
}

function readTransfer(transfer) {
  if (transfer === null || typeof transfer !== "object") return null;
  const fields = ["at", "from", "to", "amount_minor"];
  if (!fields.every((name) => typeof transfer[name] === "string")) return null;
  return transfer;
}

function readSeries(body) {
  if (body === null || typeof body !== "object") return null;
  if (!Array.isArray(body.samples) || !Array.isArray(body.recent_transfers)) return null;
  const samples = body.samples.slice(-SAMPLES_MAX).map(readSample);
  const transfers = body.recent_transfers.slice(0, TRANSFERS_MAX).map(readTransfer);
  if (samples.includes(null) || transfers.includes(null)) return null;
  return { samples, transfers };
}

// ---- formatting (display only; amounts use BigInt, never floating point) ----

function formatCount(value) {
  return value.toLocaleString("en-US");
}

function pad2(value) {
  return String(value).padStart(2, "0");
}

function formatDuration(totalSeconds) {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return days + "d " + pad2(hours) + "h";
  if (hours > 0) return hours + "h " + pad2(minutes) + "m";
  if (minutes > 0) return minutes + "m " + pad2(seconds) + "s";
  return seconds + "s";
}

function groupThousands(digits) {
  let grouped = "";
  for (let index = 0; index < digits.length; index++) {
    if (index > 0 && (digits.length - index) % 3 === 0) grouped += ",";
    grouped += digits[index];
  }
  return grouped;
}

/** "123456" minor units becomes "$1,234.56"; anything but a digit string becomes null. */
function formatDollars(amountMinor) {
  if (!AMOUNT_PATTERN.test(amountMinor)) return null;
  const minor = BigInt(amountMinor);
  const whole = (minor / 100n).toString();
  const cents = (minor % 100n).toString().padStart(2, "0");
  return "$" + groupThousands(whole) + "." + cents;
}

function formatClock(date) {
  return pad2(date.getHours()) + ":" + pad2(date.getMinutes()) + ":" + pad2(date.getSeconds());
}

function formatMeasure(value, integer) {
  if (value === null) return "–";
  if (integer) return formatCount(value);
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A gridline label with as many decimals as the step needs (0.25 needs 2, 5 needs none). */
function formatTick(tick, step) {
  let decimals = 0;
  while (decimals < 3 && Math.abs(step * Math.pow(10, decimals) - Math.round(step * Math.pow(10, decimals))) > 1e-6) {
    decimals += 1;
  }
  return decimals === 0 ? formatCount(Math.round(tick)) : tick.toFixed(decimals);
}

function formatSpan(seconds) {
  if (seconds % 60 === 0) return seconds / 60 + " min";
  if (seconds > 60) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  return seconds + " s";
}

// ---- rendering ----

/** The state line; the live region changes only with the state, so screen readers are not told every second. */
function setPollState(state, text, updated) {
  const element = document.getElementById("poll-state");
  element.dataset.state = state;
  const live = document.getElementById("poll-text");
  if (live.textContent !== text) live.textContent = text;
  document.getElementById("updated-at").textContent = updated ?? "";
  document.getElementById("main").classList.toggle("stale", state === "failed");
}

function renderCounters(status) {
  for (const counter of COUNTERS) {
    const element = byTestId(counter.id);
    if (status === null) {
      element.textContent = "—";
      element.removeAttribute("data-value");
      element.classList.remove("warn");
      continue;
    }
    const value = status[counter.field];
    element.dataset.value = String(value);
    element.textContent = counter.format(value);
    element.classList.toggle("warn", counter.warn === true && value > 0);
  }
  renderOpenFiles(status);
}

/** Open files against the limit; shown in red past 90 % of it. */
function renderOpenFiles(status) {
  const element = byTestId("open-files");
  const open = status?.open_files;
  const limit = status?.open_files_limit;
  if (!isCount(open)) {
    element.textContent = status === null ? "—" : "unknown";
    element.removeAttribute("data-value");
    element.classList.remove("warn");
    return;
  }
  element.dataset.value = String(open);
  element.textContent = isCount(limit) ? formatCount(open) + " of " + formatCompact(limit) : formatCount(open);
  element.title = isCount(limit) ? formatCount(open) + " of " + formatCount(limit) + " open files" : "";
  element.classList.toggle("warn", isCount(limit) && open > 0.9 * limit);
}

/** 20,000 as "20k", 1,048,576 as "1.0M": short enough for a counter. */
function formatCompact(value) {
  if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (value >= 1e4) return Math.round(value / 1e3) + "k";
  return formatCount(value);
}

/** Rejections per second, averaged over the last (up to) 10 seconds of the series. */
function renderRejectionRate(samples) {
  const element = byTestId("rejection-rate");
  const recent = samples.slice(-10);
  if (recent.length === 0) {
    element.textContent = "—";
    element.removeAttribute("data-value");
    return;
  }
  const rate = recent.reduce((sum, sample) => sum + sample.rejected, 0) / recent.length;
  element.dataset.value = String(rate);
  element.textContent = (rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)) + "/s";
  element.classList.toggle("warn", rate > 0);
}

function cell(text, options) {
  const element = document.createElement("td");
  element.textContent = text;
  element.dataset.field = options.field;
  if (options.className !== undefined) element.className = options.className;
  return element;
}

function transferRow(transfer) {
  const row = document.createElement("tr");
  row.dataset.testid = "recent-transfer";
  const at = new Date(transfer.at);
  const time = document.createElement("td");
  time.dataset.field = "at";
  if (Number.isNaN(at.getTime())) {
    time.textContent = "invalid time";
  } else {
    const stamp = document.createElement("time");
    stamp.dateTime = at.toISOString();
    stamp.title = at.toISOString();
    stamp.textContent = formatClock(at);
    time.append(stamp);
  }
  const from = ACCOUNT_PATTERN.test(transfer.from) ? transfer.from : "invalid account";
  const to = ACCOUNT_PATTERN.test(transfer.to) ? transfer.to : "invalid account";
  const amount = formatDollars(transfer.amount_minor) ?? "invalid amount";
  row.append(
    time,
    cell(from, { field: "from", className: "id" }),
    cell(to, { field: "to", className: "id" }),
    cell(amount, { field: "amount", className: "num" }),
  );
  return row;
}

function renderTransfers(transfers) {
  const rows = transfers.map(transferRow);
  if (rows.length === 0) {
    const row = document.createElement("tr");
    const empty = cell("No transfers yet", { field: "empty", className: "empty" });
    empty.colSpan = 4;
    row.append(empty);
    rows.push(row);
  }
  document.getElementById("transfers-body").replaceChildren(...rows);
}

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** A step size of 1, 2 or 5 times a power of ten, at least the given size (and at least 1 for counts). */
function niceStep(size, integer) {
  if (!(size > 0)) return integer ? 1 : 0.25;
  const power = Math.pow(10, Math.floor(Math.log10(size)));
  const fraction = size / power;
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  return integer ? Math.max(1, step) : step;
}

/** Seconds between time labels: the smallest round step that leaves each label room. */
function timeStep(spanSeconds, plotWidth) {
  const steps = [15, 30, 60, 120, 300, 600];
  const fits = steps.find((step) => (plotWidth * step) / spanSeconds >= TIME_LABEL_PX_MIN);
  return fits ?? steps[steps.length - 1];
}

/** Contiguous runs of seconds that have a value: a gap or a null breaks the line. */
function runsOf(samples, key) {
  const runs = [];
  let run = null;
  for (const sample of samples) {
    const value = sample[key];
    if (value === null) {
      run = null;
      continue;
    }
    if (run === null || run.lastT !== sample.t - 1) {
      run = { points: [] };
      runs.push(run);
    }
    run.points.push({ t: sample.t, value });
    run.lastT = sample.t;
  }
  return runs;
}

function round1(value) {
  return Math.round(value * 10) / 10;
}

/** Step paths: each sample holds its value over the second (t - 1, t] it counts. */
function stepPaths(runs, scale) {
  let line = "";
  let area = "";
  for (const run of runs) {
    const first = run.points[0];
    const startX = round1(scale.x(first.t - 1));
    line += "M" + startX + " " + round1(scale.y(first.value));
    area += "M" + startX + " " + round1(scale.y(0));
    for (const [index, point] of run.points.entries()) {
      const y = round1(scale.y(point.value));
      if (index > 0) line += "V" + y;
      area += "V" + y;
      const x = round1(scale.x(point.t));
      line += "H" + x;
      area += "H" + x;
    }
    area += "V" + round1(scale.y(0)) + "Z";
  }
  return { line, area };
}

function drawChart(chart, samples) {
  const svg = document.getElementById(chart.id);
  const width = Math.max(240, Math.round(svg.getBoundingClientRect().width) || 600);
  const height = CHART_HEIGHT_PX;
  const margin = { left: 46, right: 12, top: 10, bottom: 22 };
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  const parts = [];
  const last = samples.length > 0 ? samples[samples.length - 1] : null;
  const values = [];
  for (const sample of samples) {
    for (const line of chart.lines) if (sample[line.key] !== null) values.push(sample[line.key]);
  }
  const peak = values.length > 0 ? Math.max(...values) : 0;
  const step = niceStep(peak / 4, chart.integer);
  const yMax = Math.max(step, Math.ceil(peak / step - 1e-9) * step);
  const endT = last === null ? 0 : last.t;
  const firstT = samples.length > 0 ? samples[0].t - 1 : endT;
  const span = Math.min(WINDOW_SECONDS_MAX, Math.max(WINDOW_SECONDS_MIN, endT - firstT));
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const scale = {
    x: (t) => margin.left + plotWidth * (1 - (endT - t) / span),
    y: (value) => margin.top + plotHeight * (1 - Math.min(value, yMax) / yMax),
  };
  for (let tick = 0; tick <= yMax + step / 2; tick += step) {
    const y = round1(scale.y(tick));
    parts.push(svgElement("line", { class: "grid", x1: margin.left, x2: width - margin.right, y1: y, y2: y }));
    const label = svgElement("text", { x: margin.left - 6, y: y + 4, "text-anchor": "end" });
    label.textContent = formatTick(tick, step);
    parts.push(label);
  }
  const every = timeStep(span, plotWidth);
  for (let ago = 0; ago <= span; ago += every) {
    const x = round1(scale.x(endT - ago));
    parts.push(svgElement("line", { class: "axis", x1: x, x2: x, y1: height - margin.bottom, y2: height - margin.bottom + 4 }));
    const label = svgElement("text", {
      x, y: height - 6, "text-anchor": ago === 0 ? "end" : ago + every > span ? "start" : "middle",
    });
    label.textContent = ago === 0 ? "now" : "−" + formatSpan(ago);
    parts.push(label);
  }
  parts.push(svgElement("line", {
    class: "axis", x1: margin.left, x2: width - margin.right, y1: height - margin.bottom, y2: height - margin.bottom,
  }));
  for (const line of chart.lines) {
    const paths = stepPaths(runsOf(samples, line.key), scale);
    const seriesClass = line.className ?? "s-" + line.key;
    if (chart.fill) parts.push(svgElement("path", { class: "area " + seriesClass, d: paths.area, "data-series": line.key }));
    const dash = line.dash === undefined ? "" : " " + line.dash;
    parts.push(svgElement("path", { class: "line " + seriesClass + dash, d: paths.line, "data-series": line.key }));
  }
  if (last === null) {
    const empty = svgElement("text", { x: margin.left + plotWidth / 2, y: margin.top + plotHeight / 2, "text-anchor": "middle" });
    empty.textContent = "No data yet";
    parts.push(empty);
  }
  svg.replaceChildren(...parts);
  svg.dataset.peak = String(peak);
  svg.dataset.samples = String(samples.length);
  svg.dataset.total = String(samples.reduce((sum, sample) => sum + (sample[chart.lines[0].key] ?? 0), 0));
  const latestValue = last === null ? null : last[chart.lines[0].key];
  svg.dataset.latest = latestValue === null ? "" : String(latestValue);
  const latest = last === null ? "no data yet" : chart.lines.length === 1
    ? formatMeasure(last[chart.lines[0].key], chart.integer) + " " + chart.unit
    : chart.lines.map((line) => line.label + " " + formatMeasure(last[line.key], chart.integer)).join(" · ") +
      " " + chart.unit;
  document.getElementById(chart.id + "-now").textContent = last === null ? "—" : "now: " + latest;
  svg.setAttribute(
    "aria-label",
    chart.title + " (" + chart.unit + ") over the last " + formatSpan(span) + ": " + latest +
      "; peak " + formatMeasure(peak, chart.integer),
  );
  return span;
}

function renderCharts() {
  let span = WINDOW_SECONDS_MIN;
  for (const chart of CHARTS) span = drawChart(chart, view.samples);
  document.getElementById("window-text").textContent = "last " + formatSpan(span);
  renderRejectionRate(view.samples);
}

function showUnauthorized(token) {
  const reason = token.kind === "absent"
    ? "this monitor requires a token."
    : token.kind === "invalid"
    ? "the token in the address is not valid (printable ASCII, at most 512 characters)."
    : "the token in the address was not accepted.";
  document.getElementById("unauthorized-reason").textContent = reason;
  document.getElementById("token-address").textContent = location.pathname + "#token=…";
  document.getElementById("unauthorized").hidden = false;
  view.samples = [];
  view.transfers = [];
  renderCounters(null);
  renderTransfers([]);
  renderCharts();
  setPollState("unauthorized", "Unauthorized");
}

async function pollOnce() {
  const token = readToken();
  if (token.kind === "invalid") return showUnauthorized(token);
  const [status, series] = await Promise.all([getJson("./status", token), getJson("./api/series", token)]);
  if (status.kind === "unauthorized" || series.kind === "unauthorized") return showUnauthorized(token);
  document.getElementById("unauthorized").hidden = true;
  if (status.kind === "failed" || series.kind === "failed") {
    const detail = status.kind === "failed" ? status.detail : series.detail;
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

async function poll() {
  if (polling) {
    pollAgain = true;
    return;
  }
  polling = true;
  clearTimeout(pollTimer);
  try {
    await pollOnce();
  } catch (error) {
    setPollState("failed", "The page failed to update; retrying");
    console.error(error);
  } finally {
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      poll();
    } else {
      pollTimer = setTimeout(poll, POLL_INTERVAL_MS);
    }
  }
}

let resizeFrame = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(renderCharts);
});
window.addEventListener("hashchange", () => poll());
renderCharts();
poll();
`;

/** The dashboard page, served as-is at `GET /`. */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Bank server monitor</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script type="module">${SCRIPT}</script>
</body>
</html>
`;
