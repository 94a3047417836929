/**
 * The monitoring app: a Hono app the server mounts on its monitor port (127.0.0.1:5000 by default).
 *
 * @module
 */
import { Hono } from "hono";
import type { ServerStats } from "../server/stats.ts";

/** Builds the monitor; `now` is injectable for tests. */
export function createMonitorApp(options: { stats: ServerStats; now?: () => number }): Hono {
  const now = options.now ?? Date.now;
  const app = new Hono();
  app.get("/status", (context) => context.json(options.stats.snapshot(now())));
  return app;
}
