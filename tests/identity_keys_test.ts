/**
 * Client keys through the real binaries, as a new user follows the README: a key pair made on the client
 * and registered by the operator, an invite code enrolled from afar, a key rotated in a session, a key
 * revoked while its session is open; and the refusals (a small-order key, a wrong code, a reused code).
 *
 * @module
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { assert } from "../lib/assert.ts";
import { BankConnection } from "../client/connection.ts";
import { toBase64Url } from "../lib/bytes.ts";
import { decodeCredential } from "../protocol/credential.ts";
import { SQLITE_FILE } from "../server/ledger/mod.ts";
import { runAdmin, runClient, startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const SESSION_END_WAIT_MS = 5_000;

async function connectWith(server: ServerHandle, path: string): Promise<BankConnection> {
  const decoded = decodeCredential(await Deno.readTextFile(path));
  if (!decoded.ok) throw new Error(decoded.error);
  return await BankConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credential: decoded.credential,
  });
}

/** Sends balance checks until the session ends; returns how long that took. */
async function msUntilEnded(connection: BankConnection): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < SESSION_END_WAIT_MS) {
    try {
      await connection.sendText("Check Balance");
    } catch {
      return performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The session did not end within ${SESSION_END_WAIT_MS} ms`);
}

Deno.test("bank-client keygen, then clients add --public-key: the client connects with a key the bank never saw", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1"] });
  const where = { dataDir: server.dataDir };
  const out = `${server.dataDir}/ada.json`;
  const keygen = await runClient(server, ["keygen", "--identity", "ada", "--out", out]);
  assertEquals(keygen.code, 0, keygen.stderr);
  assertMatch(keygen.stdout, /Made key [0-9a-f]{32} for ada/);
  assertEquals((await Deno.stat(out)).mode! & 0o777, 0o600);
  const again = await runClient(server, ["keygen", "--identity", "ada", "--out", out]);
  assertEquals(again.code, 2, "a private key is never overwritten");

  const add = await runAdmin(["clients", "add", "ada", "--public-key", `${out}.pub`], where);
  assertEquals(add.code, 0, add.stderr);
  assertMatch(add.stdout, /Registered key [0-9a-f]{32} for identity ada/);
  const run = await runClient(server, ["--identity", out, "--task", "Check Balance"]);
  assertEquals(run.code, 0, run.stdout + run.stderr);
  assertStringIncludes(run.stdout, "Server response: Balance: no account");

  const twice = await runAdmin(["clients", "add", "bob", "--public-key", `${out}.pub`], where);
  assertEquals(twice.code, 1, "one public key, one identity");
  assertStringIncludes(twice.stderr, "already registered");
  const files = [SQLITE_FILE, `${SQLITE_FILE}-wal`].map((name) => `${server.dataDir}/${name}`);
  const store = new Uint8Array(
    (await Promise.all(files.map((path) => Deno.readFile(path).catch(() => [])))).flatMap((
      bytes,
    ) => [...bytes]),
  );
  assert(store.length > 0, "the store file is where the test looks");
  const privateKey = decodeCredential(await Deno.readTextFile(out));
  assert(privateKey.ok, "the credential reads back");
  const text = new TextDecoder().decode(store);
  assertEquals(
    text.includes(toBase64Url(privateKey.credential.privateKey)),
    false,
    "the store has no private key",
  );
});

Deno.test("clients add refuses a small-order or non-canonical public key", async () => {
  await using server = await startServer({ args: ["--demo-clients", "0"] });
  const identity = new Uint8Array(32);
  identity[0] = 1; // the identity point: its "signatures" verify on any message
  const nonCanonical = new Uint8Array(32).fill(0xff);
  nonCanonical[0] = 0xed;
  nonCanonical[31] = 0x7f; // y = p, which must be written as 0
  for (const [label, key] of [["small order", identity], ["non-canonical", nonCanonical]] as const) {
    const path = `${server.dataDir}/${label.replace(" ", "-")}.pub`;
    await Deno.writeTextFile(path, `ed25519 ${toBase64Url(key)} mallory\n`);
    const add = await runAdmin(["clients", "add", "mallory", "--public-key", path], {
      dataDir: server.dataDir,
    });
    assertEquals(add.code, 1, label);
    assertStringIncludes(add.stderr, "The public key is refused", label);
  }
  const keys = await runAdmin(["clients", "keys", "mallory"], { dataDir: server.dataDir });
  assertEquals(keys.stdout.trim().split("\n").length, 1, "no key was registered");
});

Deno.test("clients invite, then bank-client enrol: a code enrols one key, once, and wrong codes spend attempts", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1"] });
  const where = { dataDir: server.dataDir };
  const invite = await runAdmin(["clients", "invite", "carol", "--attempts", "2"], where);
  assertEquals(invite.code, 0, invite.stderr);
  const code = invite.stdout.trim();
  assertMatch(code, /^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
  const wrong = code.slice(0, -1) + (code.endsWith("0") ? "1" : "0");

  const out = `${server.dataDir}/carol.json`;
  const refused = await runClient(server, ["enrol", "--identity", "carol", "--invite", wrong, "--out", out]);
  assertEquals(refused.code, 3, refused.stderr);
  assertStringIncludes(refused.stderr, "The bank refused the invite code for carol");
  const enrol = await runClient(server, ["enrol", "--identity", "carol", "--invite", code, "--out", out]);
  assertEquals(enrol.code, 0, enrol.stderr);
  assertMatch(enrol.stdout, /Enrolled key [0-9a-f]{32} for carol/);
  const run = await runClient(server, ["--identity", out, "--task", "Check Balance"]);
  assertEquals(run.code, 0, run.stdout + run.stderr);
  assertStringIncludes(
    run.stdout,
    "Balance: $500",
    "the invite opened carol an account, as demo identities have",
  );

  const reused = await runClient(server, [
    "enrol",
    "--identity",
    "carol",
    "--invite",
    code,
    "--out",
    `${out}.2`,
  ]);
  assertEquals(reused.code, 3, "an invite enrols once");
  assertStringIncludes(reused.stderr, "The bank refused the invite code for carol");
  const keys = await runAdmin(["clients", "keys", "carol"], where);
  assertMatch(keys.stdout, /^[0-9a-f]{32} device active /m);
  assertMatch(
    keys.stdout,
    /^[0-9a-f]{32} invite revoked .* \(1 attempt left\)$/m,
    "the wrong code spent one attempt",
  );
});

Deno.test("bank-client rotate-key replaces the key; revoking one key ends its sessions within a second", async () => {
  await using server = await startServer({ args: ["--demo-clients", "2"] });
  const where = { dataDir: server.dataDir };
  const path = `${server.dataDir}/clients/client-1.json`;
  const before = await Deno.readTextFile(path);
  const open = await connectWith(server, path);
  const rotate = await runClient(server, ["rotate-key", "--credential", path]);
  assertEquals(rotate.code, 0, rotate.stderr);
  assertMatch(rotate.stdout, /Rotated client-1: key [0-9a-f]{32} replaces [0-9a-f]{32}/);
  assert((await msUntilEnded(open)) < 2_500, "the old key's session ends within about a second");
  await Deno.writeTextFile(`${server.dataDir}/old.json`, before);
  const stale = await runClient(server, [
    "--identity",
    `${server.dataDir}/old.json`,
    "--task",
    "Check Balance",
  ]);
  assertEquals(stale.code, 3, "the old key no longer works");
  const fresh = await runClient(server, ["--identity", path, "--task", "Check Balance"]);
  assertEquals(fresh.code, 0, fresh.stdout + fresh.stderr);

  // client-2 on two devices: revoking one key ends that device's session only.
  const laptop = `${server.dataDir}/laptop.json`;
  const keygen = await runClient(server, ["keygen", "--identity", "client-2", "--out", laptop]);
  const laptopKey = /Made key ([0-9a-f]{32})/.exec(keygen.stdout)?.[1];
  assert(laptopKey !== undefined, keygen.stdout + keygen.stderr);
  assertEquals(
    (await runAdmin(["clients", "add", "client-2", "--public-key", `${laptop}.pub`], where)).code,
    0,
  );
  const phone = await connectWith(server, `${server.dataDir}/clients/client-2.json`);
  const desk = await connectWith(server, laptop);
  const keys = await runAdmin(["clients", "keys", "client-2"], where);
  assertEquals(keys.stdout.match(/ device active /g)?.length, 2, keys.stdout);
  const revokeLaptop = await runAdmin(["clients", "revoke", "client-2", "--key", laptopKey], where);
  assertEquals(revokeLaptop.code, 0, revokeLaptop.stderr);
  const ended = await Promise.race([
    msUntilEnded(desk).then(() => "desk"),
    msUntilEnded(phone).then(() => "phone"),
  ]);
  assertEquals(ended, "desk", "the revoked key's session ends, the other goes on");
  assertMatch(await phone.sendText("Check Balance"), /^Balance: \$500$/);
  await phone.close();
});
