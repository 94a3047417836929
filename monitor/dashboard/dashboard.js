// lib/assert.ts
var AssertionFailure = class extends Error {
  name = "AssertionFailure";
};
function assert(condition, message) {
  if (!condition) throw new AssertionFailure(message);
}

// lib/bytes.ts
var encoder = new TextEncoder();
var decoder = new TextDecoder("utf-8", {
  fatal: true
});

// protocol/time.ts
var EARLIEST_MS = Date.UTC(1970, 0, 1);

// protocol/limits.ts
var PORT_DEFAULT = 8443;
var FRAME_BYTES_DEFAULT = 64 * 1024;
var FRAME_BYTES_MIN = 1024;
var FRAME_BYTES_MAX = 1024 * 1024;
var IDENTITY_NAME_BYTES_MAX = 64;
var HANDSHAKE_NONCE_BYTES = 32;
var KEY_BYTES = 32;
var ED25519_SIGNATURE_BYTES = 64;
var MAC_BYTES = 32;
var GCM_TAG_BYTES = 16;
var SEALED_HEADER_BYTES = 9;
var SESSION_FRAMES_MAX = 2n ** 48n;
var SESSION_REQUESTS_MAX = 1e6;
var TEXT_COMMAND_BYTES_MAX = 4 * 1024;
var CONTACT_FIELD_BYTES_MAX = 256;
var CONTACT_BYTES_MAX = 2 * 1024;
var ACCOUNT_ID_BYTES_MAX = 32;
var HISTORY_PAGE_MAX = 100;
var HISTORY_PAGE_DEFAULT = 20;
var TRANSFER_MINOR_MAX = 1000000000n;
var BALANCE_MINOR_MAX = 10n ** 17n;
var AMOUNT_DIGITS_MAX = 18;
var HOLD_EXPIRY_S_DEFAULT = 7 * 24 * 60 * 60;
var HOLD_EXPIRY_S_MAX = 30 * 24 * 60 * 60;
var RECEIPT_FILE_BYTES_MAX = 4 * 1024;
var CREDENTIAL_FILE_BYTES_MAX = 4 * 1024;
assert(PORT_DEFAULT > 0, "The default port is a port");
assert(PORT_DEFAULT < 65536, "The default port is a port");
assert(FRAME_BYTES_MIN <= FRAME_BYTES_DEFAULT, "Default frame size must be at least the minimum");
assert(FRAME_BYTES_DEFAULT <= FRAME_BYTES_MAX, "Default frame size must be at most the maximum");
assert(FRAME_BYTES_MAX < 2 ** 32, "Frame size must fit the 4-byte length");
assert(1 + 1 + 1 + IDENTITY_NAME_BYTES_MAX + HANDSHAKE_NONCE_BYTES < FRAME_BYTES_MIN, "A hello frame must fit the smallest frame");
assert(SEALED_HEADER_BYTES + TEXT_COMMAND_BYTES_MAX + GCM_TAG_BYTES < FRAME_BYTES_DEFAULT, "A text command must fit one default frame");
assert(CONTACT_BYTES_MAX + 1024 < FRAME_BYTES_DEFAULT, "Contact details must fit in one frame");
assert(3 * CONTACT_FIELD_BYTES_MAX < CONTACT_BYTES_MAX, "Three contact fields must fit the contact limit");
assert(TRANSFER_MINOR_MAX < BALANCE_MINOR_MAX, "One transfer must be smaller than the largest balance");
assert(BALANCE_MINOR_MAX < 2n ** 63n, "Balances must fit a signed 64-bit column");
assert(BALANCE_MINOR_MAX < 10n ** BigInt(AMOUNT_DIGITS_MAX), "Balances must print within the digit limit");
assert(HOLD_EXPIRY_S_DEFAULT <= HOLD_EXPIRY_S_MAX, "The default hold expiry must be allowed");
assert(HISTORY_PAGE_DEFAULT <= HISTORY_PAGE_MAX, "Default history page must fit the maximum");
assert(HISTORY_PAGE_MAX * 200 < FRAME_BYTES_DEFAULT, "A history page must fit one frame");
assert(BigInt(SESSION_REQUESTS_MAX) < SESSION_FRAMES_MAX, "Session requests must fit the frame counter");

// protocol/handshake_crypto.ts
var PKCS8_PREFIX_ED25519 = new Uint8Array([
  48,
  46,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  112,
  4,
  34,
  4,
  32
]);
var PKCS8_PREFIX_X25519 = new Uint8Array([
  48,
  46,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  110,
  4,
  34,
  4,
  32
]);
var SPKI_PREFIX_ED25519 = new Uint8Array([
  48,
  42,
  48,
  5,
  6,
  3,
  43,
  101,
  112,
  3,
  33,
  0
]);
var subtle = globalThis.crypto.subtle;

// protocol/credential.ts
var IDENTITY_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${IDENTITY_NAME_BYTES_MAX - 1}}$`);

// protocol/handshake.ts
var SIGNATURE_PAD = new Uint8Array(64).fill(32);
var CHALLENGE_SIGNED_BYTES = 1 + HANDSHAKE_NONCE_BYTES + KEY_BYTES;
var CHALLENGE_BYTES = CHALLENGE_SIGNED_BYTES + ED25519_SIGNATURE_BYTES + MAC_BYTES;
var PROOF_SIGNED_BYTES = 1 + ED25519_SIGNATURE_BYTES;
var PROOF_BYTES = PROOF_SIGNED_BYTES + MAC_BYTES;
var ACCEPT_BYTES = 1 + MAC_BYTES;

// protocol/key_messages.ts
var KEY_FIELDS = {
  enrol: [
    "public_key",
    "signature"
  ],
  rotate_key: [
    "public_key",
    "new_key_signature",
    "old_key_signature"
  ]
};

// protocol/ledger_messages.ts
var LEDGER_FIELDS = {
  hold: [
    "from",
    "to",
    "amount_minor",
    "idempotency_key",
    "expires_in_s"
  ],
  capture: [
    "hold_id",
    "amount_minor"
  ],
  void: [
    "hold_id"
  ],
  refund: [
    "transfer_id",
    "amount_minor",
    "idempotency_key"
  ]
};

// protocol/messages.ts
var ACCOUNT_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${ACCOUNT_ID_BYTES_MAX}}$`);
var FIELDS_BY_OPERATION = {
  balance: [],
  transfer: [
    "from",
    "to",
    "amount_minor",
    "idempotency_key"
  ],
  history: [
    "account",
    "limit",
    "before",
    "as_of"
  ],
  update_contact: [
    "email",
    "phone",
    "address"
  ],
  ...LEDGER_FIELDS,
  ...KEY_FIELDS
};
var CURSOR_MAX = 2n ** 63n - 1n;
function isAccountId(text) {
  return ACCOUNT_ID_PATTERN.test(text);
}

// protocol/money.ts
var AMOUNT_PATTERN = new RegExp(`^(0|[1-9][0-9]{0,${AMOUNT_DIGITS_MAX - 1}})$`);
var DOLLAR_DIGITS_MAX = AMOUNT_DIGITS_MAX - 2;
function parseAmountMinor(text, limitMinor) {
  assert(limitMinor > 0n, `Amount limit ${limitMinor} is out of range`);
  assert(limitMinor <= BALANCE_MINOR_MAX, `Amount limit ${limitMinor} is out of range`);
  if (!AMOUNT_PATTERN.test(text)) return {
    ok: false,
    code: "amount_malformed"
  };
  return checkAmount(BigInt(text), limitMinor);
}
function formatDollars(amountMinor, options = {}) {
  assert(amountMinor >= 0n, `Cannot format a negative amount ${amountMinor}`);
  assert(amountMinor <= BALANCE_MINOR_MAX, `Cannot format amount ${amountMinor}: over the balance cap`);
  const whole = (amountMinor / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = amountMinor % 100n;
  if (cents === 0n && options.cents !== "always") return `$${whole}`;
  return `$${whole}.${cents.toString().padStart(2, "0")}`;
}
function checkAmount(amountMinor, limitMinor) {
  assert(amountMinor >= 0n, "Parsed amounts are never negative");
  if (amountMinor === 0n) return {
    ok: false,
    code: "amount_must_be_positive"
  };
  if (amountMinor > limitMinor) return {
    ok: false,
    code: "amount_over_limit"
  };
  return {
    ok: true,
    amountMinor
  };
}

// monitor/dashboard/format.ts
function formatCount(value) {
  return value.toLocaleString("en-US");
}
function pad2(value) {
  return String(value).padStart(2, "0");
}
function formatDuration(totalSeconds) {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor(totalSeconds % 86400 / 3600);
  const minutes = Math.floor(totalSeconds % 3600 / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return days + "d " + pad2(hours) + "h";
  if (hours > 0) return hours + "h " + pad2(minutes) + "m";
  if (minutes > 0) return minutes + "m " + pad2(seconds) + "s";
  return seconds + "s";
}
function formatAmount(amountMinor) {
  const amount = parseAmountMinor(amountMinor, BALANCE_MINOR_MAX);
  return amount.ok ? formatDollars(amount.amountMinor, {
    cents: "always"
  }) : null;
}
function formatClock(date) {
  return pad2(date.getHours()) + ":" + pad2(date.getMinutes()) + ":" + pad2(date.getSeconds());
}
function formatMeasure(value, integer) {
  if (value === null) return "\u2013";
  if (integer) return formatCount(value);
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
function formatTick(tick, step) {
  let decimals = 0;
  const off = (places) => Math.abs(step * 10 ** places - Math.round(step * 10 ** places)) > 1e-6;
  while (decimals < 3 && off(decimals)) decimals += 1;
  return decimals === 0 ? formatCount(Math.round(tick)) : tick.toFixed(decimals);
}
function formatSpan(seconds) {
  if (seconds % 60 === 0) return seconds / 60 + " min";
  if (seconds > 60) return Math.floor(seconds / 60) + " min " + seconds % 60 + " s";
  return seconds + " s";
}
function formatCompact(value) {
  if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (value >= 1e4) return Math.round(value / 1e3) + "k";
  return formatCount(value);
}

// monitor/dashboard/charts.ts
var WINDOW_SECONDS_MIN = 30;
var WINDOW_SECONDS_MAX = 600;
var CHART_HEIGHT_PX = 170;
var CHART_WIDTH_PX_MIN = 240;
var TIME_LABEL_PX_MIN = 72;
var SVG_NS = "http://www.w3.org/2000/svg";
var MARGIN = {
  left: 46,
  right: 12,
  top: 10,
  bottom: 22
};
var CHARTS = [
  {
    id: "chart-throughput",
    title: "Throughput",
    unit: "requests/s",
    integer: true,
    fill: true,
    lines: [
      {
        key: "requests",
        label: "requests"
      }
    ]
  },
  {
    id: "chart-latency",
    title: "Latency",
    unit: "ms",
    integer: false,
    fill: false,
    lines: [
      {
        key: "p50_ms",
        label: "p50",
        className: "s-p50"
      },
      {
        key: "p90_ms",
        label: "p90",
        className: "s-p90",
        dash: "dashed"
      },
      {
        key: "p99_ms",
        label: "p99",
        className: "s-p99",
        dash: "dotted"
      }
    ]
  },
  {
    id: "chart-connections",
    title: "Open connections",
    unit: "connections",
    integer: true,
    fill: true,
    lines: [
      {
        key: "connections",
        label: "open"
      }
    ]
  },
  {
    id: "chart-errors",
    title: "Errors and rejections",
    unit: "per second",
    integer: true,
    fill: false,
    lines: [
      {
        key: "errors",
        label: "errors"
      },
      {
        key: "rejected",
        label: "rejected",
        dash: "dashed"
      }
    ]
  }
];
function svgElement(name, attributes) {
  const element2 = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element2.setAttribute(key, String(value));
  return element2;
}
function svgText(text, attributes) {
  const element2 = svgElement("text", attributes);
  element2.textContent = text;
  return element2;
}
function niceStep(size, integer) {
  if (!(size > 0)) return integer ? 1 : 0.25;
  const power = 10 ** Math.floor(Math.log10(size));
  const fraction = size / power;
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  return integer ? Math.max(1, step) : step;
}
function timeStep(spanSeconds, plotWidth) {
  const steps = [
    15,
    30,
    60,
    120,
    300,
    600
  ];
  return steps.find((step) => plotWidth * step / spanSeconds >= TIME_LABEL_PX_MIN) ?? steps[steps.length - 1];
}
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
      run = {
        points: [],
        lastT: sample.t
      };
      runs.push(run);
    }
    run.points.push({
      t: sample.t,
      value
    });
    run.lastT = sample.t;
  }
  return runs;
}
function round1(value) {
  return Math.round(value * 10) / 10;
}
function stepPaths(runs, frame) {
  let line = "";
  let area = "";
  const baseY = round1(frame.y(0));
  for (const run of runs) {
    const startX = round1(frame.x(run.points[0].t - 1));
    line += "M" + startX + " " + round1(frame.y(run.points[0].value));
    area += "M" + startX + " " + baseY;
    for (const [index, point] of run.points.entries()) {
      const y = round1(frame.y(point.value));
      if (index > 0) line += "V" + y;
      area += "V" + y;
      const x = round1(frame.x(point.t));
      line += "H" + x;
      area += "H" + x;
    }
    area += "V" + baseY + "Z";
  }
  return {
    line,
    area
  };
}
function peakOf(chart, samples) {
  let peak = 0;
  for (const sample of samples) {
    for (const line of chart.lines) peak = Math.max(peak, sample[line.key] ?? 0);
  }
  return peak;
}
function frameOf(chart, samples, width, peak) {
  const step = niceStep(peak / 4, chart.integer);
  const yMax = Math.max(step, Math.ceil(peak / step - 1e-9) * step);
  const endT = samples.length > 0 ? samples[samples.length - 1].t : 0;
  const firstT = samples.length > 0 ? samples[0].t - 1 : endT;
  const span = Math.min(WINDOW_SECONDS_MAX, Math.max(WINDOW_SECONDS_MIN, endT - firstT));
  const height = CHART_HEIGHT_PX;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  return {
    width,
    height,
    plotWidth,
    plotHeight,
    endT,
    span,
    step,
    yMax,
    x: (t) => MARGIN.left + plotWidth * (1 - (endT - t) / span),
    y: (value) => MARGIN.top + plotHeight * (1 - Math.min(value, yMax) / yMax)
  };
}
function gridParts(frame) {
  const parts = [];
  for (let tick = 0; tick <= frame.yMax + frame.step / 2; tick += frame.step) {
    const y = round1(frame.y(tick));
    parts.push(svgElement("line", {
      class: "grid",
      x1: MARGIN.left,
      x2: frame.width - MARGIN.right,
      y1: y,
      y2: y
    }));
    parts.push(svgText(formatTick(tick, frame.step), {
      x: MARGIN.left - 6,
      y: y + 4,
      "text-anchor": "end"
    }));
  }
  const axisY = frame.height - MARGIN.bottom;
  const every = timeStep(frame.span, frame.plotWidth);
  for (let ago = 0; ago <= frame.span; ago += every) {
    const x = round1(frame.x(frame.endT - ago));
    parts.push(svgElement("line", {
      class: "axis",
      x1: x,
      x2: x,
      y1: axisY,
      y2: axisY + 4
    }));
    const anchor = ago === 0 ? "end" : ago + every > frame.span ? "start" : "middle";
    const label = ago === 0 ? "now" : "\u2212" + formatSpan(ago);
    parts.push(svgText(label, {
      x,
      y: frame.height - 6,
      "text-anchor": anchor
    }));
  }
  parts.push(svgElement("line", {
    class: "axis",
    x1: MARGIN.left,
    x2: frame.width - MARGIN.right,
    y1: axisY,
    y2: axisY
  }));
  return parts;
}
function seriesParts(chart, samples, frame) {
  const parts = [];
  for (const line of chart.lines) {
    const paths = stepPaths(runsOf(samples, line.key), frame);
    const seriesClass = line.className ?? "s-" + line.key;
    if (chart.fill) {
      parts.push(svgElement("path", {
        class: "area " + seriesClass,
        d: paths.area,
        "data-series": line.key
      }));
    }
    const dash = line.dash === void 0 ? "" : " " + line.dash;
    parts.push(svgElement("path", {
      class: "line " + seriesClass + dash,
      d: paths.line,
      "data-series": line.key
    }));
  }
  return parts;
}
function latestInWords(chart, last) {
  if (last === null) return "no data yet";
  if (chart.lines.length === 1) {
    return formatMeasure(last[chart.lines[0].key], chart.integer) + " " + chart.unit;
  }
  const parts = chart.lines.map((line) => line.label + " " + formatMeasure(last[line.key], chart.integer));
  return parts.join(" \xB7 ") + " " + chart.unit;
}
function drawChart(chart, samples) {
  const svg = document.getElementById(chart.id);
  if (svg === null) return WINDOW_SECONDS_MIN;
  const width = Math.max(CHART_WIDTH_PX_MIN, Math.round(svg.getBoundingClientRect().width) || 600);
  const peak = peakOf(chart, samples);
  const frame = frameOf(chart, samples, width, peak);
  const last = samples.length > 0 ? samples[samples.length - 1] : null;
  const parts = [
    ...gridParts(frame),
    ...seriesParts(chart, samples, frame)
  ];
  if (last === null) {
    const middle = {
      x: MARGIN.left + frame.plotWidth / 2,
      y: MARGIN.top + frame.plotHeight / 2
    };
    parts.push(svgText("No data yet", {
      ...middle,
      "text-anchor": "middle"
    }));
  }
  svg.setAttribute("viewBox", "0 0 " + width + " " + frame.height);
  svg.replaceChildren(...parts);
  const firstKey = chart.lines[0].key;
  svg.dataset.peak = String(peak);
  svg.dataset.samples = String(samples.length);
  svg.dataset.total = String(samples.reduce((sum, sample) => sum + (sample[firstKey] ?? 0), 0));
  svg.dataset.latest = last === null || last[firstKey] === null ? "" : String(last[firstKey]);
  const latest = latestInWords(chart, last);
  const caption = document.getElementById(chart.id + "-now");
  if (caption !== null) caption.textContent = last === null ? "\u2014" : "now: " + latest;
  const summary = chart.title + " (" + chart.unit + ") over the last " + formatSpan(frame.span);
  svg.setAttribute("aria-label", summary + ": " + latest + "; peak " + formatMeasure(peak, chart.integer));
  return frame.span;
}

// monitor/token.ts
var MONITOR_TOKEN_CHARACTERS_MIN = 16;
var MONITOR_TOKEN_CHARACTERS_MAX = 256;
var MONITOR_TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;
var MONITOR_TOKEN_RULE = `${MONITOR_TOKEN_CHARACTERS_MIN} to ${MONITOR_TOKEN_CHARACTERS_MAX} characters: letters, digits and -._~+/, then optional =`;
function isMonitorToken(text) {
  return text.length >= MONITOR_TOKEN_CHARACTERS_MIN && text.length <= MONITOR_TOKEN_CHARACTERS_MAX && MONITOR_TOKEN_PATTERN.test(text);
}

// monitor/dashboard/read.ts
var FETCH_TIMEOUT_MS = 5e3;
var SAMPLES_MAX = 600;
var TRANSFERS_MAX = 20;
var STATUS_COUNTS = [
  "connections",
  "connections_total",
  "connections_rejected",
  "tasks_processed",
  "tasks_failed",
  "uptime_seconds"
];
function readToken(hash) {
  const fragment = hash.startsWith("#") ? hash.slice(1) : hash;
  const part = fragment.split("&").find((piece) => piece.startsWith("token="));
  if (part === void 0) return {
    kind: "absent"
  };
  if (part.length > "token=".length + 3 * MONITOR_TOKEN_CHARACTERS_MAX) return {
    kind: "invalid"
  };
  let value;
  try {
    value = decodeURIComponent(part.slice("token=".length));
  } catch {
    return {
      kind: "invalid"
    };
  }
  return isMonitorToken(value) ? {
    kind: "present",
    value
  } : {
    kind: "invalid"
  };
}
async function getJson(path, token) {
  const headers = {
    accept: "application/json"
  };
  if (token.kind === "present") headers.authorization = "Bearer " + token.value;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      headers,
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
      signal: controller.signal
    });
    if (response.status === 401) return {
      kind: "unauthorized"
    };
    if (!response.ok) return {
      kind: "failed",
      detail: "HTTP " + response.status
    };
    return {
      kind: "ok",
      body: await response.json()
    };
  } catch {
    return {
      kind: "failed",
      detail: controller.signal.aborted ? "no answer within 5 s" : "network error"
    };
  } finally {
    clearTimeout(timer);
  }
}
function isCount(value) {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
function isMeasure(value) {
  return value === null || typeof value === "number" && Number.isFinite(value) && value >= 0;
}
function isRecord(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
function readStatus(body) {
  if (!isRecord(body)) return null;
  if (!STATUS_COUNTS.every((field) => isCount(body[field]))) return null;
  if (typeof body.draining !== "boolean") return null;
  return body;
}
function readSample(sample) {
  if (!isRecord(sample)) return null;
  const counts = [
    "t",
    "requests",
    "errors",
    "rejected",
    "connections"
  ];
  if (!counts.every((name) => isCount(sample[name]))) return null;
  if (![
    "p50_ms",
    "p90_ms",
    "p99_ms"
  ].every((name) => isMeasure(sample[name]))) return null;
  return sample;
}
function readTransfer(transfer) {
  if (!isRecord(transfer)) return null;
  const fields = [
    "at",
    "from",
    "to",
    "amount_minor"
  ];
  if (!fields.every((name) => typeof transfer[name] === "string")) return null;
  return transfer;
}
function readSeries(body) {
  if (!isRecord(body) || !Array.isArray(body.samples) || !Array.isArray(body.recent_transfers)) return null;
  const samples = body.samples.slice(-SAMPLES_MAX).map(readSample);
  const transfers = body.recent_transfers.slice(0, TRANSFERS_MAX).map(readTransfer);
  if (samples.includes(null) || transfers.includes(null)) return null;
  return {
    samples,
    transfers
  };
}

// monitor/dashboard/main.ts
var POLL_INTERVAL_MS = 1e3;
var REJECTION_RATE_SECONDS = 10;
var COUNTERS = [
  {
    id: "connections-open",
    field: "connections",
    format: formatCount
  },
  {
    id: "connections-total",
    field: "connections_total",
    format: formatCount
  },
  {
    id: "rejected",
    field: "connections_rejected",
    format: formatCount,
    warn: true
  },
  {
    id: "tasks-processed",
    field: "tasks_processed",
    format: formatCount
  },
  {
    id: "tasks-failed",
    field: "tasks_failed",
    format: formatCount,
    warn: true
  },
  {
    id: "uptime",
    field: "uptime_seconds",
    format: formatDuration
  },
  {
    id: "draining",
    field: "draining",
    format: (draining) => draining ? "Yes, draining" : "No"
  }
];
var view = {
  samples: [],
  transfers: []
};
function element(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`The page has no element #${id}`);
  return found;
}
function byTestId(id) {
  const found = document.querySelector(`[data-testid="${id}"]`);
  if (found === null) throw new Error(`The page has no element with data-testid ${id}`);
  return found;
}
function clear(target) {
  target.textContent = "\u2014";
  target.removeAttribute("data-value");
  target.classList.remove("warn");
}
function setPollState(state, text, updated = "") {
  element("poll-state").dataset.state = state;
  const live = element("poll-text");
  if (live.textContent !== text) live.textContent = text;
  element("updated-at").textContent = updated;
  element("main").classList.toggle("stale", state === "failed");
}
function renderCounters(status) {
  for (const counter of COUNTERS) {
    const target = byTestId(counter.id);
    if (status === null) {
      clear(target);
      continue;
    }
    const value = status[counter.field];
    target.dataset.value = String(value);
    target.textContent = counter.format(value);
    target.classList.toggle("warn", counter.warn === true && value > 0);
  }
  renderOpenFiles(status);
}
function renderOpenFiles(status) {
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
function renderRejectionRate(samples) {
  const target = byTestId("rejection-rate");
  const recent = samples.slice(-REJECTION_RATE_SECONDS);
  if (recent.length === 0) return clear(target);
  const rate = recent.reduce((sum, sample) => sum + sample.rejected, 0) / recent.length;
  target.dataset.value = String(rate);
  target.textContent = (rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)) + "/s";
  target.classList.toggle("warn", rate > 0);
}
function cell(text, field, className) {
  const td = document.createElement("td");
  td.textContent = text;
  td.dataset.field = field;
  if (className !== void 0) td.className = className;
  return td;
}
function timeCell(at) {
  if (Number.isNaN(at.getTime())) return cell("invalid time", "at");
  const td = cell("", "at");
  const stamp = document.createElement("time");
  stamp.dateTime = at.toISOString();
  stamp.title = at.toISOString();
  stamp.textContent = formatClock(at);
  td.append(stamp);
  return td;
}
function transferRow(transfer) {
  const row = document.createElement("tr");
  row.dataset.testid = "recent-transfer";
  const from = isAccountId(transfer.from) ? transfer.from : "invalid account";
  const to = isAccountId(transfer.to) ? transfer.to : "invalid account";
  const amount = formatAmount(transfer.amount_minor) ?? "invalid amount";
  row.append(timeCell(new Date(transfer.at)), cell(from, "from", "id"), cell(to, "to", "id"), cell(amount, "amount", "num"));
  return row;
}
function renderTransfers(transfers) {
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
function renderCharts() {
  let span = WINDOW_SECONDS_MIN;
  for (const chart of CHARTS) span = drawChart(chart, view.samples);
  element("window-text").textContent = "last " + formatSpan(span);
  renderRejectionRate(view.samples);
}
function showUnauthorized(token) {
  const reasons = {
    absent: "this monitor requires a token.",
    invalid: `the token in the address is not a monitor token (${MONITOR_TOKEN_RULE}).`,
    present: "the token in the address was not accepted."
  };
  element("unauthorized-reason").textContent = reasons[token.kind];
  element("token-address").textContent = location.pathname + "#token=\u2026";
  element("unauthorized").hidden = false;
  view.samples = [];
  view.transfers = [];
  renderCounters(null);
  renderTransfers([]);
  renderCharts();
  setPollState("unauthorized", "Unauthorized");
}
async function pollOnce() {
  const token = readToken(location.hash);
  if (token.kind === "invalid") return showUnauthorized(token);
  const [status, series] = await Promise.all([
    getJson("./status", token),
    getJson("./api/series", token)
  ]);
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
  setPollState("live", "Live", "\xB7 updated " + formatClock(/* @__PURE__ */ new Date()));
}
var poller = {
  running: false,
  again: false
};
async function poll() {
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
var resizeFrame = 0;
globalThis.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(renderCharts);
});
globalThis.addEventListener("hashchange", () => poll());
renderCharts();
poll();
