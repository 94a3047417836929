// lib/assert.ts
var AssertionFailure = class extends Error {
  name = "AssertionFailure";
};
function assert(condition, message) {
  if (!condition) throw new AssertionFailure(message);
}
function isAssertionFailure(error) {
  return error instanceof AssertionFailure;
}

// lib/bytes.ts
var encoder = new TextEncoder();
var decoder = new TextDecoder("utf-8", {
  fatal: true
});
function utf8(text) {
  return encoder.encode(text);
}
function fromUtf8(bytes) {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}
function concatBytes(parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  assert(offset === total, "Joined bytes must fill the buffer exactly");
  return joined;
}
function timingSafeEqual(left, right) {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left[index] ^ right[index];
  return difference === 0;
}
function randomBytes(count) {
  assert(Number.isInteger(count), `Cannot make ${count} random bytes`);
  assert(count > 0, `Cannot make ${count} random bytes`);
  assert(count <= 65536, `Cannot make ${count} random bytes`);
  return crypto.getRandomValues(new Uint8Array(count));
}
function toBase64Url(bytes) {
  return bytes.toBase64({
    alphabet: "base64url",
    omitPadding: true
  });
}
function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bytes = Uint8Array.fromBase64(text, {
      alphabet: "base64url",
      lastChunkHandling: "loose"
    });
    return toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}
function toHex(bytes) {
  if (typeof bytes.toHex === "function") return bytes.toHex();
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
function fromHex(text) {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(text.slice(2 * index, 2 * index + 2), 16);
  }
  return bytes;
}

// protocol/limits.ts
var HOST_DEFAULT = "127.0.0.1";
var PORT_DEFAULT = 8443;
var FRAME_HEADER_BYTES = 4;
var FRAME_BYTES_DEFAULT = 64 * 1024;
var FRAME_BYTES_MIN = 1024;
var FRAME_BYTES_MAX = 1024 * 1024;
var IDENTITY_NAME_BYTES_MAX = 64;
var HANDSHAKE_NONCE_BYTES = 32;
var KEY_BYTES = 32;
var ED25519_SIGNATURE_BYTES = 64;
var KEY_ID_BYTES = 16;
var MAC_BYTES = 32;
var AES_KEY_BYTES = 32;
var GCM_NONCE_BYTES = 12;
var GCM_TAG_BYTES = 16;
var SEALED_HEADER_BYTES = 9;
var SESSION_FRAMES_MAX = 2n ** 48n;
var SESSION_REQUESTS_MAX = 1e6;
var ADDRESS_PENDING_DEFAULT = 64;
var TEXT_COMMAND_BYTES_MAX = 4 * 1024;
var CONTACT_FIELD_BYTES_MAX = 256;
var CONTACT_BYTES_MAX = 2 * 1024;
var ACCOUNT_ID_BYTES_MAX = 32;
var HISTORY_PAGE_MAX = 100;
var HISTORY_PAGE_DEFAULT = 20;
var TRANSFER_MINOR_MAX = 1000000000n;
var BALANCE_MINOR_MAX = 10n ** 17n;
var AMOUNT_DIGITS_MAX = 18;
var HOLD_EXPIRY_S_DEFAULT = 7 * 24 * 60 * 60;
var HOLD_EXPIRY_S_MAX = 30 * 24 * 60 * 60;
var LEDGER_ID_BYTES_MAX = 64;
var RECEIPT_FILE_BYTES_MAX = 4 * 1024;
var CREDENTIAL_FILE_BYTES_MAX = 4 * 1024;
assert(PORT_DEFAULT > 0, "The default port is a port");
assert(PORT_DEFAULT < 65536, "The default port is a port");
assert(FRAME_BYTES_MIN <= FRAME_BYTES_DEFAULT, "Default frame size must be at least the minimum");
assert(FRAME_BYTES_DEFAULT <= FRAME_BYTES_MAX, "Default frame size must be at most the maximum");
assert(FRAME_BYTES_MAX < 2 ** 32, "Frame size must fit the 4-byte length");
assert(1 + 1 + 1 + IDENTITY_NAME_BYTES_MAX + HANDSHAKE_NONCE_BYTES < FRAME_BYTES_MIN, "A hello frame must fit the smallest frame");
assert(SEALED_HEADER_BYTES + TEXT_COMMAND_BYTES_MAX + GCM_TAG_BYTES < FRAME_BYTES_DEFAULT, "A text command must fit one default frame");
assert(CONTACT_BYTES_MAX + 1024 < FRAME_BYTES_DEFAULT, "Contact details must fit in one frame");
assert(3 * CONTACT_FIELD_BYTES_MAX < CONTACT_BYTES_MAX, "Three contact fields must fit the contact limit");
assert(TRANSFER_MINOR_MAX < BALANCE_MINOR_MAX, "One transfer must be smaller than the largest balance");
assert(BALANCE_MINOR_MAX < 2n ** 63n, "Balances must fit a signed 64-bit column");
assert(BALANCE_MINOR_MAX < 10n ** BigInt(AMOUNT_DIGITS_MAX), "Balances must print within the digit limit");
assert(HOLD_EXPIRY_S_DEFAULT <= HOLD_EXPIRY_S_MAX, "The default hold expiry must be allowed");
assert(HISTORY_PAGE_DEFAULT <= HISTORY_PAGE_MAX, "Default history page must fit the maximum");
assert(HISTORY_PAGE_MAX * 200 < FRAME_BYTES_DEFAULT, "A history page must fit one frame");
assert(BigInt(SESSION_REQUESTS_MAX) < SESSION_FRAMES_MAX, "Session requests must fit the frame counter");

// protocol/handshake_crypto.ts
var PKCS8_PREFIX_ED25519 = new Uint8Array([
  48,
  46,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  112,
  4,
  34,
  4,
  32
]);
var PKCS8_PREFIX_X25519 = new Uint8Array([
  48,
  46,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  110,
  4,
  34,
  4,
  32
]);
var SPKI_PREFIX_ED25519 = new Uint8Array([
  48,
  42,
  48,
  5,
  6,
  3,
  43,
  101,
  112,
  3,
  33,
  0
]);
function isAllZero(bytes) {
  let bits = 0;
  for (const byte of bytes) bits |= byte;
  return bits === 0;
}
function checkKey(bytes, what) {
  assert(bytes.length === KEY_BYTES, `${what} must be ${KEY_BYTES} bytes, got ${bytes.length}`);
}
var subtle = globalThis.crypto.subtle;
var webHandshakeCrypto = {
  async sha256(data) {
    return new Uint8Array(await subtle.digest("SHA-256", new Uint8Array(data)));
  },
  async hmacSha256(key, data) {
    const hmacKey = await subtle.importKey("raw", new Uint8Array(key), {
      name: "HMAC",
      hash: "SHA-256"
    }, false, [
      "sign"
    ]);
    return new Uint8Array(await subtle.sign("HMAC", hmacKey, new Uint8Array(data)));
  },
  async hkdfSha256(keyMaterial, options) {
    const key = await subtle.importKey("raw", new Uint8Array(keyMaterial), "HKDF", false, [
      "deriveBits"
    ]);
    const params = {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(options.salt),
      info: utf8(options.info)
    };
    return new Uint8Array(await subtle.deriveBits(params, key, KEY_BYTES * 8));
  },
  async ephemeral(privateKey) {
    let pair;
    if (privateKey === void 0) {
      pair = await subtle.generateKey({
        name: "X25519"
      }, false, [
        "deriveBits"
      ]);
    } else {
      checkKey(privateKey, "An X25519 private key");
      const imported = await subtle.importKey("pkcs8", concatBytes([
        PKCS8_PREFIX_X25519,
        privateKey
      ]), {
        name: "X25519"
      }, true, [
        "deriveBits"
      ]);
      const jwk = await subtle.exportKey("jwk", imported);
      const x = fromBase64Url(jwk.x ?? "");
      assert(x !== null, "An exported X25519 key has its public half");
      const publicKey2 = await subtle.importKey("raw", new Uint8Array(x), {
        name: "X25519"
      }, true, []);
      pair = {
        privateKey: imported,
        publicKey: publicKey2
      };
    }
    const publicKey = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
    checkKey(publicKey, "An X25519 public key");
    return {
      publicKey,
      async agree(peerPublicKey) {
        if (peerPublicKey.length !== KEY_BYTES) return null;
        try {
          const peer = await subtle.importKey("raw", new Uint8Array(peerPublicKey), {
            name: "X25519"
          }, false, []);
          const bits = await subtle.deriveBits({
            name: "X25519",
            public: peer
          }, pair.privateKey, KEY_BYTES * 8);
          const shared = new Uint8Array(bits);
          return isAllZero(shared) ? null : shared;
        } catch {
          return null;
        }
      }
    };
  },
  async signer(seed) {
    checkKey(seed, "An Ed25519 seed");
    const pkcs8 = concatBytes([
      PKCS8_PREFIX_ED25519,
      seed
    ]);
    const exportable = await subtle.importKey("pkcs8", pkcs8, {
      name: "Ed25519"
    }, true, [
      "sign"
    ]);
    const publicKey = fromBase64Url((await subtle.exportKey("jwk", exportable)).x ?? "");
    assert(publicKey !== null, "An exported Ed25519 key has its public half");
    checkKey(publicKey, "An Ed25519 public key");
    const key = await subtle.importKey("pkcs8", pkcs8, {
      name: "Ed25519"
    }, false, [
      "sign"
    ]);
    return {
      publicKey,
      async sign(message) {
        const signature = new Uint8Array(await subtle.sign({
          name: "Ed25519"
        }, key, new Uint8Array(message)));
        assert(signature.length === ED25519_SIGNATURE_BYTES, "An Ed25519 signature is 64 bytes");
        return signature;
      }
    };
  },
  async verify(publicKey, message, signature) {
    if (publicKey.length !== KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    try {
      const key = await subtle.importKey("raw", new Uint8Array(publicKey), {
        name: "Ed25519"
      }, false, [
        "verify"
      ]);
      return await subtle.verify({
        name: "Ed25519"
      }, key, new Uint8Array(signature), new Uint8Array(message));
    } catch {
      return false;
    }
  }
};
function encodeKey(key) {
  checkKey(key, "A key");
  return toBase64Url(key);
}

// lib/histogram.ts
var GROWTH = 1.01;
var HISTOGRAM_VALUE_MS_MAX = 24 * 36e5;
var VALUE_US_MAX = HISTOGRAM_VALUE_MS_MAX * 1e3;
var BUCKETS = Math.ceil(Math.log(VALUE_US_MAX) / Math.log(GROWTH)) + 2;
var LOG_GROWTH_INVERSE = 1 / Math.log(GROWTH);

// client/limits.ts
var CLIENT_RESPONSE_TIMEOUT_MS = 3e4;
var CLIENT_CONNECTS_IN_FLIGHT_MAX = 32;
var CA_FILE_BYTES_MAX = 64 * 1024;
var BENCH_DURATION_MS_MIN = 100;
var BENCH_DURATION_MS_MAX = 60 * 6e4;
var BENCH_WARMUP_MS_DEFAULT = 1e3;
var BENCH_WARMUP_MS_MAX = 10 * 6e4;
var BENCH_PIPELINE_MAX = 64;
var BENCH_WATCHDOG_INTERVAL_MS = 1e3;
assert(CLIENT_CONNECTS_IN_FLIGHT_MAX * 2 <= ADDRESS_PENDING_DEFAULT, "A client opens well below a server's pending budget");
assert(BENCH_DURATION_MS_MIN < BENCH_DURATION_MS_MAX, "The shortest bench must be shorter than the longest");
assert(BENCH_WARMUP_MS_DEFAULT <= BENCH_WARMUP_MS_MAX, "The default warmup must be within its ceiling");
assert(BENCH_DURATION_MS_MAX + BENCH_WARMUP_MS_MAX < HISTOGRAM_VALUE_MS_MAX, "The histogram must hold the longest wait");
assert(BENCH_PIPELINE_MAX < SESSION_REQUESTS_MAX, "A session must hold a full pipeline");
assert(BENCH_WATCHDOG_INTERVAL_MS < CLIENT_RESPONSE_TIMEOUT_MS, "Overdue answers must be noticed in time");
var SDK_TRANSFER_ATTEMPTS_MAX = 3;
var SDK_RETRY_DELAY_MS = 200;
assert(SDK_TRANSFER_ATTEMPTS_MAX * SDK_TRANSFER_ATTEMPTS_MAX * SDK_RETRY_DELAY_MS < CLIENT_RESPONSE_TIMEOUT_MS, "Retries of a transfer take less than one answer's wait");

// protocol/credential.ts
var IDENTITY_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${IDENTITY_NAME_BYTES_MAX - 1}}$`);
function isIdentityName(name) {
  return IDENTITY_PATTERN.test(name);
}
async function keyIdOf(crypto2, publicKey) {
  return (await crypto2.sha256(publicKey)).slice(0, KEY_ID_BYTES);
}
async function clientKeyOf(crypto2, credential) {
  const signer = await crypto2.signer(credential.privateKey);
  const keyId = await keyIdOf(crypto2, signer.publicKey);
  return {
    identity: credential.identity,
    keyId,
    signer,
    bankPublicKey: credential.bankPublicKey
  };
}
function isKeyId(text) {
  return /^[0-9a-f]{32}$/.test(text);
}
function formatKeyId(keyId) {
  assert(keyId.length === KEY_ID_BYTES, `A key id must be ${KEY_ID_BYTES} bytes, got ${keyId.length}`);
  return toHex(keyId);
}
function encodePublicKeyFile(publicKey, comment) {
  assert(/^[\x20-\x7e]{0,128}$/.test(comment), "A key comment is at most 128 printable characters");
  return `ed25519 ${encodeKey(publicKey)}${comment === "" ? "" : ` ${comment}`}
`;
}

// protocol/time.ts
var EARLIEST_MS = Date.UTC(1970, 0, 1);

// protocol/codes.ts
var CODE_MESSAGES = {
  malformed_request: "the request could not be read",
  unsupported_version: "unsupported message version",
  unknown_operation: "unknown operation",
  invalid_field: "a field is missing or invalid",
  amount_malformed: "the amount is not a valid amount",
  amount_must_be_positive: "the amount must be positive",
  amount_over_limit: "the amount is over the transfer limit",
  key_reused_with_other_fields: "this idempotency key was already used for a different transfer",
  accounts_must_differ: "source and target accounts must differ",
  account_not_found: "account not found",
  account_frozen: "account is frozen",
  insufficient_funds: "insufficient funds",
  hold_not_found: "hold not found",
  hold_already_captured: "the hold was already captured",
  hold_already_voided: "the hold was voided",
  hold_expired: "the hold has expired",
  capture_exceeds_hold: "the capture is larger than the hold",
  transfer_not_found: "transfer not found",
  not_reversible: "only a transfer or a capture can be reversed",
  already_reversed: "the transfer was already reversed in full",
  reversal_exceeds_transfer: "the reversal is larger than what is left of the transfer",
  contact_invalid: "the contact details are not valid",
  key_invalid: "the key or a signature is not valid",
  key_exists: "this key is already registered",
  key_limit: "the identity holds as many keys as it may",
  not_allowed: "this session may not do that",
  unavailable: "the bank could not complete the request; try again (a transfer with the same idempotency key)",
  rate_limited: "rate limited, retry later"
};
function isErrorCode(code) {
  return Object.hasOwn(CODE_MESSAGES, code);
}

// protocol/wire.ts
var PROTOCOL_VERSION = 2;
var FrameType = {
  hello: 1,
  challenge: 2,
  proof: 3,
  accept: 4,
  error: 15,
  sealedText: 16,
  sealedJson: 17
};
var WIRE_ERROR_CODES = /* @__PURE__ */ new Set([
  "bad_frame",
  "handshake_failed",
  "channel_error",
  "session_limit",
  "rate_limited"
]);
function encodeErrorBody(code) {
  const text = utf8(code);
  const body = new Uint8Array(1 + text.length);
  body[0] = FrameType.error;
  body.set(text, 1);
  return body;
}
function decodeErrorBody(body) {
  if (body[0] !== FrameType.error) return null;
  const text = fromUtf8(body.subarray(1));
  if (text === null || !WIRE_ERROR_CODES.has(text)) return null;
  return text;
}

// protocol/handshake.ts
var KEY_LABELS = {
  clientToServerKey: "bank/2 client to server key",
  serverToClientKey: "bank/2 server to client key",
  serverFinishedKey: "bank/2 server finished",
  clientFinishedKey: "bank/2 client finished",
  acceptKey: "bank/2 accept"
};
var SIGNATURE_PAD = new Uint8Array(64).fill(32);
var CHALLENGE_SIGNED_BYTES = 1 + HANDSHAKE_NONCE_BYTES + KEY_BYTES;
var CHALLENGE_BYTES = CHALLENGE_SIGNED_BYTES + ED25519_SIGNATURE_BYTES + MAC_BYTES;
var PROOF_SIGNED_BYTES = 1 + ED25519_SIGNATURE_BYTES;
var PROOF_BYTES = PROOF_SIGNED_BYTES + MAC_BYTES;
var ACCEPT_BYTES = 1 + MAC_BYTES;
function encodeHello(hello) {
  assert(isIdentityName(hello.identity), `Identity name "${hello.identity}" is not valid`);
  assert(hello.keyId.length === KEY_ID_BYTES, `A key id must be ${KEY_ID_BYTES} bytes`);
  assert(hello.clientNonce.length === HANDSHAKE_NONCE_BYTES, `A nonce must be ${HANDSHAKE_NONCE_BYTES} bytes`);
  assert(hello.clientEphemeral.length === KEY_BYTES, `An ephemeral key must be ${KEY_BYTES} bytes`);
  const name = utf8(hello.identity);
  return concatBytes([
    new Uint8Array([
      FrameType.hello,
      PROTOCOL_VERSION,
      name.length
    ]),
    name,
    hello.keyId,
    hello.clientNonce,
    hello.clientEphemeral
  ]);
}
function decodeChallenge(body) {
  if (body.length !== CHALLENGE_BYTES || body[0] !== FrameType.challenge) return null;
  let at = 1;
  const take = (bytes) => body.slice(at, at += bytes);
  return {
    serverNonce: take(HANDSHAKE_NONCE_BYTES),
    serverEphemeral: take(KEY_BYTES),
    serverSignature: take(ED25519_SIGNATURE_BYTES),
    serverFinished: take(MAC_BYTES)
  };
}
function encodeProof(proof) {
  assert(proof.clientSignature.length === ED25519_SIGNATURE_BYTES, "A signature must be 64 bytes");
  assert(proof.clientFinished.length === MAC_BYTES, `A MAC must be ${MAC_BYTES} bytes`);
  return concatBytes([
    new Uint8Array([
      FrameType.proof
    ]),
    proof.clientSignature,
    proof.clientFinished
  ]);
}
function decodeAccept(body) {
  if (body.length !== ACCEPT_BYTES || body[0] !== FrameType.accept) return null;
  return body.slice(1);
}
function transcriptHash(crypto2, parts) {
  return crypto2.sha256(concatBytes(parts));
}
async function deriveSessionKeys(crypto2, material) {
  assert(material.shared.length === KEY_BYTES, `A shared secret must be ${KEY_BYTES} bytes`);
  const names = Object.keys(KEY_LABELS);
  const keys = await Promise.all(names.map((name) => crypto2.hkdfSha256(material.shared, {
    salt: material.helloHash,
    info: KEY_LABELS[name]
  })));
  return Object.fromEntries(names.map((name, index) => [
    name,
    keys[index]
  ]));
}
function signedContent(context, parts) {
  return concatBytes([
    SIGNATURE_PAD,
    utf8(context),
    new Uint8Array([
      0
    ]),
    ...parts
  ]);
}

// protocol/key_messages.ts
var KEY_FIELDS = {
  enrol: [
    "public_key",
    "signature"
  ],
  rotate_key: [
    "public_key",
    "new_key_signature",
    "old_key_signature"
  ]
};
function keyChangeSignedContent(context, binding) {
  return signedContent(context, [
    binding.transcript,
    binding.publicKey
  ]);
}
function encodeKeyRequest(request) {
  if (request.op === "enrol") {
    return {
      public_key: toBase64Url(request.publicKey),
      signature: toBase64Url(request.signature)
    };
  }
  return {
    public_key: toBase64Url(request.publicKey),
    new_key_signature: toBase64Url(request.newKeySignature),
    old_key_signature: toBase64Url(request.oldKeySignature)
  };
}
function readKeyResult(op, result) {
  const keyId = result.key_id;
  if (typeof keyId !== "string" || !isKeyId(keyId)) return null;
  if (op === "enrol") return {
    op,
    keyId
  };
  const revoked = result.revoked_key_id;
  if (typeof revoked !== "string" || !isKeyId(revoked)) return null;
  return {
    op,
    keyId,
    revokedKeyId: revoked
  };
}

// protocol/receipt.ts
var RECEIPT_FORMAT = "bank receipt v1";
var KINDS = /* @__PURE__ */ new Set([
  "transfer",
  "capture",
  "reversal",
  "refund"
]);
var DIGITS = /^(0|[1-9][0-9]{0,18})$/;
var TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
function isText(value, bytesMax) {
  return typeof value === "string" && value.length >= 1 && value.length <= bytesMax && /^[\x21-\x7e]+$/.test(value);
}
function readReceipt(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const fields = value;
  const { format, entry, hash, kind, transfer_id: transferId, from, to, created_at: createdAt } = fields;
  const amount = fields.amount_minor;
  if (format !== RECEIPT_FORMAT || typeof entry !== "string" || !DIGITS.test(entry)) return null;
  if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash) || fromHex(hash) === null) return null;
  if (typeof kind !== "string" || !KINDS.has(kind) || !isText(transferId, LEDGER_ID_BYTES_MAX)) return null;
  if (!isText(from, ACCOUNT_ID_BYTES_MAX) || !isText(to, ACCOUNT_ID_BYTES_MAX)) return null;
  if (typeof amount !== "string" || !DIGITS.test(amount)) return null;
  if (typeof createdAt !== "string" || !TIME.test(createdAt)) return null;
  const bankKey = typeof fields.bank_key === "string" ? fromBase64Url(fields.bank_key) : null;
  const signature = typeof fields.signature === "string" ? fromBase64Url(fields.signature) : null;
  if (bankKey === null || bankKey.length !== KEY_BYTES) return null;
  if (signature === null || signature.length !== ED25519_SIGNATURE_BYTES) return null;
  return {
    entry: BigInt(entry),
    hash,
    kind,
    transferId,
    sourceAccountId: from,
    targetAccountId: to,
    amountMinor: BigInt(amount),
    createdAt,
    bankKey,
    signature
  };
}

// protocol/ledger_messages.ts
var LEDGER_FIELDS = {
  hold: [
    "from",
    "to",
    "amount_minor",
    "idempotency_key",
    "expires_in_s"
  ],
  capture: [
    "hold_id",
    "amount_minor"
  ],
  void: [
    "hold_id"
  ],
  refund: [
    "transfer_id",
    "amount_minor",
    "idempotency_key"
  ]
};
var TOKEN = /^[\x21-\x7e]+$/;
var DIGITS2 = /^(0|[1-9][0-9]{0,18})$/;
function isToken(value, lengthMax) {
  return typeof value === "string" && value.length <= lengthMax && TOKEN.test(value);
}
function encodeLedgerRequest(request) {
  const amount = (text) => text === void 0 ? {} : {
    amount_minor: text
  };
  switch (request.op) {
    case "hold":
      return {
        ...request.sourceAccountId === void 0 ? {} : {
          from: request.sourceAccountId
        },
        to: request.targetAccountId,
        amount_minor: request.amountMinorText,
        idempotency_key: request.idempotencyKey,
        expires_in_s: request.expiresInS
      };
    case "capture":
      return {
        hold_id: request.holdId,
        ...amount(request.amountMinorText)
      };
    case "void":
      return {
        hold_id: request.holdId
      };
    case "refund":
      return {
        transfer_id: request.transferId,
        ...amount(request.amountMinorText),
        idempotency_key: request.idempotencyKey
      };
  }
}
var HOLD_STATUSES = /* @__PURE__ */ new Set([
  "pending",
  "captured",
  "voided",
  "expired"
]);
function readHold(value) {
  const { status, hold_id: holdId, from, to, amount_minor: amount, hold_status: holdStatus } = value;
  const { expires_at: expiresAt, created_at: createdAt } = value;
  if (status !== "created" && status !== "exists") return null;
  if (!isToken(holdId, LEDGER_ID_BYTES_MAX) || typeof from !== "string" || typeof to !== "string") {
    return null;
  }
  if (typeof amount !== "string" || !DIGITS2.test(amount) || !HOLD_STATUSES.has(holdStatus)) return null;
  if (typeof expiresAt !== "string" || typeof createdAt !== "string") return null;
  return {
    status,
    holdId,
    sourceAccountId: from,
    targetAccountId: to,
    amountMinor: BigInt(amount),
    holdStatus,
    expiresAt,
    createdAt
  };
}
function readLedgerResult(op, value) {
  if (op === "refund") {
    const { status, transfer_id: transferId, original_transfer_id: originalId, from, to } = value;
    const { amount_minor: amount, reversed_minor: reversed, created_at: createdAt } = value;
    const receipt2 = readReceipt(value.receipt);
    if (status !== "created" && status !== "exists" || receipt2 === null) return null;
    if (!isToken(transferId, LEDGER_ID_BYTES_MAX) || !isToken(originalId, LEDGER_ID_BYTES_MAX)) return null;
    if (typeof from !== "string" || typeof to !== "string" || typeof createdAt !== "string") return null;
    if (typeof amount !== "string" || !DIGITS2.test(amount)) return null;
    if (typeof reversed !== "string" || !DIGITS2.test(reversed)) return null;
    return {
      op,
      status,
      transferId,
      originalTransferId: originalId,
      sourceAccountId: from,
      targetAccountId: to,
      amountMinor: BigInt(amount),
      reversedMinor: BigInt(reversed),
      createdAt,
      receipt: receipt2
    };
  }
  const hold = readHold(value);
  if (hold === null) return null;
  if (op !== "capture") return {
    op,
    ...hold
  };
  const { capture_transfer_id: captureId, captured_minor: captured } = value;
  const receipt = readReceipt(value.receipt);
  if (!isToken(captureId, LEDGER_ID_BYTES_MAX) || receipt === null) return null;
  if (typeof captured !== "string" || !DIGITS2.test(captured)) return null;
  return {
    op,
    ...hold,
    captureTransferId: captureId,
    capturedMinor: BigInt(captured),
    receipt
  };
}

// protocol/messages.ts
var MESSAGE_VERSION = 1;
var ACCOUNT_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${ACCOUNT_ID_BYTES_MAX}}$`);
var FIELDS_BY_OPERATION = {
  balance: [],
  transfer: [
    "from",
    "to",
    "amount_minor",
    "idempotency_key"
  ],
  history: [
    "account",
    "limit",
    "before",
    "as_of"
  ],
  update_contact: [
    "email",
    "phone",
    "address"
  ],
  ...LEDGER_FIELDS,
  ...KEY_FIELDS
};
var CURSOR_PATTERN = /^(0|[1-9][0-9]{0,18})$/;
var CURSOR_MAX = 2n ** 63n - 1n;
function isAccountId(text) {
  return ACCOUNT_ID_PATTERN.test(text);
}
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function encodeRequest(request) {
  const base = {
    v: MESSAGE_VERSION,
    id: request.id,
    op: request.op
  };
  switch (request.op) {
    case "balance":
      return utf8(JSON.stringify(base));
    case "transfer":
      return utf8(JSON.stringify({
        ...base,
        ...request.sourceAccountId === void 0 ? {} : {
          from: request.sourceAccountId
        },
        to: request.targetAccountId,
        amount_minor: request.amountMinorText,
        idempotency_key: request.idempotencyKey
      }));
    case "history":
      return utf8(JSON.stringify({
        ...base,
        ...request.accountId === void 0 ? {} : {
          account: request.accountId
        },
        limit: request.limit,
        ...request.beforeEntry === void 0 ? {} : {
          before: request.beforeEntry.toString()
        },
        ...request.asOf === void 0 ? {} : {
          as_of: asOfText(request.asOf)
        }
      }));
    case "update_contact":
      return utf8(JSON.stringify({
        ...base,
        ...request.details
      }));
    case "hold":
    case "capture":
    case "void":
    case "refund":
      return utf8(JSON.stringify({
        ...base,
        ...encodeLedgerRequest(request)
      }));
    case "enrol":
    case "rotate_key":
      return utf8(JSON.stringify({
        ...base,
        ...encodeKeyRequest(request)
      }));
  }
}
function asOfText(asOf) {
  return "entry" in asOf ? asOf.entry.toString() : asOf.time;
}
function decodeResponse(bytes, op) {
  const wire = decodeWireResponse(bytes);
  if (wire === null) return null;
  if (!wire.ok) {
    const { code, message, retry_after_s: retry } = wire.error;
    if (!isErrorCode(code)) return null;
    if (retry !== void 0 && !(Number.isSafeInteger(retry) && retry >= 1)) return null;
    return {
      id: wire.id,
      ok: false,
      error: {
        code,
        message,
        ...retry === void 0 ? {} : {
          retryAfterS: retry
        }
      }
    };
  }
  const result = readResult(op, wire.result);
  return result === null ? null : {
    id: wire.id,
    ok: true,
    result
  };
}
function decodeWireResponse(bytes) {
  const text = fromUtf8(bytes);
  if (text === null) return null;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(parsed) || parsed.v !== MESSAGE_VERSION) return null;
  if (parsed.id !== null && typeof parsed.id !== "string") return null;
  if (parsed.ok === true && isObject(parsed.result)) return parsed;
  if (parsed.ok !== false || !isObject(parsed.error)) return null;
  const { code, message } = parsed.error;
  return typeof code === "string" && typeof message === "string" ? parsed : null;
}
function readResult(op, result) {
  switch (op) {
    case "balance": {
      const accounts = readArray(result.accounts, readAccount);
      return accounts === null ? null : {
        op,
        accounts
      };
    }
    case "transfer": {
      const transfer2 = readTransfer(result);
      return transfer2 === null ? null : {
        op,
        ...transfer2
      };
    }
    case "history": {
      const items = readArray(result.items, readHistoryItem);
      const next = result.next_before === null ? null : readDigits(result.next_before);
      if (items === null || result.next_before !== null && next === null) return null;
      return {
        op,
        items,
        nextBefore: next
      };
    }
    case "update_contact": {
      const changed = readArray(result.changed, (value) => typeof value === "string" ? value : null);
      return changed === null ? null : {
        op,
        changed
      };
    }
    case "hold":
    case "capture":
    case "void":
    case "refund":
      return readLedgerResult(op, result);
    case "enrol":
    case "rotate_key":
      return readKeyResult(op, result);
  }
}
function readAccount(value) {
  if (!isObject(value)) return null;
  const balanceMinor = readDigits(value.balance_minor);
  const availableMinor = readDigits(value.available_minor);
  const { account_id: accountId, currency, status } = value;
  if (typeof accountId !== "string" || !isAccountId(accountId) || typeof currency !== "string") return null;
  if (balanceMinor === null || availableMinor === null || status !== "open" && status !== "frozen") {
    return null;
  }
  return {
    accountId,
    currency,
    balanceMinor,
    availableMinor,
    status
  };
}
function readTransfer(value) {
  const amountMinor = readDigits(value.amount_minor);
  const { status, transfer_id: transferId, from, to, idempotency_key: key, created_at: createdAt } = value;
  const receipt = readReceipt(value.receipt);
  if (status !== "created" && status !== "exists" || receipt === null) return null;
  if (typeof transferId !== "string" || typeof key !== "string" || typeof createdAt !== "string") return null;
  if (typeof from !== "string" || typeof to !== "string" || amountMinor === null) return null;
  return {
    status,
    transferId,
    sourceAccountId: from,
    targetAccountId: to,
    amountMinor,
    idempotencyKey: key,
    createdAt,
    receipt
  };
}
function readHistoryItem(value) {
  if (!isObject(value)) return null;
  const entry = readDigits(value.entry);
  const amount = readSignedMinor(value.amount_minor);
  const balanceAfter = readSignedMinor(value.balance_after_minor);
  const { transfer_id: transferId, kind, account_id: accountId, created_at: createdAt } = value;
  const counterparty = value.counterparty_account_id;
  if (entry === null || amount === null || balanceAfter === null) return null;
  if (typeof kind !== "string" || !HISTORY_KINDS.has(kind)) return null;
  if (typeof transferId !== "string" || typeof accountId !== "string") return null;
  if (typeof counterparty !== "string" || typeof createdAt !== "string") return null;
  return {
    entry,
    transferId,
    kind,
    accountId,
    counterpartyAccountId: counterparty,
    amountMinor: amount,
    balanceAfterMinor: balanceAfter,
    createdAt
  };
}
function readSignedMinor(value) {
  return typeof value === "string" && /^-?(0|[1-9][0-9]{0,18})$/.test(value) ? BigInt(value) : null;
}
var HISTORY_KINDS = /* @__PURE__ */ new Set([
  "deposit",
  "transfer",
  "capture",
  "reversal",
  "refund"
]);
function readArray(value, read) {
  if (!Array.isArray(value)) return null;
  const items = [];
  for (const item of value) {
    const read_ = read(item);
    if (read_ === null) return null;
    items.push(read_);
  }
  return items;
}
function readDigits(value) {
  return typeof value === "string" && CURSOR_PATTERN.test(value) ? BigInt(value) : null;
}

// protocol/aead.ts
var webCryptoAead = async (keyBytes) => {
  assert(keyBytes.length === AES_KEY_BYTES, `AES-256 key must be ${AES_KEY_BYTES} bytes, got ${keyBytes.length}`);
  const key = await crypto.subtle.importKey("raw", new Uint8Array(keyBytes), {
    name: "AES-GCM"
  }, false, [
    "encrypt",
    "decrypt"
  ]);
  const tagLength = GCM_TAG_BYTES * 8;
  return {
    async seal(nonce, plaintext, aad) {
      assert(nonce.length === GCM_NONCE_BYTES, `GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
      const params = {
        name: "AES-GCM",
        iv: new Uint8Array(nonce),
        additionalData: new Uint8Array(aad),
        tagLength
      };
      const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, new Uint8Array(plaintext)));
      assert(sealed.length === plaintext.length + GCM_TAG_BYTES, "Sealed bytes must be plaintext plus tag");
      return sealed;
    },
    async open(nonce, sealed, aad) {
      assert(nonce.length === GCM_NONCE_BYTES, `GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
      if (sealed.length < GCM_TAG_BYTES) return null;
      const params = {
        name: "AES-GCM",
        iv: new Uint8Array(nonce),
        additionalData: new Uint8Array(aad),
        tagLength
      };
      try {
        return new Uint8Array(await crypto.subtle.decrypt(params, key, new Uint8Array(sealed)));
      } catch {
        return null;
      }
    }
  };
};

// protocol/channel.ts
var DIRECTION_CLIENT_TO_SERVER = 1;
var DIRECTION_SERVER_TO_CLIENT = 2;
var AAD_BYTES = FRAME_HEADER_BYTES + SEALED_HEADER_BYTES;
var SealedChannel = class _SealedChannel {
  #sendAead;
  #receiveAead;
  #sendDirection;
  #receiveDirection;
  #sendSequence = 0n;
  #receiveSequence = 0n;
  constructor(parts) {
    this.#sendAead = parts.send;
    this.#receiveAead = parts.receive;
    const isClient = parts.role === "client";
    this.#sendDirection = isClient ? DIRECTION_CLIENT_TO_SERVER : DIRECTION_SERVER_TO_CLIENT;
    this.#receiveDirection = isClient ? DIRECTION_SERVER_TO_CLIENT : DIRECTION_CLIENT_TO_SERVER;
  }
  /** Builds the channel for one side of a session from the handshake's secrets. */
  static async create(secrets, options) {
    const makeAead = options.aead ?? webCryptoAead;
    const isClient = options.role === "client";
    const sendKey = isClient ? secrets.clientToServerKey : secrets.serverToClientKey;
    const receiveKey = isClient ? secrets.serverToClientKey : secrets.clientToServerKey;
    assert(!timingSafeEqual(sendKey, receiveKey), "Each direction must have its own key");
    const [send2, receive] = await Promise.all([
      makeAead(sendKey),
      makeAead(receiveKey)
    ]);
    return new _SealedChannel({
      send: send2,
      receive,
      role: options.role
    });
  }
  /** Frames sealed so far; the next frame's sequence number. */
  get sentFrames() {
    return this.#sendSequence;
  }
  /** Frames opened so far; the sequence number expected next. */
  get receivedFrames() {
    return this.#receiveSequence;
  }
  /**
   * Seals a message into a complete wire frame (length prefix included). The sequence number is taken when
   * this is called, so frames must be written in the order `seal` was called.
   */
  async seal(type, plaintext) {
    const sequence = this.#sendSequence;
    assert(sequence < SESSION_FRAMES_MAX, `Session sealed ${sequence} frames: its limit`);
    this.#sendSequence = sequence + 1n;
    const bodyBytes = SEALED_HEADER_BYTES + plaintext.length + GCM_TAG_BYTES;
    const frame = new Uint8Array(FRAME_HEADER_BYTES + bodyBytes);
    const view = new DataView(frame.buffer);
    view.setUint32(0, bodyBytes, false);
    frame[FRAME_HEADER_BYTES] = type;
    view.setBigUint64(FRAME_HEADER_BYTES + 1, sequence, false);
    const sealed = await this.#sendAead.seal(makeNonce(this.#sendDirection, sequence), plaintext, frame.subarray(0, AAD_BYTES));
    assert(sealed.length === plaintext.length + GCM_TAG_BYTES, "Sealed length must be plaintext plus tag");
    frame.set(sealed, AAD_BYTES);
    return frame;
  }
  /** Opens a sealed frame body (as read by the frame reader, without the length prefix). */
  async open(body) {
    if (body.length < SEALED_HEADER_BYTES + GCM_TAG_BYTES) return {
      ok: false,
      reason: "sealed_malformed"
    };
    const type = body[0];
    if (type !== FrameType.sealedText && type !== FrameType.sealedJson) {
      return {
        ok: false,
        reason: "sealed_malformed"
      };
    }
    const sequence = new DataView(body.buffer, body.byteOffset + 1, 8).getBigUint64(0, false);
    if (sequence !== this.#receiveSequence) return {
      ok: false,
      reason: "sealed_out_of_sequence"
    };
    const aad = new Uint8Array(AAD_BYTES);
    new DataView(aad.buffer).setUint32(0, body.length, false);
    aad.set(body.subarray(0, SEALED_HEADER_BYTES), FRAME_HEADER_BYTES);
    const plaintext = await this.#receiveAead.open(makeNonce(this.#receiveDirection, sequence), body.subarray(SEALED_HEADER_BYTES), aad);
    if (plaintext === null) return {
      ok: false,
      reason: "sealed_not_authentic"
    };
    assert(this.#receiveSequence === sequence, "Frames must be opened one at a time");
    this.#receiveSequence = sequence + 1n;
    return {
      ok: true,
      type,
      plaintext
    };
  }
};
function makeNonce(direction, sequence) {
  assert(direction === DIRECTION_CLIENT_TO_SERVER || direction === DIRECTION_SERVER_TO_CLIENT, "Bad direction");
  assert(sequence >= 0n, `Sequence ${sequence} is out of range`);
  assert(sequence < SESSION_FRAMES_MAX, `Sequence ${sequence} is out of range`);
  const nonce = new Uint8Array(GCM_NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, direction, false);
  view.setBigUint64(4, sequence, false);
  return nonce;
}

// protocol/session.ts
async function clientHandshake(transport, options) {
  const crypto2 = options.crypto ?? webHandshakeCrypto;
  const ephemeral = await (options.ephemeral?.() ?? crypto2.ephemeral());
  const hello = encodeHello({
    identity: options.identity,
    keyId: options.keyId,
    clientNonce: options.nonce?.() ?? randomBytes(HANDSHAKE_NONCE_BYTES),
    clientEphemeral: ephemeral.publicKey
  });
  await transport.send(hello);
  const challengeFrame = await transport.next();
  if (challengeFrame.kind !== "frame") {
    return {
      ok: false,
      error: "Server closed the connection during the handshake"
    };
  }
  const serverError = decodeErrorBody(challengeFrame.body);
  if (serverError !== null) return {
    ok: false,
    error: `Server refused: ${serverError}`,
    code: serverError
  };
  const challenge = decodeChallenge(challengeFrame.body);
  if (challenge === null) return {
    ok: false,
    error: "Server sent a malformed challenge"
  };
  const notTheBank = {
    ok: false,
    error: "Server could not prove it holds the bank's key: not the bank"
  };
  const shared = await ephemeral.agree(challenge.serverEphemeral);
  if (shared === null) return notTheBank;
  const challengeStart = challengeFrame.body.subarray(0, CHALLENGE_SIGNED_BYTES);
  const helloHash = await transcriptHash(crypto2, [
    hello,
    challengeStart
  ]);
  const signed = signedContent("bank/2 server signature", [
    helloHash
  ]);
  if (!await crypto2.verify(options.bankPublicKey, signed, challenge.serverSignature)) return notTheBank;
  const keys = await deriveSessionKeys(crypto2, {
    shared,
    helloHash
  });
  const serverFinished = await crypto2.hmacSha256(keys.serverFinishedKey, await transcriptHash(crypto2, [
    hello,
    challengeStart,
    challenge.serverSignature
  ]));
  if (!timingSafeEqual(serverFinished, challenge.serverFinished)) return notTheBank;
  const challengeHash = await transcriptHash(crypto2, [
    hello,
    challengeFrame.body
  ]);
  const clientSignature = await options.signer.sign(signedContent("bank/2 client signature", [
    challengeHash
  ]));
  const clientFinished = await crypto2.hmacSha256(keys.clientFinishedKey, await transcriptHash(crypto2, [
    hello,
    challengeFrame.body,
    new Uint8Array([
      FrameType.proof
    ]),
    clientSignature
  ]));
  const proof = encodeProof({
    clientSignature,
    clientFinished
  });
  await transport.send(proof);
  const acceptFrame = await transport.next();
  if (acceptFrame.kind !== "frame") {
    return {
      ok: false,
      error: "Server closed the connection during the handshake"
    };
  }
  const refusal = decodeErrorBody(acceptFrame.body);
  if (refusal !== null) return {
    ok: false,
    error: `Server refused: ${refusal}`,
    code: refusal
  };
  const acceptMac = decodeAccept(acceptFrame.body);
  if (acceptMac === null) return {
    ok: false,
    error: "Server sent a malformed accept"
  };
  const transcript = await transcriptHash(crypto2, [
    hello,
    challengeFrame.body,
    proof
  ]);
  if (!timingSafeEqual(acceptMac, await crypto2.hmacSha256(keys.acceptKey, transcript))) return notTheBank;
  const channel = await openChannel(keys, {
    role: "client",
    aead: options.aead
  });
  assert(channel.sentFrames === 0n, "A new channel starts at sequence 0");
  return {
    ok: true,
    channel,
    transcript
  };
}
function openChannel(keys, options) {
  return SealedChannel.create(keys, {
    role: options.role,
    ...options.aead === void 0 ? {} : {
      aead: options.aead
    }
  });
}

// protocol/frame.ts
var BUFFER_BYTES_INITIAL = 4 * 1024;
var EMPTY_READS_MAX = 16;
function encodeFrame(body) {
  assert(body.length > 0, "Cannot frame an empty body");
  assert(body.length <= FRAME_BYTES_MAX, `Cannot frame a body of ${body.length} bytes`);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, false);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}
async function writeAll(sink, bytes) {
  let offset = 0;
  while (offset < bytes.length) {
    const written = await sink.write(bytes.subarray(offset));
    assert(written > 0, `Sink wrote ${written} bytes`);
    offset += written;
  }
}
var FrameSplitter = class {
  #pending = new Uint8Array(0);
  /** The whole frames that `bytes` completes, in order. */
  push(bytes) {
    let pending = bytes;
    if (this.#pending.length > 0) {
      pending = new Uint8Array(this.#pending.length + bytes.length);
      pending.set(this.#pending, 0);
      pending.set(bytes, this.#pending.length);
    }
    const frames = [];
    while (pending.length >= FRAME_HEADER_BYTES) {
      const size = FRAME_HEADER_BYTES + new DataView(pending.buffer, pending.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
      if (pending.length < size) break;
      frames.push(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
    this.#pending = pending.slice();
    return frames;
  }
};
var FrameReader = class {
  #source;
  #frameBytesMax;
  #onFrameStart;
  #frameStarted = false;
  #buffer = new Uint8Array(BUFFER_BYTES_INITIAL);
  #start = 0;
  #end = 0;
  /**
   * @param options.frameBytesMax The largest body accepted; a larger length is refused before its body is read.
   * @param options.onFrameStart Called once per frame when its first byte is available, so the caller can
   * switch from an idle timeout to a shorter frame timeout.
   */
  constructor(source, options) {
    assert(options.frameBytesMax >= FRAME_BYTES_MIN, `Frame limit ${options.frameBytesMax} is below the minimum`);
    assert(options.frameBytesMax <= FRAME_BYTES_MAX, `Frame limit ${options.frameBytesMax} is above the maximum`);
    this.#source = source;
    this.#frameBytesMax = options.frameBytesMax;
    this.#onFrameStart = options.onFrameStart ?? (() => {
    });
  }
  /** Changes the largest body accepted from the next frame on (a handshake allows less than a session). */
  set frameBytesMax(value) {
    assert(Number.isInteger(value), `Frame limit ${value} must be an integer`);
    assert(value >= FRAME_BYTES_MIN, `Frame limit ${value} is out of range`);
    assert(value <= FRAME_BYTES_MAX, `Frame limit ${value} is out of range`);
    this.#frameBytesMax = value;
  }
  /** Bytes received but not yet returned as a frame. */
  get pendingBytes() {
    return this.#end - this.#start;
  }
  /** Reads the next frame. Errors from the source (a closed or reset connection) propagate. */
  async next() {
    this.#frameStarted = false;
    this.#noteProgress();
    if (!await this.#fill(FRAME_HEADER_BYTES)) {
      if (this.pendingBytes === 0) return {
        kind: "end"
      };
      return {
        kind: "error",
        code: "frame_truncated",
        detail: `stream ended inside a frame header`
      };
    }
    const length = new DataView(this.#buffer.buffer, this.#start, FRAME_HEADER_BYTES).getUint32(0, false);
    if (length === 0) return {
      kind: "error",
      code: "frame_empty",
      detail: "frame length is 0"
    };
    if (length > this.#frameBytesMax) {
      return {
        kind: "error",
        code: "frame_too_large",
        detail: `frame length ${length} is over the limit of ${this.#frameBytesMax}`
      };
    }
    if (!await this.#fill(FRAME_HEADER_BYTES + length)) {
      return {
        kind: "error",
        code: "frame_truncated",
        detail: `stream ended inside a ${length}-byte frame`
      };
    }
    const bodyStart = this.#start + FRAME_HEADER_BYTES;
    const body = this.#buffer.slice(bodyStart, bodyStart + length);
    this.#start = bodyStart + length;
    if (this.#start === this.#end) this.#reset();
    assert(body.length === length, "Frame body must have the announced length");
    return {
      kind: "frame",
      body
    };
  }
  /** Reads until `wanted` bytes are buffered; false when the stream ends first. */
  async #fill(wanted) {
    assert(wanted <= FRAME_HEADER_BYTES + this.#frameBytesMax, `Cannot buffer ${wanted} bytes`);
    if (this.pendingBytes >= wanted) return true;
    this.#makeRoom(wanted);
    let emptyReads = 0;
    while (this.pendingBytes < wanted) {
      assert(this.#end < this.#buffer.length, "The buffer must have room for the wanted bytes");
      const count = await this.#source.read(this.#buffer.subarray(this.#end));
      if (count === null) return false;
      emptyReads = count === 0 ? emptyReads + 1 : 0;
      if (emptyReads >= EMPTY_READS_MAX) {
        throw new Error(`Source returned no bytes ${emptyReads} times in a row`);
      }
      this.#end += count;
      this.#noteProgress();
    }
    return true;
  }
  #noteProgress() {
    if (this.#frameStarted || this.pendingBytes === 0) return;
    this.#frameStarted = true;
    this.#onFrameStart();
  }
  /** Moves pending bytes to the front and grows the buffer so that `wanted` bytes fit. */
  #makeRoom(wanted) {
    if (this.#start + wanted <= this.#buffer.length) return;
    const pending = this.#buffer.subarray(this.#start, this.#end);
    const target = wanted <= this.#buffer.length ? this.#buffer : new Uint8Array(wanted);
    target.set(pending, 0);
    this.#buffer = target;
    this.#end = pending.length;
    this.#start = 0;
  }
  /** Drops a buffer grown for a large frame once it is empty, so idle sessions stay small. */
  #reset() {
    this.#start = 0;
    this.#end = 0;
    if (this.#buffer.length > BUFFER_BYTES_INITIAL) this.#buffer = new Uint8Array(BUFFER_BYTES_INITIAL);
  }
};

// protocol/transport.ts
var FrameTransport = class {
  #conn;
  #reader;
  constructor(conn, options) {
    this.#conn = conn;
    this.#reader = new FrameReader(conn, options);
  }
  /** Changes the largest frame body accepted from the next frame on. */
  set frameBytesMax(value) {
    this.#reader.frameBytesMax = value;
  }
  /** Bytes received that are not yet part of a returned frame. */
  get pendingBytes() {
    return this.#reader.pendingBytes;
  }
  /** Reads the next frame. */
  next() {
    return this.#reader.next();
  }
  /** Frames and writes one body. */
  send(body) {
    return writeAll(this.#conn, encodeFrame(body));
  }
  /** Writes bytes that are already a complete frame (a sealed frame). */
  sendFrame(frame) {
    assert(frame.length > FRAME_HEADER_BYTES, "A frame must have a body");
    const length = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
    assert(length === frame.length - FRAME_HEADER_BYTES, "A frame's length prefix must match its body");
    assert(length <= FRAME_BYTES_MAX, `Cannot send a frame of ${length} bytes`);
    return writeAll(this.#conn, frame);
  }
  /** Tells the peer the generic reason its connection ends; the peer may already be gone. */
  async sendError(code) {
    try {
      await this.send(encodeErrorBody(code));
    } catch {
    }
  }
};

// client/connection.ts
var ClientError = class extends Error {
  name = "ClientError";
  /** Which step of opening a session failed, when one did, and the bank's error code if it sent one. */
  failure;
  constructor(message, failure) {
    super(message);
    if (failure !== void 0) this.failure = failure;
  }
};
var BankConnection = class _BankConnection {
  #conn;
  #transport;
  #channel;
  #timeoutMs;
  /** The session's transcript hash: what key changes sign, binding them to this session. */
  transcript;
  #closed = false;
  /** Exchanges run one at a time: sealed frames must go out, and answers be read, in sequence order. */
  #queue = Promise.resolve();
  constructor(parts) {
    this.transcript = parts.transcript;
    this.#conn = parts.conn;
    this.#transport = parts.transport;
    this.#channel = parts.channel;
    this.#timeoutMs = parts.timeoutMs;
  }
  /** Connects, verifies the server's certificate and authenticates; throws {@link ClientError}. */
  static async connect(options) {
    const timeoutMs = options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS;
    const opened = await openSession(options);
    if (!opened.ok) {
      const failure = {
        step: opened.step,
        ...opened.code === void 0 ? {} : {
          code: opened.code
        }
      };
      throw new ClientError(describeOpenFailure(opened, options), failure);
    }
    return new _BankConnection({
      ...opened.session,
      timeoutMs
    });
  }
  /** Sends a text command and returns the server's text answer. */
  async sendText(command) {
    const answer = await this.#exchange(FrameType.sealedText, utf8(command));
    const text = fromUtf8(answer);
    if (text === null) throw new ClientError("Server answered with text that is not UTF-8");
    return text;
  }
  /** Sends a typed structured request and returns its typed answer (every field checked). */
  async send(request) {
    const answer = await this.#exchange(FrameType.sealedJson, encodeRequest(request));
    const response = decodeResponse(answer, request.op);
    if (response === null) throw new ClientError(`Server answered ${request.op} with a malformed response`);
    return response;
  }
  /**
   * Sends any JSON object as a structured request (the shape docs/PROTOCOL.md describes, or not: tools and
   * tests send malformed ones on purpose) and returns the answer, read loosely.
   */
  async sendStructured(request) {
    const answer = await this.#exchange(FrameType.sealedJson, utf8(JSON.stringify(request)));
    const response = decodeWireResponse(answer);
    if (response === null) throw new ClientError("Server answered with a malformed structured response");
    return response;
  }
  /** Ends the session cleanly: TLS close_notify, then the socket. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await closeSecureConn(this.#conn);
  }
  #exchange(type, plaintext) {
    const turn = this.#queue.then(() => this.#exchangeNow(type, plaintext));
    this.#queue = turn.catch(() => {
    });
    return turn;
  }
  async #exchangeNow(type, plaintext) {
    if (this.#closed) throw new ClientError("Connection is closed");
    if (SEALED_HEADER_BYTES + plaintext.length + GCM_TAG_BYTES > FRAME_BYTES_DEFAULT) {
      throw new ClientError(`Request of ${plaintext.length} bytes does not fit one frame`);
    }
    return await withTimeout(this.#conn, this.#timeoutMs, async () => {
      await this.#transport.sendFrame(await this.#channel.seal(type, plaintext));
      const frame = await this.#transport.next();
      if (frame.kind === "end") throw new ClientError("Server closed the connection without answering");
      if (frame.kind === "error") throw new ClientError(`Server sent a bad frame: ${frame.detail}`);
      const refusal = decodeErrorBody(frame.body);
      if (refusal !== null) throw new ClientError(`Server ended the session: ${refusal}`);
      const opened = await this.#channel.open(frame.body);
      if (!opened.ok) throw new ClientError(`Server's answer failed verification (${opened.reason})`);
      if (opened.type !== type) throw new ClientError("Server answered in another format than asked");
      return opened.plaintext;
    });
  }
};
async function openSession(options) {
  const timeoutMs = options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS;
  const startedMs = performance.now();
  let conn;
  try {
    conn = await connectWithin(options.connect?.() ?? connectSecure(options), timeoutMs);
  } catch (error) {
    return {
      ok: false,
      step: "connect_failed",
      message: messageOf(error)
    };
  }
  const connectedMs = performance.now();
  let step = "tls_failed";
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    closeQuietly(conn);
  }, Math.max(1, timeoutMs - (connectedMs - startedMs)));
  try {
    await conn.handshake();
    const securedMs = performance.now();
    step = "handshake_failed";
    const transport = new FrameTransport(conn, {
      frameBytesMax: FRAME_BYTES_DEFAULT
    });
    const crypto2 = options.crypto ?? webHandshakeCrypto;
    const key = await cachedClientKey(options.credential, crypto2);
    const handshake = await clientHandshake(transport, {
      ...key,
      crypto: crypto2,
      ...aeadOption(options.aead),
      ...options.freshness
    });
    if (!handshake.ok) {
      closeQuietly(conn);
      return {
        ok: false,
        step,
        message: handshake.error,
        ...handshake.code === void 0 ? {} : {
          code: handshake.code
        }
      };
    }
    const timings = {
      tcpMs: connectedMs - startedMs,
      tlsMs: securedMs - connectedMs,
      bankMs: performance.now() - securedMs
    };
    const { channel, transcript } = handshake;
    return {
      ok: true,
      session: {
        conn,
        transport,
        channel,
        transcript,
        timings
      }
    };
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    closeQuietly(conn);
    if (expired) return {
      ok: false,
      step: "timeout",
      message: `no session within ${timeoutMs} ms`
    };
    return {
      ok: false,
      step,
      message: messageOf(error)
    };
  } finally {
    clearTimeout(timer);
  }
}
var CLIENT_KEYS = /* @__PURE__ */ new WeakMap();
function cachedClientKey(credential, crypto2) {
  if ("signer" in credential) return Promise.resolve(credential);
  let byCrypto = CLIENT_KEYS.get(credential);
  if (byCrypto === void 0) CLIENT_KEYS.set(credential, byCrypto = /* @__PURE__ */ new Map());
  let key = byCrypto.get(crypto2);
  if (key === void 0) byCrypto.set(crypto2, key = clientKeyOf(crypto2, credential));
  return key;
}
function describeOpenFailure(failure, options) {
  const { identity } = options.credential;
  switch (failure.step) {
    case "connect_failed":
      return `Cannot connect to ${options.host}:${options.port}: ${failure.message}`;
    case "timeout":
      return `No answer from the server within ${options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS} ms`;
    case "tls_failed":
      return `Connection failed: ${failure.message}`;
    case "handshake_failed":
      return failure.code === "rate_limited" ? `Handshake as ${identity} refused: rate limited (too many sessions), retry later` : `Handshake as ${identity} failed: ${failure.message}`;
  }
}
function aeadOption(aead) {
  return aead === void 0 ? {} : {
    aead
  };
}
async function connectSecure(options) {
  if (options.caPem === void 0) throw new ClientError("A TLS connection needs the bank's CA (caPem)");
  const caCerts = [
    options.caPem
  ];
  const tcp = await Deno.connect({
    hostname: options.host,
    port: options.port
  });
  try {
    tcp.setNoDelay(true);
    return await Deno.startTls(tcp, {
      hostname: options.host,
      caCerts
    });
  } catch (error) {
    closeQuietly(tcp);
    throw error;
  }
}
async function connectWithin(connecting, timeoutMs) {
  let timer;
  const late = new Promise((_resolve, reject) => {
    timer = setTimeout(() => {
      connecting.then(closeQuietly, () => {
      });
      reject(new Error(`No connection within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      connecting,
      late
    ]);
  } finally {
    clearTimeout(timer);
  }
}
async function withTimeout(conn, timeoutMs, work) {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    closeQuietly(conn);
  }, timeoutMs);
  try {
    return await work();
  } catch (error) {
    if (expired) throw new ClientError(`No answer from the server within ${timeoutMs} ms`);
    if (error instanceof ClientError || isAssertionFailure(error)) throw error;
    throw new ClientError(`Connection failed: ${messageOf(error)}`);
  } finally {
    clearTimeout(timer);
  }
}
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
async function closeSecureConn(conn) {
  try {
    await conn.closeWrite();
  } catch {
  }
  closeQuietly(conn);
}
function closeQuietly(conn) {
  try {
    conn.close();
  } catch {
  }
}

// protocol/invite.ts
var INVITE_CODE_BYTES = 20;
var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
var CODE_CHARACTERS = INVITE_CODE_BYTES * 8 / 5;
assert(INVITE_CODE_BYTES * 8 % 5 === 0, "An invite code is a whole number of base32 characters");
function parseInviteCode(text) {
  if (text.length > 2 * CODE_CHARACTERS) return null;
  const compact = text.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (compact.length !== CODE_CHARACTERS) return null;
  const code = new Uint8Array(INVITE_CODE_BYTES);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const character of compact) {
    const digit = ALPHABET.indexOf(character);
    if (digit < 0) return null;
    value = value << 5 | digit;
    bits += 5;
    if (bits >= 8) {
      code[at++] = value >>> bits - 8 & 255;
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  assert(at === INVITE_CODE_BYTES, "A full code fills every byte");
  return code;
}
function inviteSeed(crypto2, code, identity) {
  assert(code.length === INVITE_CODE_BYTES, `An invite code is ${INVITE_CODE_BYTES} bytes`);
  assert(isIdentityName(identity), `Identity name "${identity}" is not valid`);
  return crypto2.hkdfSha256(code, {
    salt: utf8("bank/2 invite"),
    info: `bank/2 invite key ${identity}`
  });
}

// client/keys.ts
function heldClientKey(key, parts) {
  const keyId = fromHex(key.keyId);
  assert(keyId !== null, "A held key's id is hex");
  return {
    identity: parts.identity,
    keyId,
    signer: key.signer,
    bankPublicKey: parts.bankPublicKey
  };
}
function signerOf(key, crypto2) {
  if ("signer" in key) return Promise.resolve(key.signer);
  return crypto2.signer("credential" in key ? key.credential.privateKey : key.privateKey);
}
async function generateKey(request, crypto2 = webHandshakeCrypto) {
  const privateKey = randomBytes(KEY_BYTES);
  const signer = await crypto2.signer(privateKey);
  const keyId = formatKeyId(await keyIdOf(crypto2, signer.publicKey));
  return {
    credential: {
      identity: request.identity,
      privateKey,
      bankPublicKey: request.bankPublicKey
    },
    publicKey: signer.publicKey,
    keyId,
    publicKeyFile: encodePublicKeyFile(signer.publicKey, request.identity)
  };
}
var KeyChangeError = class extends Error {
  name = "KeyChangeError";
  code;
  constructor(code, message) {
    super(`The bank refused the key (${code}): ${message}`);
    this.code = code;
  }
};
async function enrolWithInvite(options) {
  const crypto2 = options.crypto ?? webHandshakeCrypto;
  const privateKey = await inviteSeed(crypto2, options.code, options.identity);
  const invite = {
    identity: options.identity,
    privateKey,
    bankPublicKey: options.bankPublicKey
  };
  const fresh = options.fresh ?? await generateKey({
    identity: options.identity,
    bankPublicKey: options.bankPublicKey
  }, crypto2);
  const connection = await BankConnection.connect({
    ...options,
    credential: invite
  }).catch((error) => {
    if (!(error instanceof ClientError) || error.failure?.code !== "handshake_failed") throw error;
    throw new ClientError(`The bank refused the invite code for ${options.identity}: it is wrong, used, expired or out of attempts`, error.failure);
  });
  try {
    const signer = await signerOf(fresh, crypto2);
    const binding = {
      transcript: connection.transcript,
      publicKey: fresh.publicKey
    };
    const signature = await signer.sign(keyChangeSignedContent("bank/2 enrol key", binding));
    const answer = await connection.send({
      op: "enrol",
      id: "enrol",
      publicKey: fresh.publicKey,
      signature
    });
    if (!answer.ok) throw new KeyChangeError(answer.error.code, answer.error.message);
    assert(answer.result.keyId === fresh.keyId, "The bank names the key it registered");
    return fresh;
  } finally {
    await connection.close();
  }
}
async function rotateKey(connection, credential, options = {}) {
  const crypto2 = options.crypto ?? webHandshakeCrypto;
  const fresh = options.fresh ?? await generateKey(credential, crypto2);
  const [oldSigner, newSigner] = await Promise.all([
    signerOf(credential, crypto2),
    signerOf(fresh, crypto2)
  ]);
  const binding = {
    transcript: connection.transcript,
    publicKey: fresh.publicKey
  };
  const [newKeySignature, oldKeySignature] = await Promise.all([
    newSigner.sign(keyChangeSignedContent("bank/2 rotate new key", binding)),
    oldSigner.sign(keyChangeSignedContent("bank/2 rotate old key", binding))
  ]);
  const answer = await connection.send({
    op: "rotate_key",
    id: "rotate",
    publicKey: fresh.publicKey,
    newKeySignature,
    oldKeySignature
  });
  if (!answer.ok) throw new KeyChangeError(answer.error.code, answer.error.message);
  if (answer.result.keyId !== fresh.keyId) throw new ClientError("The bank registered another key than sent");
  return {
    ...fresh,
    revokedKeyId: answer.result.revokedKeyId
  };
}

// client/websocket.ts
function connectWebSocket(url, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    const conn = new WebSocketConn(socket, options.onClose ?? (() => {
    }));
    socket.addEventListener("open", () => resolve(conn), {
      once: true
    });
    socket.addEventListener("close", (event) => reject(new Error(`WebSocket closed (${event.code})`)), {
      once: true
    });
  });
}
var WebSocketConn = class {
  #socket;
  /** Messages received and not yet read; the first may be partly read. */
  #queue = [];
  #closed = false;
  #wake = null;
  #outgoing = new FrameSplitter();
  constructor(socket, onClose) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) {
        socket.close(1003, "text messages are not part of the protocol");
        return;
      }
      const message = new Uint8Array(event.data);
      if (message.length > FRAME_HEADER_BYTES + FRAME_BYTES_DEFAULT) {
        socket.close(1009, "message too large");
        return;
      }
      this.#queue.push(message);
      this.#wakeReader();
    });
    socket.addEventListener("close", () => {
      this.#closed = true;
      this.#wakeReader();
      onClose();
    });
  }
  /** The TLS handshake is the browser's, done when the socket opened. */
  handshake() {
    return Promise.resolve();
  }
  async read(into) {
    while (this.#queue.length === 0) {
      if (this.#closed) return null;
      await new Promise((resolve) => this.#wake = resolve);
    }
    const head = this.#queue[0];
    const count = Math.min(into.length, head.length);
    into.set(head.subarray(0, count));
    if (count === head.length) this.#queue.shift();
    else this.#queue[0] = head.subarray(count);
    return count;
  }
  /** Sends each whole frame written as one binary message; keeps a partial one until it is whole. */
  write(bytes) {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("WebSocket is closed"));
    }
    for (const frame of this.#outgoing.push(bytes)) this.#socket.send(frame);
    return Promise.resolve(bytes.length);
  }
  closeWrite() {
    this.close();
    return Promise.resolve();
  }
  close() {
    this.#closed = true;
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.close(1e3);
    }
    this.#wakeReader();
  }
  #wakeReader() {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
};

// protocol/demo.ts
var DATA_DIR_DEFAULT = "./.bank";

// client/setup.ts
var CONNECTION_OPTIONS = [
  {
    name: "host",
    env: "BANK_HOST",
    value: "HOST",
    defaultText: HOST_DEFAULT,
    help: "server address"
  },
  {
    name: "port",
    env: "BANK_PORT",
    value: "PORT",
    defaultText: String(PORT_DEFAULT),
    help: "server TLS port"
  },
  {
    name: "data",
    env: "BANK_DATA",
    value: "DIR",
    defaultText: DATA_DIR_DEFAULT,
    help: "server data directory (CA, credentials)"
  },
  {
    name: "ca",
    env: "BANK_CA",
    value: "FILE",
    defaultText: "DIR/ca.crt",
    help: "CA certificate to verify the server"
  }
];

// client/mod.ts
var BankRequestError = class extends Error {
  name = "BankRequestError";
  code;
  /** The bank's own words (`phone is not valid`), without the code. */
  detail;
  retryAfterS;
  constructor(error) {
    super(`The bank refused (${error.code}): ${error.message}`);
    this.code = error.code;
    this.detail = error.message;
    this.retryAfterS = error.retryAfterS;
  }
};
var BankClient = class _BankClient {
  #options;
  #connection;
  #requests = 0;
  constructor(options, connection) {
    this.#options = options;
    this.#connection = connection;
  }
  /** Connects and authenticates; throws {@link ClientError} when the bank cannot be reached or refuses. */
  static async connect(options) {
    return new _BankClient(options, await BankConnection.connect(options));
  }
  /** The accounts this identity owns, oldest first. */
  async balance() {
    const answer = await this.#connection.send({
      op: "balance",
      id: this.#nextId()
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result.accounts;
  }
  /**
   * Moves money, exactly once: when the connection fails before the answer, or the bank answers
   * `unavailable`, the same request (same idempotency key) is sent again on a new connection, at most
   * a few times; the bank answers a repeat with the transfer it already made (`status: "exists"`).
   */
  async transfer(request) {
    const idempotencyKey = request.idempotencyKey ?? `sdk-${crypto.randomUUID()}`;
    const message = {
      op: "transfer",
      targetAccountId: request.to,
      amountMinorText: request.amountMinor.toString(),
      idempotencyKey,
      ...request.from === void 0 ? {} : {
        sourceAccountId: request.from
      }
    };
    let lastError = null;
    for (let attempt = 1; attempt <= SDK_TRANSFER_ATTEMPTS_MAX; attempt++) {
      try {
        if (attempt > 1) await this.#reconnectAfter(SDK_RETRY_DELAY_MS * (attempt - 1));
        const answer = await this.#connection.send({
          ...message,
          id: this.#nextId()
        });
        if (answer.ok) return answer.result;
        if (answer.error.code !== "unavailable") throw new BankRequestError(answer.error);
        lastError = new BankRequestError(answer.error);
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        lastError = error;
      }
    }
    assert(lastError !== null, "A transfer that was not answered failed somehow");
    throw lastError;
  }
  /** Reserves money for `to` until it is captured, voided, or expires (`expiresInS`, default 7 days). */
  async hold(request) {
    const answer = await this.#connection.send({
      op: "hold",
      id: this.#nextId(),
      targetAccountId: request.to,
      amountMinorText: request.amountMinor.toString(),
      idempotencyKey: request.idempotencyKey ?? `sdk-${crypto.randomUUID()}`,
      expiresInS: request.expiresInS ?? HOLD_EXPIRY_S_DEFAULT,
      ...request.from === void 0 ? {} : {
        sourceAccountId: request.from
      }
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }
  /** Captures one of this identity's holds, whole or `amountMinor` of it; safe to repeat. */
  async capture(holdId, amountMinor) {
    const answer = await this.#connection.send({
      op: "capture",
      id: this.#nextId(),
      holdId,
      ...amountMinor === void 0 ? {} : {
        amountMinorText: amountMinor.toString()
      }
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }
  /** Releases one of this identity's pending holds; safe to repeat. */
  async void(holdId) {
    const answer = await this.#connection.send({
      op: "void",
      id: this.#nextId(),
      holdId
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }
  /** Returns money of a transfer this identity received, whole (what is left) or in part, exactly once per key. */
  async refund(request) {
    const answer = await this.#connection.send({
      op: "refund",
      id: this.#nextId(),
      transferId: request.transferId,
      idempotencyKey: request.idempotencyKey ?? `sdk-${crypto.randomUUID()}`,
      ...request.amountMinor === void 0 ? {} : {
        amountMinorText: request.amountMinor.toString()
      }
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }
  /**
   * A page of an account's postings, newest first, each with the balance after it; pass `before` from the
   * last page for the next, and `asOf` (an entry number or a time) for a statement as of then.
   */
  async history(query = {}) {
    const answer = await this.#connection.send({
      op: "history",
      id: this.#nextId(),
      limit: query.limit ?? 20,
      ...query.account === void 0 ? {} : {
        accountId: query.account
      },
      ...query.before === void 0 ? {} : {
        beforeEntry: query.before
      },
      ...query.asOf === void 0 ? {} : {
        asOf: query.asOf
      }
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }
  /** Changes contact details; returns the fields that changed. */
  async updateContact(details) {
    const answer = await this.#connection.send({
      op: "update_contact",
      id: this.#nextId(),
      details
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result.changed;
  }
  async rotateKey(fresh) {
    const crypto1 = this.#options.crypto ?? webHandshakeCrypto;
    const old = this.#options.credential;
    const rotated = await rotateKey(this.#connection, old, {
      crypto: crypto1,
      ...fresh === void 0 ? {} : {
        fresh
      }
    });
    await this.#connection.close();
    const identity = {
      identity: old.identity,
      bankPublicKey: old.bankPublicKey
    };
    const credential = "signer" in rotated ? heldClientKey(rotated, identity) : rotated.credential;
    this.#options = {
      ...this.#options,
      credential
    };
    this.#connection = await BankConnection.connect(this.#options);
    return rotated;
  }
  async close() {
    await this.#connection.close();
  }
  #nextId() {
    this.#requests += 1;
    return `sdk-${this.#requests}`;
  }
  async #reconnectAfter(delayMs) {
    await this.#connection.close();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.#connection = await BankConnection.connect(this.#options);
  }
};

// protocol/money.ts
var AMOUNT_PATTERN = new RegExp(`^(0|[1-9][0-9]{0,${AMOUNT_DIGITS_MAX - 1}})$`);
var DOLLARS_PATTERN = /^\$(0|[1-9][0-9]{0,2}(?:,[0-9]{3})*|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/;
var DOLLAR_DIGITS_MAX = AMOUNT_DIGITS_MAX - 2;
function parseDollars(text, limitMinor) {
  assert(limitMinor > 0n, `Amount limit ${limitMinor} is out of range`);
  assert(limitMinor <= BALANCE_MINOR_MAX, `Amount limit ${limitMinor} is out of range`);
  const match = DOLLARS_PATTERN.exec(text);
  if (match === null) return {
    ok: false,
    code: "amount_malformed"
  };
  const wholeDigits = match[1].replaceAll(",", "");
  if (wholeDigits.length > DOLLAR_DIGITS_MAX) return {
    ok: false,
    code: "amount_over_limit"
  };
  const cents = (match[2] ?? "").padEnd(2, "0");
  return checkAmount(BigInt(wholeDigits) * 100n + BigInt(cents), limitMinor);
}
function formatDollars(amountMinor, options = {}) {
  assert(amountMinor >= 0n, `Cannot format a negative amount ${amountMinor}`);
  assert(amountMinor <= BALANCE_MINOR_MAX, `Cannot format amount ${amountMinor}: over the balance cap`);
  const whole = (amountMinor / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = amountMinor % 100n;
  if (cents === 0n && options.cents !== "always") return `$${whole}`;
  return `$${whole}.${cents.toString().padStart(2, "0")}`;
}
function checkAmount(amountMinor, limitMinor) {
  assert(amountMinor >= 0n, "Parsed amounts are never negative");
  if (amountMinor === 0n) return {
    ok: false,
    code: "amount_must_be_positive"
  };
  if (amountMinor > limitMinor) return {
    ok: false,
    code: "amount_over_limit"
  };
  return {
    ok: true,
    amountMinor
  };
}

// web/src/bank.ts
var RECONNECT_DELAY_MAX_MS = 15e3;
var RECONNECT_DELAY_FIRST_MS = 250;
var CONNECT_TIMEOUT_MS = 1e4;
function socketUrl() {
  return `wss://${location.host}/ws`;
}
function connectOptions() {
  return {
    host: location.hostname,
    port: Number(location.port || 443),
    timeoutMs: CONNECT_TIMEOUT_MS,
    connect: () => connectWebSocket(socketUrl())
  };
}
var WebBank = class {
  #options;
  #onState;
  #client = null;
  #queue = Promise.resolve();
  #stopped = false;
  #delayMs = RECONNECT_DELAY_FIRST_MS;
  #timer;
  #latest = null;
  #busy = false;
  constructor(key, onState) {
    this.#onState = onState;
    const credential = heldClientKey(key.held, key);
    this.#options = {
      ...connectOptions(),
      credential,
      // The latest socket closing while no request runs means the session is gone (a request in flight
      // hears of it itself, and the library retries a transfer on a new socket).
      connect: async () => {
        const opened = {
          conn: null
        };
        const conn = await connectWebSocket(socketUrl(), {
          onClose: () => {
            if (!this.#busy && this.#latest === opened.conn) this.#lost();
          }
        });
        opened.conn = conn;
        this.#latest = conn;
        return conn;
      }
    };
  }
  /** Runs one request on the session, after the ones before it; connects first if need be. */
  run(work) {
    const next = this.#queue.then(async () => {
      const client = await this.#connected();
      this.#busy = true;
      try {
        return await work(client);
      } catch (error) {
        if (error instanceof ClientError) this.#discard();
        throw error;
      } finally {
        this.#busy = false;
      }
    });
    this.#queue = next.catch(() => {
    });
    return next;
  }
  /** Connects now (the page calls it on load); the state callback says how it went. */
  start() {
    return this.run(() => Promise.resolve());
  }
  /** Ends the session for good (sign out). */
  async stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = await this.#client?.catch(() => null);
    await client?.close().catch(() => {
    });
  }
  /** The key was replaced (rotation): later connections use the new one. */
  replaceKey(held) {
    const old = this.#options.credential;
    this.#options.credential = heldClientKey(held, {
      identity: old.identity,
      bankPublicKey: old.bankPublicKey
    });
  }
  #connected() {
    if (this.#stopped) return Promise.reject(new ClientError("Signed out"));
    if (this.#client === null) {
      this.#onState("connecting");
      const client = BankClient.connect(this.#options);
      this.#client = client;
      client.then(() => {
        this.#delayMs = RECONNECT_DELAY_FIRST_MS;
        this.#onState("online");
      }, (error) => {
        this.#client = null;
        this.#failed(error);
      });
    }
    return this.#client;
  }
  #failed(error) {
    if (this.#stopped) return;
    if (error instanceof ClientError && error.failure?.code === "handshake_failed") {
      this.#stopped = true;
      this.#onState("key_refused");
      return;
    }
    this.#onState("offline");
    this.#retryLater();
  }
  #lost() {
    if (this.#stopped) return;
    this.#discard();
    this.#retryLater();
  }
  #discard() {
    const client = this.#client;
    this.#client = null;
    client?.then((open2) => open2.close(), () => {
    }).catch(() => {
    });
  }
  #retryLater() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#client === null && !this.#stopped) this.start().catch(() => {
      });
    }, this.#delayMs);
    this.#delayMs = Math.min(RECONNECT_DELAY_MAX_MS, this.#delayMs * 2);
  }
};

// web/src/keystore.ts
var DATABASE = "bank";
var VERSION = 1;
var KEYS = "keys";
var PENDING = "pending";
var KEY_RECORD = "current";
async function makeBrowserKey() {
  const pair = await crypto.subtle.generateKey({
    name: "Ed25519"
  }, false, [
    "sign",
    "verify"
  ]);
  return await heldKeyOf(pair.privateKey, new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)));
}
async function heldKeyOf(privateKey, publicKey) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey));
  return {
    privateKey,
    publicKey,
    keyId: toHex(digest.subarray(0, 16)),
    signer: {
      publicKey,
      sign: async (message) => new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, message))
    }
  };
}
function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(KEYS);
      request.result.createObjectStore(PENDING, {
        keyPath: "idempotencyKey"
      });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
async function run(store, mode, work) {
  const database = await open();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = database.transaction(store, mode);
      const request = work(transaction.objectStore(store));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}
function loadKey() {
  return run(KEYS, "readonly", (store) => store.get(KEY_RECORD));
}
async function saveKey(key) {
  await run(KEYS, "readwrite", (store) => store.put(key, KEY_RECORD));
}
function listPending() {
  return run(PENDING, "readonly", (store) => store.getAll());
}
async function savePending(transfer2) {
  await run(PENDING, "readwrite", (store) => store.put(transfer2));
}
async function forgetPending(idempotencyKey) {
  await run(PENDING, "readwrite", (store) => store.delete(idempotencyKey));
}
async function forgetEverything() {
  await run(KEYS, "readwrite", (store) => store.clear());
  await run(PENDING, "readwrite", (store) => store.clear());
}

// web/src/messages.ts
var CUSTOMER_MESSAGES = {
  malformed_request: "The bank could not read that request. Reload the page and try again.",
  unsupported_version: "This page is older than the bank. Reload it to get the current version.",
  unknown_operation: "The bank does not know that operation. Reload the page to get the current version.",
  invalid_field: "Something in the form is missing or not valid. Check it and try again.",
  amount_malformed: "Enter an amount like 12.34 or $1,250 (at most two decimals).",
  amount_must_be_positive: "The amount must be more than zero.",
  amount_over_limit: "That amount is over the bank's limit for one transfer.",
  key_reused_with_other_fields: "This transfer's reference was already used for a different transfer.",
  accounts_must_differ: "Choose a different account to send to: it is the account the money comes from.",
  account_not_found: "There is no such account, or it is not one you may use.",
  account_frozen: "One of the accounts is frozen: the transfer cannot be made. Contact the bank.",
  insufficient_funds: "There is not enough money in the account for this transfer.",
  hold_not_found: "No such hold was found.",
  hold_already_captured: "That hold was already captured.",
  hold_already_voided: "That hold was released.",
  hold_expired: "That hold has expired.",
  capture_exceeds_hold: "The capture is larger than the hold.",
  transfer_not_found: "No such transfer was found.",
  not_reversible: "Only a transfer can be refunded.",
  already_reversed: "That transfer was already refunded in full.",
  reversal_exceeds_transfer: "The refund is larger than what is left of the transfer.",
  contact_invalid: "Those contact details are not valid.",
  key_invalid: "The bank refused the new key. Try again.",
  key_exists: "That key is already registered.",
  key_limit: "This identity already has as many keys as it may. Ask the bank to revoke an old one.",
  not_allowed: "This session may not do that.",
  unavailable: "The bank could not complete the request just now. Try again in a moment.",
  rate_limited: "Too many requests just now. Wait a few seconds and try again."
};
function messageFor(code, detail) {
  const base = CUSTOMER_MESSAGES[code];
  return code === "contact_invalid" && detail !== void 0 ? `${base} (${detail})` : base;
}
var CANNOT_REACH = "The bank cannot be reached. Check your connection; the page keeps trying.";
var KEY_REFUSED = "The bank no longer accepts this browser's key: it was revoked or replaced. Sign out, then enrol again with a new code from the bank.";
var CODE_REFUSED = "The bank refused the code: it is wrong, already used, expired or out of attempts. Check it, or ask the bank for a new one.";
var OUTCOME_UNKNOWN = "The bank did not confirm this transfer: it may or may not have been made. Checking again resends it with the same reference, which can never pay twice.";

// web/src/main.ts
var VIEWS = [
  "loading",
  "enrol",
  "accounts",
  "transfer",
  "history",
  "contact",
  "security",
  "ended"
];
var SIGNED_IN_VIEWS = [
  "accounts",
  "transfer",
  "history",
  "contact",
  "security"
];
var HISTORY_PAGE = 20;
var state = {
  key: null,
  bank: null,
  accounts: [],
  historyBefore: null
};
function element(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`index.html has no #${id}`);
  return found;
}
function say(kind, text) {
  const other = element(kind === "error" ? "success" : "error");
  other.hidden = true;
  const target = element(kind);
  target.textContent = text;
  target.hidden = false;
}
function clearMessages() {
  element("error").hidden = true;
  element("success").hidden = true;
}
function show(view) {
  for (const name of VIEWS) element(`view-${name}`).hidden = name !== view;
  const signedIn = SIGNED_IN_VIEWS.includes(view);
  element("nav").hidden = !signedIn;
  element("who").hidden = state.key === null;
  for (const link of element("nav").querySelectorAll("a")) {
    if (link.getAttribute("href") === `#${view}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  element(`view-${view}`).querySelector("h1")?.focus();
}
function showConnection(connection) {
  const notice = element("connection");
  if (connection === "key_refused") {
    element("ended-reason").textContent = KEY_REFUSED;
    notice.hidden = true;
    show("ended");
    return;
  }
  notice.hidden = connection === "online";
  notice.textContent = connection === "offline" ? CANNOT_REACH : "Connecting to the bank\u2026";
  if (connection === "online" && !element("view-loading").hidden) route();
}
function explain(error) {
  if (error instanceof BankRequestError) return messageFor(error.code, error.detail);
  if (error instanceof ClientError) return CANNOT_REACH;
  return `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
}
async function busy(form, work) {
  const buttons = form instanceof HTMLFormElement ? [
    ...form.querySelectorAll("button")
  ] : [
    form
  ];
  for (const button of buttons) button.disabled = true;
  clearMessages();
  try {
    await work();
  } catch (error) {
    say("error", explain(error));
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}
function route() {
  if (state.key === null) return show("enrol");
  if (!element("view-ended").hidden) return;
  const asked = location.hash.slice(1);
  const view = SIGNED_IN_VIEWS.includes(asked) ? asked : "accounts";
  show(view);
  clearMessages();
  if (view === "accounts" || view === "transfer") void loadAccounts();
  if (view === "transfer") void showPending();
  if (view === "history") void loadHistory(true);
  if (view === "security") fillSecurity();
}
function bankPublicKey() {
  const content = document.querySelector('meta[name="bank-public-key"]')?.content ?? "";
  const key = fromBase64Url(content);
  if (key === null || key.length !== 32) throw new Error("The page does not carry the bank's key");
  return key;
}
async function signIn(key) {
  state.key = key;
  element("identity").textContent = key.identity;
  const held = await heldKeyOf(key.privateKey, key.publicKey);
  state.bank = new WebBank({
    held,
    identity: key.identity,
    bankPublicKey: key.bankPublicKey
  }, showConnection);
  await state.bank.start().catch(() => {
  });
}
async function enrol(form) {
  const identity = form.elements.namedItem("identity").value.trim();
  const code = parseInviteCode(form.elements.namedItem("code").value);
  if (!isIdentityName(identity)) {
    return say("error", "An identity name is letters, digits, '.', '_' or '-', at most 64.");
  }
  if (code === null) {
    return say("error", "A code is 32 letters and digits, as the bank gave it (dashes optional).");
  }
  const pinned = bankPublicKey();
  const fresh = await makeBrowserKey();
  try {
    await enrolWithInvite({
      ...connectOptions(),
      identity,
      code,
      bankPublicKey: pinned,
      fresh
    });
  } catch (error) {
    if (error instanceof ClientError && error.failure?.code === "handshake_failed") {
      return say("error", CODE_REFUSED);
    }
    throw error;
  }
  const key = {
    identity,
    keyId: fresh.keyId,
    publicKey: fresh.publicKey,
    privateKey: fresh.privateKey,
    bankPublicKey: pinned,
    enrolledAt: (/* @__PURE__ */ new Date()).toISOString()
  };
  await saveKey(key);
  form.reset();
  await signIn(key);
  history.replaceState(null, "", "#accounts");
  route();
  say("success", `This browser is enrolled as ${identity}.`);
}
async function signOut() {
  await state.bank?.stop();
  await forgetEverything();
  state.key = null;
  state.bank = null;
  state.accounts = [];
  element("identity").textContent = "";
  history.replaceState(null, "", location.pathname);
  show("enrol");
  say("success", "Signed out: this browser no longer holds a key for the bank.");
}
async function loadAccounts() {
  if (state.bank === null) return;
  try {
    state.accounts = await state.bank.run((client) => client.balance());
  } catch (error) {
    return say("error", explain(error));
  }
  const list = element("accounts");
  list.replaceChildren(...state.accounts.map((account) => {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "account-id";
    name.textContent = account.accountId;
    const balance = document.createElement("strong");
    balance.className = "balance";
    balance.dataset.testid = `balance-${account.accountId}`;
    balance.textContent = formatDollars(account.availableMinor);
    item.append(name, balance);
    if (account.availableMinor !== account.balanceMinor) {
      item.append(` available (${formatDollars(account.balanceMinor)} in the ledger)`);
    }
    if (account.status === "frozen") item.append(" (frozen)");
    return item;
  }));
  if (state.accounts.length === 0) list.textContent = "You have no account yet.";
  const from = element("transfer-from");
  const chosen = from.value;
  from.replaceChildren(...state.accounts.map((account) => {
    const option = document.createElement("option");
    option.value = account.accountId;
    option.textContent = `${account.accountId} (${formatDollars(account.availableMinor)})`;
    return option;
  }));
  if (state.accounts.some((account) => account.accountId === chosen)) from.value = chosen;
}
function readTransfer2(form) {
  const from = form.elements.namedItem("from").value;
  const to = form.elements.namedItem("to").value.trim();
  const typed = form.elements.namedItem("amount").value.trim();
  if (!isAccountId(to)) {
    say("error", "An account is up to 32 letters, digits, '_' or '-'.");
    return null;
  }
  const amount = parseDollars(typed.startsWith("$") ? typed : `$${typed}`, TRANSFER_MINOR_MAX);
  if (!amount.ok) {
    say("error", messageFor(amount.code));
    return null;
  }
  return {
    idempotencyKey: `web-${crypto.randomUUID()}`,
    from,
    to,
    amountMinor: amount.amountMinor.toString(),
    sentAt: (/* @__PURE__ */ new Date()).toISOString()
  };
}
async function send(transfer2) {
  const bank = state.bank;
  let outcome;
  try {
    outcome = await bank.run((client) => client.transfer({
      to: transfer2.to,
      amountMinor: BigInt(transfer2.amountMinor),
      idempotencyKey: transfer2.idempotencyKey,
      ...transfer2.from === "" ? {} : {
        from: transfer2.from
      }
    }));
  } catch (error) {
    if (error instanceof BankRequestError && error.code !== "unavailable") {
      await forgetPending(transfer2.idempotencyKey);
      await showPending();
      throw error;
    }
    await showPending();
    say("error", OUTCOME_UNKNOWN);
    return;
  }
  await forgetPending(transfer2.idempotencyKey);
  await showPending();
  const amount = formatDollars(outcome.amountMinor);
  say("success", `Sent ${amount} from ${outcome.sourceAccountId} to ${outcome.targetAccountId}.`);
  await loadAccounts();
}
async function transfer(form) {
  const pending = readTransfer2(form);
  if (pending === null) return;
  await savePending(pending);
  form.reset();
  await send(pending);
}
async function showPending() {
  const pending = await listPending();
  const box = element("pending");
  box.hidden = pending.length === 0;
  box.replaceChildren(...pending.map((transfer2) => {
    const line = document.createElement("p");
    line.textContent = `Not yet confirmed: ${formatDollars(BigInt(transfer2.amountMinor))} to ${transfer2.to}, sent ${new Date(transfer2.sentAt).toLocaleString()}. `;
    const again = document.createElement("button");
    again.type = "button";
    again.textContent = "Check again";
    again.addEventListener("click", () => void busy(again, () => send(transfer2)));
    line.append(again);
    return line;
  }));
}
function describePosting(item) {
  if (item.kind === "deposit") return `Opening deposit to ${item.accountId}`;
  return item.amountMinor < 0n ? `To ${item.counterpartyAccountId} from ${item.accountId}` : `From ${item.counterpartyAccountId} to ${item.accountId}`;
}
async function loadHistory(fresh) {
  if (state.bank === null) return;
  if (fresh) state.historyBefore = null;
  const before = state.historyBefore;
  let page;
  try {
    page = await state.bank.run((client) => client.history({
      limit: HISTORY_PAGE,
      ...before === null ? {} : {
        before
      }
    }));
  } catch (error) {
    return say("error", explain(error));
  }
  const rows = page.items.map((item) => {
    const row = document.createElement("tr");
    const when = document.createElement("td");
    when.textContent = new Date(item.createdAt).toLocaleString();
    const what = document.createElement("td");
    what.textContent = describePosting(item);
    const amount = document.createElement("td");
    amount.className = item.amountMinor < 0n ? "amount out" : "amount in";
    const magnitude = item.amountMinor < 0n ? -item.amountMinor : item.amountMinor;
    amount.textContent = `${item.amountMinor < 0n ? "\u2212" : "+"}${formatDollars(magnitude, {
      cents: "always"
    })}`;
    const after = document.createElement("td");
    after.className = "amount";
    after.textContent = formatDollars(item.balanceAfterMinor, {
      cents: "always"
    });
    row.append(when, what, amount, after);
    return row;
  });
  const body = element("history");
  if (fresh) body.replaceChildren(...rows);
  else body.append(...rows);
  element("history-empty").hidden = body.children.length > 0;
  state.historyBefore = page.nextBefore;
  element("history-older").hidden = page.nextBefore === null;
}
async function updateContact(form) {
  const details = {};
  for (const field of [
    "email",
    "phone",
    "address"
  ]) {
    const value = form.elements.namedItem(field).value.trim();
    if (value !== "") details[field] = value;
  }
  const changed = await state.bank.run((client) => client.updateContact(details));
  form.reset();
  say("success", changed.length === 0 ? "Your details on file are confirmed." : `Updated: ${changed.join(", ")}.`);
}
function fillSecurity() {
  const key = state.key;
  element("security-identity").textContent = key.identity;
  element("security-key").textContent = key.keyId;
  element("security-enrolled").textContent = new Date(key.enrolledAt).toLocaleString();
}
async function rotate() {
  const fresh = await makeBrowserKey();
  const rotated = await state.bank.run((client) => client.rotateKey(fresh));
  const key = {
    ...state.key,
    keyId: rotated.keyId,
    publicKey: fresh.publicKey,
    privateKey: fresh.privateKey
  };
  await saveKey(key);
  state.key = key;
  state.bank.replaceKey(fresh);
  fillSecurity();
  say("success", `This browser's key was replaced; the old one (${rotated.revokedKeyId}) no longer works.`);
}
function onSubmit(id, work) {
  const form = element(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, () => work(form));
  });
}
function onClick(id, work) {
  const button = element(id);
  button.addEventListener("click", () => void busy(button, work));
}
async function main() {
  onSubmit("enrol-form", enrol);
  onSubmit("transfer-form", transfer);
  onSubmit("contact-form", updateContact);
  onClick("refresh", loadAccounts);
  onClick("history-older", () => loadHistory(false));
  onClick("rotate", rotate);
  onClick("sign-out", signOut);
  onClick("ended-sign-out", signOut);
  addEventListener("hashchange", route);
  const key = await loadKey();
  if (key === void 0) return show("enrol");
  await signIn(key);
  if (!element("view-loading").hidden) route();
}
main().catch((error) => say("error", explain(error)));
