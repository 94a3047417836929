/**
 * What the monitor reads, declared here so that the monitor depends on nothing of the server's: the
 * server's statistics implement {@link MonitorSource}, and the monitor renders what it returns.
 *
 * @module
 */

/** What `/status` reports; the original design's `connections` and `tasks_processed` first. */
export interface StatusSnapshot {
  connections: number;
  connections_total: number;
  connections_rejected: number;
  tasks_processed: number;
  tasks_failed: number;
  uptime_seconds: number;
  draining: boolean;
  /** Open connections still in the TLS or bank handshake, and those authenticated. */
  connections_handshaking: number;
  connections_authenticated: number;
  /** The process's open files and its (soft) limit; null where they cannot be read. */
  open_files: number | null;
  open_files_limit: number | null;
  /** Connections refused or rejected by reason, and `identity_rate` for rate-limited requests. */
  rejections: Readonly<Record<string, number>>;
  /** The monitor's refusals by reason (its caps and deadline). */
  monitor_rejections: Readonly<Record<string, number>>;
  accept_failures: number;
  /** The latest link of the journal's hash chain (docs/LEDGER.md), read each second; null before the first read. */
  ledger_head: { entry: number | null; hash: string } | null;
}

/** One second of the dashboard's series. */
export interface SeriesSample {
  t: number;
  requests: number;
  errors: number;
  rejected: number;
  connections: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
}

/** A transfer as the dashboard shows it: no names, no keys, no contact details. */
export interface RecentTransfer {
  at: string;
  from: string;
  to: string;
  amount_minor: string;
}

/** What `/api/series` returns. */
export interface SeriesView {
  samples: SeriesSample[];
  recent_transfers: RecentTransfer[];
}

/** Where the monitor's figures come from. */
export interface MonitorSource {
  snapshot(nowMs: number): StatusSnapshot;
  series(): SeriesView;
  /** The Prometheus text exposition, with process figures read now. */
  prometheus(nowMs: number): string;
}
