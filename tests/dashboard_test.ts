/**
 * The operators' dashboard in a real browser: Debian's Chromium, driven by playwright-core, loads the page
 * from the real server's monitor port under its Content-Security-Policy and must follow the server's
 * counters, charts and recent transfers while clients work. A protected monitor must ask for its token and
 * work with `#token=…`. The test takes a screenshot; with `BANK_UPDATE_SCREENSHOT=1` it replaces
 * docs/dashboard.png, the README's, and otherwise leaves the working tree alone.
 *
 * Run it with `deno test --allow-all tests/dashboard_test.ts`: playwright-core reads
 * /proc/sys/fs/binfmt_misc when it loads (to detect WSL), which Deno allows only under --allow-all (and
 * --allow-run already grants as much). Skipped, loudly, where /usr/bin/chromium is missing (CI installs
 * it) or the run lacks --allow-all; playwright-core is imported only when the tests run.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import type { Page } from "playwright-core";
import {
  browserSkipReason,
  collectPageProblems,
  launchBrowser,
  openPage,
  WAIT_TIMEOUT_MS,
  waitUntil,
} from "../tools/browser.ts";
import { flood } from "../bench/flood.ts";
import { randomBytes } from "../lib/bytes.ts";
import { connectAs, runClient, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const VIEWPORT = { width: 1280, height: 900 };
const README_SCREENSHOT_PATH = new URL("../docs/dashboard.png", import.meta.url).pathname;

const CLI_CLIENTS = 10;
/** The seed's Test Case 1: Check Balance, Transfer $100 to Account XYZ, Update Contact Information. */
const CLI_TASKS_PER_CLIENT = 3;
/** Structured sessions, started one after another, send balance requests for a few seconds, then a transfer. */
const STEADY_BALANCE_REQUESTS = 60;
const STEADY_PAUSE_MS = 40;
const STEADY_STAGGER_MS = 1_500;
const STEADY_TRANSFERS = [
  { identity: "client-4", from: "ACC-0004", to: "ACC-0005", amountMinor: 1n, dollars: "$0.01" },
  { identity: "client-5", from: "ACC-0005", to: "XYZ", amountMinor: 407n, dollars: "$4.07" },
  { identity: "client-6", from: "ACC-0006", to: "ACC-0004", amountMinor: 12_345n, dollars: "$123.45" },
] as const;

const skipReason = await browserSkipReason("tests/dashboard_test.ts");

Deno.test({
  name: "The dashboard follows the server's counters, charts and recent transfers in Chromium",
  ignore: skipReason !== null,
  async fn() {
    await using server = await startServer({ args: ["--demo-clients", String(CLI_CLIENTS)] });
    const browser = await launchBrowser();
    try {
      const page = await openPage(browser, VIEWPORT);
      const problems = collectPageProblems(page);
      await page.goto(`http://127.0.0.1:${server.monitorPort}/`, { timeout: WAIT_TIMEOUT_MS });
      assertEquals(await page.title(), "Bank server monitor");
      for (const testId of ["tasks-processed", "tasks-failed", "connections-total", "connections-open"]) {
        await waitForValue(page, testId, "0");
      }
      await waitForValue(page, "rejected", "0");
      await waitForValue(page, "draining", "false");
      assertMatch(await valueOf(page, "uptime") ?? "", /^[0-9]+$/);

      const cli = await runClient(server, ["--clients", String(CLI_CLIENTS)]);
      assertEquals(cli.code, 0, cli.stdout + cli.stderr);
      const steady = await Promise.all(STEADY_TRANSFERS.map(async (transfer, index) => {
        await new Promise((resolve) => setTimeout(resolve, index * STEADY_STAGGER_MS));
        return await steadySession(server, transfer);
      }));
      const requestsSent = CLI_CLIENTS * CLI_TASKS_PER_CLIENT + steady.reduce((sum, count) => sum + count, 0);
      const connectionsMade = CLI_CLIENTS + STEADY_TRANSFERS.length;

      await waitForValue(page, "tasks-processed", String(requestsSent));
      await waitForValue(page, "connections-total", String(connectionsMade));
      await waitForValue(page, "connections-open", "0");
      await waitForValue(page, "tasks-failed", "0");
      await waitForValue(page, "rejected", "0");
      await waitForValue(page, "rejection-rate", "0");
      assertMatch(await page.getByTestId("open-files").textContent() ?? "", /^[0-9,]+ of [0-9,.]+[kM]?$/);
      assertEquals(await page.getByTestId("tasks-processed").textContent(), String(requestsSent));

      const expectedRows = [
        ...Array.from({ length: CLI_CLIENTS }, (_, index) => {
          const from = `ACC-${String(index + 1).padStart(4, "0")}`;
          return `${from} -> XYZ $100.00`;
        }),
        ...STEADY_TRANSFERS.map((transfer) => `${transfer.from} -> ${transfer.to} ${transfer.dollars}`),
      ].sort();
      await waitUntil("the recent transfers table lists every transfer", async () => {
        const rows = await transferRows(page);
        return JSON.stringify([...rows].sort()) === JSON.stringify(expectedRows) ? rows : null;
      });

      const throughput = page.getByTestId("chart-throughput");
      await waitUntil("the throughput chart counts every request", async () => {
        const total = await throughput.getAttribute("data-total", { timeout: WAIT_TIMEOUT_MS });
        return total === String(requestsSent) ? true : null;
      }, async () => `it counts ${await throughput.getAttribute("data-total")}`);
      assert(Number(await throughput.getAttribute("data-peak")) > 0);
      const path = await throughput.locator('path.line[data-series="requests"]').getAttribute("d", {
        timeout: WAIT_TIMEOUT_MS,
      });
      assertMatch(path ?? "", /^M[0-9.]+ [0-9.]+[VH]/, "the throughput line has segments");
      const latency = await page.getByTestId("chart-latency").locator('path.line[data-series="p50_ms"]')
        .getAttribute("d", { timeout: WAIT_TIMEOUT_MS });
      assertMatch(latency ?? "", /^M[0-9.]+ [0-9.]+[VH]/, "the latency line has segments");
      await waitUntil("the connections chart shows every connection closed", async () => {
        const latest = await page.getByTestId("chart-connections").getAttribute("data-latest");
        return latest === "0" ? true : null;
      });

      // A flood from another address: the surplus over its pending budget shows as rejections per second.
      const flooded = await flood({
        host: "127.0.0.1",
        port: server.port,
        from: ["127.0.0.2"],
        count: 200,
        mode: "tcp",
        holdMs: 300,
      });
      assertEquals(flooded.connected, 200);
      await waitUntil("the dashboard shows the rejection rate", async () => {
        const rate = Number(await page.getByTestId("rejection-rate").getAttribute("data-value"));
        return rate > 0 ? true : null;
      });
      assertMatch(
        await valueOf(page, "rejected") ?? "",
        /^(1[3-9][0-9]|[2-9][0-9]{2})$/,
        "136 or more rejected",
      );

      const updateReadme = Deno.env.get("BANK_UPDATE_SCREENSHOT") === "1";
      const screenshotPath = updateReadme
        ? README_SCREENSHOT_PATH
        : await Deno.makeTempFile({ suffix: ".png" });
      try {
        await page.screenshot({ path: screenshotPath, fullPage: true, timeout: WAIT_TIMEOUT_MS });
        assert((await Deno.stat(screenshotPath)).size > 0, "the screenshot was written");
      } finally {
        if (!updateReadme) await Deno.remove(screenshotPath);
      }
      assertEquals(problems, [], "the page logged no errors and broke no Content-Security-Policy rule");
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "The dashboard asks for the monitor token and works with #token=",
  ignore: skipReason !== null,
  async fn() {
    // Hex, so the token never starts with "-" (which the option parser would read as another flag).
    const token = Array.from(randomBytes(16), (byte) => byte.toString(16).padStart(2, "0")).join("");
    assertEquals(token.length, 32);
    await using server = await startServer({ args: ["--demo-clients", "1", "--monitor-token", token] });
    const base = `http://127.0.0.1:${server.monitorPort}/`;
    const browser = await launchBrowser();
    try {
      const page = await openPage(browser, VIEWPORT);
      const problems = collectPageProblems(page);
      const requests: { url: string; authorization: string | undefined }[] = [];
      page.on("request", (request) => {
        requests.push({ url: request.url(), authorization: request.headers()["authorization"] });
      });

      await page.goto(base, { timeout: WAIT_TIMEOUT_MS });
      const unauthorized = page.getByTestId("unauthorized");
      await unauthorized.waitFor({ state: "visible", timeout: WAIT_TIMEOUT_MS });
      const message = await unauthorized.textContent() ?? "";
      assertStringIncludes(message, "Unauthorized");
      assertStringIncludes(message, "/#token=");
      assertEquals(await valueOf(page, "tasks-processed"), null, "no numbers without the token");

      await page.goto(`${base}#token=${token}`, { timeout: WAIT_TIMEOUT_MS });
      await unauthorized.waitFor({ state: "hidden", timeout: WAIT_TIMEOUT_MS });
      await waitForValue(page, "tasks-processed", "0");
      const client = await runClient(server, ["--clients", "1"]);
      assertEquals(client.code, 0, client.stdout + client.stderr);
      await waitForValue(page, "tasks-processed", String(CLI_TASKS_PER_CLIENT));
      await waitForValue(page, "connections-total", "1");

      await page.reload({ timeout: WAIT_TIMEOUT_MS });
      await waitForValue(page, "tasks-processed", String(CLI_TASKS_PER_CLIENT));

      // Only the fragment changes, so the page is not reloaded: wait for the panel's new words, not only for
      // the panel, which may still show the previous refusal.
      await page.goto(`${base}#token=${"!".repeat(32)}`, { timeout: WAIT_TIMEOUT_MS });
      await unauthorized.filter({ hasText: "not a monitor token" }).waitFor({ timeout: WAIT_TIMEOUT_MS });
      assertStringIncludes(await unauthorized.textContent() ?? "", "not a monitor token");
      await waitForValue(page, "tasks-processed", null);

      await page.goto(`${base}#token=${"x".repeat(32)}`, { timeout: WAIT_TIMEOUT_MS });
      await unauthorized.filter({ hasText: "not accepted" }).waitFor({ timeout: WAIT_TIMEOUT_MS });
      assertStringIncludes(await unauthorized.textContent() ?? "", "not accepted");
      await waitForValue(page, "tasks-processed", null);

      assert(requests.every((request) => !request.url.includes(token)), "the token never goes into a URL");
      assert(
        requests.some((request) =>
          request.url.endsWith("/status") && request.authorization === `Bearer ${token}`
        ),
        "the page sends the token as a bearer token",
      );
      assertEquals(problems.filter((problem) => /Content.Security.Policy/i.test(problem)), []);
    } finally {
      await browser.close();
    }
  },
});

/** One structured session: balance requests for a few seconds, then one transfer; returns requests sent. */
async function steadySession(
  server: ServerHandle,
  transfer: (typeof STEADY_TRANSFERS)[number],
): Promise<number> {
  const connection = await connectAs(server, transfer.identity);
  let sent = 0;
  try {
    for (let index = 0; index < STEADY_BALANCE_REQUESTS; index++) {
      sent += 1;
      const balance = await connection.sendStructured({ v: 1, id: `b${index}`, op: "balance" });
      assert(balance.ok, `balance ${index} of ${transfer.identity} was refused`);
      await new Promise((resolve) => setTimeout(resolve, STEADY_PAUSE_MS));
    }
    sent += 1;
    const response = await connection.sendStructured({
      v: 1,
      id: "t1",
      op: "transfer",
      to: transfer.to,
      amount_minor: transfer.amountMinor.toString(),
      idempotency_key: `dashboard-${transfer.identity}`,
    });
    if (!response.ok) {
      throw new Error(`The transfer of ${transfer.identity} was refused: ${response.error.code}`);
    }
    assertEquals(response.result.status, "created");
  } finally {
    await connection.close();
  }
  return sent;
}

/** The `data-value` of a dashboard number, or null while it shows none. */
async function valueOf(page: Page, testId: string): Promise<string | null> {
  return await page.getByTestId(testId).getAttribute("data-value", { timeout: WAIT_TIMEOUT_MS });
}

async function waitForValue(page: Page, testId: string, expected: string | null): Promise<void> {
  await waitUntil(`dashboard ${testId} shows ${expected}`, async () => {
    return (await valueOf(page, testId)) === expected ? true : null;
  }, async () => `it shows ${await valueOf(page, testId)}`);
}

/** The recent transfers table as "from -> to amount" lines, newest first. */
async function transferRows(page: Page): Promise<string[]> {
  const rows = await page.getByTestId("recent-transfer").all();
  return await Promise.all(rows.map(async (row) => {
    const [from, to, amount] = await Promise.all(
      ["from", "to", "amount"].map((field) => row.locator(`[data-field="${field}"]`).textContent()),
    );
    return `${from} -> ${to} ${amount}`;
  }));
}
