/**
 * Property-based fuzz targets (fast-check) for every parser a peer reaches, before and after it
 * authenticates: the frame reader, HELLO and PROOF bodies, the server's side of the handshake, sealed-frame
 * opening, structured requests, text commands, amounts, and the monitor's HTTP request reader.
 *
 * Each target feeds random inputs and mutations of valid messages, and holds the same property: no
 * exception escapes (an assertion failure is a bug like any other), and every refusal carries a code from
 * its closed set. Valid inputs must also come out right (frames reassemble at any split, a sealed frame
 * opens only unaltered, an amount round-trips).
 *
 * @module
 */
import fc from "fast-check";
import {
  applyMutation,
  check,
  ChunkedSource,
  mutated,
  MUTATION,
  ScriptedConn,
  SPLITS,
  target,
} from "./kit.ts";
import type { FuzzTarget } from "./kit.ts";
import { FAST_AEAD, nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import { concatBytes, randomBytes, utf8 } from "../lib/bytes.ts";
import { SealedChannel } from "../protocol/channel.ts";
import type { OpenFailure } from "../protocol/channel.ts";
import { describeCode } from "../protocol/codes.ts";
import type { ErrorCode } from "../protocol/codes.ts";
import { encodeFrame, FrameReader } from "../protocol/frame.ts";
import type { FrameErrorCode } from "../protocol/frame.ts";
import { decodeHello, decodeProof, encodeHello, encodeProof } from "../protocol/handshake.ts";
import { BALANCE_MINOR_MAX, FRAME_BYTES_MIN, HANDSHAKE_FRAME_BYTES_MAX } from "../protocol/limits.ts";
import { decodeRequest } from "../protocol/messages.ts";
import { formatDollars, parseAmountMinor, parseDollars } from "../protocol/money.ts";
import { serverHandshake } from "../protocol/session.ts";
import type { HandshakeFailure } from "../protocol/session.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { FrameType } from "../protocol/wire.ts";
import { readRequest } from "../server/http1.ts";
import type { MonitorRefusal } from "../server/http_listener.ts";
import { fromStructured, toStructured } from "../server/structured.ts";
import { formatTextOutcome, parseTextCommand } from "../server/text_commands.ts";
import { WebSocketPeer } from "../server/web/websocket_peer.ts";
import { unmask } from "../lib/websocket.ts";

const TRANSFER_LIMIT_MINOR = 100_000_000n;
const FRAME_ERRORS: ReadonlySet<FrameErrorCode> = new Set([
  "frame_empty",
  "frame_too_large",
  "frame_truncated",
]);
const OPEN_FAILURES: ReadonlySet<OpenFailure> = new Set([
  "sealed_malformed",
  "sealed_out_of_sequence",
  "sealed_not_authentic",
]);
const HANDSHAKE_FAILURES: ReadonlySet<HandshakeFailure> = new Set<HandshakeFailure>([
  "closed_before_hello",
  "hello_malformed",
  "ephemeral_refused",
  "unknown_key",
  "closed_before_proof",
  "proof_malformed",
  "signature_invalid",
  "finished_mismatch",
  "frame_error",
  "refused",
]);
const MONITOR_REFUSALS: ReadonlySet<MonitorRefusal> = new Set([
  "deadline",
  "header_too_large",
  "body_too_large",
  "bad_request",
]);

/** A code from the closed set of structured error codes (every one has a message). */
function isErrorCode(code: string): boolean {
  try {
    return typeof describeCode(code as ErrorCode) === "string";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Inputs: random bytes, and valid messages with random mutations.

const IDENTITY: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("client-1", "client-22", "ada", "bank", "external"),
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
);
const BYTES_16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const BYTES_32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** An ephemeral key: random bytes (some of them small-order points), or all zero. */
const EPHEMERAL: fc.Arbitrary<Uint8Array> = fc.oneof(BYTES_32, fc.constant(new Uint8Array(32)));
const VALID_HELLO: fc.Arbitrary<Uint8Array> = fc.tuple(IDENTITY, BYTES_16, BYTES_32, EPHEMERAL)
  .filter(([identity]) => /^[a-z0-9][a-z0-9._-]{0,63}$/.test(identity))
  .map(([identity, keyId, clientNonce, clientEphemeral]) =>
    encodeHello({ identity, keyId, clientNonce, clientEphemeral })
  );
const VALID_PROOF: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.uint8Array({ minLength: 64, maxLength: 64 }),
  BYTES_32,
).map(([clientSignature, clientFinished]) => encodeProof({ clientSignature, clientFinished }));

// ---------------------------------------------------------------------------------------------------------
// The targets.

const frameReader: FuzzTarget = target("frame reader", () =>
  fc.asyncProperty(
    fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 5 }),
    fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 })),
    SPLITS,
    fc.integer({ min: FRAME_BYTES_MIN, max: 4 * FRAME_BYTES_MIN }),
    async (bodies, garbage, splits, frameBytesMax) => {
      const stream = concatBytes([...bodies.map(encodeFrame), garbage ?? new Uint8Array(0)]);
      const reader = new FrameReader(new ChunkedSource(stream, splits), { frameBytesMax });
      const frames: Uint8Array[] = [];
      while (frames.length <= bodies.length + stream.length) {
        const result = await reader.next();
        if (result.kind === "frame") {
          frames.push(result.body);
          continue;
        }
        if (result.kind === "error") check(FRAME_ERRORS.has(result.code), `frame error ${result.code}`);
        else check(garbage === null, "a stream with trailing bytes does not end cleanly");
        break;
      }
      check(frames.length >= bodies.length, "every well-formed frame before the garbage is read");
      for (const [index, body] of bodies.entries()) {
        check(
          frames[index]!.length === body.length && frames[index]!.every((byte, at) => byte === body[at]),
          `frame ${index} reassembles at any split`,
        );
      }
    },
  ));

const helloAndProof: FuzzTarget = target(
  "hello and proof bodies",
  () =>
    fc.property(mutated(VALID_HELLO), mutated(VALID_PROOF), (helloBytes, proofBytes) => {
      const hello = decodeHello(helloBytes);
      if (hello !== null) {
        const again = encodeHello(hello);
        check(
          again.length === helloBytes.length && again.every((byte, at) => byte === helloBytes[at]),
          "a hello that decodes encodes back to the same bytes",
        );
      }
      const proof = decodeProof(proofBytes);
      if (proof !== null) {
        const again = encodeProof(proof);
        check(
          again.every((byte, at) => byte === proofBytes[at]),
          "a proof that decodes encodes back the same",
        );
        check(again.length === proofBytes.length, "a proof that decodes has one length");
      }
    }),
);

const serverHandshakeTarget: FuzzTarget = target("server handshake", () =>
  fc.asyncProperty(
    mutated(VALID_HELLO),
    mutated(VALID_PROOF),
    fc.boolean(),
    SPLITS,
    async (hello, proof, framed, splits) => {
      const script = framed && hello.length > 0 && proof.length > 0
        ? concatBytes([encodeFrame(hello), encodeFrame(proof)])
        : concatBytes([hello, proof]);
      const conn = new ScriptedConn(script, splits);
      const transport = new FrameTransport(conn, { frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
      const result = await serverHandshake(transport, {
        bank: await FUZZ_KEYS.bank,
        lookupKey: (name) => Promise.resolve(name === "client-1" ? FUZZ_KEYS.client : null),
        decoyPublicKey: FUZZ_KEYS.client.publicKey,
        authorize: () => null,
        crypto: nodeHandshakeCrypto,
        aead: FAST_AEAD,
      });
      check(!result.ok, "no random proof authenticates");
      if (!result.ok) check(HANDSHAKE_FAILURES.has(result.reason), `handshake failure ${result.reason}`);
    },
  ));

/** The bank's and a client's keys for the handshake target, made once. */
const FUZZ_KEYS = {
  bank: nodeHandshakeCrypto.signer(new Uint8Array(32).fill(1)),
  client: {
    publicKey: new Uint8Array([
      0x3d,
      0x40,
      0x17,
      0xc3,
      0xe8,
      0x43,
      0x89,
      0x5a,
      0x92,
      0xb7,
      0x0a,
      0xa7,
      0x4d,
      0x1b,
      0x7e,
      0xbc,
      0x9c,
      0x98,
      0x2c,
      0xcf,
      0x2e,
      0xc4,
      0x96,
      0x8c,
      0xc0,
      0xcd,
      0x55,
      0xf1,
      0x2a,
      0xf4,
      0x66,
      0x0c,
    ]),
  },
};

const sealedOpen: FuzzTarget = target("sealed frame opening", () =>
  fc.asyncProperty(
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(FrameType.sealedText, FrameType.sealedJson),
    fc.array(MUTATION, { maxLength: 3 }),
    async (plaintext, type, mutations) => {
      const secrets = { clientToServerKey: randomBytes(32), serverToClientKey: randomBytes(32) };
      const client = await SealedChannel.create(secrets, { role: "client", aead: FAST_AEAD });
      const server = await SealedChannel.create(secrets, { role: "server", aead: FAST_AEAD });
      const body = (await client.seal(type, plaintext)).subarray(4);
      const altered = mutations.reduce(applyMutation, body);
      const same = altered.length === body.length && altered.every((byte, at) => byte === body[at]);
      const opened = await server.open(altered);
      if (same) {
        check(opened.ok && opened.type === type, "an unaltered frame opens");
        if (opened.ok) {
          check(
            opened.plaintext.every((byte, at) => byte === plaintext[at]),
            "to its plaintext",
          );
        }
      } else {
        check(!opened.ok, "an altered frame never opens");
        if (!opened.ok) check(OPEN_FAILURES.has(opened.reason), `open failure ${opened.reason}`);
      }
    },
  ));

const VALID_REQUEST: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ v: fc.constant(1), id: fc.string({ minLength: 1, maxLength: 8 }), op: fc.constant("balance") }),
  fc.record({
    v: fc.constant(1),
    id: fc.constant("t1"),
    op: fc.constant("transfer"),
    to: fc.constantFrom("XYZ", "ACC-0002", "../etc", ""),
    amount_minor: fc.oneof(fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String), fc.string()),
    idempotency_key: fc.string({ maxLength: 70 }),
  }, { requiredKeys: ["v", "id", "op"] }),
  fc.record({
    v: fc.constant(1),
    id: fc.constant("h1"),
    op: fc.constant("history"),
    limit: fc.oneof(fc.integer({ min: -5, max: 500 }), fc.double(), fc.string()),
    before: fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 64n }).map(String), fc.integer()),
    account: fc.string({ maxLength: 40 }),
  }, { requiredKeys: ["v", "id", "op"] }),
  fc.record({
    v: fc.constant(1),
    id: fc.constant("c1"),
    op: fc.constant("update_contact"),
    email: fc.string({ maxLength: 300 }),
    phone: fc.oneof(fc.string(), fc.integer()),
  }, { requiredKeys: ["v", "id", "op"] }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 })),
);

const structuredRequest: FuzzTarget = target("structured request decoding", () =>
  fc.property(
    mutated(VALID_REQUEST.map((request) => utf8(JSON.stringify(request))), 2048),
    (bytes) => {
      const decoded = decodeRequest(bytes);
      if (!decoded.ok) {
        check(isErrorCode(decoded.code), `decode code ${decoded.code}`);
        const failure = { operation: null, ok: false as const, code: decoded.code, message: decoded.message };
        JSON.stringify(toStructured(decoded.id, failure));
        return;
      }
      const request = fromStructured(decoded.request, { transferLimitMinor: TRANSFER_LIMIT_MINOR });
      if ("ok" in request) check(isErrorCode(request.code), `value code ${request.code}`);
      else if (request.operation === "transfer") {
        check(request.amountMinor > 0n && request.amountMinor <= TRANSFER_LIMIT_MINOR, "amount in range");
      }
    },
  ));

const VALID_COMMAND: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("Check Balance", "Update Contact Information", "Transfer $100 to Account XYZ"),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 12 })).map(([amount, account]) =>
    `Transfer ${amount} to Account ${account}`
  ),
  fc.dictionary(fc.constantFrom("email", "phone", "address", "name"), fc.string({ maxLength: 40 }))
    .map((fields) =>
      `Update Contact Information: ${
        Object.entries(fields).map(([key, value]) => `${key}=${value}`).join("; ")
      }`
    ),
);

const textCommand: FuzzTarget = target("text command parsing", () =>
  fc.property(
    fc.oneof(
      fc.tuple(VALID_COMMAND, fc.array(MUTATION, { maxLength: 3 })).map(([text, mutations]) =>
        new TextDecoder().decode(mutations.reduce(applyMutation, utf8(text)))
      ),
      fc.string({ unit: "binary", maxLength: 200 }),
    ),
    (text) => {
      const request = parseTextCommand(text, { transferLimitMinor: TRANSFER_LIMIT_MINOR });
      if ("ok" in request) {
        check(isErrorCode(request.code), `text code ${request.code}`);
        check(formatTextOutcome(request).length > 0, "every refusal has an answer");
      } else if (request.operation === "transfer") {
        check(request.amountMinor > 0n && request.amountMinor <= TRANSFER_LIMIT_MINOR, "amount in range");
      }
    },
  ));

const amounts: FuzzTarget = target("amount parsing", () =>
  fc.property(
    fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.bigInt({ min: 0n, max: BALANCE_MINOR_MAX }).map((value) => formatDollars(value)),
      fc.stringMatching(/^\$?[0-9,]{0,25}(\.[0-9]{0,3})?$/),
    ),
    fc.bigInt({ min: 1n, max: 10n ** 17n }),
    (text, limitMinor) => {
      for (const parsed of [parseDollars(text, limitMinor), parseAmountMinor(text, limitMinor)]) {
        if (!parsed.ok) {
          check(isErrorCode(parsed.code), `amount code ${parsed.code}`);
          continue;
        }
        check(parsed.amountMinor > 0n && parsed.amountMinor <= limitMinor, "amount within (0, limit]");
      }
      const dollars = parseDollars(text, limitMinor);
      if (dollars.ok) {
        const again = parseDollars(formatDollars(dollars.amountMinor), limitMinor);
        check(again.ok && again.amountMinor === dollars.amountMinor, "formatting round-trips");
      }
    },
  ));

const VALID_HTTP: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom("GET", "HEAD", "POST", "DELETE"),
  fc.constantFrom("/status", "/metrics", "/", "//x", "/api/series?x=1"),
  fc.dictionary(
    fc.constantFrom("host", "content-length", "transfer-encoding", "x-a", "Host"),
    fc.string({ maxLength: 30 }),
  ),
  fc.uint8Array({ maxLength: 40 }),
).map(([method, path, headers, body]) =>
  concatBytes([
    utf8(`${method} ${path} HTTP/1.1\r\n${
      Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")
    }\r\n`),
    body,
  ])
);

const monitorRequest: FuzzTarget = target(
  "monitor request reading",
  () =>
    fc.asyncProperty(mutated(VALID_HTTP, 1024), SPLITS, async (bytes, splits) => {
      const conn = new ScriptedConn(bytes, splits);
      const read = await readRequest(conn, {
        headerBytesMax: 256,
        bodyBytesMax: 16,
        origin: "http://monitor",
      });
      if (read.ok) {
        check(read.request.url.startsWith("http://monitor/"), "the target stays a path on the monitor");
        return;
      }
      check([400, 413, 431, 501].includes(read.status), `status ${read.status}`);
      check(MONITOR_REFUSALS.has(read.refusal), `refusal ${read.refusal}`);
    }),
);

/** A client's masked binary message carrying one protocol frame. */
function maskedMessage(body: Uint8Array, mask: Uint8Array): Uint8Array {
  const payload = encodeFrame(body);
  const length = payload.length;
  const header = length < 126
    ? Uint8Array.of(0x82, 0x80 | length)
    : Uint8Array.of(0x82, 0xfe, length >> 8, length & 0xff);
  unmask(payload, mask);
  return concatBytes([header, mask, payload]);
}

const websocketMessages: FuzzTarget = target("websocket messages", () =>
  fc.asyncProperty(
    mutated(
      fc.tuple(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 4 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
      )
        .map(([bodies, mask]) => concatBytes(bodies.map((body) => maskedMessage(body, mask)))),
      2048,
    ),
    SPLITS,
    async (bytes, splits) => {
      const conn = Object.assign(new ScriptedConn(bytes, splits), {
        remote: { hostname: "127.0.0.1", port: 1 },
        handshake: () => Promise.resolve(),
        closeWrite: () => Promise.resolve(),
      });
      const peer = new WebSocketPeer(conn, { messageBytesMax: 4 + FRAME_BYTES_MIN, onViolation: () => {} });
      const read: Uint8Array[] = [];
      for (let reads = 0; reads <= bytes.length; reads++) {
        const chunk = new Uint8Array(97);
        const count = await peer.read(chunk);
        if (count === null) break;
        read.push(chunk.slice(0, count));
      }
      // What reaches the session is whole frames only, each within the limit.
      const stream = concatBytes(read);
      for (let at = 0; at < stream.length;) {
        check(stream.length - at >= 4, "a frame prefix is whole");
        const length = new DataView(stream.buffer, at, 4).getUint32(0, false);
        check(
          length <= FRAME_BYTES_MIN && at + 4 + length <= stream.length,
          "a frame is whole and within the limit",
        );
        at += 4 + length;
      }
    },
  ));

/** Every target, in the order `deno task fuzz` runs them. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  frameReader,
  helloAndProof,
  serverHandshakeTarget,
  sealedOpen,
  structuredRequest,
  textCommand,
  amounts,
  monitorRequest,
  websocketMessages,
];

/** The outcome of running one target. */
export interface FuzzOutcome {
  name: string;
  runs: number;
  seconds: number;
  failed: boolean;
  interrupted: boolean;
  /** fast-check's report of the smallest failing case, with the seed and path to replay it. */
  report?: string;
}

/** Runs one target for `runs` cases from `seed`, stopping early after `timeLimitMs`. */
export async function runTarget(
  target: FuzzTarget,
  options: { runs: number; seed: number; timeLimitMs: number },
): Promise<FuzzOutcome> {
  const startedMs = performance.now();
  const details = await target.check({
    numRuns: options.runs,
    seed: options.seed,
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
  });
  const outcome: FuzzOutcome = {
    name: target.name,
    runs: details.numRuns,
    seconds: (performance.now() - startedMs) / 1000,
    failed: details.failed,
    interrupted: details.interrupted,
  };
  if (details.failed) {
    outcome.report = `seed ${details.seed}, path "${details.counterexamplePath}": ${
      fc.stringify(details.counterexample)
    }\n${
      details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)
    }`;
  }
  return outcome;
}
