/**
 * Admission: the budgets every serving thread of one process shares, in shared memory so that the limits
 * hold for the process as a whole whichever thread the kernel hands a connection to.
 *
 * - {@link ConnectionBudget}: TLS connections open at once, below the open-file limit.
 * - {@link SharedCounters}: how many of something a key holds (an address's unauthenticated connections,
 *   an identity's sessions).
 * - {@link SharedRates}: token buckets per key (an address's new connections, an identity's requests).
 *
 * Keyed tables are count-min sketches: two rows of {@link BUDGET_TABLE_SLOTS} slots, hashed with a secret
 * per-process seed. A key's count is the smaller of its two slots, so a key is limited only by its own
 * use unless another key collides with it in both rows (about one chance in 2^32 per pair). Memory is
 * fixed whatever the number of keys.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { BUDGET_TABLE_SLOTS, IPV6_PREFIX_BITS } from "./limits.ts";

const ROWS = 2;
const MILLITOKENS = 1_000;
const UINT32 = 2 ** 32;
/** Set in every bucket ever used, so that a used bucket never reads as the untouched 0. */
const BUCKET_USED = 1n << 62n;

/** A key's two slots in a keyed table, found once and kept for the later release. */
export interface Slots {
  readonly first: number;
  readonly second: number;
}

/** The shared memory behind one process's budgets; handed to each worker thread at its start. */
export interface BudgetMemory {
  connections: SharedArrayBuffer;
  addressPending: SharedArrayBuffer;
  addressRates: SharedArrayBuffer;
  identitySessions: SharedArrayBuffer;
  identityRates: SharedArrayBuffer;
  seeds: SharedArrayBuffer;
}

/** Makes fresh shared memory for a process's budgets, with random hash seeds. */
export function createBudgetMemory(): BudgetMemory {
  const counters = () => new SharedArrayBuffer(ROWS * BUDGET_TABLE_SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const rates = () => new SharedArrayBuffer(ROWS * BUDGET_TABLE_SLOTS * BigInt64Array.BYTES_PER_ELEMENT);
  const seeds = new SharedArrayBuffer(ROWS * Uint32Array.BYTES_PER_ELEMENT);
  crypto.getRandomValues(new Uint32Array(seeds));
  return {
    connections: new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
    addressPending: counters(),
    addressRates: rates(),
    identitySessions: counters(),
    identityRates: rates(),
    seeds,
  };
}

/** Finds keys' slots: a seeded 32-bit FNV-1a per row, finished with a murmur3 mix. */
export class SlotHasher {
  readonly #seeds: Uint32Array;

  constructor(seeds: SharedArrayBuffer) {
    this.#seeds = new Uint32Array(seeds);
    assert(this.#seeds.length === ROWS, "One seed per row");
  }

  slotsOf(key: string): Slots {
    return { first: this.#hash(key, this.#seeds[0]!), second: this.#hash(key, this.#seeds[1]!) };
  }

  #hash(key: string, seed: number): number {
    let hash = (0x811c9dc5 ^ seed) >>> 0;
    for (let index = 0; index < key.length; index++) {
      hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193) >>> 0;
    }
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b) >>> 0;
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35) >>> 0;
    return (hash ^ (hash >>> 16)) & (BUDGET_TABLE_SLOTS - 1);
  }
}

/** TLS connections open in the whole process, against one cap. */
export class ConnectionBudget {
  readonly #cells: Int32Array;
  readonly max: number;

  constructor(memory: SharedArrayBuffer, max: number) {
    assert(Number.isInteger(max), `Connection budget ${max} must be at least 1`);
    assert(max >= 1, `Connection budget ${max} must be at least 1`);
    this.#cells = new Int32Array(memory);
    this.max = max;
  }

  /** Takes a place for a new connection; false when the process holds its maximum already. */
  tryOpen(): boolean {
    const open = Atomics.add(this.#cells, 0, 1) + 1;
    if (open <= this.max) return true;
    Atomics.sub(this.#cells, 0, 1);
    return false;
  }

  close(): void {
    const open = Atomics.sub(this.#cells, 0, 1) - 1;
    assert(open >= 0, "Cannot close more connections than were opened");
  }

  get open(): number {
    return Atomics.load(this.#cells, 0);
  }
}

/** How many of something each key holds, shared by every thread (a count-min sketch). */
export class SharedCounters {
  readonly #cells: Int32Array;

  constructor(memory: SharedArrayBuffer) {
    this.#cells = new Int32Array(memory);
    assert(this.#cells.length === ROWS * BUDGET_TABLE_SLOTS, "A counter table has two rows of slots");
  }

  /** Counts one more for the key, unless it already holds `max`; adds first, so racing threads never overshoot. */
  tryAcquire(slots: Slots, max: number): boolean {
    const first = Atomics.add(this.#cells, slots.first, 1) + 1;
    const second = Atomics.add(this.#cells, BUDGET_TABLE_SLOTS + slots.second, 1) + 1;
    if (Math.min(first, second) <= max) return true;
    this.release(slots);
    return false;
  }

  release(slots: Slots): void {
    const first = Atomics.sub(this.#cells, slots.first, 1) - 1;
    const second = Atomics.sub(this.#cells, BUDGET_TABLE_SLOTS + slots.second, 1) - 1;
    assert(first >= 0, "A counter slot cannot go below zero");
    assert(second >= 0, "A counter slot cannot go below zero");
  }

  /** The count a key is charged with: the smaller of its slots. */
  estimate(slots: Slots): number {
    return Math.min(
      Atomics.load(this.#cells, slots.first),
      Atomics.load(this.#cells, BUDGET_TABLE_SLOTS + slots.second),
    );
  }
}

/** A rate: tokens added per second, and the most a bucket holds (the burst). */
export interface Rate {
  perSecond: number;
  burst: number;
}

/** A bucket's answer: allowed, or when the next token arrives. */
export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Token buckets per key, shared by every thread. Each slot packs a bucket in 64 bits: a "used" bit (62), then
 * milli-tokens (30 bits), then the time of its last refill (milliseconds, modulo 2^32) in the low half. A
 * slot never used reads as 0 and counts as full. A request is allowed when both of its slots hold a token.
 */
export class SharedRates {
  readonly #cells: BigInt64Array;
  readonly #now: () => number;

  constructor(memory: SharedArrayBuffer, options: { now?: () => number } = {}) {
    this.#cells = new BigInt64Array(memory);
    this.#now = options.now ?? (() => Math.floor(performance.timeOrigin + performance.now()));
    assert(this.#cells.length === ROWS * BUDGET_TABLE_SLOTS, "A rate table has two rows of slots");
  }

  take(slots: Slots, rate: Rate): TakeResult {
    assert(rate.perSecond >= 1, `Rate ${rate.perSecond}/s, burst ${rate.burst} is empty`);
    assert(rate.burst >= 1, `Rate ${rate.perSecond}/s, burst ${rate.burst} is empty`);
    assert(rate.burst * MILLITOKENS < 2 ** 30, `Burst ${rate.burst} does not fit a bucket`);
    const nowMs = this.#now();
    const first = this.#refilled(slots.first, { rate, nowMs });
    const second = this.#refilled(BUDGET_TABLE_SLOTS + slots.second, { rate, nowMs });
    const poorest = Math.min(first, second);
    if (poorest < MILLITOKENS) {
      return { ok: false, retryAfterMs: Math.ceil((MILLITOKENS - poorest) / rate.perSecond) };
    }
    this.#spend(slots.first, { rate, nowMs });
    this.#spend(BUDGET_TABLE_SLOTS + slots.second, { rate, nowMs });
    return { ok: true };
  }

  /** The milli-tokens a bucket holds now. */
  #refilled(index: number, at: { rate: Rate; nowMs: number }): number {
    return refill(Atomics.load(this.#cells, index), at);
  }

  /** Takes one token, retrying while another thread changes the bucket; a bucket emptied meanwhile stays empty. */
  #spend(index: number, at: { rate: Rate; nowMs: number }): void {
    for (let attempt = 0; attempt < 64; attempt++) {
      const current = Atomics.load(this.#cells, index);
      const tokens = Math.max(0, refill(current, at) - MILLITOKENS);
      const next = BUCKET_USED | (BigInt(tokens) << 32n) | BigInt(at.nowMs % UINT32);
      if (Atomics.compareExchange(this.#cells, index, current, next) === current) return;
    }
  }
}

/** A bucket's milli-tokens at `nowMs`: what it held plus what the rate added since, up to the burst. */
function refill(packed: bigint, at: { rate: Rate; nowMs: number }): number {
  const capacity = at.rate.burst * MILLITOKENS;
  if (packed === 0n) return capacity;
  const tokens = Number((packed >> 32n) & 0x3fffffffn);
  const lastMs = Number(packed & 0xffffffffn);
  const elapsedMs = (at.nowMs % UINT32 - lastMs + UINT32) % UINT32;
  if (elapsedMs >= UINT32 / 2) return capacity;
  return Math.min(capacity, tokens + elapsedMs * at.rate.perSecond);
}

/**
 * The key an address is budgeted under: an IPv4 address as it is (IPv4-mapped IPv6 included), an IPv6
 * address by its /64 prefix, which one host usually holds whole.
 */
export function addressKeyOf(hostname: string): string {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped !== null) return mapped[1]!;
  if (!bare.includes(":")) return bare;
  const groups = expandIpv6(bare.split("%")[0]!);
  if (groups === null) return bare.toLowerCase();
  const prefixGroups = IPV6_PREFIX_BITS / 16;
  return `${groups.slice(0, prefixGroups).join(":")}::/${IPV6_PREFIX_BITS}`;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros; null when malformed. */
function expandIpv6(text: string): string[] | null {
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => parseInt(group, 16).toString(16));
}

/** The budgets' settings, from the server's configuration. */
export interface AdmissionSettings {
  /** TLS connections the process holds at once. */
  connectionsMax: number;
  /** Connections one address may hold before they authenticate. */
  addressPendingMax: number;
  /** New connections per address. */
  addressConnects: Rate;
  /** Sessions one identity may hold at once. */
  identitySessionsMax: number;
  /** Requests per identity. */
  identityRequests: Rate;
}

/** Why admission refused a connection at accept. */
export type ConnectionRefusal = "address_rate" | "address_cap" | "connection_cap";
/** Why admission refused a connection, a session or a request. */
export type AdmissionRefusal = ConnectionRefusal | "identity_cap" | "identity_rate";

/**
 * One connection's place in the budgets, from accept to close: it holds an address slot until it
 * authenticates, then an identity slot until it ends. {@link release} gives back whatever it still holds.
 */
export class AdmissionTicket {
  readonly #admission: Admission;
  readonly addressKey: string;
  #address: Slots | null;
  #identity: Slots | null = null;
  #open = true;

  constructor(admission: Admission, parts: { addressKey: string; address: Slots }) {
    this.#admission = admission;
    this.addressKey = parts.addressKey;
    this.#address = parts.address;
  }

  /** The identity's slots once the session is admitted, for its request budget. */
  get identitySlots(): Slots | null {
    return this.#identity;
  }

  /** True until the connection authenticates (or ends). */
  get pending(): boolean {
    return this.#address !== null;
  }

  /**
   * Moves the connection from its address's pending budget to its identity's session budget; false (and
   * still pending) when the identity holds its most sessions already.
   */
  authenticate(identity: string): boolean {
    assert(this.#open, "A released ticket cannot authenticate");
    assert(this.#identity === null, "A ticket authenticates once");
    const slots = this.#admission.hasher.slotsOf(identity);
    if (!this.#admission.identitySessions.tryAcquire(slots, this.#admission.settings.identitySessionsMax)) {
      return false;
    }
    this.#identity = slots;
    this.#releaseAddress();
    return true;
  }

  /** Gives back every slot the ticket holds; safe to call more than once. */
  release(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#releaseAddress();
    if (this.#identity !== null) this.#admission.identitySessions.release(this.#identity);
    this.#admission.connections.close();
  }

  #releaseAddress(): void {
    if (this.#address === null) return;
    this.#admission.addressPending.release(this.#address);
    this.#address = null;
  }
}

/** The process's budgets as one thread sees them: admits connections, sessions and requests. */
export class Admission {
  readonly settings: AdmissionSettings;
  readonly hasher: SlotHasher;
  readonly connections: ConnectionBudget;
  readonly addressPending: SharedCounters;
  readonly identitySessions: SharedCounters;
  readonly #addressRates: SharedRates;
  readonly #identityRates: SharedRates;

  constructor(memory: BudgetMemory, settings: AdmissionSettings, options: { now?: () => number } = {}) {
    assert(settings.addressPendingMax >= 1, "An address may hold at least one pending connection");
    assert(settings.identitySessionsMax >= 1, "An identity may hold at least one session");
    this.settings = settings;
    this.hasher = new SlotHasher(memory.seeds);
    this.connections = new ConnectionBudget(memory.connections, settings.connectionsMax);
    this.addressPending = new SharedCounters(memory.addressPending);
    this.identitySessions = new SharedCounters(memory.identitySessions);
    this.#addressRates = new SharedRates(memory.addressRates, options);
    this.#identityRates = new SharedRates(memory.identityRates, options);
  }

  /**
   * Admits a new connection from `hostname`, checked in a fixed order: the address's connect rate, its
   * pending connections, then the process's connection budget (`makeRoom` may close an older pending
   * connection to free a place).
   */
  admit(
    hostname: string,
    options: { makeRoom: () => boolean },
  ): { ok: true; ticket: AdmissionTicket } | { ok: false; refusal: ConnectionRefusal; addressKey: string } {
    const addressKey = addressKeyOf(hostname);
    const address = this.hasher.slotsOf(addressKey);
    if (!this.#addressRates.take(address, this.settings.addressConnects).ok) {
      return { ok: false, refusal: "address_rate", addressKey };
    }
    if (!this.addressPending.tryAcquire(address, this.settings.addressPendingMax)) {
      return { ok: false, refusal: "address_cap", addressKey };
    }
    if (!this.connections.tryOpen() && !(options.makeRoom() && this.connections.tryOpen())) {
      this.addressPending.release(address);
      return { ok: false, refusal: "connection_cap", addressKey };
    }
    return { ok: true, ticket: new AdmissionTicket(this, { addressKey, address }) };
  }

  /** Takes one request from an identity's budget, or says when to retry. */
  takeRequest(identity: Slots): TakeResult {
    return this.#identityRates.take(identity, this.settings.identityRequests);
  }
}

/** How the open-file limit is shared out: TLS connections, the monitor's, and the reserve. */
export interface ConnectionPlan {
  connectionsMax: number;
  reserve: number;
  /** The soft limit the plan came from; null where it could not be read. */
  fileLimit: number | null;
  /** Set when `--max-connections` asked for more than the limit allows and was lowered. */
  lowered?: { asked: number };
}

/**
 * Sizes the TLS connection budget below the open-file limit: the limit, less the reserve, less the
 * monitor's connections. Without a readable limit, the asked number (or the fallback) stands. Throws when
 * the limit leaves fewer than `connectionsMin` connections.
 */
export function planConnections(options: {
  fileLimit: number | null;
  reserve: number | null;
  monitorConnections: number;
  asked: number | null;
  fallback: number;
  connectionsMin: number;
  defaultReserve: (fileLimit: number) => number;
}): ConnectionPlan {
  const { fileLimit, asked } = options;
  if (fileLimit === null || !Number.isFinite(fileLimit)) {
    return { connectionsMax: asked ?? options.fallback, reserve: options.reserve ?? 0, fileLimit: null };
  }
  const reserve = options.reserve ?? options.defaultReserve(fileLimit);
  const room = fileLimit - reserve - options.monitorConnections;
  if (room < options.connectionsMin) {
    throw new Error(
      `The open-file limit ${fileLimit} leaves room for ${Math.max(0, room)} connections after ` +
        `${reserve} reserved files and ${options.monitorConnections} monitor connections; raise the ` +
        `limit (ulimit -n) or lower --fd-reserve`,
    );
  }
  if (asked === null) return { connectionsMax: room, reserve, fileLimit };
  if (asked <= room) return { connectionsMax: asked, reserve, fileLimit };
  return { connectionsMax: room, reserve, fileLimit, lowered: { asked } };
}
