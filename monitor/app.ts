/**
 * The monitor: a Hono app the server mounts on its monitor port (127.0.0.1:5000 by default).
 *
 * | route          | what                                                                   |
 * | -------------- | ---------------------------------------------------------------------- |
 * | `GET /`        | the live dashboard (static files from `dashboard/`; data from the routes below) |
 * | `GET /status`  | the seed's JSON counters (`connections`, `tasks_processed`, …)         |
 * | `GET /metrics` | Prometheus text exposition                                             |
 * | `GET /api/series` | the last minutes per second, and the most recent transfers          |
 * | `GET /healthz` | 200 while the process runs                                             |
 * | `GET /readyz`  | 200 when accepting and the ledger answers; 503 while draining or not   |
 *
 * With a token, every route but `/healthz` and the dashboard's files needs `Authorization: Bearer <token>`;
 * a wrong or missing token gets 401 and no data. Without one (loopback only), a request must name a
 * loopback host, so a web page cannot read the monitor through DNS rebinding.
 *
 * @module
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { secureHeaders } from "hono/secure-headers";
import type { MonitorSource } from "./source.ts";

export interface MonitorOptions {
  stats: MonitorSource;
  /** Whether the server accepts work: not draining, and the ledger answers. */
  ready: () => Promise<boolean>;
  /** Bearer token that protects the data routes; none when the monitor is bound to loopback only. */
  token?: string;
  now?: () => number;
}

const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The dashboard's files, read once (`deno compile` embeds them with `--include monitor/dashboard/`). */
const DASHBOARD_FILES = [
  { route: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { route: "/dashboard.css", file: "dashboard.css", type: "text/css; charset=utf-8" },
  { route: "/dashboard.js", file: "dashboard.js", type: "text/javascript; charset=utf-8" },
].map((entry) => ({
  ...entry,
  body: Deno.readTextFileSync(new URL(`./dashboard/${entry.file}`, import.meta.url)),
}));

/** Scripts and styles from the monitor itself only: nothing inline, nothing framed, nothing sent elsewhere. */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};
const UNAUTHORIZED = { error: "unauthorized" };

/** Builds the monitor; `now` is injectable for tests. */
export function createMonitorApp(options: MonitorOptions): Hono {
  const now = options.now ?? Date.now;
  const { stats } = options;
  const app = new Hono();
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: CONTENT_SECURITY_POLICY,
      xFrameOptions: "DENY",
      // The monitor speaks plain HTTP (a TLS proxy in front sets its own).
      strictTransportSecurity: false,
    }),
  );
  app.use("*", async (context, next) => {
    await next();
    context.header("cache-control", "no-store");
  });
  if (options.token === undefined) app.use("*", requireLoopbackHost());
  app.get("/healthz", (context) => context.text("ok\n"));
  for (const { route, body, type } of DASHBOARD_FILES) {
    app.get(route, (context) => context.body(body, 200, { "content-type": type }));
  }
  if (options.token !== undefined) app.use("*", requireToken(options.token));
  app.get("/status", (context) => context.json(stats.snapshot(now())));
  app.get(
    "/metrics",
    (context) => context.body(stats.prometheus(now()), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
  );
  app.get("/api/series", (context) => context.json(stats.series()));
  app.get("/readyz", async (context) => {
    const ready = await options.ready().catch(() => false);
    return context.json({ ready }, ready ? 200 : 503);
  });
  return app;
}

/**
 * Refuses requests without the bearer token (Hono compares digests, so the time taken says nothing). A
 * missing, malformed or wrong token gets the same 401 and body; the challenge says which (RFC 6750).
 */
function requireToken(token: string): MiddlewareHandler {
  const realm = 'Bearer realm="bank-monitor"';
  return bearerAuth({
    token,
    noAuthenticationHeader: { message: UNAUTHORIZED, wwwAuthenticateHeader: realm },
    invalidAuthenticationHeader: {
      message: () => Response.json(UNAUTHORIZED, { status: 401 }),
      wwwAuthenticateHeader: `${realm}, error="invalid_request"`,
    },
    invalidToken: { message: UNAUTHORIZED, wwwAuthenticateHeader: `${realm}, error="invalid_token"` },
  });
}

/** Refuses requests whose Host is not a loopback name (403). */
function requireLoopbackHost(): MiddlewareHandler {
  return async (context, next) => {
    const host = (context.req.header("host") ?? new URL(context.req.url).host).toLowerCase();
    const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
    const loopback = hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
    if (!loopback) return context.json({ error: "forbidden host" }, 403);
    await next();
  };
}
