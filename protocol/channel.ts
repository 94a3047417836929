/**
 * The sealed channel a session speaks after its handshake. A sealed frame body is
 *
 * ```
 * type (1: 0x10 text, 0x11 JSON) | sequence number (8, big-endian) | AES-256-GCM ciphertext and tag (16)
 * ```
 *
 * The 96-bit GCM nonce is a 4-byte direction label followed by the sequence number, which counts frames in
 * that direction from 0, so a nonce is never reused under a key. The additional authenticated data is the
 * frame's first 13 bytes on the wire (length prefix, type, sequence number), so no header byte can change.
 * The receiver accepts only the next sequence number: a replayed, reordered or dropped frame is refused.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { timingSafeEqual } from "../lib/bytes.ts";
import type { AeadFactory } from "./aead.ts";
import type { Aead } from "./aead.ts";
import { webCryptoAead } from "./aead.ts";
import type { SessionKeys } from "./handshake.ts";
import {
  FRAME_HEADER_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  SEALED_HEADER_BYTES,
  SESSION_FRAMES_MAX,
} from "./limits.ts";
import { FrameType } from "./wire.ts";

/** The kinds of content a sealed frame carries. */
export type SealedType = typeof FrameType.sealedText | typeof FrameType.sealedJson;

/** Which end of the session this channel is. */
export type ChannelRole = "client" | "server";

/** Why a sealed frame was refused. The peer is never told which. */
export type OpenFailure = "sealed_malformed" | "sealed_out_of_sequence" | "sealed_not_authentic";

export type OpenResult =
  | { ok: true; type: SealedType; plaintext: Uint8Array }
  | { ok: false; reason: OpenFailure };

const DIRECTION_CLIENT_TO_SERVER = 1;
const DIRECTION_SERVER_TO_CLIENT = 2;
const AAD_BYTES = FRAME_HEADER_BYTES + SEALED_HEADER_BYTES;

/** Seals outgoing and opens incoming frames of one session, each direction under its own key. */
export class SealedChannel {
  readonly #sendAead: Aead;
  readonly #receiveAead: Aead;
  readonly #sendDirection: number;
  readonly #receiveDirection: number;
  #sendSequence = 0n;
  #receiveSequence = 0n;

  private constructor(parts: { send: Aead; receive: Aead; role: ChannelRole }) {
    this.#sendAead = parts.send;
    this.#receiveAead = parts.receive;
    const isClient = parts.role === "client";
    this.#sendDirection = isClient ? DIRECTION_CLIENT_TO_SERVER : DIRECTION_SERVER_TO_CLIENT;
    this.#receiveDirection = isClient ? DIRECTION_SERVER_TO_CLIENT : DIRECTION_CLIENT_TO_SERVER;
  }

  /** Builds the channel for one side of a session from the handshake's secrets. */
  static async create(
    secrets: Pick<SessionKeys, "clientToServerKey" | "serverToClientKey">,
    options: { role: ChannelRole; aead?: AeadFactory },
  ): Promise<SealedChannel> {
    const makeAead = options.aead ?? webCryptoAead;
    const isClient = options.role === "client";
    const sendKey = isClient ? secrets.clientToServerKey : secrets.serverToClientKey;
    const receiveKey = isClient ? secrets.serverToClientKey : secrets.clientToServerKey;
    assert(!timingSafeEqual(sendKey, receiveKey), "Each direction must have its own key");
    const [send, receive] = await Promise.all([makeAead(sendKey), makeAead(receiveKey)]);
    return new SealedChannel({ send, receive, role: options.role });
  }

  /** Frames sealed so far; the next frame's sequence number. */
  get sentFrames(): bigint {
    return this.#sendSequence;
  }

  /** Frames opened so far; the sequence number expected next. */
  get receivedFrames(): bigint {
    return this.#receiveSequence;
  }

  /**
   * Seals a message into a complete wire frame (length prefix included). The sequence number is taken when
   * this is called, so frames must be written in the order `seal` was called.
   */
  async seal(type: SealedType, plaintext: Uint8Array): Promise<Uint8Array> {
    const sequence = this.#sendSequence;
    assert(sequence < SESSION_FRAMES_MAX, `Session sealed ${sequence} frames: its limit`);
    this.#sendSequence = sequence + 1n;
    const bodyBytes = SEALED_HEADER_BYTES + plaintext.length + GCM_TAG_BYTES;
    const frame = new Uint8Array(FRAME_HEADER_BYTES + bodyBytes);
    const view = new DataView(frame.buffer);
    view.setUint32(0, bodyBytes, false);
    frame[FRAME_HEADER_BYTES] = type;
    view.setBigUint64(FRAME_HEADER_BYTES + 1, sequence, false);
    const sealed = await this.#sendAead.seal(
      makeNonce(this.#sendDirection, sequence),
      plaintext,
      frame.subarray(0, AAD_BYTES),
    );
    assert(sealed.length === plaintext.length + GCM_TAG_BYTES, "Sealed length must be plaintext plus tag");
    frame.set(sealed, AAD_BYTES);
    return frame;
  }

  /** Opens a sealed frame body (as read by the frame reader, without the length prefix). */
  async open(body: Uint8Array): Promise<OpenResult> {
    if (body.length < SEALED_HEADER_BYTES + GCM_TAG_BYTES) return { ok: false, reason: "sealed_malformed" };
    const type = body[0];
    if (type !== FrameType.sealedText && type !== FrameType.sealedJson) {
      return { ok: false, reason: "sealed_malformed" };
    }
    const sequence = new DataView(body.buffer, body.byteOffset + 1, 8).getBigUint64(0, false);
    if (sequence !== this.#receiveSequence) return { ok: false, reason: "sealed_out_of_sequence" };
    const aad = new Uint8Array(AAD_BYTES);
    new DataView(aad.buffer).setUint32(0, body.length, false);
    aad.set(body.subarray(0, SEALED_HEADER_BYTES), FRAME_HEADER_BYTES);
    const plaintext = await this.#receiveAead.open(
      makeNonce(this.#receiveDirection, sequence),
      body.subarray(SEALED_HEADER_BYTES),
      aad,
    );
    if (plaintext === null) return { ok: false, reason: "sealed_not_authentic" };
    assert(this.#receiveSequence === sequence, "Frames must be opened one at a time");
    this.#receiveSequence = sequence + 1n;
    return { ok: true, type, plaintext };
  }
}

/** The 96-bit GCM nonce: a 4-byte direction label, then the 8-byte sequence number. */
export function makeNonce(direction: number, sequence: bigint): Uint8Array {
  assert(
    direction === DIRECTION_CLIENT_TO_SERVER || direction === DIRECTION_SERVER_TO_CLIENT,
    "Bad direction",
  );
  assert(sequence >= 0n, `Sequence ${sequence} is out of range`);
  assert(sequence < SESSION_FRAMES_MAX, `Sequence ${sequence} is out of range`);
  const nonce = new Uint8Array(GCM_NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, direction, false);
  view.setBigUint64(4, sequence, false);
  return nonce;
}
