import { assertEquals, assertThrows } from "@std/assert";
import parsePrometheus from "parse-prometheus-text-format";
import { AssertionFailure } from "./assert.ts";
import { Counter, Gauge, Histogram, Registry, SERIES_PER_METRIC_MAX } from "./prometheus.ts";

Deno.test("Registry.render() writes the text exposition format, which a Prometheus parser reads back", () => {
  const registry = new Registry();
  const requests = registry.register(new Counter("app_requests_total", "Requests\nby outcome", ["outcome"]));
  const open = registry.register(new Gauge("app_open", "Open connections", []));
  const latency = registry.register(new Histogram("app_latency_seconds", "Latency", { bounds: [0.01, 0.1] }));
  requests.inc({ outcome: "ok" }, 3);
  requests.inc({ outcome: 'odd "quoted"\\value' });
  open.set(5);
  open.add(-2);
  for (const seconds of [0.005, 0.05, 0.5]) latency.observe(seconds);
  const text = registry.render();
  assertEquals(text.split("\n").slice(0, 2), [
    "# HELP app_requests_total Requests\\nby outcome",
    "# TYPE app_requests_total counter",
  ]);
  const families = parsePrometheus(text) as { name: string; type: string; metrics: unknown[] }[];
  assertEquals(families.map((family) => [family.name, family.type]), [
    ["app_requests_total", "COUNTER"],
    ["app_open", "GAUGE"],
    ["app_latency_seconds", "HISTOGRAM"],
  ]);
  assertEquals(families[0]!.metrics, [
    { labels: { outcome: "ok" }, value: "3" },
    { labels: { outcome: 'odd "quoted"\\value' }, value: "1" },
  ]);
  assertEquals(families[1]!.metrics, [{ value: "3" }]);
  assertEquals(families[2]!.metrics, [{
    buckets: { "0.01": "1", "0.1": "2", "+Inf": "3" },
    count: "3",
    sum: "0.555",
  }]);
  assertEquals(requests.total(), 4);
});

Deno.test("metrics refuse what would make a wrong or unbounded exposition", () => {
  const counter = new Counter("c_total", "c", ["kind"]);
  assertThrows(() => counter.inc({ kind: "a" }, -1), AssertionFailure, "cannot grow by -1");
  assertThrows(() => counter.inc({}), AssertionFailure, "takes labels kind");
  for (let n = 0; n < SERIES_PER_METRIC_MAX; n++) counter.inc({ kind: `k${n}` });
  assertThrows(() => counter.inc({ kind: "one-too-many" }), AssertionFailure, "Too many series");
  assertThrows(() => new Gauge("9bad", "bad", []), AssertionFailure, "is not valid");
  assertThrows(
    () => new Histogram("h", "h", { labelNames: ["le"], bounds: [1] }),
    AssertionFailure,
    "Bad labels",
  );
  assertThrows(() => new Histogram("h", "h", { bounds: [2, 1] }), AssertionFailure, "Sorted buckets");
  assertThrows(() => new Gauge("g", "g", []).set(Number.NaN), AssertionFailure, "cannot be NaN");
  const registry = new Registry();
  registry.register(new Gauge("same", "one", []));
  assertThrows(() => registry.register(new Gauge("same", "two", [])), AssertionFailure, "registered twice");
});
