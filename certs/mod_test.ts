import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { ensureDevCertificates, loadCertificateFiles, PEM_BYTES_MAX } from "./mod.ts";

const DEV_FILES = ["ca.crt", "ca.key", "server.crt", "server.key"] as const;
const PAYLOAD_BYTES = 5;
const READS_MAX = 16;
const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 365 * DAY_MS;

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bank_certs_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readExactly(conn: Deno.Conn, byteCount: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(byteCount);
  let length = 0;
  for (let reads = 0; reads < READS_MAX && length < byteCount; reads += 1) {
    const count = await conn.read(bytes.subarray(length));
    if (count === null) break;
    length += count;
  }
  assertEquals(length, byteCount, "connection closed before all bytes arrived");
  return bytes;
}

/** Accepts one TLS connection and echoes {@link PAYLOAD_BYTES} bytes; resolves with the handshake error. */
async function echoOnce(listener: Deno.TlsListener): Promise<unknown> {
  const conn = await listener.accept();
  try {
    await conn.handshake();
    await conn.write(await readExactly(conn, PAYLOAD_BYTES));
    return null;
  } catch (error) {
    return error;
  } finally {
    conn.close();
  }
}

async function roundTrip(options: { port: number; hostname: string; caPem: string }): Promise<Uint8Array> {
  const conn = await Deno.connectTls({
    hostname: options.hostname,
    port: options.port,
    caCerts: [options.caPem],
  });
  try {
    const payload = new TextEncoder().encode("hello");
    assertEquals(payload.length, PAYLOAD_BYTES);
    await conn.write(payload);
    return await readExactly(conn, PAYLOAD_BYTES);
  } finally {
    conn.close();
  }
}

Deno.test("ensureDevCertificates() creates the files with private key modes, then reuses them", async () => {
  await withTempDir(async (dir) => {
    const dataDir = `${dir}/data/nested`;
    const first = await ensureDevCertificates(dataDir);
    assertEquals((await Deno.stat(dataDir)).mode! & 0o777, 0o700);
    const modes = { "ca.crt": 0o644, "ca.key": 0o600, "server.crt": 0o644, "server.key": 0o600 };
    for (const name of DEV_FILES) {
      assertEquals((await Deno.stat(`${dataDir}/${name}`)).mode! & 0o777, modes[name], name);
    }
    assertEquals([...Deno.readDirSync(dataDir)].length, DEV_FILES.length, "no temporary files remain");
    assertEquals(first.caPath, `${dataDir}/ca.crt`);
    assertEquals(first.caPem, await Deno.readTextFile(first.caPath));
    assertEquals(first.certPem, await Deno.readTextFile(`${dataDir}/server.crt`));
    assertEquals(first.keyPem, await Deno.readTextFile(`${dataDir}/server.key`));
    assert(first.keyPem.startsWith("-----BEGIN PRIVATE KEY-----"), "key is PKCS#8 PEM");
    assert((await Deno.readTextFile(`${dataDir}/ca.key`)).startsWith("-----BEGIN PRIVATE KEY-----"));

    const second = await ensureDevCertificates(dataDir);
    assertEquals(second, first);
  });
});

Deno.test("ensureDevCertificates() issues a CA and a leaf with the expected extensions", async () => {
  await withTempDir(async (dir) => {
    const tls = await ensureDevCertificates(dir);
    const ca = new x509.X509Certificate(tls.caPem);
    const leaf = new x509.X509Certificate(tls.certPem);
    assertEquals(ca.subject, "CN=Bank Development CA");
    assertEquals(ca.issuer, ca.subject);
    assert(await ca.verify({ signatureOnly: true }), "CA is self-signed");
    assertEquals(ca.getExtension(x509.BasicConstraintsExtension)?.ca, true);
    assertEquals(ca.getExtension(x509.BasicConstraintsExtension)?.critical, true);
    assertEquals(
      ca.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );
    assertEquals(ca.getExtension(x509.KeyUsagesExtension)?.critical, true);
    assert(ca.getExtension(x509.SubjectKeyIdentifierExtension) !== null, "CA has a subject key id");
    assert(ca.notAfter.getTime() - ca.notBefore.getTime() > 9.9 * YEAR_MS, "CA lasts about ten years");
    assert(parseInt(ca.serialNumber.slice(0, 2), 16) < 0x80, "serial is positive");

    assertEquals(leaf.subject, "CN=localhost");
    assertEquals(leaf.issuer, ca.subject);
    assert(await leaf.verify({ publicKey: ca.publicKey, signatureOnly: true }), "leaf is signed by the CA");
    assertEquals(leaf.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assertEquals(
      leaf.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    );
    const extendedUsages = leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages;
    assertEquals([...(extendedUsages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
    const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON();
    assertEquals(names, [
      { type: "dns", value: "localhost" },
      { type: "ip", value: "127.0.0.1" },
      { type: "ip", value: "::1" },
    ]);
    const authorityKeyId = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    assertEquals(authorityKeyId, ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  });
});

Deno.test("ensureDevCertificates() creates a CA and a leaf that Deno's TLS accepts", async () => {
  await withTempDir(async (dir) => {
    const tls = await ensureDevCertificates(dir);
    using listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: tls.certPem, key: tls.keyPem });
    const port = listener.addr.port;
    for (const hostname of ["127.0.0.1", "localhost"]) {
      const served = echoOnce(listener);
      const echoed = await roundTrip({ port, hostname, caPem: tls.caPem });
      assertEquals(new TextDecoder().decode(echoed), "hello", hostname);
      assertEquals(await served, null, hostname);
    }
  });
});

Deno.test("ensureDevCertificates() leaf is refused by a client that does not trust the CA", async () => {
  await withTempDir(async (dir) => {
    const tls = await ensureDevCertificates(dir);
    using listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: tls.certPem, key: tls.keyPem });
    const served = echoOnce(listener);
    const conn = await Deno.connectTls({ hostname: "localhost", port: listener.addr.port });
    try {
      await assertRejects(() => conn.handshake(), Deno.errors.InvalidData, "invalid peer certificate");
    } finally {
      conn.close();
    }
    assertNotEquals(await served, null, "server saw the handshake fail");
  });
});

Deno.test("ensureDevCertificates() re-issues an expired leaf and keeps the CA", async () => {
  await withTempDir(async (dir) => {
    const past = new Date(Date.now() - 2 * YEAR_MS);
    const old = await ensureDevCertificates(dir, { now: past });
    assert(new x509.X509Certificate(old.certPem).notAfter.getTime() < Date.now(), "old leaf is expired");

    const renewed = await ensureDevCertificates(dir);
    assertEquals(renewed.caPem, old.caPem);
    assertNotEquals(renewed.certPem, old.certPem);
    assertNotEquals(renewed.keyPem, old.keyPem);
    assert(new x509.X509Certificate(renewed.certPem).notAfter.getTime() > Date.now(), "new leaf is valid");
    assertEquals(await Deno.readTextFile(`${dir}/server.crt`), renewed.certPem);
    assertEquals((await Deno.stat(`${dir}/server.key`)).mode! & 0o777, 0o600);
  });
});

Deno.test("ensureDevCertificates() re-issues a leaf that expires within 30 days", async () => {
  await withTempDir(async (dir) => {
    const nearlyExpired = await ensureDevCertificates(dir, { now: new Date(Date.now() - 370 * DAY_MS) });
    const notAfter = new x509.X509Certificate(nearlyExpired.certPem).notAfter.getTime();
    assert(notAfter > Date.now(), "old leaf is still valid");
    assert(notAfter < Date.now() + 30 * DAY_MS, "old leaf expires within 30 days");

    const renewed = await ensureDevCertificates(dir);
    assertEquals(renewed.caPem, nearlyExpired.caPem);
    assertNotEquals(renewed.certPem, nearlyExpired.certPem);
    const kept = await ensureDevCertificates(dir, { now: new Date(Date.now() + 300 * DAY_MS) });
    assertEquals(kept.certPem, renewed.certPem, "a leaf with over 30 days left is kept");
  });
});

Deno.test("ensureDevCertificates() re-issues a leaf that does not chain to the CA on disk", async () => {
  await withTempDir(async (dir) => {
    const first = await ensureDevCertificates(`${dir}/a`);
    const other = await ensureDevCertificates(`${dir}/b`);
    await Deno.writeTextFile(`${dir}/a/server.crt`, other.certPem);
    await Deno.writeTextFile(`${dir}/a/server.key`, other.keyPem);

    const repaired = await ensureDevCertificates(`${dir}/a`);
    assertEquals(repaired.caPem, first.caPem);
    assertNotEquals(repaired.certPem, other.certPem);
    const leaf = new x509.X509Certificate(repaired.certPem);
    const ca = new x509.X509Certificate(first.caPem);
    assert(await leaf.verify({ publicKey: ca.publicKey, signatureOnly: true }), "leaf chains to the CA");
  });
});

Deno.test("ensureDevCertificates() refuses a CA certificate without its key", async () => {
  await withTempDir(async (dir) => {
    await ensureDevCertificates(dir);
    await Deno.remove(`${dir}/ca.key`);
    await assertRejects(() => ensureDevCertificates(dir), Error, `key "${dir}/ca.key" is missing`);
  });
});

Deno.test("loadCertificateFiles() loads a certificate and its key", async () => {
  await withTempDir(async (dir) => {
    const tls = await ensureDevCertificates(dir);
    const loaded = await loadCertificateFiles(`${dir}/server.crt`, `${dir}/server.key`);
    assertEquals(loaded, {
      certPem: tls.certPem,
      keyPem: tls.keyPem,
      caPem: tls.certPem,
      caPath: `${dir}/server.crt`,
    });
  });
});

Deno.test("loadCertificateFiles() explains a missing, non-PEM, oversized or mismatched file", async () => {
  await withTempDir(async (dir) => {
    await ensureDevCertificates(dir);
    const cert = `${dir}/server.crt`;
    const key = `${dir}/server.key`;
    await Deno.writeTextFile(`${dir}/junk.txt`, "this is not a certificate\n");
    await Deno.writeTextFile(`${dir}/huge.pem`, "A".repeat(PEM_BYTES_MAX + 1));
    const cases: { certPath: string; keyPath: string; message: string }[] = [
      {
        certPath: `${dir}/none.crt`,
        keyPath: key,
        message: `Cannot read certificate "${dir}/none.crt": file not found`,
      },
      {
        certPath: cert,
        keyPath: `${dir}/none.key`,
        message: `Cannot read private key "${dir}/none.key": file not found`,
      },
      {
        certPath: `${dir}/junk.txt`,
        keyPath: key,
        message: `Cannot read certificate "${dir}/junk.txt": not PEM`,
      },
      {
        certPath: cert,
        keyPath: `${dir}/junk.txt`,
        message: `Cannot read private key "${dir}/junk.txt": not PEM`,
      },
      {
        certPath: `${dir}/huge.pem`,
        keyPath: key,
        message: `"${dir}/huge.pem": file is over ${PEM_BYTES_MAX} bytes`,
      },
      {
        certPath: key,
        keyPath: key,
        message: `Cannot read certificate "${key}": first PEM block is not a CERTIFICATE`,
      },
      {
        certPath: cert,
        keyPath: cert,
        message: `Cannot use private key "${cert}": PEM block is "CERTIFICATE"`,
      },
      { certPath: cert, keyPath: `${dir}/ca.key`, message: `"${dir}/ca.key": it does not match certificate` },
    ];
    for (const { certPath, keyPath, message } of cases) {
      await assertRejects(() => loadCertificateFiles(certPath, keyPath), Error, message);
    }
  });
});
