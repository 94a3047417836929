import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import parsePrometheus from "parse-prometheus-text-format";
import { ServerStats } from "../server/stats/server_stats.ts";
import { createMonitorApp } from "./app.ts";

const TOKEN = "s3cret-monitor-token-0123456789";
const READY = () => Promise.resolve(true);

function busyStats(): ServerStats {
  const stats = new ServerStats({ nowMs: 1_000 });
  stats.connectionOpened();
  stats.connectionOpened();
  stats.connectionClosed({ authenticated: false });
  stats.connectionOpened();
  stats.connectionAuthenticated();
  stats.connectionRejected("handshake_failed");
  stats.handshakeFailed("signature_invalid");
  stats.connectionRefused("address_cap");
  stats.requestAnswered({ operation: "balance", outcome: "ok", durationMs: 0.8 });
  stats.requestAnswered({ operation: "transfer", outcome: "refused", durationMs: 3 });
  stats.requestAnswered({ operation: "balance", outcome: "rate_limited", durationMs: 0.1 });
  stats.monitorRefused("deadline");
  stats.ledgerCommitted(1.5);
  stats.transferJournaled({
    sourceAccountId: "ACC-0001",
    targetAccountId: "XYZ",
    amountMinor: 10_000n,
    at: new Date(0),
  });
  stats.tick(2_000);
  return stats;
}

Deno.test("createMonitorApp() reports the seed's counters and more at /status", async () => {
  const app = createMonitorApp({ stats: busyStats(), ready: READY, now: () => 62_500 });
  const response = await app.request("/status");
  assertEquals(response.status, 200);
  const status = await response.json();
  assertEquals(typeof status.open_files, "number", "open files are read from /proc on Linux");
  assertEquals(typeof status.open_files_limit, "number");
  delete status.open_files;
  delete status.open_files_limit;
  assertEquals(status, {
    connections: 2,
    connections_total: 4,
    connections_rejected: 2,
    tasks_processed: 3,
    tasks_failed: 2,
    uptime_seconds: 61,
    draining: false,
    connections_handshaking: 1,
    connections_authenticated: 1,
    rejections: { address_cap: 1, handshake_failed: 1, identity_rate: 1 },
    monitor_rejections: { deadline: 1 },
    accept_failures: 0,
    ledger_head: null,
  });
});

Deno.test("createMonitorApp() serves /metrics in the Prometheus text format", async () => {
  const app = createMonitorApp({ stats: busyStats(), ready: READY });
  const response = await app.request("/metrics");
  assertEquals(response.status, 200);
  assertMatch(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  for (const line of text.trimEnd().split("\n")) {
    assertMatch(
      line,
      /^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? \+Inf)$/,
      line,
    );
  }
  const families = new Map(
    (parsePrometheus(text) as { name: string; type: string; metrics: Record<string, unknown>[] }[]).map((
      family,
    ) => [family.name, family]),
  );
  assertEquals(families.get("bank_connections_open")?.metrics, [{ value: "2" }]);
  assertEquals(families.get("bank_connections_total")?.type, "COUNTER");
  assertEquals(families.get("bank_connections_rejected_total")?.metrics, [
    { value: "1", labels: { reason: "handshake_failed" } },
    { value: "1", labels: { reason: "address_cap" } },
  ]);
  assertEquals(families.get("bank_connections")?.metrics, [
    { value: "1", labels: { phase: "handshaking" } },
    { value: "1", labels: { phase: "authenticated" } },
  ]);
  assertEquals(families.get("bank_requests_rate_limited_total")?.metrics, [{ value: "1" }]);
  assertEquals(families.get("bank_monitor_rejections_total")?.metrics, [{
    value: "1",
    labels: { reason: "deadline" },
  }]);
  assertEquals(families.get("process_open_fds")?.type, "GAUGE");
  assertEquals(families.get("process_max_fds")?.type, "GAUGE");
  assertEquals(families.get("bank_handshake_failures_total")?.metrics, [{
    value: "1",
    labels: { reason: "signature_invalid" },
  }]);
  assertEquals(families.get("bank_requests_total")?.metrics.length, 3);
  const latency = families.get("bank_request_duration_seconds");
  assertEquals(latency?.type, "HISTOGRAM");
  assertMatch(text, /^bank_request_duration_seconds_count\{operation="balance"\} 2$/m);
  assertMatch(text, /^bank_request_duration_seconds_bucket\{operation="transfer",le="\+Inf"\} 1$/m);
  assertEquals(families.get("bank_ledger_commit_duration_seconds")?.type, "HISTOGRAM");
  assertEquals(families.get("process_resident_memory_bytes")?.type, "GAUGE");
});

Deno.test("createMonitorApp() answers /healthz always and /readyz by readiness and draining", async () => {
  const stats = new ServerStats();
  let ready = true;
  const app = createMonitorApp({ stats, ready: () => Promise.resolve(ready && !stats.draining) });
  assertEquals((await app.request("/healthz")).status, 200);
  assertEquals((await app.request("/readyz")).status, 200);
  ready = false;
  assertEquals((await app.request("/readyz")).status, 503);
  ready = true;
  stats.startDraining();
  const draining = await app.request("/readyz");
  assertEquals(draining.status, 503);
  assertEquals(await draining.json(), { ready: false });
  const failing = createMonitorApp({
    stats: new ServerStats(),
    ready: () => Promise.reject(new Error("down")),
  });
  assertEquals((await failing.request("/readyz")).status, 503);
});

Deno.test("createMonitorApp() with a token gives 401 and no data without it", async () => {
  const app = createMonitorApp({ stats: busyStats(), ready: READY, token: TOKEN });
  for (const path of ["/status", "/metrics", "/api/series", "/readyz"]) {
    for (
      const [authorization, challenge] of [
        [undefined, 'Bearer realm="bank-monitor"'],
        ["Bearer wrong", 'Bearer realm="bank-monitor", error="invalid_token"'],
        [`Bearer ${TOKEN}x`, 'Bearer realm="bank-monitor", error="invalid_token"'],
        [`Basic ${TOKEN}`, 'Bearer realm="bank-monitor", error="invalid_request"'],
        ["Bearer ", 'Bearer realm="bank-monitor", error="invalid_request"'],
        ["Bearer two words", 'Bearer realm="bank-monitor", error="invalid_request"'],
      ]
    ) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const response = await app.request(path, { headers });
      assertEquals(response.status, 401, `${path} with ${authorization}`);
      assertEquals(response.headers.get("www-authenticate"), challenge!, `${path} with ${authorization}`);
      assertEquals(await response.json(), { error: "unauthorized" });
    }
    const allowed = await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
    assertEquals(allowed.status, 200, path);
  }
  assertEquals((await app.request("/healthz")).status, 200, "liveness needs no token and shows no data");
});

Deno.test("createMonitorApp() serves the series and recent transfers for the dashboard", async () => {
  const app = createMonitorApp({ stats: busyStats(), ready: READY });
  const body = await (await app.request("/api/series")).json();
  assertEquals(body.samples.length, 1);
  assertEquals(body.samples[0].requests, 3);
  assertEquals(body.samples[0].errors, 2);
  assertEquals(body.samples[0].rejected, 4, "refused, rejected, rate-limited and the monitor's");
  assertEquals(body.recent_transfers, [{
    at: "1970-01-01T00:00:00.000Z",
    from: "ACC-0001",
    to: "XYZ",
    amount_minor: "10000",
  }]);
});

Deno.test("createMonitorApp() serves the dashboard's three files, with no inline script or style allowed", async () => {
  const app = createMonitorApp({
    stats: new ServerStats(),
    ready: READY,
    token: "a-monitor-token-0123456789",
  });
  const types = { "/": "text/html", "/dashboard.css": "text/css", "/dashboard.js": "text/javascript" };
  for (const [path, type] of Object.entries(types)) {
    const response = await app.request(path);
    assertEquals(response.status, 200, `${path} needs no token: it holds no data`);
    assertStringIncludes(response.headers.get("content-type") ?? "", type);
    const policy = response.headers.get("content-security-policy") ?? "";
    assertStringIncludes(policy, "default-src 'none'");
    assertStringIncludes(policy, "script-src 'self'");
    assertStringIncludes(policy, "frame-ancestors 'none'");
    assertEquals(policy.includes("unsafe-inline"), false, policy);
    assertEquals(response.headers.get("x-frame-options"), "DENY");
    assertEquals(response.headers.get("x-content-type-options"), "nosniff");
    assertEquals(response.headers.get("referrer-policy"), "no-referrer");
    assertEquals(response.headers.get("cache-control"), "no-store");
    assert((await response.text()).length > 0);
  }
  const page = await (await app.request("/")).text();
  assertStringIncludes(page, '<script type="module" src="./dashboard.js"></script>');
  assertEquals(
    /<script>|<style>|\sstyle=|\son[a-z]+=/.test(page),
    false,
    "nothing inline for the policy to refuse",
  );
});

Deno.test("createMonitorApp() answers 404 for unknown paths", async () => {
  const app = createMonitorApp({ stats: new ServerStats(), ready: READY });
  assertEquals((await app.request("/nope")).status, 404);
});

Deno.test("createMonitorApp() without a token refuses requests that name a non-loopback host", async () => {
  const app = createMonitorApp({ stats: new ServerStats(), ready: READY });
  for (const host of ["localhost:5000", "127.0.0.1:5000", "[::1]:5000", "127.0.0.2"]) {
    assertEquals((await app.request("/status", { headers: { host } })).status, 200, host);
  }
  for (const host of ["rebind.attacker.example", "evil.example:5000", "10.0.0.1"]) {
    const response = await app.request("/status", { headers: { host } });
    assertEquals(response.status, 403, host);
    assertEquals(await response.json(), { error: "forbidden host" });
  }
});
