/**
 * Debian's Chromium, driven by playwright-core, for the tests that run the dashboard and the web app in a
 * real browser: when they can run (and why not), a browser launched headless (optionally with its own HOME,
 * whose NSS database may trust a test CA the way a user's does), pages with bounded waits, and the page's
 * console errors (a CSP violation shows up there).
 *
 * playwright-core reads /proc/sys/fs/binfmt_misc when it loads (to detect WSL), which Deno allows only under
 * --allow-all; it is imported only when a browser is launched.
 *
 * @module
 */
import type { Browser, BrowserContext, Page } from "playwright-core";

const CHROMIUM_PATH = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** The longest any browser step or page update may take. */
export const WAIT_TIMEOUT_MS = 15_000;
const POLL_MS = 100;

/** Why the browser tests of `testFile` cannot run here (and says so loudly), or null when they can. */
export async function browserSkipReason(testFile: string): Promise<string | null> {
  const reason = !(await isFile(CHROMIUM_PATH))
    ? `${CHROMIUM_PATH} does not exist; install it (apt-get install chromium) to run them, as CI does`
    : !hasAllPermissions()
    ? `playwright-core needs --allow-all; run deno test --allow-all ${testFile}`
    : null;
  if (reason !== null) console.warn(`\n!!! Browser tests of ${testFile} SKIPPED: ${reason} !!!\n`);
  return reason;
}

/** Launches Chromium headless; `home` gives it a HOME of its own (its NSS database is `home/.pki/nssdb`). */
export async function launchBrowser(options: { home?: string } = {}): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    timeout: WAIT_TIMEOUT_MS,
    ...(options.home === undefined ? {} : { env: { ...Deno.env.toObject(), HOME: options.home } }),
  });
}

/** A page of `browser` or of one of its contexts, with every wait bounded. */
export async function openPage(
  owner: Browser | BrowserContext,
  viewport: { width: number; height: number },
): Promise<Page> {
  const page = await owner.newPage();
  await page.setViewportSize(viewport);
  page.setDefaultTimeout(WAIT_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(WAIT_TIMEOUT_MS);
  return page;
}

/** Console errors and uncaught exceptions of the page (a CSP violation shows up as a console error). */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

/** Polls `check` until it returns a value other than null; throws after {@link WAIT_TIMEOUT_MS}. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | null>,
  explain: () => Promise<string> = () => Promise.resolve(""),
): Promise<T> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (true) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${WAIT_TIMEOUT_MS} ms waiting until ${what}: ${await explain()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Whether this run has --allow-all: the one path playwright-core reads on load that Deno guards with it
 * answers "not capable" under anything less.
 */
function hasAllPermissions(): boolean {
  try {
    Deno.statSync("/proc/sys/fs/binfmt_misc/WSLInterop");
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotCapable);
  }
}
