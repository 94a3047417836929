import { assertEquals } from "@std/assert";
import {
  REJECTION_ADDRESSES_MAX,
  REJECTION_LINES_PER_ADDRESS,
  REJECTION_LINES_PER_INTERVAL_MAX,
} from "./limits.ts";
import { RejectionLog } from "./rejection_log.ts";
import type { RejectionSummary } from "./rejection_log.ts";

Deno.test("RejectionLog logs an address's first rejections and sums up the rest in one line", () => {
  const summaries: RejectionSummary[] = [];
  const log = new RejectionLog({ summarize: (summary) => summaries.push(summary), intervalMs: 60_000 });
  const logged = Array.from(
    { length: 1_000 },
    (_, index) => log.record("127.0.0.2", index % 10 === 0 ? "deadline" : "address_cap"),
  );
  assertEquals(logged.filter(Boolean).length, REJECTION_LINES_PER_ADDRESS);
  assertEquals(log.record("127.0.0.3", "address_cap"), true, "another address has its own lines");
  log.stop();
  assertEquals(summaries, [{
    address: "127.0.0.2",
    count: 1_000 - REJECTION_LINES_PER_ADDRESS,
    reasons: "address_cap 882, deadline 98",
    seconds: 60,
  }]);
});

Deno.test("RejectionLog caps its lines per interval and folds the quietest addresses into one line", () => {
  const summaries: RejectionSummary[] = [];
  const log = new RejectionLog({ summarize: (summary) => summaries.push(summary), intervalMs: 10_000 });
  let lines = 0;
  for (let address = 0; address < 500; address++) {
    for (let index = 0; index < 3; index++) {
      if (log.record(`10.0.${address >> 8}.${address & 255}`, "deadline")) lines += 1;
    }
  }
  assertEquals(lines, REJECTION_LINES_PER_INTERVAL_MAX);
  log.flush();
  assertEquals(summaries.length, REJECTION_ADDRESSES_MAX + 1);
  assertEquals(summaries.at(-1)?.otherAddresses, true);
  const total = summaries.reduce((sum, summary) => sum + summary.count, 0);
  assertEquals(total, 1_500 - REJECTION_LINES_PER_INTERVAL_MAX, "every rejection is counted once");
  summaries.length = 0;
  log.flush();
  assertEquals(summaries, [], "a new interval starts empty");
  assertEquals(log.record("10.0.0.1", "deadline"), true, "and with a fresh line budget");
  log.stop();
});
