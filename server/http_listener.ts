/**
 * The monitor's HTTP/1.1 listener, with the caps `Deno.serve` does not offer: connections at once and per
 * address (at the cap the oldest connection still sending its request is closed to make room), the size
 * of the request head and body, and the time to send a whole request. One request per connection
 * (`Connection: close`), no chunked bodies, no upgrades: what a dashboard, curl and Prometheus need.
 *
 * Bad requests get a plain status (400, 413, 431, 501) and the close; a request that is not complete in
 * time is closed without an answer. Accept failures (out of files) are counted, logged and backed off.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { fromUtf8, utf8 } from "../lib/bytes.ts";
import { writeAll } from "../protocol/frame.ts";
import type { MonitorBudget } from "./config.ts";
import { ACCEPT_RETRY_MS, MONITOR_RESPONSE_BYTES_MAX, MONITOR_RESPONSE_TIMEOUT_MS } from "./limits.ts";
import type { PeerAddress } from "./peer.ts";

/** Headers one request may carry. */
export const HTTP_HEADERS_MAX = 100;
const HEAD_END = utf8("\r\n\r\n");
const REQUEST_LINE = /^([A-Z]{1,16}) (\/[\x21-\x7e]*) HTTP\/1\.([01])$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REASONS: Record<number, string> = {
  400: "Bad Request",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** Why the monitor refused a connection or a request. */
export type MonitorRefusal =
  | "address_cap"
  | "connection_cap"
  | "deadline"
  | "header_too_large"
  | "body_too_large"
  | "bad_request";

export interface HttpListenerOptions {
  hostname: string;
  port: number;
  budget: MonitorBudget;
  handler: (request: Request) => Response | Promise<Response>;
  onRefused: (refusal: MonitorRefusal, peer: PeerAddress) => void;
  onAcceptError: (error: Error) => void;
}

export interface HttpListener {
  readonly addr: PeerAddress;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** Listens and serves until closed. */
export function startHttpListener(options: HttpListenerOptions): HttpListener {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const state = new MonitorConnections(options);
  let closing = false;
  const loop = (async () => {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        options.onAcceptError(error instanceof Error ? error : new Error(String(error)));
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      state.accept(conn);
    }
  })();
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    async close() {
      closing = true;
      listener.close();
      await loop;
      await state.closeAll();
    },
  };
}

interface Open {
  conn: Deno.TcpConn;
  peer: PeerAddress;
  /** True until the whole request has been read: such a connection may be evicted. */
  reading: boolean;
  closed: boolean;
}

/** The monitor's open connections, oldest first, and their counts per address. */
class MonitorConnections {
  readonly #options: HttpListenerOptions;
  readonly #open = new Map<Deno.TcpConn, Open>();
  readonly #perAddress = new Map<string, number>();
  readonly #served = new Set<Promise<void>>();

  constructor(options: HttpListenerOptions) {
    this.#options = options;
  }

  accept(conn: Deno.TcpConn): void {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const peer = { hostname: remote.hostname, port: remote.port };
    const { budget } = this.#options;
    if ((this.#perAddress.get(peer.hostname) ?? 0) >= budget.addressConnectionsMax) {
      return this.#refuse(conn, { refusal: "address_cap", peer });
    }
    if (this.#open.size >= budget.connectionsMax && !this.#evictOldestReading()) {
      return this.#refuse(conn, { refusal: "connection_cap", peer });
    }
    const entry: Open = { conn, peer, reading: true, closed: false };
    this.#open.set(conn, entry);
    this.#perAddress.set(peer.hostname, (this.#perAddress.get(peer.hostname) ?? 0) + 1);
    assert(this.#open.size <= budget.connectionsMax, "The monitor holds at most its connection cap");
    const served = this.#serve(entry).finally(() => {
      this.#close(entry);
      this.#served.delete(served);
    });
    this.#served.add(served);
  }

  async closeAll(): Promise<void> {
    for (const entry of this.#open.values()) this.#close(entry);
    await Promise.allSettled([...this.#served]);
  }

  async #serve(entry: Open): Promise<void> {
    const { budget } = this.#options;
    const timer = setTimeout(() => {
      if (entry.reading) this.#options.onRefused("deadline", entry.peer);
      this.#close(entry);
    }, budget.requestTimeoutMs);
    try {
      const read = await readRequest(entry.conn, budget);
      if (entry.closed) return;
      if (!read.ok) {
        this.#options.onRefused(read.refusal, entry.peer);
        await writeAll(entry.conn, plainResponse(read.status));
        return;
      }
      entry.reading = false;
      clearTimeout(timer);
      await this.#answer(entry, read.request);
    } catch {
      // A peer that resets or goes away ends its own connection; nothing is owed to it.
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the handler and writes its response, both within {@link MONITOR_RESPONSE_TIMEOUT_MS}. */
  async #answer(entry: Open, request: Request): Promise<void> {
    const timer = setTimeout(() => this.#close(entry), MONITOR_RESPONSE_TIMEOUT_MS);
    try {
      const response = await this.#options.handler(request);
      const body = new Uint8Array(await response.arrayBuffer());
      if (body.length > MONITOR_RESPONSE_BYTES_MAX) {
        await writeAll(entry.conn, plainResponse(503));
        return;
      }
      await writeAll(entry.conn, encodeResponse(response, { body, head: request.method === "HEAD" }));
    } finally {
      clearTimeout(timer);
    }
  }

  #evictOldestReading(): boolean {
    for (const entry of this.#open.values()) {
      if (!entry.reading) continue;
      this.#options.onRefused("connection_cap", entry.peer);
      this.#close(entry);
      return true;
    }
    return false;
  }

  #refuse(conn: Deno.TcpConn, parts: { refusal: MonitorRefusal; peer: PeerAddress }): void {
    this.#options.onRefused(parts.refusal, parts.peer);
    closeQuietly(conn);
  }

  #close(entry: Open): void {
    if (entry.closed) return;
    entry.closed = true;
    closeQuietly(entry.conn);
    this.#open.delete(entry.conn);
    const left = (this.#perAddress.get(entry.peer.hostname) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(entry.peer.hostname);
    else this.#perAddress.set(entry.peer.hostname, left);
  }
}

type ReadResult =
  | { ok: true; request: Request }
  | { ok: false; status: number; refusal: MonitorRefusal };

/**
 * Reads one request: the head into a buffer of its limit (each read goes straight into it, and the search
 * for its end resumes where it stopped, so a peer sending a byte at a time costs no more than one sending
 * it all), then exactly `Content-Length` bytes of body.
 */
export async function readRequest(
  conn: Deno.Conn,
  budget: Pick<MonitorBudget, "headerBytesMax" | "bodyBytesMax">,
): Promise<ReadResult> {
  const buffer = new Uint8Array(budget.headerBytesMax);
  let filled = 0;
  let headEnd = -1;
  while (headEnd < 0) {
    if (filled === buffer.length) return { ok: false, status: 431, refusal: "header_too_large" };
    const count = await conn.read(buffer.subarray(filled));
    if (count === null) return { ok: false, status: 400, refusal: "bad_request" };
    const scanFrom = Math.max(0, filled - (HEAD_END.length - 1));
    filled += count;
    headEnd = indexOf(buffer.subarray(0, filled), HEAD_END, scanFrom);
  }
  const head = parseHead(buffer.subarray(0, headEnd));
  if (!head.ok) return head;
  const length = head.contentLength;
  if (length > budget.bodyBytesMax) return { ok: false, status: 413, refusal: "body_too_large" };
  const early = buffer.subarray(headEnd + HEAD_END.length, filled);
  if (early.length > length) return { ok: false, status: 400, refusal: "bad_request" };
  const body = new Uint8Array(length);
  body.set(early, 0);
  let received = early.length;
  while (received < length) {
    const count = await conn.read(body.subarray(received));
    if (count === null) return { ok: false, status: 400, refusal: "bad_request" };
    received += count;
  }
  const init: RequestInit = { method: head.method, headers: head.headers };
  if (length > 0 && head.method !== "GET" && head.method !== "HEAD") init.body = body;
  return { ok: true, request: new Request(`http://monitor${head.target}`, init) };
}

type Head =
  | { ok: true; method: string; target: string; headers: Headers; contentLength: number }
  | { ok: false; status: number; refusal: MonitorRefusal };

/** Parses the request line and headers; anything ambiguous is refused rather than guessed. */
function parseHead(bytes: Uint8Array): Head {
  const bad = (status = 400): Head => ({
    ok: false,
    status,
    refusal: status === 431 ? "header_too_large" : "bad_request",
  });
  const text = latin1(bytes);
  const lines = text.split("\r\n");
  const requestLine = REQUEST_LINE.exec(lines[0]!);
  if (requestLine === null) return bad();
  const [, method, target, minor] = requestLine;
  if (lines.length - 1 > HTTP_HEADERS_MAX) return bad(431);
  const headers = new Headers();
  let contentLength: string | null = null;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return bad();
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) return bad();
    const lower = name.toLowerCase();
    if (lower === "transfer-encoding") return bad(501);
    if (lower === "content-length") {
      if (contentLength !== null || !/^(0|[1-9][0-9]{0,9})$/.test(value)) return bad();
      contentLength = value;
    }
    headers.append(lower, value);
  }
  if (minor === "1" && !headers.has("host")) return bad();
  return { ok: true, method: method!, target: target!, headers, contentLength: Number(contentLength ?? 0) };
}

/** A response's bytes: status line, its headers, a length, `Connection: close`, then the body. */
function encodeResponse(response: Response, parts: { body: Uint8Array; head: boolean }): Uint8Array {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText || REASONS[response.status] || "OK"}`];
  for (const [name, value] of response.headers) {
    if (name === "content-length" || name === "connection" || name === "transfer-encoding") continue;
    lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${parts.body.length}`, "connection: close", "", "");
  const head = utf8(lines.join("\r\n"));
  return parts.head ? head : concat(head, parts.body);
}

function plainResponse(status: number): Uint8Array {
  const reason = REASONS[status] ?? "Error";
  const body = `${reason}\n`;
  return utf8(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function latin1(bytes: Uint8Array): string {
  const ascii = fromUtf8(bytes);
  if (ascii !== null) return ascii;
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let start = from; start + needle.length <= haystack.length; start++) {
    for (let offset = 0; offset < needle.length; offset++) {
      if (haystack[start + offset] !== needle[offset]) continue outer;
    }
    return start;
  }
  return -1;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
