import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "@std/assert";
import { uuidText } from "../lib/uuid.ts";
import { SqliteLedger } from "../server/ledger/sqlite.ts";
import { buildStore, measureGrowth } from "./big_store.ts";

Deno.test("the big-store fixture verifies, with time-ordered transfer ids like the server's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "big-store-" });
  try {
    await buildStore(`${dir}/bank.db`, 3_000);
    {
      await using ledger = SqliteLedger.open(`${dir}/bank.db`);
      const verified = await ledger.verify();
      assert(verified.ok, verified.problems.join("; "));
      assertEquals(verified.entries, 4_000, "the 1,000 accounts' opening deposits and the 3,000 transfers");
    }
    const raw = new DatabaseSync(`${dir}/bank.db`, { readOnly: true });
    const ids = raw.prepare("SELECT transfer_id FROM journal ORDER BY entry").all().map((row) =>
      uuidText(row.transfer_id as Uint8Array)
    );
    raw.close();
    assertEquals(ids.length, 4_000);
    for (let index = 1; index < ids.length; index++) {
      assert(ids[index - 1]! < ids[index]!, `transfer ids in entry order at ${index}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measureGrowth measures every store in two mirrored rounds through the real server", async () => {
  const results = await measureGrowth([2_000], { durationMs: 300, warmupMs: 100 });
  assertEquals(results.map((result) => result.rounds.length), [2, 2]);
  assert(results[0]!.entries < results[1]!.entries, "the fresh store first, then the deeper one");
  assert(results[1]!.entries >= 3_000, "the deeper store holds its 2,000 transfers and 1,000 deposits");
  for (const result of results) {
    assert(result.transfersPerSecond > 0 && result.balancesPerSecond > 0, "both loads were answered");
    assert(result.bytesPerEntry > 0 && result.verifyEntriesPerSecond > 0, "the store was sized and verified");
  }
});
