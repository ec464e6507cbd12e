import { Capacity, FULL_SWEEP_INTERVAL_MS } from "../../../src/protection/bounded-table";
import { MemoryIdempotencyStore } from "../../../src/protection/idempotency-store";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { ClientShareFullError, MemoryCounter, MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { MemoryRegisteredMobileStore } from "../../../src/protection/memory-registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";

/**
 * Each client's share of an in-memory table (MEMORY_*_CLIENT_SHARE_PERCENT), as the three tables that have one apply
 * it: the throttle's counters (Capacity itself), the idempotency records and the registered mobiles. One rule for the
 * three (bounded-table.ts Capacity): a client at its share is refused a new entry, another client is not; its expired
 * entries are swept before it is refused, at most once per FULL_SWEEP_INTERVAL_MS for the whole capacity; an entry
 * that leaves gives its place back, one replaced under its key is counted once; with the share off (100 %) a client
 * alone filling the table meets the table's cap, not a share.
 */
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("o".repeat(32)))]);
const hasher = new KeyHasher(Buffer.from("o".repeat(32)));
const result = { typename: "CibilOtpChallenge", data: { cibilId: "1" } };
const TTL = 10_000;

/** What an attempt came to: "ok", "share" (ClientShareFullError) or "full" (MemoryStoreFullError, the table's cap). */
type Outcome = "ok" | "share" | "full";

async function outcome(attempt: () => unknown): Promise<Outcome> {
  try {
    await attempt();
    return "ok";
  } catch (error) {
    if (error instanceof ClientShareFullError) return "share";
    if (error instanceof MemoryStoreFullError) return "full";
    throw error;
  }
}

/**
 * One table under test, its unit a "place": one entry (throttle, idempotency) or one customer's three records
 * (registered mobiles, whose share is counted in records, three a customer: its id's, its PAN's and its token's).
 */
interface Table {
  /** A new place for `owner` under the name `key` (a new name each time unless replacing). */
  take(owner: string, key: string): Promise<Outcome>;
  advance(ms: number): void;
  /** How many times the table's full and share warnings were told. */
  warnings(): { full: number; share: number };
}

function throttleTable(places: number, share?: number): Table {
  let now = 1_000_000;
  const warned = { full: 0, share: 0 };
  const capacity = new Capacity(
    places,
    () => now,
    () => warned.full++,
    share ?? places,
  );
  const counter = new MemoryCounter(5, TTL, capacity);
  return {
    take: (owner, key) => outcome(() => counter.take(key, now, owner)),
    advance: (ms) => (now += ms),
    warnings: () => warned,
  };
}

function idempotencyTable(places: number, share?: number): Table & { store: MemoryIdempotencyStore } {
  let now = 1_000_000;
  const warned = { full: 0, share: 0 };
  const store = new MemoryIdempotencyStore(sealer, {
    maxKeys: places,
    maxKeysPerOwner: share,
    now: () => now,
    onFull: () => warned.full++,
    onOwnerFull: () => warned.share++,
  });
  return {
    store,
    take: (owner, key) => outcome(() => store.begin(key, "fp", 1_000, TTL, undefined, undefined, owner)),
    advance: (ms) => (now += ms),
    warnings: () => warned,
  };
}

function registeredTable(places: number, share?: number): Table & { store: MemoryRegisteredMobileStore } {
  let now = 1_000_000;
  const warned = { full: 0, share: 0 };
  const store = new MemoryRegisteredMobileStore(hasher, sealer, {
    maxKeys: 3 * places,
    maxKeysPerOwner: share === undefined ? undefined : 3 * share,
    ttlMs: TTL,
    now: () => now,
    onFull: () => warned.full++,
    onOwnerFull: () => warned.share++,
  });
  return {
    store,
    // A registration: room set aside before the call, its three records kept after it, the room given back.
    take: (owner, key) =>
      outcome(async () => {
        store.ready(owner);
        try {
          await store.remember(`7601${key}`, "9876512345", `PAN${key}`, owner, `TOK${key}`);
        } finally {
          store.released(owner);
        }
      }),
    advance: (ms) => (now += ms),
    warnings: () => warned,
  };
}

const tables: ReadonlyArray<[string, (places: number, share?: number) => Table]> = [
  ["throttle counters (Capacity)", throttleTable],
  ["idempotency records", idempotencyTable],
  ["registered mobiles", registeredTable],
];

describe.each(tables)("each client's share of an in-memory table: %s", (name, make) => {
  const stores = name !== "throttle counters (Capacity)";

  it("a client at its share is refused a new place; another client is still admitted", async () => {
    const t = make(8, 2);
    expect([await t.take("A", "1"), await t.take("A", "2"), await t.take("A", "3")]).toEqual(["ok", "ok", "share"]);
    expect([await t.take("B", "4"), await t.take("B", "5"), await t.take("B", "6")]).toEqual(["ok", "ok", "share"]);
    expect(t.warnings().full).toBe(0);
    if (stores) expect(t.warnings().share).toBe(2);
  });

  it("expired places free the share, swept before refusing at most once per FULL_SWEEP_INTERVAL_MS", async () => {
    const t = make(8, 2);
    await t.take("A", "1");
    await t.take("A", "2");
    t.advance(TTL - 1);
    // Refused: a sweep ran now and found nothing expired.
    expect(await t.take("A", "3")).toBe("share");
    t.advance(2);
    // Expired, but the last sweep is 2 ms old: no second pass within the interval.
    expect(await t.take("A", "3")).toBe("share");
    t.advance(FULL_SWEEP_INTERVAL_MS);
    expect([await t.take("A", "3"), await t.take("A", "4"), await t.take("A", "5")]).toEqual(["ok", "ok", "share"]);
  });

  it("a full sweep of the table counts as the interval's one pass for the share too", async () => {
    // A's two places end before B's; C fills the table at once: the table's sweep runs when A's have not ended yet.
    const t = make(4, 2);
    await t.take("A", "1");
    await t.take("A", "2");
    t.advance(TTL / 2);
    await t.take("B", "3");
    await t.take("B", "4");
    t.advance(TTL / 2 - 1);
    expect(await t.take("C", "5")).toBe("full");
    // A's have ended 1 ms later, but one pass has run within the interval: A is refused until the next one.
    t.advance(2);
    expect(await t.take("A", "6")).toBe("share");
    t.advance(FULL_SWEEP_INTERVAL_MS);
    expect(await t.take("A", "6")).toBe("ok");
  });

  it("with the share off (100 %), one client filling the table meets the table's cap, never a share", async () => {
    const t = make(3);
    expect([await t.take("A", "1"), await t.take("A", "2"), await t.take("A", "3")]).toEqual(["ok", "ok", "ok"]);
    expect(await t.take("A", "4")).toBe("full");
    expect(await t.take("B", "5")).toBe("full");
    expect(t.warnings()).toEqual({ full: 2, share: 0 });
  });

  it("a place taken again under its own name is counted once", async () => {
    const t = make(8, 2);
    await t.take("A", "1");
    await t.take("A", "1");
    await t.take("A", "1");
    expect([await t.take("A", "2"), await t.take("A", "3")]).toEqual(["ok", "share"]);
  });
});

describe("each client's share: places given back", () => {
  it("idempotency: a released record gives its place back; a completed one keeps it, counted once", async () => {
    const t = idempotencyTable(8, 2);
    const a1 = await t.store.begin("a1", "fp", 1_000, TTL, undefined, undefined, "A");
    const a2 = await t.store.begin("a2", "fp", 1_000, TTL, undefined, undefined, "A");
    if (a1.kind !== "acquired" || a2.kind !== "acquired") throw new Error("not acquired");
    await t.store.complete("a1", a1.token, "fp", result, TTL);
    expect(await t.take("A", "a3")).toBe("share");
    await t.store.release("a2", a2.token);
    expect([await t.take("A", "a3"), await t.take("A", "a4")]).toEqual(["ok", "share"]);
    expect(t.store.heldBy("A")).toBe(2);
  });

  it("registered mobiles: the room a running registration sets aside counts for its client until released", async () => {
    const t = registeredTable(8, 2);
    t.store.ready("A");
    t.store.ready("A");
    expect(await outcome(() => t.store.ready("A"))).toBe("share");
    expect(await outcome(() => t.store.ready("B"))).toBe("ok");
    // A registration that ended without records (AOPay refused it) gives its room back.
    t.store.released("A");
    expect(await outcome(() => t.store.ready("A"))).toBe("ok");
  });

  it("registered mobiles: a record rewritten by another client's registration counts for that client only", async () => {
    const t = registeredTable(8, 2);
    await t.take("A", "1");
    // B registers the same customer (same PAN, same CIBIL id): both records are B's now.
    await t.take("B", "1");
    expect([await t.take("A", "2"), await t.take("A", "3"), await t.take("A", "4")]).toEqual(["ok", "ok", "share"]);
    expect([await t.take("B", "5"), await t.take("B", "6")]).toEqual(["ok", "share"]);
  });
});
