import { MemoryIdempotencyStore } from "../../../src/protection/idempotency-store";
import { ClientShareFullError, MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { recordBytes } from "../../../src/protection/protection.settings";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";
import { FULL_SWEEP_INTERVAL_MS } from "../../../src/protection/bounded-table";

/**
 * The in-memory idempotency table's byte budget (MEMORY_IDEMPOTENCY_MAX_BYTES; docs/security.md "Memory"). Before,
 * only the number of records was capped: 50,000 records of results near IDEMPOTENCY_MAX_RESULT_BYTES held about
 * 550 MB. A key is taken only with room for the largest record its request can leave; full, a new key is refused
 * (nothing sent) and no live record is evicted; expired records are swept first.
 */
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("b".repeat(32)))]);
const MAX_RESULT = 2048;
/** Room for three pending records, or many small done ones. */
const MAX_BYTES = 3 * recordBytes(MAX_RESULT);
const TTL = 60_000;
/** A stored result whose JSON is about `bytes` bytes. */
const resultOf = (bytes: number) => ({ typename: "Text", data: { result: "r".repeat(bytes - 40) } });

function store() {
  let now = 1_000_000;
  const full: number[] = [];
  const s = new MemoryIdempotencyStore(sealer, {
    maxKeys: 10_000,
    maxBytes: MAX_BYTES,
    maxResultBytes: MAX_RESULT,
    now: () => now,
    onFull: () => full.push(now),
  });
  return { s, full, advance: (ms: number) => (now += ms) };
}

/** Takes `key` and stores a result of `bytes`; "refused" when the table has no room for it. */
async function sendOnce(s: MemoryIdempotencyStore, key: string, bytes: number): Promise<"stored" | "refused"> {
  let begun;
  try {
    begun = await s.begin(key, `fp-${key}`, TTL, TTL);
  } catch (error) {
    if (error instanceof MemoryStoreFullError) return "refused";
    throw error;
  }
  if (begun.kind !== "acquired") throw new Error(`${key}: ${begun.kind}`);
  await s.complete(key, begun.token, `fp-${key}`, resultOf(bytes), TTL);
  return "stored";
}

describe("MemoryIdempotencyStore's byte budget (MEMORY_IDEMPOTENCY_MAX_BYTES)", () => {
  it("stays within its bytes under many distinct keys: the largest results fill it, then new keys are refused", async () => {
    const { s, full } = store();
    const outcomes: string[] = [];
    for (let i = 0; i < 50; i++) {
      outcomes.push(await sendOnce(s, `k${i}`, MAX_RESULT));
      expect(s.bytes).toBeLessThanOrEqual(MAX_BYTES);
    }
    // Three records of the largest result fit; every later key is refused (the count cap, 10,000, is far away).
    expect(outcomes.filter((o) => o === "stored")).toHaveLength(3);
    expect(outcomes.slice(3)).toEqual(Array(47).fill("refused"));
    expect(full).toHaveLength(47);
    expect(s.fill()).toBe(1);
    // No live record was evicted: each kept key still replays its own result.
    for (let i = 0; i < 3; i++)
      expect(await s.begin(`k${i}`, `fp-k${i}`, TTL)).toEqual({ kind: "replay", result: resultOf(MAX_RESULT) });
  });

  it("small results leave room for more records: a done record counts its own size, not the pending room", async () => {
    const { s } = store();
    expect(s.fill()).toBe(0);
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) outcomes.push(await sendOnce(s, `k${i}`, 200));
    expect(outcomes.at(-1)).toBe("refused");
    expect(s.fill()).toBe(1);
    const stored = outcomes.filter((o) => o === "stored").length;
    expect(stored).toBeGreaterThan(3);
    // Refused only once a pending record's room (recordBytes(MAX_RESULT)) no longer fits beside the done ones.
    expect(s.bytes + recordBytes(MAX_RESULT)).toBeGreaterThan(MAX_BYTES);
    expect(s.bytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it("a request holding its key always has room for its result, even with the table full of others' keys", async () => {
    const { s } = store();
    const held = [];
    for (let i = 0; i < 3; i++) {
      const begun = await s.begin(`p${i}`, `fp-p${i}`, TTL, TTL);
      if (begun.kind !== "acquired") throw new Error();
      held.push(begun.token);
    }
    await expect(s.begin("late", "fp-late", TTL, TTL)).rejects.toBeInstanceOf(MemoryStoreFullError);
    // Every one of the three sends answered: each result stored (the largest kept), none refused.
    for (let i = 0; i < 3; i++)
      expect(await s.complete(`p${i}`, held[i], `fp-p${i}`, resultOf(MAX_RESULT), TTL)).toBe("stored");
    expect(s.bytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it("a pending key is never evicted for a new one: a repeat is still in flight", async () => {
    const { s, advance } = store();
    for (let i = 0; i < 3; i++) await s.begin(`p${i}`, `fp-p${i}`, TTL, TTL);
    advance(FULL_SWEEP_INTERVAL_MS + 1);
    await expect(s.begin("new", "fp-new", TTL, TTL)).rejects.toBeInstanceOf(MemoryStoreFullError);
    expect(await s.begin("p0", "fp-p0", TTL, TTL)).toEqual({
      kind: "in-flight",
      pendingForMs: TTL - FULL_SWEEP_INTERVAL_MS - 1,
    });
  });

  it("expired records are swept first: once the kept ones have expired, new keys are taken again", async () => {
    const { s, advance } = store();
    for (let i = 0; i < 3; i++) expect(await sendOnce(s, `k${i}`, MAX_RESULT)).toBe("stored");
    expect(await sendOnce(s, "k3", MAX_RESULT)).toBe("refused");
    advance(TTL + FULL_SWEEP_INTERVAL_MS);
    expect(await sendOnce(s, "k4", MAX_RESULT)).toBe("stored");
    // The expired ones are gone (swept), their bytes given back: only k4's record counts.
    expect(s.bytes).toBeGreaterThan(0);
    expect(s.bytes).toBeLessThanOrEqual(recordBytes(MAX_RESULT));
    expect((await s.begin("k0", "fp-k0", TTL, TTL)).kind).toBe("acquired");
  });

  it("a released key gives its room back", async () => {
    const { s } = store();
    const begun = await s.begin("k", "fp", TTL, TTL);
    if (begun.kind !== "acquired") throw new Error();
    expect(s.bytes).toBe(recordBytes(MAX_RESULT));
    await s.release("k", begun.token);
    expect(s.bytes).toBe(0);
  });

  it("a client's share applies to the bytes: one client's large results leave the rest for the others", async () => {
    // A third of the bytes each (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT 33), the records' share far away: counted by
    // records alone, client A's large results filled the whole budget and B was refused too.
    const onOwnerFull: string[] = [];
    const s = new MemoryIdempotencyStore(sealer, {
      maxKeys: 10_000,
      maxKeysPerOwner: 5_000,
      maxBytes: 6 * recordBytes(MAX_RESULT),
      maxBytesPerOwner: 2 * recordBytes(MAX_RESULT),
      maxResultBytes: MAX_RESULT,
      onOwnerFull: () => onOwnerFull.push("full"),
    });
    const send = async (owner: string, key: string) => {
      try {
        const begun = await s.begin(key, `fp-${key}`, TTL, TTL, undefined, undefined, owner);
        if (begun.kind !== "acquired") throw new Error(begun.kind);
        await s.complete(key, begun.token, `fp-${key}`, resultOf(MAX_RESULT), TTL);
        return "stored";
      } catch (error) {
        if (error instanceof ClientShareFullError) return "over share";
        if (error instanceof MemoryStoreFullError) return "full";
        throw error;
      }
    };
    const a: string[] = [];
    for (let i = 0; i < 5; i++) a.push(await send("A", `a${i}`));
    expect(a).toEqual(["stored", "stored", "over share", "over share", "over share"]);
    expect(s.bytesOf("A")).toBeLessThanOrEqual(2 * recordBytes(MAX_RESULT));
    expect(onOwnerFull).toHaveLength(3);
    // B still has its half.
    expect([await send("B", "b0"), await send("B", "b1")]).toEqual(["stored", "stored"]);
    // A's kept keys still replay.
    expect((await s.begin("a0", "fp-a0", TTL, TTL, undefined, undefined, "A")).kind).toBe("replay");
    // Released or expired records give their owner's bytes back.
    const taken = await s.begin("b-free", "fp", TTL, TTL, undefined, undefined, "C");
    if (taken.kind !== "acquired") throw new Error();
    expect(s.bytesOf("C")).toBe(recordBytes(MAX_RESULT));
    await s.release("b-free", taken.token);
    expect(s.bytesOf("C")).toBe(0);
  });
});
