/**
 * The web app's files, served by the server itself (no CDN; `deno compile` embeds them with
 * `--include web/`), under headers that leave a script on the page nothing to reach: a Content-Security-
 * Policy with no inline script and `connect-src` limited to the bank's own WebSocket, no framing, no
 * referrer, HSTS when the server is reachable from other machines.
 *
 * A request must name one of the bank's own origins as its Host (anything else is 421): a page served under
 * a name the bank does not know, by DNS rebinding or otherwise, is never served.
 *
 * @module
 */
import { Hono } from "hono";
import { toBase64Url } from "../../lib/bytes.ts";
import { isLoopbackHost } from "../config.ts";

/** The app's files: the HTML, its one script (bundled from web/src/), its styles and its icon. */
const WEB_FILES = [
  { route: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { route: "/app.js", file: "app.js", type: "text/javascript; charset=utf-8" },
  { route: "/app.css", file: "app.css", type: "text/css; charset=utf-8" },
  { route: "/icon.svg", file: "icon.svg", type: "image/svg+xml" },
] as const;
/** Where index.html says which bank key the page pins; filled in per server. */
const BANK_KEY_PLACEHOLDER = "%BANK_PUBLIC_KEY%";
/** The path of the WebSocket endpoint. */
export const WEB_SOCKET_PATH = "/ws";
const HSTS = "max-age=31536000";

export interface WebAppOptions {
  /** The bank's Ed25519 public key, which the page pins when it enrols. */
  bankPublicKey: Uint8Array;
  /** Origins the page may be served from and its WebSocket opened by (`https://host:port`). */
  origins: ReadonlySet<string>;
  /** Send HSTS: the server listens beyond loopback. */
  hsts: boolean;
}

/**
 * The origins a page of the web port is served under: the listening host (on loopback, or on every
 * address, also `localhost`, `127.0.0.1` and `[::1]`, the names the development certificate covers), then
 * `extra` (`--web-origin`, for a public name).
 */
export function webOriginsOf(host: string, port: number, extra: readonly string[]): Set<string> {
  const everywhere = host === "0.0.0.0" || host === "::";
  const hosts = isLoopbackHost(host) || everywhere ? ["localhost", "127.0.0.1", "[::1]"] : [];
  if (!everywhere) hosts.push(host.includes(":") && !host.startsWith("[") ? `[${host}]` : host);
  return new Set([...hosts.map((name) => new URL(`https://${name}:${port}`).origin), ...extra]);
}

/** The app's files, read once. */
function readFiles(): Map<string, { body: string; type: string }> {
  return new Map(WEB_FILES.map((entry) => [entry.route, {
    body: Deno.readTextFileSync(new URL(`../../web/${entry.file}`, import.meta.url)),
    type: entry.type,
  }]));
}

/** The Content-Security-Policy of a page served from `origin`. */
export function contentSecurityPolicy(origin: string): string {
  const socket = `${origin.replace(/^https:/, "wss:")}${WEB_SOCKET_PATH}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src ${socket}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Builds the app. */
export function createWebApp(options: WebAppOptions): Hono {
  const files = readFiles();
  const index = files.get("/")!;
  files.set("/", {
    ...index,
    body: index.body.replaceAll(BANK_KEY_PLACEHOLDER, toBase64Url(options.bankPublicKey)),
  });
  // The policy of each origin the app is served under, made once; a Host not among them is never served.
  const policies = new Map([...options.origins].map((origin) => [origin, contentSecurityPolicy(origin)]));
  const app = new Hono();
  app.use("*", async (context, next) => {
    const policy = policies.get(`https://${context.req.header("host") ?? ""}`);
    if (policy === undefined) return context.text("This server does not serve that host name.\n", 421);
    await next();
    context.header("content-security-policy", policy);
    context.header("x-content-type-options", "nosniff");
    context.header("x-frame-options", "DENY");
    context.header("referrer-policy", "no-referrer");
    context.header("cross-origin-opener-policy", "same-origin");
    context.header("cross-origin-resource-policy", "same-origin");
    context.header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
    context.header("cache-control", "no-store");
    if (options.hsts) context.header("strict-transport-security", HSTS);
  });
  for (const [route, { body, type }] of files) {
    app.get(route, (context) => context.body(body, 200, { "content-type": type }));
  }
  app.notFound((context) => context.text("Not found.\n", 404));
  return app;
}
