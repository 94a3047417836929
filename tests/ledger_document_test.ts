/**
 * docs/LEDGER.md, checked by an implementation written from it alone (`@noble/hashes` for SHA-256, nothing
 * of `server/ledger/chain.ts`): it reproduces the worked example, then recomputes the chain of a real
 * store from its raw rows (read with `node:sqlite`) and finds every stored hash, and recomputes a chain of
 * every kind of entry, over more than one page, from `bank-server ledger export` alone.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { assertEquals } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { SqliteLedger } from "../server/ledger/sqlite.ts";
import { runAdmin } from "../tools/harness.ts";

const DOCUMENT = new URL("../docs/LEDGER.md", import.meta.url);

interface Entry {
  entry: string;
  transferId: string;
  kind: string;
  identity: string;
  key: string;
  source: string;
  target: string;
  amount: string;
  time: string;
  postings: [string, string][];
  /** Section 3's link fields: a capture's hold; a reversal's or refund's original entry and reason. */
  link?: string[];
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
/** A transfer id as SQLite stores it (16 bytes), as the UUID text the encoding hashes (section 2). */
function uuidOfStored(value: unknown): string {
  if (!(value instanceof Uint8Array && value.length === 16)) throw new Error("A transfer id is 16 bytes");
  const digits = hex(value);
  return [
    digits.slice(0, 8),
    digits.slice(8, 12),
    digits.slice(12, 16),
    digits.slice(16, 20),
    digits.slice(20),
  ]
    .join("-");
}

/** Section 3: each field as u32be(length) || UTF-8, postings ordered by account id. */
function encode(entry: Entry): Uint8Array {
  const postings = [...entry.postings].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fields = [
    "bank ledger entry v1",
    entry.entry,
    entry.transferId,
    entry.kind,
    entry.identity,
    entry.key,
    entry.source,
    entry.target,
    entry.amount,
    entry.time,
    String(postings.length),
    ...postings.flat(),
    ...(entry.link ?? []),
  ].map((field) => new TextEncoder().encode(field));
  const out = new Uint8Array(fields.reduce((sum, field) => sum + 4 + field.length, 0));
  let at = 0;
  for (const field of fields) {
    new DataView(out.buffer).setUint32(at, field.length, false);
    out.set(field, at + 4);
    at += 4 + field.length;
  }
  return out;
}

function link(previous: Uint8Array, entry: Entry): Uint8Array {
  const encoded = encode(entry);
  const input = new Uint8Array(previous.length + encoded.length);
  input.set(previous, 0);
  input.set(encoded, previous.length);
  return sha256(input);
}

Deno.test("docs/LEDGER.md alone, with @noble/hashes, reproduces its worked example", async () => {
  const text = await Deno.readTextFile(DOCUMENT);
  const section = text.slice(text.indexOf("## 4. Worked example"), text.indexOf("## 5."));
  const rows = [
    ...section.matchAll(
      /^\| (\d+) +\| `([^`]+)` +\| (\w+) +\| `([^`]+)` +\| `([^`]+)` +\| `([^`]+)` +\| `([^`]+)` +\| `(\d+)` +\| `([^`]+)` +\|$/gm,
    ),
  ];
  assertEquals(rows.length, 2);
  const entries: Entry[] = rows.map((row) => ({
    entry: row[1]!,
    transferId: row[2]!,
    kind: row[3]!,
    identity: row[4]!,
    key: row[5]!,
    source: row[6]!,
    target: row[7]!,
    amount: row[8]!,
    time: row[9]!,
    postings: [[row[6]!, `-${row[8]}`], [row[7]!, row[8]!]],
  }));
  const block = section.slice(
    section.indexOf("```\n") + 4,
    section.indexOf("\n```", section.indexOf("```\n") + 4),
  );
  assertEquals(hex(encode(entries[0]!)), block.replaceAll("\n", ""));
  const first = link(new Uint8Array(32), entries[0]!);
  const second = link(first, entries[1]!);
  assertEquals(hex(first), /`hash_1` \| `([0-9a-f]{64})`/.exec(section)?.[1]);
  assertEquals(hex(second), /`hash_2` \| `([0-9a-f]{64})`/.exec(section)?.[1]);
});

Deno.test("docs/LEDGER.md alone recomputes every hash a real store keeps, from its raw rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bank-ledger-doc-" });
  const path = `${dir}/bank.db`;
  try {
    {
      await using ledger = SqliteLedger.open(path);
      for (const owner of ["ada", "bob"]) {
        await ledger.openAccount({ owner, id: `${owner}-1`, depositMinor: 5_000n });
      }
      await Promise.all(Array.from({ length: 12 }, (_, index) =>
        ledger.transfer({
          identity: "ada",
          targetAccountId: "bob-1",
          amountMinor: BigInt(index + 1),
          idempotencyKey: `doc-${index}`,
        })));
    }
    const raw = new DatabaseSync(path, { readOnly: true });
    try {
      const postings = new Map<string, [string, string][]>();
      for (const row of raw.prepare("SELECT entry, account_id, amount_minor FROM postings").all()) {
        const list = postings.get(String(row.entry)) ?? [];
        list.push([String(row.account_id), String(row.amount_minor)]);
        postings.set(String(row.entry), list);
      }
      const links = raw.prepare(
        "SELECT c.position, c.hash, j.* FROM journal_chain c JOIN journal j ON j.entry = c.entry ORDER BY c.position",
      ).all();
      assertEquals(links.length, 14);
      let previous: Uint8Array = new Uint8Array(32);
      for (const row of links) {
        const hash = link(previous, {
          entry: String(row.entry),
          transferId: uuidOfStored(row.transfer_id),
          kind: String(row.kind),
          identity: String(row.identity),
          key: String(row.idempotency_key),
          source: String(row.source_account_id),
          target: String(row.target_account_id),
          amount: String(row.amount_minor),
          time: new Date(Number(row.created_at)).toISOString(),
          postings: postings.get(String(row.entry)) ?? [],
        });
        assertEquals(hex(hash), hex(row.hash as Uint8Array), `position ${row.position}`);
        previous = hash;
      }
    } finally {
      raw.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/LEDGER.md alone recomputes the whole chain from `ledger export`, every kind and every page", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-ledger-export-" });
  try {
    {
      await using ledger = SqliteLedger.open(`${dataDir}/bank.db`);
      for (const owner of ["ada", "bob"]) {
        await ledger.openAccount({ owner, id: `${owner}-1`, depositMinor: 500_000n });
      }
      // More entries than one page of the chain (1,000), written in group commits.
      const paid = await Promise.all(Array.from({ length: 1_050 }, (_, index) =>
        ledger.transfer({
          identity: index % 2 === 0 ? "ada" : "bob",
          targetAccountId: index % 2 === 0 ? "bob-1" : "ada-1",
          amountMinor: BigInt(index + 1),
          idempotencyKey: `export-${index}`,
        })));
      const held = await ledger.hold({
        identity: "ada",
        targetAccountId: "bob-1",
        amountMinor: 700n,
        idempotencyKey: "hold-1",
        expiresInS: 60,
      });
      if (held.code !== "ok") throw new Error(held.code);
      await ledger.captureHold({ identity: "ada", holdId: held.hold.id, amountMinor: 600n });
      const first = paid[0]!;
      if (first.code !== "ok") throw new Error(first.code);
      await ledger.reverse({
        kind: "refund",
        identity: "bob",
        transferId: first.transfer.id,
        idempotencyKey: "refund-1",
      });
      await ledger.reverse({
        kind: "reversal",
        identity: "bank",
        transferId: paid[1]!.code === "ok" ? paid[1]!.transfer.id : "",
        idempotencyKey: "reversal:1",
        reason: "entered twice, reversed — see ticket 7",
      });
    }
    const exported = await runAdmin(["ledger", "export"], { dataDir });
    assertEquals(exported.code, 0, exported.stderr);
    const lines = exported.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    assertEquals(lines.length, 2 + 1_050 + 3);
    assertEquals(
      new Set(lines.map((line) => line.kind)),
      new Set(["deposit", "transfer", "capture", "refund", "reversal"]),
    );
    let previous: Uint8Array = new Uint8Array(32);
    for (const line of lines) {
      const fields = line.kind === "capture"
        ? [line.hold_id]
        : line.kind === "reversal" || line.kind === "refund"
        ? [line.original_entry, line.reason ?? ""]
        : [];
      const hash = link(previous, {
        entry: line.entry,
        transferId: line.transfer_id,
        kind: line.kind,
        identity: line.identity,
        key: line.idempotency_key,
        source: line.from,
        target: line.to,
        amount: line.amount_minor,
        time: line.created_at,
        postings: line.postings.map((
          posting: Record<string, string>,
        ) => [posting.account_id, posting.amount_minor]),
        link: fields,
      });
      assertEquals(hex(hash), line.hash, `position ${line.position}`);
      previous = hash;
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
