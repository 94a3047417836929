/**
 * What the dashboard reads from the monitor, checked before it is shown: the token from the address
 * fragment, and `/status` and `/api/series` answers, each field validated (a wrong one is "data this page
 * does not understand", never a crash or a wrong figure).
 *
 * @module
 */
import type { RecentTransfer, SeriesSample, StatusSnapshot } from "../source.ts";
import { isMonitorToken, MONITOR_TOKEN_CHARACTERS_MAX } from "../token.ts";

export const FETCH_TIMEOUT_MS = 5000;
export const SAMPLES_MAX = 600;
export const TRANSFERS_MAX = 20;

/** The token from `#token=…`: absent, invalid, or its value. */
export type Token = { kind: "absent" } | { kind: "invalid" } | { kind: "present"; value: string };

/** A JSON route's answer: its body, a 401, or a failure in words. */
export type Fetched = { kind: "ok"; body: unknown } | { kind: "unauthorized" } | {
  kind: "failed";
  detail: string;
};

/** The counters `/status` must carry, as numbers (or, for `draining`, a boolean). */
export const STATUS_COUNTS = [
  "connections",
  "connections_total",
  "connections_rejected",
  "tasks_processed",
  "tasks_failed",
  "uptime_seconds",
] as const;

export function readToken(hash: string): Token {
  const fragment = hash.startsWith("#") ? hash.slice(1) : hash;
  const part = fragment.split("&").find((piece) => piece.startsWith("token="));
  if (part === undefined) return { kind: "absent" };
  if (part.length > "token=".length + 3 * MONITOR_TOKEN_CHARACTERS_MAX) return { kind: "invalid" };
  let value: string;
  try {
    value = decodeURIComponent(part.slice("token=".length));
  } catch {
    return { kind: "invalid" };
  }
  return isMonitorToken(value) ? { kind: "present", value } : { kind: "invalid" };
}

/** GETs a JSON route of the monitor, within {@link FETCH_TIMEOUT_MS}; never throws. */
export async function getJson(path: string, token: Token): Promise<Fetched> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token.kind === "present") headers.authorization = "Bearer " + token.value;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      headers,
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
      signal: controller.signal,
    });
    if (response.status === 401) return { kind: "unauthorized" };
    if (!response.ok) return { kind: "failed", detail: "HTTP " + response.status };
    return { kind: "ok", body: await response.json() };
  } catch {
    return { kind: "failed", detail: controller.signal.aborted ? "no answer within 5 s" : "network error" };
  } finally {
    clearTimeout(timer);
  }
}

export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isMeasure(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && Number.isFinite(value) && value >= 0);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `/status`, checked: every counter a count, `draining` a boolean; null otherwise. */
export function readStatus(body: unknown): StatusSnapshot | null {
  if (!isRecord(body)) return null;
  if (!STATUS_COUNTS.every((field) => isCount(body[field]))) return null;
  if (typeof body.draining !== "boolean") return null;
  return body as unknown as StatusSnapshot;
}

function readSample(sample: unknown): SeriesSample | null {
  if (!isRecord(sample)) return null;
  const counts = ["t", "requests", "errors", "rejected", "connections"];
  if (!counts.every((name) => isCount(sample[name]))) return null;
  if (!["p50_ms", "p90_ms", "p99_ms"].every((name) => isMeasure(sample[name]))) return null;
  return sample as unknown as SeriesSample;
}

function readTransfer(transfer: unknown): RecentTransfer | null {
  if (!isRecord(transfer)) return null;
  const fields = ["at", "from", "to", "amount_minor"];
  if (!fields.every((name) => typeof transfer[name] === "string")) return null;
  return transfer as unknown as RecentTransfer;
}

/** `/api/series`, checked and cut to its ceilings; null when any part is not what it must be. */
export function readSeries(body: unknown): { samples: SeriesSample[]; transfers: RecentTransfer[] } | null {
  if (!isRecord(body) || !Array.isArray(body.samples) || !Array.isArray(body.recent_transfers)) return null;
  const samples = body.samples.slice(-SAMPLES_MAX).map(readSample);
  const transfers = body.recent_transfers.slice(0, TRANSFERS_MAX).map(readTransfer);
  if (samples.includes(null) || transfers.includes(null)) return null;
  return { samples: samples as SeriesSample[], transfers: transfers as RecentTransfer[] };
}
