import { assertEquals } from "@std/assert";
import { ServerStats } from "../server/stats.ts";
import { createMonitorApp } from "./app.ts";

Deno.test("createMonitorApp() reports the server's counters at /status", async () => {
  const stats = new ServerStats({ nowMs: 1_000 });
  stats.connectionOpened();
  stats.connectionOpened();
  stats.connectionClosed();
  stats.connectionOpened();
  stats.connectionRejected();
  stats.taskProcessed(true);
  stats.taskProcessed(false);
  const app = createMonitorApp({ stats, now: () => 62_500 });
  const response = await app.request("/status");
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type")?.startsWith("application/json"), true);
  assertEquals(await response.json(), {
    connections: 2,
    connections_total: 3,
    connections_rejected: 1,
    tasks_processed: 2,
    tasks_failed: 1,
    uptime_seconds: 61,
  });
});

Deno.test("createMonitorApp() answers 404 for unknown paths", async () => {
  const app = createMonitorApp({ stats: new ServerStats() });
  assertEquals((await app.request("/nope")).status, 404);
});
