/**
 * AES-256-GCM cost per message: WebCrypto against `node:crypto`, alone and inside {@link SealedChannel}.
 * Run with `deno bench --allow-all bench/`. Each iteration seals one message and opens it again, and checks
 * the result, so a broken implementation cannot look fast.
 *
 * @module
 */
import { aeadByName } from "../protocol/node_crypto.ts";
import type { Aead } from "../protocol/aead.ts";
import type { AeadName } from "../protocol/node_crypto.ts";
import { assert } from "../lib/assert.ts";
import { randomBytes } from "../lib/bytes.ts";
import { SealedChannel } from "../protocol/channel.ts";
import { deriveSessionKeys } from "../protocol/handshake.ts";
import type { SessionKeys } from "../protocol/handshake.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { AES_KEY_BYTES, FRAME_HEADER_BYTES, GCM_NONCE_BYTES } from "../protocol/limits.ts";
import { FrameType } from "../protocol/wire.ts";

const NAMES: readonly AeadName[] = ["webcrypto", "node"];
const BASELINE: AeadName = "webcrypto";
/**
 * Message sizes: a typical request, a large answer, and a frame near the default limit (where the
 * thread-pool hop no longer dominates and `node:crypto` in Deno 2.9.6 is the slower one).
 */
const MESSAGE_SIZES: readonly [string, number][] = [["64 B", 64], ["1 KiB", 1024], ["60 KiB", 60 * 1024]];
/** The AAD a sealed frame carries: length prefix, type and sequence number. */
const AAD_BYTES = 13;

async function makeAead(name: AeadName): Promise<Aead> {
  return await aeadByName(name)(randomBytes(AES_KEY_BYTES));
}

function makeSecrets(): Promise<SessionKeys> {
  return deriveSessionKeys(webHandshakeCrypto, {
    shared: randomBytes(AES_KEY_BYTES),
    helloHash: randomBytes(32),
  });
}

for (const [label, size] of MESSAGE_SIZES) {
  for (const name of NAMES) {
    const aead = await makeAead(name);
    const nonce = randomBytes(GCM_NONCE_BYTES);
    const aad = randomBytes(AAD_BYTES);
    const plaintext = randomBytes(size);
    Deno.bench({
      name: `${name}: Aead seal + open, ${label}`,
      group: `aead ${label}`,
      baseline: name === BASELINE,
      async fn() {
        const opened = await aead.open(nonce, await aead.seal(nonce, plaintext, aad), aad);
        assert(opened !== null, "Bench message must open");
        assert(opened.length === size, "Bench message must open");
      },
    });
  }
}

for (const [label, size] of MESSAGE_SIZES) {
  for (const name of NAMES) {
    const secrets = await makeSecrets();
    const options = { aead: aeadByName(name) };
    const client = await SealedChannel.create(secrets, { role: "client", ...options });
    const server = await SealedChannel.create(secrets, { role: "server", ...options });
    const plaintext = randomBytes(size);
    Deno.bench({
      name: `${name}: SealedChannel seal + open, ${label}`,
      group: `channel ${label}`,
      baseline: name === BASELINE,
      async fn() {
        const frame = await client.seal(FrameType.sealedJson, plaintext);
        const result = await server.open(frame.subarray(FRAME_HEADER_BYTES));
        assert(result.ok, "Bench frame must open");
      },
    });
  }
}
