import { assertEquals, assertStringIncludes } from "@std/assert";
import { contentSecurityPolicy, createWebApp, webOriginsOf } from "./app.ts";

const BANK_KEY = new Uint8Array(32).fill(7);

Deno.test("webOriginsOf() names the certificate's loopback names on loopback, the host elsewhere, and extras", () => {
  assertEquals([...webOriginsOf("127.0.0.1", 8444, [])], [
    "https://localhost:8444",
    "https://127.0.0.1:8444",
    "https://[::1]:8444",
  ]);
  assertEquals([...webOriginsOf("10.0.0.5", 443, ["https://bank.example"])], [
    "https://10.0.0.5",
    "https://bank.example",
  ]);
  assertEquals([...webOriginsOf("::", 8444, [])].length, 3, "every address: the loopback names");
  assertEquals([...webOriginsOf("fd00::1", 8444, [])], ["https://[fd00::1]:8444"]);
});

Deno.test("The web app serves its files with the bank's key, a strict CSP, and HSTS only beyond loopback", async () => {
  const origins = new Set(["https://127.0.0.1:8444"]);
  for (const hsts of [false, true]) {
    const app = createWebApp({ bankPublicKey: BANK_KEY, origins, hsts });
    const page = await app.request("https://127.0.0.1:8444/", { headers: { host: "127.0.0.1:8444" } });
    assertEquals(page.status, 200);
    assertStringIncludes(await page.text(), 'content="BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"');
    assertEquals(
      page.headers.get("content-security-policy"),
      contentSecurityPolicy("https://127.0.0.1:8444"),
    );
    assertStringIncludes(
      page.headers.get("content-security-policy")!,
      "connect-src wss://127.0.0.1:8444/ws;",
    );
    assertEquals(page.headers.get("strict-transport-security"), hsts ? "max-age=31536000" : null);
    assertEquals(page.headers.get("x-frame-options"), "DENY");
    const script = await app.request("https://127.0.0.1:8444/app.js", {
      headers: { host: "127.0.0.1:8444" },
    });
    assertEquals(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    await script.body?.cancel();
  }
  const app = createWebApp({ bankPublicKey: BANK_KEY, origins, hsts: false });
  const foreign = await app.request("https://evil.example/", { headers: { host: "evil.example" } });
  assertEquals(foreign.status, 421, "a Host the bank does not know is never served");
  await foreign.body?.cancel();
  const missing = await app.request("https://127.0.0.1:8444/nothing", {
    headers: { host: "127.0.0.1:8444" },
  });
  assertEquals(missing.status, 404);
  await missing.body?.cancel();
});
