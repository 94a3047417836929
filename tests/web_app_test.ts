/**
 * The web app in a real browser, as a customer uses it: Debian's Chromium, driven by playwright-core,
 * trusting the bank's development CA the way a user's browser would, through an NSS database in its own
 * HOME (never by ignoring certificate errors), opens the server's web port.
 *
 * - Enrol with a code from `bank-server clients invite` (which opens the customer's account), see $500, transfer $12.34 to XYZ, see $487.66 and
 *   the history line; reload and still be signed in; the key revoked from the command line ends the
 *   page's session.
 * - A wrong code is refused, and so is a second use of a code.
 * - The network cut during a transfer (a proxy drops the bank's answers): the page says the outcome is
 *   unknown; checking again once the network is back applies the transfer exactly once.
 *
 * Screenshots at desktop and phone width; with `BANK_UPDATE_SCREENSHOT=1` they replace docs/web-*.png.
 *
 * @module
 */
import { assertEquals, assertMatch } from "@std/assert";
import { assert } from "../lib/assert.ts";
import type { BrowserContext, Page } from "playwright-core";
import {
  browserSkipReason,
  collectPageProblems,
  launchBrowser,
  openPage,
  WAIT_TIMEOUT_MS,
  waitUntil,
} from "../tools/browser.ts";
import { runAdmin, startServer } from "../tools/harness.ts";
import type { Program, ServerHandle } from "../tools/harness.ts";

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = new URL("../docs/", import.meta.url).pathname;

const skipReason = (await browserSkipReason("tests/web_app_test.ts")) ??
  (await isCommand("certutil")
    ? null
    : "certutil is missing (apt-get install libnss3-tools), as CI installs it");

/** A HOME whose NSS database trusts the bank's CA, as `certutil` makes a user's browser trust one. */
async function trustingHome(caPath: string): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "bank-browser-home-" });
  const database = `sql:${home}/.pki/nssdb`;
  await Deno.mkdir(`${home}/.pki/nssdb`, { recursive: true });
  await certutil(["-d", database, "-N", "--empty-password"]);
  await certutil(["-d", database, "-A", "-t", "C,,", "-n", "Bank Development CA", "-i", caPath]);
  return home;
}

async function certutil(args: string[]): Promise<void> {
  const output = await new Deno.Command("certutil", { args, stdout: "piped", stderr: "piped" }).output();
  if (!output.success) {
    throw new Error(`certutil ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

async function isCommand(name: string): Promise<boolean> {
  try {
    return (await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function admin(server: ServerHandle, args: string[]): Promise<string> {
  const result = await runAdmin(args, { dataDir: server.dataDir });
  assertEquals(result.code, 0, `bank-server ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

async function invite(server: ServerHandle, name: string): Promise<string> {
  const code = (await admin(server, ["clients", "invite", name])).trim();
  assertMatch(code, /^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
  return code;
}

async function enrolIn(page: Page, identity: string, code: string): Promise<void> {
  await page.getByLabel("Identity name").fill(identity);
  await page.getByLabel("One-time code").fill(code);
  await page.getByRole("button", { name: "Enrol" }).click();
}

async function waitForText(page: Page, testId: string, expected: string | RegExp): Promise<string> {
  return await waitUntil(`${testId} shows ${expected}`, async () => {
    const locator = page.getByTestId(testId);
    if (!(await locator.isVisible())) return null;
    const text = (await locator.textContent())?.trim() ?? "";
    return (typeof expected === "string" ? text.includes(expected) : expected.test(text)) ? text : null;
  }, async () => {
    const [shown, error] = await Promise.all(
      [page.getByTestId(testId), page.getByTestId("error")].map((locator) =>
        locator.textContent({ timeout: 1_000 }).catch(() => null)
      ),
    );
    const main = await page.locator("main").innerText({ timeout: 1_000 }).catch(() => "");
    return `it shows "${shown}"; the page's error line: "${error}"; the page: ${JSON.stringify(main)}`;
  });
}

async function historyLines(page: Page): Promise<string[]> {
  await page.getByRole("link", { name: "History" }).click();
  await page.getByTestId("history").locator("tr").first().waitFor();
  return (await page.getByTestId("history").locator("tr").allTextContents()).map((line) => line.trim());
}

async function transferIn(page: Page, parts: { to: string; amount: string }): Promise<void> {
  await page.getByRole("link", { name: "Transfer" }).click();
  await page.getByLabel("To account").fill(parts.to);
  await page.getByLabel("Amount (USD)").fill(parts.amount);
  await page.getByRole("button", { name: "Send" }).click();
}

/** The customer's journey, from a code to a revoked key, against a server run by `program`. */
async function customerJourney(program?: Program): Promise<void> {
  await using server = await startServer({
    web: true,
    args: ["--demo-clients", "0"],
    ...(program === undefined ? {} : { program }),
  });
  const home = await trustingHome(`${server.dataDir}/ca.crt`);
  const browser = await launchBrowser({ home });
  try {
    const code = await invite(server, "ada");
    const page = await openPage(browser, DESKTOP);
    const problems = collectPageProblems(page);
    const origin = `https://127.0.0.1:${server.webPort}`;
    await page.goto(`${origin}/`);
    assertEquals(await page.title(), "Bank");
    await screenshot(page, "web-enrol.png");
    await enrolIn(page, "ada", code);
    await waitForText(page, "success", "This browser is enrolled as ada.");
    await waitForText(page, "accounts", "$500");

    await transferIn(page, { to: "XYZ", amount: "12.34" });
    await waitForText(page, "success", /^Sent \$12\.34 from ACC-\S+ to XYZ\.$/);
    await page.getByRole("link", { name: "Accounts" }).click();
    await waitForText(page, "accounts", "$487.66");
    await screenshot(page, "web-accounts.png");
    const history = await historyLines(page);
    assertEquals(history.length, 2, history.join("\n"));
    // Newest first, with the balance after it: $500 - $12.34.
    assertMatch(history[0]!, /To XYZ from ACC-\S+\s*−\$12\.34\s*\$487\.66$/);
    assertMatch(history[1]!, /Opening deposit to ACC-\S+\s*\+\$500\.00\s*\$500\.00$/);
    await screenshot(page, "web-history.png");
    await page.setViewportSize(PHONE);
    await screenshot(page, "web-history-phone.png");
    await page.setViewportSize(DESKTOP);

    await page.reload();
    await waitForText(page, "identity", "ada");
    assertEquals((await historyLines(page)).length, 2, "still signed in: the history loads after a reload");
    await page.getByRole("link", { name: "Accounts" }).click();
    await waitForText(page, "accounts", "$487.66");

    await page.getByRole("link", { name: "Contact" }).click();
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByRole("button", { name: "Save" }).click();
    await waitForText(page, "success", "Updated: email.");
    await page.getByLabel("Phone").fill("12");
    await page.getByRole("button", { name: "Save" }).click();
    await waitForText(page, "error", "Those contact details are not valid. (phone is not valid)");

    // The page replaces its key (both sign the change); the bank then holds the new one only.
    const first = /^([0-9a-f]{32}) device active /m.exec(await admin(server, ["clients", "keys", "ada"]))
      ?.[1];
    assert(first !== undefined, "ada has a device key");
    await page.getByRole("link", { name: "Security" }).click();
    await waitForText(page, "key-id", first); // the page names the key the bank holds
    await page.getByRole("button", { name: "Replace this browser's key" }).click();
    await waitForText(page, "success", `the old one (${first}) no longer works`);
    const keys = await admin(server, ["clients", "keys", "ada"]);
    const device = /^([0-9a-f]{32}) device active /m.exec(keys)?.[1];
    assert(device !== undefined && device !== first, keys);
    assertMatch(keys, new RegExp(`^${first} device revoked `, "m"));
    await waitForText(page, "key-id", device);
    await page.getByRole("link", { name: "Accounts" }).click();
    await waitForText(page, "accounts", "$487.66"); // the new key opens sessions
    await admin(server, ["clients", "revoke", "ada", "--key", device]);
    await waitForText(page, "ended", "no longer accepts this browser's key");
    assertEquals(problems, [], "no console errors, no CSP violations");
  } finally {
    await browser.close();
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test({
  name:
    "A customer enrols in Chromium, sees $500, sends $12.34, keeps the session on reload; a revoked key ends it",
  ignore: skipReason !== null,
  fn: () => customerJourney(),
});

Deno.test({
  name:
    "The compiled bank-server serves the same journey from its embedded files (gated like the compile test)",
  ignore: skipReason !== null ||
    (Deno.env.get("DENORT_BIN") === undefined && Deno.env.get("BANK_COMPILE_TEST") !== "1"),
  async fn() {
    const root = new URL("../", import.meta.url).pathname;
    const build = await new Deno.Command(Deno.execPath(), { args: ["task", "compile:server"], cwd: root })
      .output();
    assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
    await customerJourney({ executable: `${root}dist/bank-server`, args: [] });
  },
});

Deno.test({
  name:
    "A wrong code and a used code are refused; with the network cut mid-transfer the page says so, then applies it once",
  ignore: skipReason !== null,
  async fn() {
    await using proxy = new CuttingProxy();
    await using server = await startServer({
      web: true,
      args: ["--demo-clients", "0", "--web-origin", proxy.origin],
    });
    proxy.target = server.webPort;
    const home = await trustingHome(`${server.dataDir}/ca.crt`);
    const browser = await launchBrowser({ home });
    try {
      const used = await invite(server, "carol");
      const code = await invite(server, "bob");
      const context: BrowserContext = await browser.newContext({ viewport: PHONE });
      const page = await openPage(context, PHONE);
      const problems = collectPageProblems(page);
      await page.goto(`${proxy.origin}/`);

      // Carol's code enrols once, in another browser; here it is refused, as is a wrong code for bob.
      const other = await openPage(browser, DESKTOP);
      await other.goto(`${proxy.origin}/`);
      await enrolIn(other, "carol", used);
      await waitForText(other, "success", "enrolled as carol");
      await other.close();
      await enrolIn(page, "carol", used);
      await waitForText(page, "error", "The bank refused the code");
      const wrong = code.slice(0, -1) + (code.endsWith("0") ? "1" : "0");
      await enrolIn(page, "bob", wrong);
      await waitForText(page, "error", "The bank refused the code");
      await enrolIn(page, "bob", code);
      await waitForText(page, "accounts", "$500");

      proxy.cutting = true;
      await transferIn(page, { to: "XYZ", amount: "$1" });
      await waitForText(page, "error", "did not confirm this transfer");
      await waitForText(page, "pending", "Not yet confirmed: $1 to XYZ");
      await screenshot(page, "web-unknown-phone.png");
      proxy.cutting = false;
      await page.getByRole("button", { name: "Check again" }).click();
      await waitForText(page, "success", /^Sent \$1 from ACC-\S+ to XYZ\.$/);
      assertEquals(await page.getByTestId("pending").isVisible(), false);
      await page.getByRole("link", { name: "Accounts" }).click();
      await waitForText(page, "accounts", "$499");
      const history = await historyLines(page);
      assertEquals(history.filter((line) => line.includes("To XYZ")).length, 1, history.join("\n"));
      assert(proxy.cuts > 0, "the proxy did cut answers");
      // The cut connections show up as failed loads; nothing else may.
      assertEquals(problems.filter((problem) => !/WebSocket|ERR_CONNECTION/.test(problem)), []);

      await page.getByRole("link", { name: "Security" }).click();
      await page.getByRole("button", { name: "Sign out and forget the key" }).click();
      await waitForText(page, "success", "Signed out");
      await page.reload();
      await page.getByLabel("One-time code").waitFor(); // nothing kept: the page asks to enrol again
      await context.close();
    } finally {
      await browser.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});

async function screenshot(page: Page, name: string): Promise<void> {
  const path = Deno.env.get("BANK_UPDATE_SCREENSHOT") === "1"
    ? `${SCREENSHOTS}${name}`
    : `${await Deno.makeTempDir({ prefix: "bank-web-shot-" })}/${name}`;
  await page.screenshot({ path, fullPage: true, timeout: WAIT_TIMEOUT_MS });
  assert((await Deno.stat(path)).size > 1_000, `${name} was written`);
}

/**
 * A TCP proxy between the browser and the web port that, while `cutting`, drops whatever the server sends
 * and closes both sides: the request arrives and is applied, the answer never does.
 */
class CuttingProxy implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #loop: Promise<void>;
  target = 0;
  cutting = false;
  cuts = 0;

  constructor() {
    this.#loop = this.#accept();
  }

  get origin(): string {
    return `https://127.0.0.1:${(this.#listener.addr as Deno.NetAddr).port}`;
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      this.#pair(client).catch(() => {});
    }
  }

  async #pair(client: Deno.Conn): Promise<void> {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
    this.#conns.add(client).add(server);
    const close = () => {
      for (const conn of [client, server]) {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
    };
    const pump = async (from: Deno.Conn, to: Deno.Conn, answers: boolean) => {
      const buffer = new Uint8Array(16 * 1024);
      try {
        for (;;) {
          const count = await from.read(buffer);
          if (count === null) break;
          if (answers && this.cutting) {
            this.cuts += 1;
            break;
          }
          for (let written = 0; written < count;) written += await to.write(buffer.subarray(written, count));
        }
      } catch {
        // Either side went away.
      }
      close();
    };
    await Promise.all([pump(client, server, false), pump(server, client, true)]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) conn.close();
    await this.#loop.catch(() => {});
  }
}
