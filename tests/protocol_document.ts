/**
 * Reads the test vectors out of docs/PROTOCOL.md section 11, as text: the fixed inputs, the table of
 * intermediate values and the frame bodies. No cryptography and nothing of the project's protocol code:
 * the vectors tests check the document, so they take its values from the document itself.
 *
 * @module
 */

export const PROTOCOL_DOCUMENT = new URL("../docs/PROTOCOL.md", import.meta.url);

/** Section 11 of the document, as printed. */
export interface DocumentVectors {
  /** The fixed inputs (identity name, keys and nonces), by their row name. */
  inputs: {
    identity: string;
    clientPrivateKey: Uint8Array;
    clientEphemeralPrivate: Uint8Array;
    serverEphemeralPrivate: Uint8Array;
    bankPrivateKey: Uint8Array;
    clientNonce: Uint8Array;
    serverNonce: Uint8Array;
  };
  /** Section 11.1's table: value name -> hex. */
  values: Map<string, string>;
  /** Frame bodies (HELLO ... ACCEPT) and whole wire frames (the sealed ones, the error), in hex. */
  hello: string;
  challenge: string;
  proof: string;
  accept: string;
  firstRequestFrame: string;
  firstAnswerFrame: string;
  errorFrame: string;
}

export async function readDocumentVectors(): Promise<DocumentVectors> {
  const text = await Deno.readTextFile(PROTOCOL_DOCUMENT);
  const section = between(text, "\n## 11. ", "\n## 12. ");
  const values = new Map<string, string>();
  for (const match of section.matchAll(/^\| ([A-Za-z0-9_ ]+?) +\| `([0-9a-f]+)` +\|$/gm)) {
    values.set(match[1]!, match[2]!);
  }
  const input = (name: string): Uint8Array => {
    const row = new RegExp(`^\\| ${name} +\\| \`([0-9a-f]{2}) [0-9a-f]{2} \\.\\.\\. [0-9a-f]{2}\``, "m").exec(
      section,
    );
    if (row === null) throw new Error(`docs/PROTOCOL.md section 11 has no input "${name}"`);
    const start = parseInt(row[1]!, 16);
    return Uint8Array.from({ length: 32 }, (_, index) => (start + index) & 0xff);
  };
  const identity = /^\| identity +\| `([^`]+)`/m.exec(section);
  if (identity === null) throw new Error("docs/PROTOCOL.md section 11 names no identity");
  return {
    inputs: {
      identity: identity[1]!,
      clientPrivateKey: input("client private key \\(Ed25519\\)"),
      clientEphemeralPrivate: input("client ephemeral private key"),
      serverEphemeralPrivate: input("server ephemeral private key"),
      bankPrivateKey: input("bank private key \\(Ed25519\\)"),
      clientNonce: input("client nonce"),
      serverNonce: input("server nonce"),
    },
    values,
    hello: codeAfter(section, "**HELLO body**"),
    challenge: codeAfter(section, "**CHALLENGE body**"),
    proof: codeAfter(section, "**PROOF body**"),
    accept: codeAfter(section, "**ACCEPT body**"),
    firstRequestFrame: codeAfter(section, "The client's first frame"),
    firstAnswerFrame: codeAfter(section, "The server's first frame"),
    errorFrame: codeAfter(section, "Error frame `handshake_failed`"),
  };
}

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`docs/PROTOCOL.md has no section "${start.trim()}"`);
  return text.slice(from, to);
}

/** The hex of the first code block after `marker`: the first word of each line (the rest annotates it). */
function codeAfter(section: string, marker: string): string {
  const at = section.indexOf(marker);
  if (at < 0) throw new Error(`docs/PROTOCOL.md section 11 has no "${marker}"`);
  const open = section.indexOf("```\n", at);
  const close = section.indexOf("\n```", open + 4);
  const hex = section.slice(open + 4, close).split("\n").map((line) => line.trim().split(/\s+/)[0]).join("");
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) throw new Error(`The block after "${marker}" is not hex`);
  return hex;
}
