import { assertEquals } from "@std/assert";
import { toHex } from "../lib/bytes.ts";
import { readDocumentVectors } from "./protocol_document.ts";
import { computeVectors, VECTOR_INPUTS } from "../tools/protocol_vectors.ts";

/** Section 11.1's row names for the values `computeVectors` names in code. */
const TABLE_ROWS: Record<string, string> = {
  client_public_key: "client public key",
  key_id: "key id",
  bank_public_key: "bank public key",
  client_ephemeral_public: "client ephemeral public",
  server_ephemeral_public: "server ephemeral public",
  shared_secret: "shared",
  hello_hash: "hello_hash",
  client_to_server_key: "c2s_key",
  server_to_client_key: "s2c_key",
  server_finished_key: "server_finished_key",
  client_finished_key: "client_finished_key",
  accept_key: "accept_key",
  transcript_hash: "transcript_hash",
};

Deno.test("docs/PROTOCOL.md lists the inputs tools/protocol_vectors.ts uses", async () => {
  const { inputs } = await readDocumentVectors();
  assertEquals(inputs.identity, VECTOR_INPUTS.identity);
  for (const name of Object.keys(inputs) as (keyof typeof inputs)[]) {
    if (name === "identity") continue;
    assertEquals(toHex(inputs[name]), toHex(VECTOR_INPUTS[name]), name);
  }
});

Deno.test("docs/PROTOCOL.md section 11 prints exactly what the project's handshake and channel compute", async () => {
  const [document, computed] = await Promise.all([readDocumentVectors(), computeVectors()]);
  for (const [name, row] of Object.entries(TABLE_ROWS)) {
    assertEquals(document.values.get(row), computed[name], row);
  }
  assertEquals(document.values.size, Object.keys(TABLE_ROWS).length, "the table has no other rows");
  assertEquals(document.hello, computed.hello);
  assertEquals(document.challenge, computed.challenge);
  assertEquals(document.proof, computed.proof);
  assertEquals(document.accept, computed.accept);
  assertEquals(document.firstRequestFrame, computed.first_request_frame);
  assertEquals(document.firstAnswerFrame, computed.first_answer_frame);
});
