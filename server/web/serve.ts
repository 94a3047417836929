/**
 * One connection to the web port: TLS, then one HTTP/1.1 request. A request for the app's files is answered
 * and the connection closed; an upgrade to a WebSocket at `/ws` from one of the bank's own origins becomes
 * a bank session over {@link WebSocketPeer}, served by the very code that serves TLS sessions, with the
 * same handshake, limits, deadlines and budgets.
 *
 * The TLS handshake and the request together have the handshake's deadline; the bank handshake then has its
 * own. Refusals (a bad request, a foreign origin, a text or oversize message) are logged within the
 * rejection log's budget, like refused connections.
 *
 * @module
 */
import { utf8 } from "../../lib/bytes.ts";
import { isWebSocketKey, websocketAccept } from "../../lib/websocket.ts";
import { writeAll } from "../../protocol/frame.ts";
import { FRAME_HEADER_BYTES } from "../../protocol/limits.ts";
import { encodeResponse, plainResponse, readRequest } from "../http1.ts";
import { serverLogger } from "../log.ts";
import type { PeerConn } from "../peer.ts";
import { describeAddress, serveConnection } from "../session.ts";
import type { ConnectionParts } from "../session.ts";
import { WEB_SOCKET_PATH } from "./app.ts";
import { WebSocketPeer } from "./websocket_peer.ts";

const log = serverLogger("web");

/** Request heads the web port reads: a browser's upgrade with its cookies-free headers fits easily. */
const WEB_HEADER_BYTES_MAX = 8 * 1024;
/** Answers to page requests are the app's files: none is larger. */
const WEB_RESPONSE_BYTES_MAX = 1024 * 1024;

export interface WebServing {
  /** Answers requests for the app's files. */
  app: (request: Request) => Response | Promise<Response>;
  /** Origins allowed to open the WebSocket (`https://host:port`). */
  origins: ReadonlySet<string>;
}

/** Serves one connection of the web port (the listener admitted it and started its TLS). */
export async function serveWebConnection(
  conn: PeerConn,
  parts: ConnectionParts,
  web: WebServing,
): Promise<void> {
  const { settings } = parts.context;
  let upgraded = false;
  const timer = setTimeout(() => {
    if (!upgraded) conn.close();
  }, settings.handshakeTimeoutMs);
  try {
    await conn.handshake();
    const read = await readRequest(conn, {
      headerBytesMax: WEB_HEADER_BYTES_MAX,
      bodyBytesMax: 0,
      origin: "https://web",
    });
    if (!read.ok) {
      refused(parts, read.refusal, conn);
      await writeAll(conn, plainResponse(read.status));
      return;
    }
    const { request } = read;
    if (!isUpgrade(request)) {
      // HEAD is answered as GET without the body, so its length is the real one.
      const head = request.method === "HEAD";
      const asked = head ? new Request(request.url, { method: "GET", headers: request.headers }) : request;
      await answer(conn, await web.app(asked), head);
      return;
    }
    const refusal = checkUpgrade(request, web.origins);
    if (refusal !== null) {
      refused(parts, refusal.reason, conn);
      await writeAll(conn, plainResponse(refusal.status));
      return;
    }
    const accept = await websocketAccept(request.headers.get("sec-websocket-key")!);
    await writeAll(
      conn,
      utf8(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
          `sec-websocket-accept: ${accept}\r\n\r\n`,
      ),
    );
    upgraded = true;
    clearTimeout(timer);
    const socket = new WebSocketPeer(conn, {
      messageBytesMax: FRAME_HEADER_BYTES + settings.frameBytesMax,
      onViolation: (violation) => refused(parts, `websocket_${violation}`, conn),
    });
    await serveConnection(socket, parts);
  } catch {
    // A peer that resets or goes away ends its own connection; nothing is owed to it.
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Why an upgrade is refused, in the order checked; null when it may proceed. */
function checkUpgrade(
  request: Request,
  origins: ReadonlySet<string>,
): { status: number; reason: string } | null {
  if (request.method !== "GET" || new URL(request.url).pathname !== WEB_SOCKET_PATH) {
    return { status: 404, reason: "websocket_path" };
  }
  const connection = (request.headers.get("connection") ?? "").toLowerCase().split(",").map((token) =>
    token.trim()
  );
  const key = request.headers.get("sec-websocket-key") ?? "";
  if (!connection.includes("upgrade") || !isWebSocketKey(key)) {
    return { status: 400, reason: "websocket_request" };
  }
  if (request.headers.get("sec-websocket-version") !== "13") {
    return { status: 426, reason: "websocket_version" };
  }
  const origin = request.headers.get("origin");
  if (origin === null || !origins.has(origin)) return { status: 403, reason: "websocket_origin" };
  return null;
}

async function answer(conn: PeerConn, response: Response, head: boolean): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  if (body.length > WEB_RESPONSE_BYTES_MAX) {
    await writeAll(conn, plainResponse(503));
    return;
  }
  await writeAll(conn, encodeResponse(response, { body, head }));
}

function refused(parts: ConnectionParts, reason: string, conn: PeerConn): void {
  if (!parts.context.rejections.record(parts.ticket.addressKey, reason)) return;
  log.warn("Web request from {peer} refused: {reason}", { peer: describeAddress(conn.remote), reason });
}
