import { assert, assertEquals } from "@std/assert";
import { ensureDevCertificates } from "../certs/mod.ts";
import { runEchoClients, serveEcho } from "./echo.ts";

for (const sealed of [false, true]) {
  Deno.test(`${sealed ? "sealed" : "bare"} echo answers every frame of its clients`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "echo-" });
    const tls = await ensureDevCertificates(dir);
    const listener = await serveEcho({ certPem: tls.certPem, keyPem: tls.keyPem, sealed });
    try {
      const report = await runEchoClients({
        port: listener.addr.port,
        caPem: tls.caPem,
        clients: 3,
        durationMs: 300,
        warmupMs: 50,
        sealed,
      });
      assertEquals(report.clients, 3);
      assert(report.requests_per_second > 0, "frames came back");
      assert(report.latency.max_ms !== null);
    } finally {
      await listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
