/**
 * The server's half of RFC 6455 framing, as pure functions: the opening handshake's accept value, a frame
 * header read from the first bytes of a frame (so a frame's size is known, and can be refused, before any of
 * its payload is read), unmasking, and the unmasked frames a server sends. No extensions are negotiated, so
 * the RSV bits must be zero.
 *
 * @module
 */

/** The GUID RFC 6455 section 1.3 appends to the client's key. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Control frames carry at most this many payload bytes (RFC 6455 section 5.5). */
export const WS_CONTROL_PAYLOAD_MAX = 125;
/** The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask. */
export const WS_HEADER_BYTES_MAX = 14;

export const WsOpcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Close codes this server sends (RFC 6455 section 7.4.1). */
export const WsClose = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
} as const;

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`. */
export async function websocketAccept(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + ACCEPT_GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** Whether a `Sec-WebSocket-Key` is what RFC 6455 asks for: 16 bytes in base64. */
export function isWebSocketKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}

export type WsHeader =
  | {
    kind: "frame";
    fin: boolean;
    opcode: number;
    mask: Uint8Array | null;
    length: number;
    headerBytes: number;
  }
  | { kind: "incomplete" }
  | { kind: "invalid"; reason: string };

/**
 * Reads a frame header from the bytes received so far. Lengths past 2^53 are refused (no one sends them,
 * and a caller's cap is far lower); so are set RSV bits and malformed control frames.
 */
export function readFrameHeader(bytes: Uint8Array): WsHeader {
  if (bytes.length < 2) return { kind: "incomplete" };
  const first = bytes[0]!;
  const second = bytes[1]!;
  if ((first & 0x70) !== 0) return { kind: "invalid", reason: "reserved bits set" };
  const fin = (first & 0x80) !== 0;
  const opcode = first & 0x0f;
  const masked = (second & 0x80) !== 0;
  let length = second & 0x7f;
  let at = 2;
  if (length === 126) {
    if (bytes.length < 4) return { kind: "incomplete" };
    length = (bytes[2]! << 8) | bytes[3]!;
    at = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return { kind: "incomplete" };
    const view = new DataView(bytes.buffer, bytes.byteOffset + 2, 8);
    const high = view.getUint32(0, false);
    if (high > 0x1f_ffff) return { kind: "invalid", reason: "frame length over 2^53" };
    length = high * 2 ** 32 + view.getUint32(4, false);
    at = 10;
  }
  if ((opcode & 0x08) !== 0 && (!fin || length > WS_CONTROL_PAYLOAD_MAX)) {
    return { kind: "invalid", reason: "malformed control frame" };
  }
  if (!masked) return { kind: "frame", fin, opcode, mask: null, length, headerBytes: at };
  if (bytes.length < at + 4) return { kind: "incomplete" };
  return { kind: "frame", fin, opcode, mask: bytes.slice(at, at + 4), length, headerBytes: at + 4 };
}

/** Unmasks a client's payload in place. */
export function unmask(payload: Uint8Array, mask: Uint8Array): void {
  for (let index = 0; index < payload.length; index++) payload[index]! ^= mask[index & 3]!;
}

/** One unmasked frame, FIN set, as a server sends it. */
export function encodeServerFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const headerBytes = payload.length < 126 ? 2 : payload.length <= 0xffff ? 4 : 10;
  const frame = new Uint8Array(headerBytes + payload.length);
  frame[0] = 0x80 | opcode;
  const view = new DataView(frame.buffer);
  if (headerBytes === 2) {
    frame[1] = payload.length;
  } else if (headerBytes === 4) {
    frame[1] = 126;
    view.setUint16(2, payload.length, false);
  } else {
    frame[1] = 127;
    view.setUint32(2, Math.floor(payload.length / 2 ** 32), false);
    view.setUint32(6, payload.length >>> 0, false);
  }
  frame.set(payload, headerBytes);
  return frame;
}

/** A close frame's payload: the code, then a short UTF-8 reason. */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, WS_CONTROL_PAYLOAD_MAX - 2);
  const payload = new Uint8Array(2 + text.length);
  new DataView(payload.buffer).setUint16(0, code, false);
  payload.set(text, 2);
  return payload;
}
