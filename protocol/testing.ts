/**
 * Support for tests: the pairings of AES-GCM implementations every channel test runs over.
 *
 * @module
 */
import { nodeCryptoAead, webCryptoAead } from "./aead.ts";
import type { AeadFactory } from "./aead.ts";

/** The AES-256-GCM implementations; each must give a session the same guarantees. */
const PRIMITIVES: readonly [string, AeadFactory][] = [
  ["webcrypto", webCryptoAead],
  ["node", nodeCryptoAead],
];

/** Which implementation each end of a session uses. */
export interface AeadPair {
  name: string;
  client: AeadFactory;
  server: AeadFactory;
}

/**
 * Every pairing of implementations: the same one at both ends, and the client on one while the server is on
 * the other, since sealed frames must open whichever implementation sealed them.
 */
export const AEAD_PAIRS: readonly AeadPair[] = PRIMITIVES.flatMap(([clientName, client]) =>
  PRIMITIVES.map(([serverName, server]) => ({
    name: clientName === serverName ? clientName : `${clientName} client, ${serverName} server`,
    client,
    server,
  }))
);
