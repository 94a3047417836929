import { assertEquals } from "@std/assert";
import { readSeries, readStatus, readToken, SAMPLES_MAX, TRANSFERS_MAX } from "./read.ts";

const TOKEN = "a-monitor-token.0123456789~+/==";

Deno.test("readToken() takes a b64token from the fragment and refuses anything else", () => {
  assertEquals(readToken(""), { kind: "absent" });
  assertEquals(readToken("#other=1"), { kind: "absent" });
  assertEquals(readToken(`#token=${TOKEN}`), { kind: "present", value: TOKEN });
  assertEquals(readToken(`#x=1&token=${encodeURIComponent(TOKEN)}`), { kind: "present", value: TOKEN });
  for (
    const bad of ["", "short", "has space in it!!", "%E0%A4%A", "=leading-padding-0123", "x".repeat(257)]
  ) {
    assertEquals(readToken(`#token=${bad}`), { kind: "invalid" }, bad);
  }
  assertEquals(readToken(`#token=${"%41".repeat(100_000)}`), { kind: "invalid" }, "no decoding past the cap");
});

const STATUS = {
  connections: 1,
  connections_total: 2,
  connections_rejected: 0,
  tasks_processed: 3,
  tasks_failed: 0,
  uptime_seconds: 4,
  draining: false,
};

Deno.test("readStatus() accepts counts and a boolean, and nothing else", () => {
  assertEquals(readStatus(STATUS), STATUS);
  for (const body of [null, [], "x", 1]) assertEquals(readStatus(body), null);
  for (const value of [-1, 1.5, "1", null, Number.MAX_SAFE_INTEGER + 1]) {
    assertEquals(readStatus({ ...STATUS, tasks_processed: value }), null, String(value));
  }
  assertEquals(readStatus({ ...STATUS, draining: "no" }), null);
});

const SAMPLE = {
  t: 5,
  requests: 3,
  errors: 0,
  rejected: 1,
  connections: 2,
  p50_ms: 0.5,
  p90_ms: null,
  p99_ms: 2,
};
const TRANSFER = { at: "2026-12-01T00:00:00.000Z", from: "ACC-0001", to: "XYZ", amount_minor: "10000" };

Deno.test("readSeries() checks every sample and transfer, and keeps at most its ceilings", () => {
  assertEquals(readSeries({ samples: [SAMPLE], recent_transfers: [TRANSFER] }), {
    samples: [SAMPLE],
    transfers: [TRANSFER],
  });
  assertEquals(readSeries({ samples: [{ ...SAMPLE, p50_ms: Infinity }], recent_transfers: [] }), null);
  assertEquals(readSeries({ samples: [{ ...SAMPLE, requests: -1 }], recent_transfers: [] }), null);
  assertEquals(readSeries({ samples: [], recent_transfers: [{ ...TRANSFER, amount_minor: 10000 }] }), null);
  assertEquals(readSeries({ samples: {}, recent_transfers: [] }), null);
  const many = readSeries({
    samples: Array.from({ length: SAMPLES_MAX + 5 }, (_, index) => ({ ...SAMPLE, t: index })),
    recent_transfers: Array.from({ length: TRANSFERS_MAX + 5 }, () => TRANSFER),
  });
  assertEquals(many?.samples.length, SAMPLES_MAX);
  assertEquals(many?.samples[0]?.t, 5, "the newest samples are kept");
  assertEquals(many?.transfers.length, TRANSFERS_MAX);
});
