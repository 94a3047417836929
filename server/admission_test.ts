import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  addressKeyOf,
  Admission,
  ConnectionBudget,
  createBudgetMemory,
  planConnections,
  SharedCounters,
  SharedRates,
  SlotHasher,
} from "./admission.ts";
import type { AdmissionSettings, AdmissionTicket } from "./admission.ts";
import { CONNECTIONS_MIN, defaultFdReserve } from "./limits.ts";

/** The ticket of an admitted connection; fails the test when it was refused. */
function ticketOf(result: ReturnType<Admission["admit"]>): AdmissionTicket {
  if (!result.ok) throw new Error(`Expected admission, got ${result.refusal}`);
  return result.ticket;
}

const SETTINGS: AdmissionSettings = {
  connectionsMax: 4,
  addressPendingMax: 2,
  addressConnects: { perSecond: 1, burst: 3 },
  identitySessionsMax: 1,
  identityRequests: { perSecond: 1, burst: 2 },
};

Deno.test("addressKeyOf() keeps IPv4 as it is and counts IPv6 by its /64", () => {
  const cases: [string, string][] = [
    ["127.0.0.2", "127.0.0.2"],
    ["::ffff:127.0.0.2", "127.0.0.2"],
    ["::FFFF:10.1.2.3", "10.1.2.3"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"],
    ["2001:0db8::1", "2001:db8:0:0::/64"],
    ["[::1]", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["1::2::3", "1::2::3"],
    ["not-an-address", "not-an-address"],
  ];
  for (const [hostname, key] of cases) assertEquals(addressKeyOf(hostname), key, hostname);
});

Deno.test("SharedCounters share counts across views of one memory, and never overshoot", () => {
  const memory = createBudgetMemory();
  const hasher = new SlotHasher(memory.seeds);
  const one = new SharedCounters(memory.addressPending);
  const other = new SharedCounters(memory.addressPending);
  const slots = hasher.slotsOf("127.0.0.2");
  assert(one.tryAcquire(slots, 2));
  assert(other.tryAcquire(slots, 2), "a second thread sees the first one's count");
  assertEquals(one.tryAcquire(slots, 2), false);
  assertEquals(other.estimate(slots), 2, "a refused acquire leaves no trace");
  other.release(slots);
  assert(one.tryAcquire(slots, 2));
  assertEquals(one.estimate(hasher.slotsOf("127.0.0.3")), 0, "other keys are apart");
});

Deno.test("SharedRates refills by the clock up to the burst and says when to retry", () => {
  let nowMs = 1_000_000;
  const memory = createBudgetMemory();
  const rates = new SharedRates(memory.identityRates, { now: () => nowMs });
  const slots = new SlotHasher(memory.seeds).slotsOf("client-1");
  const rate = { perSecond: 2, burst: 3 };
  assertEquals([rates.take(slots, rate), rates.take(slots, rate), rates.take(slots, rate)].map((r) => r.ok), [
    true,
    true,
    true,
  ]);
  assertEquals(rates.take(slots, rate), { ok: false, retryAfterMs: 500 });
  nowMs += 250;
  assertEquals(rates.take(slots, rate), { ok: false, retryAfterMs: 250 });
  nowMs += 250;
  assertEquals(rates.take(slots, rate), { ok: true });
  nowMs += 60_000;
  for (let index = 0; index < 3; index++) {
    assert(rates.take(slots, rate).ok, "refilled to the burst, no more");
  }
  assertEquals(rates.take(slots, rate).ok, false);
});

Deno.test("ConnectionBudget holds at most its maximum, whichever view opens", () => {
  const memory = createBudgetMemory();
  const one = new ConnectionBudget(memory.connections, 2);
  const other = new ConnectionBudget(memory.connections, 2);
  assert(one.tryOpen());
  assert(other.tryOpen());
  assertEquals(one.tryOpen(), false);
  assertEquals(other.open, 2);
  one.close();
  assert(other.tryOpen());
  one.close();
  other.close();
  assertThrows(() => one.close(), Error, "Cannot close more connections than were opened");
});

Deno.test("Admission.admit() checks the address's rate, then its pending cap, then the process's budget", () => {
  let nowMs = 0;
  const admission = new Admission(createBudgetMemory(), SETTINGS, { now: () => nowMs });
  const noRoom = { makeRoom: () => false };
  const first = ticketOf(admission.admit("127.0.0.2", noRoom));
  ticketOf(admission.admit("127.0.0.2", noRoom));
  assertEquals(admission.admit("127.0.0.2", noRoom), {
    ok: false,
    refusal: "address_cap",
    addressKey: "127.0.0.2",
  });
  assertEquals(admission.admit("127.0.0.2", noRoom), {
    ok: false,
    refusal: "address_rate",
    addressKey: "127.0.0.2",
  });
  nowMs += 1_000;
  first.release();
  const third = ticketOf(admission.admit("127.0.0.2", noRoom));
  ticketOf(admission.admit("127.0.0.3", noRoom));
  ticketOf(admission.admit("127.0.0.4", noRoom));
  assertEquals(admission.admit("127.0.0.5", noRoom).ok, false, "the process holds 4");
  let made = false;
  const evicting = admission.admit("127.0.0.5", {
    makeRoom: () => {
      third.release();
      made = true;
      return true;
    },
  });
  assert(evicting.ok && made, "room made by closing an older pending connection admits the new one");
});

Deno.test("AdmissionTicket moves from the address's budget to the identity's, and releases once", () => {
  const admission = new Admission(createBudgetMemory(), SETTINGS);
  const noRoom = { makeRoom: () => false };
  const first = ticketOf(admission.admit("127.0.0.2", noRoom));
  const second = ticketOf(admission.admit("127.0.0.2", noRoom));
  assert(first.authenticate("client-1"));
  assertEquals(first.pending, false);
  assert(admission.admit("127.0.0.2", noRoom).ok, "an authenticated connection frees its address's place");
  assertEquals(second.authenticate("client-1"), false, "client-1 holds its one session");
  assert(second.pending, "a refused ticket is still pending");
  assert(first.identitySlots !== null);
  assertEquals(admission.takeRequest(first.identitySlots!).ok, true);
  first.release();
  first.release();
  assertEquals(admission.connections.open, 2);
  assert(second.authenticate("client-1"), "the identity's place is free again");
});

Deno.test("planConnections() shares the open-file limit between connections, the monitor and the reserve", () => {
  const base = {
    reserve: null,
    monitorConnections: 64,
    asked: null,
    fallback: 10_000,
    connectionsMin: CONNECTIONS_MIN,
    defaultReserve: defaultFdReserve,
  };
  assertEquals(planConnections({ ...base, fileLimit: 20_000 }), {
    connectionsMax: 20_000 - 1_024 - 64,
    reserve: 1_024,
    fileLimit: 20_000,
  });
  assertEquals(planConnections({ ...base, fileLimit: 1_024 }).reserve, 256, "a quarter of a small limit");
  assertEquals(planConnections({ ...base, fileLimit: 20_000, asked: 500 }).connectionsMax, 500);
  assertEquals(planConnections({ ...base, fileLimit: 20_000, asked: 50_000 }).lowered, { asked: 50_000 });
  assertEquals(planConnections({ ...base, fileLimit: null, asked: null }).connectionsMax, 10_000);
  assertEquals(planConnections({ ...base, fileLimit: Infinity, asked: 7 }).connectionsMax, 7);
  assertThrows(
    () => planConnections({ ...base, fileLimit: 200, reserve: 150 }),
    Error,
    "The open-file limit 200 leaves room for 0 connections",
  );
});
