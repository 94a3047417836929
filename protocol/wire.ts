/**
 * Frame types and the generic error frame. The first byte of every frame body names its type; the values
 * are part of the wire protocol (docs/PROTOCOL.md): once shipped, never renamed or reused.
 *
 * @module
 */
import { fromUtf8, utf8 } from "../lib/bytes.ts";

export const PROTOCOL_VERSION = 2;

export const FrameType = {
  hello: 0x01,
  challenge: 0x02,
  proof: 0x03,
  accept: 0x04,
  error: 0x0f,
  sealedText: 0x10,
  sealedJson: 0x11,
} as const;
export type FrameType = typeof FrameType[keyof typeof FrameType];

/**
 * The most a rejected peer learns: one of these codes in a plaintext error frame, then the close. A peer
 * that times out, or arrives when the server is full, is closed without one. `rate_limited` answers a
 * proof that was right, for an identity that holds as many sessions as it may.
 */
export type WireErrorCode =
  | "bad_frame"
  | "handshake_failed"
  | "channel_error"
  | "session_limit"
  | "rate_limited";

const WIRE_ERROR_CODES: ReadonlySet<string> = new Set<WireErrorCode>([
  "bad_frame",
  "handshake_failed",
  "channel_error",
  "session_limit",
  "rate_limited",
]);

/** Builds the body of an error frame. */
export function encodeErrorBody(code: WireErrorCode): Uint8Array {
  const text = utf8(code);
  const body = new Uint8Array(1 + text.length);
  body[0] = FrameType.error;
  body.set(text, 1);
  return body;
}

/** Reads an error frame's code, or null when the body is not a well-formed error frame. */
export function decodeErrorBody(body: Uint8Array): WireErrorCode | null {
  if (body[0] !== FrameType.error) return null;
  const text = fromUtf8(body.subarray(1));
  if (text === null || !WIRE_ERROR_CODES.has(text)) return null;
  return text as WireErrorCode;
}
