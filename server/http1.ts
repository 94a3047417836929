/**
 * HTTP/1.1 as the server's two HTTP listeners (the monitor, the web app) speak it: one request per
 * connection, read into a buffer of its limit, parsed strictly (anything ambiguous is refused rather than
 * guessed: no chunked bodies, one Content-Length, a Host on 1.1), and one response, `Connection: close`.
 *
 * @module
 */
import { concatBytes, fromUtf8, utf8 } from "../lib/bytes.ts";
import type { ByteSource } from "../protocol/frame.ts";

/** Why a request was refused. */
export type HttpRefusal = "header_too_large" | "body_too_large" | "bad_request";

/** Headers one request may carry. */
const HTTP_HEADERS_MAX = 100;
const HEAD_END = utf8("\r\n\r\n");
const REQUEST_LINE = /^([A-Z]{1,16}) (\/[\x21-\x7e]*) HTTP\/1\.([01])$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  421: "Misdirected Request",
  426: "Upgrade Required",
  400: "Bad Request",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  503: "Service Unavailable",
};

export type ReadResult =
  | { ok: true; request: Request }
  | { ok: false; status: number; refusal: HttpRefusal };

/**
 * Reads one request: the head into a buffer of its limit (each read goes straight into it, and the search
 * for its end resumes where it stopped, so a peer sending a byte at a time costs no more than one sending
 * it all), then exactly `Content-Length` bytes of body.
 */
export async function readRequest(
  conn: ByteSource,
  budget: { headerBytesMax: number; bodyBytesMax: number; origin: string },
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
  return { ok: true, request: new Request(`${budget.origin}${head.target}`, init) };
}

type Head =
  | { ok: true; method: string; target: string; headers: Headers; contentLength: number }
  | { ok: false; status: number; refusal: HttpRefusal };

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
export function encodeResponse(response: Response, parts: { body: Uint8Array; head: boolean }): Uint8Array {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText || REASONS[response.status] || "OK"}`];
  for (const [name, value] of response.headers) {
    if (name === "content-length" || name === "connection" || name === "transfer-encoding") continue;
    lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${parts.body.length}`, "connection: close", "", "");
  const head = utf8(lines.join("\r\n"));
  return parts.head ? head : concatBytes([head, parts.body]);
}

export function plainResponse(status: number): Uint8Array {
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

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let start = from; start + needle.length <= haystack.length; start++) {
    for (let offset = 0; offset < needle.length; offset++) {
      if (haystack[start + offset] !== needle[offset]) continue outer;
    }
    return start;
  }
  return -1;
}
