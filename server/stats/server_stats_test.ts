import { assertEquals } from "@std/assert";
import { OPERATIONS } from "../../protocol/codes.ts";
import { ServerStats } from "./server_stats.ts";

Deno.test("ServerStats counts an answered request of every operation as processed, and only refusals as failed", () => {
  const stats = new ServerStats({ nowMs: 0 });
  for (const operation of OPERATIONS) stats.requestAnswered({ operation, outcome: "ok", durationMs: 1 });
  stats.requestAnswered({ operation: "transfer", outcome: "refused", durationMs: 1 });
  const snapshot = stats.snapshot(0);
  assertEquals([snapshot.tasks_processed, snapshot.tasks_failed], [OPERATIONS.length + 1, 1]);
});
