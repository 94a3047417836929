/**
 * The TLS audit, with OpenSSL's own client against the running server (both listeners): TLS 1.2 and 1.3
 * only, and on TLS 1.2 only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305). Legacy
 * versions, CBC suites and static-RSA or non-ECDHE key exchange are refused.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const OPENSSL = await new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
  .output().then((output) => output.success, () => false);
if (!OPENSSL) console.warn("WARNING: openssl is not installed; the TLS audit is SKIPPED");

/** What `openssl s_client` negotiated, or null when the handshake was refused. */
async function negotiate(
  server: ServerHandle,
  options: { version: string; cipher?: string },
): Promise<{ protocol: string; cipher: string } | null> {
  const args = [
    "s_client",
    "-connect",
    `127.0.0.1:${server.port}`,
    "-servername",
    "localhost",
    "-CAfile",
    `${server.dataDir}/ca.crt`,
    "-verify_return_error",
    `-${options.version}`,
    ...(options.cipher === undefined ? [] : ["-cipher", options.cipher]),
  ];
  const child = new Deno.Command("openssl", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.close();
  const timer = setTimeout(() => child.kill(), 10_000);
  const output = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(output.stdout);
  const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(text)?.[1] ??
    /^New, (TLSv[\d.]+), Cipher is/m.exec(text)?.[1];
  const cipher = /^New, TLSv[\d.]+, Cipher is (\S+)/m.exec(text)?.[1];
  if (protocol === undefined || cipher === undefined || cipher === "(NONE)") return null;
  return { protocol, cipher };
}

for (const listener of ["node", "deno"]) {
  Deno.test({
    name: `TLS audit (${listener} listener): TLS 1.2 and 1.3 only, forward-secret AEAD suites only`,
    ignore: !OPENSSL,
    fn: async () => {
      await using server = await startServer({ args: ["--demo-clients", "1", "--tls-listener", listener] });
      const tls13 = await negotiate(server, { version: "tls1_3" });
      assertEquals(tls13?.protocol, "TLSv1.3");
      assertMatch(tls13!.cipher, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
      for (
        const cipher of [
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-CHACHA20-POLY1305",
        ]
      ) {
        assertEquals(
          await negotiate(server, { version: "tls1_2", cipher }),
          { protocol: "TLSv1.2", cipher },
          cipher,
        );
      }
      for (const version of ["tls1", "tls1_1"]) {
        assertEquals(await negotiate(server, { version }), null, `${version} must be refused`);
      }
      const refused = [
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA384",
        "AES128-GCM-SHA256",
        "AES256-SHA",
        "DHE-RSA-AES128-GCM-SHA256",
      ];
      for (const cipher of refused) {
        assertEquals(
          await negotiate(server, { version: "tls1_2", cipher }),
          null,
          `${cipher} must be refused`,
        );
      }
    },
  });
}
