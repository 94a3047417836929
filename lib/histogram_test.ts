import { assertEquals, assertLess } from "@std/assert";
import { LatencyHistogram } from "./histogram.ts";

Deno.test("LatencyHistogram() reports percentiles within 1% from fixed buckets", () => {
  const histogram = new LatencyHistogram();
  for (let value = 1; value <= 100_000; value++) histogram.record(value / 1_000);
  assertEquals(histogram.count, 100_000);
  for (const [fraction, exactMs] of [[0.5, 50], [0.9, 90], [0.99, 99], [0.999, 99.9]] as const) {
    const reportedMs = histogram.quantileMs(fraction)!;
    assertLess(Math.abs(reportedMs - exactMs) / exactMs, 0.01, `p${fraction * 100}: ${reportedMs}`);
  }
  assertEquals(histogram.quantileMs(1), 100);
  assertEquals(histogram.maxMs, 100);
  assertEquals(histogram.minMs, 0.001);
  histogram.record(48 * 3_600_000);
  assertEquals(histogram.maxMs, 48 * 3_600_000, "a value past the last bucket still sets the maximum");
  assertEquals(new LatencyHistogram().quantileMs(0.5), null);
});
