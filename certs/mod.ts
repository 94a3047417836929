/**
 * TLS material for the bank server: a development CA and a server certificate kept in the data directory,
 * or a certificate and key supplied by the operator. Keys never leave these files and are never logged.
 *
 * @module
 */
import "reflect-metadata"; // @peculiar/x509 2.x needs it loaded first
import * as x509 from "@peculiar/x509";
import { CA_FILE } from "../protocol/demo.ts";
import { assert, isAssertionFailure } from "../lib/assert.ts";
import { fromUtf8 } from "../lib/bytes.ts";
import {
  ensurePrivateDir,
  fileExists,
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  readFileLimited,
  writeFileAtomic,
} from "../lib/files.ts";

x509.cryptoProvider.set(crypto);

/** Largest certificate or key file we read; a PEM chain of a few certificates fits easily. */
export const PEM_BYTES_MAX = 64 * 1024;
/** How long the development CA is valid. */
export const CA_VALIDITY_YEARS = 10;
/** How long a server certificate is valid (the CA/Browser Forum ceiling is 398 days). */
export const LEAF_VALIDITY_DAYS = 397;
/** A server certificate that expires within this window is re-issued at startup. */
export const LEAF_RENEWAL_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000; // notBefore is back-dated by this much
const SERIAL_BYTES = 16;
const CA_SUBJECT = "CN=Bank Development CA";
const LEAF_SUBJECT = "CN=localhost";
const LEAF_NAMES: x509.JsonGeneralNames = [
  { type: "dns", value: "localhost" },
  { type: "ip", value: "127.0.0.1" },
  { type: "ip", value: "::1" },
];
const KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING_ALGORITHM: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const CERTIFICATE_LABEL = "CERTIFICATE";
const PRIVATE_KEY_LABELS = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"];
const JWK_PUBLIC_MEMBERS = ["kty", "crv", "x", "y", "n", "e"] as const;

assert(LEAF_RENEWAL_DAYS < LEAF_VALIDITY_DAYS, "Leaf renewal window must be shorter than its validity");
assert(LEAF_VALIDITY_DAYS <= 398, "Leaf validity must stay within the 398-day ceiling");
assert(LEAF_VALIDITY_DAYS < CA_VALIDITY_YEARS * 365, "Leaf validity must be shorter than the CA's");
assert(CLOCK_SKEW_MS < DAY_MS, "Clock skew allowance must be under a day");

/** A certificate and key in PEM, with the CA certificate that clients must trust to verify it. */
export interface TlsMaterial {
  /** The server certificate (PEM). */
  certPem: string;
  /** The server's private key (PEM); never log it. */
  keyPem: string;
  /** The certificate that clients trust (PEM). */
  caPem: string;
  /** Where `caPem` is on disk, to hand to clients as `--ca`. */
  caPath: string;
}

/** Options for {@link ensureDevCertificates}. */
export interface EnsureDevCertificatesOptions {
  /** The current time; tests inject it. Defaults to the clock. */
  now?: Date;
}

interface DevPaths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

interface Issued {
  cert: x509.X509Certificate;
  certPem: string;
  keyPem: string;
  privateKey: CryptoKey;
}

/**
 * Makes sure `dataDir` holds a development CA (`ca.crt`, `ca.key`) and a server certificate signed by it
 * (`server.crt`, `server.key`) for `localhost`, `127.0.0.1` and `::1`.
 *
 * The first call creates them; later calls reuse them. The server certificate (never the CA) is re-issued
 * when it is expired, expires within {@link LEAF_RENEWAL_DAYS}, does not match its key, or does not chain to
 * the CA on disk. Keys are PKCS#8 PEM files with mode 0600; certificates have mode 0644.
 *
 * @param dataDir Directory for the four files; created with mode 0700 when missing.
 * @param options `now` overrides the clock.
 * @returns The server certificate and key, and the CA certificate that clients must trust.
 *
 * @example Usage
 * ```ts ignore
 * const tls = await ensureDevCertificates(".bank");
 * const listener = Deno.listenTls({ port: 8443, cert: tls.certPem, key: tls.keyPem });
 * ```
 */
export async function ensureDevCertificates(
  dataDir: string,
  options: EnsureDevCertificatesOptions = {},
): Promise<TlsMaterial> {
  assert(dataDir.length > 0, "Data directory must be named");
  const now = options.now ?? new Date();
  assert(Number.isFinite(now.getTime()), "Current time must be a valid date");

  await ensurePrivateDir(dataDir);
  const paths: DevPaths = {
    caCert: joinPath(dataDir, CA_FILE),
    caKey: joinPath(dataDir, "ca.key"),
    serverCert: joinPath(dataDir, "server.crt"),
    serverKey: joinPath(dataDir, "server.key"),
  };
  const ca = await loadOrCreateCa(paths, now);
  let leaf = await readLeafIfCurrent(paths, { ca, now });
  if (leaf === null) {
    leaf = await issueLeaf(ca, now);
    await writeKeyAndCertificate(leaf, { keyPath: paths.serverKey, certPath: paths.serverCert });
  }
  assert(await chainsTo(leaf.cert, ca.cert), "Server certificate must chain to the development CA");
  return { certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.certPem, caPath: paths.caCert };
}

/**
 * Loads an operator's certificate (`--cert`) and private key (`--key`) for the TLS listener.
 *
 * Refuses a missing or oversized file, a file that is not PEM, an encrypted key, and a PKCS#8 key that does
 * not belong to the certificate (older `EC PRIVATE KEY` and `RSA PRIVATE KEY` files are accepted without
 * that check). `caPem` and `caPath` are the certificate file itself, so clients pass it as `--ca` unless a
 * public CA issued it.
 *
 * @param certPath PEM file with the server certificate first, then any intermediates.
 * @param keyPath PEM file with the certificate's private key.
 * @returns The certificate and key as read.
 */
export async function loadCertificateFiles(certPath: string, keyPath: string): Promise<TlsMaterial> {
  assert(certPath.length > 0, "Certificate path must be named");
  assert(keyPath.length > 0, "Key path must be named");
  const certPem = await readPemFile(certPath, "certificate");
  const keyPem = await readPemFile(keyPath, "private key");
  const cert = parseCertificate(certPem, certPath);
  const key = firstPemBlock(keyPem);
  assert(key !== null, "A private key file read must hold a PEM block");
  if (key.type === "ENCRYPTED PRIVATE KEY") {
    throw new Error(`Cannot use private key "${keyPath}": encrypted keys are not supported`);
  }
  if (!PRIVATE_KEY_LABELS.includes(key.type)) {
    throw new Error(`Cannot use private key "${keyPath}": PEM block is "${key.type}", not a private key`);
  }
  if (key.type === "PRIVATE KEY" && !(await keyMatchesCertificate(key.rawData, cert))) {
    throw new Error(`Cannot use private key "${keyPath}": it does not match certificate "${certPath}"`);
  }
  return { certPem, keyPem, caPem: certPem, caPath: certPath };
}

async function loadOrCreateCa(paths: DevPaths, now: Date): Promise<Issued> {
  const certExists = await fileExists(paths.caCert);
  const keyExists = await fileExists(paths.caKey);
  if (!certExists) {
    const created = await createCa(now);
    await writeKeyAndCertificate(created, { keyPath: paths.caKey, certPath: paths.caCert });
    return created;
  }
  if (!keyExists) {
    throw new Error(
      `Cannot load development CA "${paths.caCert}": key "${paths.caKey}" is missing; ` +
        "delete the CA certificate to create a new CA",
    );
  }
  const ca = await readIssued(paths.caCert, paths.caKey);
  if (!(await keyMatchesCertificate(pkcs8FromPem(ca.keyPem, paths.caKey), ca.cert))) {
    throw new Error(`Cannot load development CA "${paths.caCert}": key "${paths.caKey}" does not match it`);
  }
  const renewAt = ca.cert.notAfter.getTime() - LEAF_RENEWAL_DAYS * DAY_MS;
  if (now.getTime() < ca.cert.notBefore.getTime() || now.getTime() >= renewAt) {
    throw new Error(
      `Cannot use development CA "${paths.caCert}": valid from ${ca.cert.notBefore.toISOString()} ` +
        `to ${ca.cert.notAfter.toISOString()}; delete ca.crt and ca.key to create a new CA`,
    );
  }
  return ca;
}

/** Returns the server certificate on disk, or null when it is missing, unreadable or due for re-issue. */
async function readLeafIfCurrent(
  paths: DevPaths,
  context: { ca: Issued; now: Date },
): Promise<Issued | null> {
  let leaf: Issued;
  try {
    leaf = await readIssued(paths.serverCert, paths.serverKey);
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    return null; // the server certificate is derived data: a broken one is replaced
  }
  const renewAt = leaf.cert.notAfter.getTime() - LEAF_RENEWAL_DAYS * DAY_MS;
  if (context.now.getTime() < leaf.cert.notBefore.getTime()) return null;
  if (context.now.getTime() >= renewAt) return null;
  if (!(await chainsTo(leaf.cert, context.ca.cert))) return null;
  if (!(await keyMatchesCertificate(pkcs8FromPem(leaf.keyPem, paths.serverKey), leaf.cert))) return null;
  return leaf;
}

async function createCa(now: Date): Promise<Issued> {
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: CA_SUBJECT,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  assert(cert.subject === cert.issuer, "Development CA must be self-signed");
  return await toIssued(cert, keys.privateKey);
}

async function issueLeaf(ca: Issued, now: Date): Promise<Issued> {
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const notAfterMs = Math.min(now.getTime() + LEAF_VALIDITY_DAYS * DAY_MS, ca.cert.notAfter.getTime());
  assert(notAfterMs > now.getTime(), "Server certificate must be valid now");
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: LEAF_SUBJECT,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(notAfterMs),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(LEAF_NAMES, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  return await toIssued(cert, keys.privateKey);
}

async function toIssued(cert: x509.X509Certificate, privateKey: CryptoKey): Promise<Issued> {
  assert(privateKey.type === "private", "An issued certificate must come with its private key");
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
  const certPem = cert.toString("pem");
  assert(certPem.startsWith("-----BEGIN CERTIFICATE-----"), "Certificate must encode as PEM");
  return { cert, certPem, keyPem, privateKey };
}

/** Reads a certificate and its PKCS#8 ECDSA P-256 key written by this module. */
async function readIssued(certPath: string, keyPath: string): Promise<Issued> {
  const certPem = await readPemFile(certPath, "certificate");
  const keyPem = await readPemFile(keyPath, "private key");
  const cert = parseCertificate(certPem, certPath);
  const pkcs8 = pkcs8FromPem(keyPem, keyPath);
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, KEY_ALGORITHM, false, ["sign"]);
  } catch (error) {
    throw new Error(`Cannot read private key "${keyPath}": not a PKCS#8 ECDSA P-256 key`, { cause: error });
  }
  return { cert, certPem, keyPem, privateKey };
}

/** Returns the DER bytes of the first `PRIVATE KEY` block of a key that passed {@link readPemFile}. */
function pkcs8FromPem(keyPem: string, keyPath: string): ArrayBuffer {
  const block = firstPemBlock(keyPem);
  if (block === null || block.type !== "PRIVATE KEY") {
    throw new Error(`Cannot read private key "${keyPath}": expected a PKCS#8 "PRIVATE KEY" PEM block`);
  }
  return block.rawData;
}

async function chainsTo(leaf: x509.X509Certificate, ca: x509.X509Certificate): Promise<boolean> {
  if (leaf.issuer !== ca.subject) return false;
  return await leaf.verify({ publicKey: ca.publicKey, signatureOnly: true });
}

/** Tells whether a PKCS#8 key holds the private half of the certificate's public key. */
async function keyMatchesCertificate(pkcs8: ArrayBuffer, cert: x509.X509Certificate): Promise<boolean> {
  const algorithm = cert.publicKey.algorithm;
  let privateJwk: JsonWebKey;
  try {
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]);
    privateJwk = await crypto.subtle.exportKey("jwk", privateKey);
  } catch {
    return false; // a key of another algorithm or curve cannot belong to this certificate
  }
  const publicJwk = await crypto.subtle.exportKey("jwk", await cert.publicKey.export());
  let compared = 0;
  for (const member of JWK_PUBLIC_MEMBERS) {
    if (publicJwk[member] === undefined) continue;
    if (publicJwk[member] !== privateJwk[member]) return false;
    compared += 1;
  }
  assert(compared >= 2, "A public key must have at least two members to compare");
  return true;
}

function parseCertificate(pem: string, path: string): x509.X509Certificate {
  const block = firstPemBlock(pem);
  if (block === null || block.type !== CERTIFICATE_LABEL) {
    throw new Error(`Cannot read certificate "${path}": first PEM block is not a CERTIFICATE`);
  }
  try {
    return new x509.X509Certificate(block.rawData);
  } catch (error) {
    throw new Error(`Cannot read certificate "${path}": not a valid X.509 certificate`, { cause: error });
  }
}

function firstPemBlock(pem: string): { type: string; rawData: ArrayBuffer } | null {
  try {
    const blocks = x509.PemConverter.decodeWithHeaders(pem);
    const first = blocks[0];
    if (first === undefined) return null;
    return { type: first.type, rawData: first.rawData };
  } catch {
    return null;
  }
}

/** Reads a PEM file of at most {@link PEM_BYTES_MAX} bytes; `what` names it in errors. */
async function readPemFile(path: string, what: string): Promise<string> {
  const bytes = await readFileLimited(path, { bytesMax: PEM_BYTES_MAX, what });
  const text = fromUtf8(bytes);
  if (text === null) throw new Error(`Cannot read ${what} "${path}": not PEM (not UTF-8 text)`);
  if (firstPemBlock(text) === null) {
    throw new Error(`Cannot read ${what} "${path}": not PEM (no "-----BEGIN" block)`);
  }
  return text;
}

/** Writes the key first: a crash between the two writes leaves a mismatch that the next start repairs. */
async function writeKeyAndCertificate(
  issued: Issued,
  paths: { keyPath: string; certPath: string },
): Promise<void> {
  await writeFileAtomic(paths.keyPath, issued.keyPem, { mode: PRIVATE_FILE_MODE });
  await writeFileAtomic(paths.certPath, issued.certPem, { mode: PUBLIC_FILE_MODE });
}

/** A positive serial of {@link SERIAL_BYTES} random bytes as hex (RFC 5280 allows up to 20 octets). */
function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES));
  bytes[0] = bytes[0]! & 0x7f;
  return toHex(bytes);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function joinPath(directory: string, name: string): string {
  return directory.endsWith("/") ? `${directory}${name}` : `${directory}/${name}`;
}
