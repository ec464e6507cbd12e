import { MemoryIdempotencyStore } from "../../../src/protection/idempotency-store";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";

const sealer = new StoreSealer([deriveStoreKey(Buffer.from("i".repeat(32)))]);

const result = { typename: "CibilOtpChallenge", data: { cibilId: "1" } };
/** In flight for about `ms` more (the store's own clock: within 0.5 s). */
const inFlight = (ms: number) => ({ kind: "in-flight", pendingForMs: expect.closeTo(ms, -3) as number });

describe("MemoryIdempotencyStore", () => {
  it("first request takes the key; a repeat sees it in flight, then replays the stored result", async () => {
    const store = new MemoryIdempotencyStore(sealer);
    const first = await store.begin("k", "fp", 60_000);
    expect(first.kind).toBe("acquired");
    // How long the record still answers in flight (then abandoned): its pending time, less the moment since it was taken.
    expect(await store.begin("k", "fp", 60_000)).toEqual(inFlight(60_000));
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", result, 60_000);
    expect(await store.begin("k", "fp", 60_000)).toEqual({ kind: "replay", result });
  });

  it("a repeat with another input fingerprint is a mismatch, in flight or done", async () => {
    const store = new MemoryIdempotencyStore(sealer);
    const first = await store.begin("k", "fp", 60_000);
    expect(await store.begin("k", "other", 60_000)).toEqual({ kind: "mismatch" });
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", result, 60_000);
    expect(await store.begin("k", "other", 60_000)).toEqual({ kind: "mismatch" });
  });

  it("release frees the key, but only for the request holding it", async () => {
    const store = new MemoryIdempotencyStore(sealer);
    const first = await store.begin("k", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error();
    await store.release("k", "someone-else");
    expect(await store.begin("k", "fp", 60_000)).toEqual(inFlight(60_000));
    await store.release("k", first.token);
    expect((await store.begin("k", "fp", 60_000)).kind).toBe("acquired");
  });

  it("keys expire (on a moved clock)", async () => {
    let now = 1_000_000;
    const store = new MemoryIdempotencyStore(sealer, { maxKeys: 10, now: () => now });
    const first = await store.begin("k", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", result, 30_000);
    now += 29_999;
    expect((await store.begin("k", "fp", 60_000)).kind).toBe("replay");
    now += 1;
    expect((await store.begin("k", "fp", 60_000)).kind).toBe("acquired");
  });

  it("complete answers stored over its record, restores a record that ended, and never writes over another's", async () => {
    let now = 1_000_000;
    const store = new MemoryIdempotencyStore(sealer, { maxKeys: 10, now: () => now });
    const a = await store.begin("a", "fp", 60_000);
    if (a.kind !== "acquired") throw new Error();
    expect(await store.complete("a", a.token, "fp", result, 60_000)).toBe("stored");
    // A record that ended before its result came (here by its TTL; in Redis by a restart or failover that lost it):
    // written again, so that a repeat replays rather than sends again.
    const b = await store.begin("b", "fp", 1_000);
    if (b.kind !== "acquired") throw new Error();
    now += 1_000;
    expect(await store.complete("b", b.token, "fp", result, 60_000)).toBe("restored");
    expect(await store.begin("b", "fp", 60_000)).toEqual({ kind: "replay", result });
    // Another request took the key meanwhile: its record stays, in flight, then its own result.
    const c = await store.begin("c", "fp", 1_000);
    if (c.kind !== "acquired") throw new Error();
    now += 1_000;
    const taker = await store.begin("c", "fp", 60_000);
    if (taker.kind !== "acquired") throw new Error();
    expect(await store.complete("c", c.token, "fp", { typename: "Other", data: {} }, 60_000)).toBe("superseded");
    expect(await store.begin("c", "fp", 60_000)).toEqual({ kind: "in-flight", pendingForMs: 60_000 });
    expect(await store.complete("c", taker.token, "fp", result, 60_000)).toBe("stored");
    expect(await store.begin("c", "fp", 60_000)).toEqual({ kind: "replay", result });
  });

  it("a restored record needs room like a new one: refused when the table is full", async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore(sealer, { maxKeys: 1, now: () => now });
    const a = await store.begin("a", "fp", 1_000);
    if (a.kind !== "acquired") throw new Error();
    now += 1_000;
    expect((await store.begin("other", "fp", 60_000)).kind).toBe("acquired");
    await expect(store.complete("a", a.token, "fp", result, 60_000)).rejects.toBeInstanceOf(MemoryStoreFullError);
  });

  it("an owner holds at most its share: its new keys are refused, another owner's are not; completed, released and expired records count right", async () => {
    let now = 0;
    let warned = 0;
    const store = new MemoryIdempotencyStore(sealer, {
      maxKeys: 4,
      maxKeysPerOwner: 2,
      now: () => now,
      onOwnerFull: () => warned++,
    });
    const a1 = await store.begin("a1", "fp", 1_000, 10_000, undefined, undefined, "A");
    expect((await store.begin("a2", "fp", 1_000, 10_000, undefined, undefined, "A")).kind).toBe("acquired");
    await expect(store.begin("a3", "fp", 1_000, 10_000, undefined, undefined, "A")).rejects.toBeInstanceOf(
      MemoryStoreFullError,
    );
    expect(warned).toBe(1);
    // Its held keys still answer; the other owner takes keys.
    expect(await store.begin("a2", "fp", 1_000, 10_000, undefined, undefined, "A")).toEqual({
      kind: "in-flight",
      pendingForMs: 1_000,
    });
    const b1 = await store.begin("b1", "fp", 1_000, 10_000, undefined, undefined, "B");
    if (a1.kind !== "acquired" || b1.kind !== "acquired") throw new Error();
    // A completed record stays its owner's; a released one is not.
    await store.complete("a1", a1.token, "fp", result, 10_000);
    expect(store.heldBy("A")).toBe(2);
    await store.release("b1", b1.token);
    expect(store.heldBy("B")).toBe(0);
    // Expired records free the share.
    now += 10_001;
    expect((await store.begin("a4", "fp", 1_000, 10_000, undefined, undefined, "A")).kind).toBe("acquired");
    expect(store.heldBy("A")).toBe(1);
  });

  it("a pending record kept past its pending time answers abandoned, never acquired, until it expires", async () => {
    // The request that took the key died (a crash) while its send may have been upstream: taking the key again would
    // send again under it. Before, the pending record simply expired with its pending time and the key was free.
    let now = 1_000_000;
    const store = new MemoryIdempotencyStore(sealer, { maxKeys: 10, now: () => now });
    expect((await store.begin("k", "fp", 60_000, 86_400_000)).kind).toBe("acquired");
    now += 59_999;
    expect(await store.begin("k", "fp", 60_000, 86_400_000)).toEqual({ kind: "in-flight", pendingForMs: 1 });
    now += 1;
    expect(await store.begin("k", "fp", 60_000, 86_400_000)).toEqual({ kind: "abandoned" });
    expect(await store.begin("k", "other", 60_000, 86_400_000)).toEqual({ kind: "mismatch" });
    now += 86_400_000;
    expect((await store.begin("k", "fp", 60_000, 86_400_000)).kind).toBe("acquired");
  });

  it("honours a rotation's `others` as the Redis store does: a record under one answers, counted once (found), and nothing is taken", async () => {
    // Before, the record answered but `found` was never called: the rotation's metric
    // (aopay_rotation_older_secret_reads_total) could not count what the memory store read under another secret.
    const store = new MemoryIdempotencyStore(sealer);
    const old = await store.begin("old-k", "old-fp", 60_000);
    if (old.kind !== "acquired") throw new Error(old.kind);
    await store.complete("old-k", old.token, "old-fp", result, 60_000);
    let found = 0;
    const others = [
      { key: "absent-k", fingerprint: "absent-fp", found: () => (found += 100) },
      { key: "old-k", fingerprint: "old-fp", found: () => found++ },
    ];
    expect(await store.begin("new-k", "new-fp", 60_000, 60_000, undefined, others)).toEqual({ kind: "replay", result });
    expect(found).toBe(1);
    // Judged with the other key's own fingerprint: another input under it is a mismatch, counted as found too.
    const mismatched = [{ key: "old-k", fingerprint: "other-fp", found: () => found++ }];
    expect(await store.begin("new-k", "new-fp", 60_000, 60_000, undefined, mismatched)).toEqual({ kind: "mismatch" });
    expect(found).toBe(2);
    // Nothing was taken under the current key: without `others` it is free.
    expect((await store.begin("new-k", "new-fp", 60_000)).kind).toBe("acquired");
    // A record under the current key answers first, and no other key is counted.
    const again = [{ key: "old-k", fingerprint: "old-fp", found: () => (found += 100) }];
    expect(await store.begin("new-k", "new-fp", 60_000, 60_000, undefined, again)).toEqual(inFlight(60_000));
    expect(found).toBe(2);
  });

  it("a full table refuses a new key (fail closed) and keeps every live record; room frees as records expire", async () => {
    let now = 0;
    let full = 0;
    const store = new MemoryIdempotencyStore(sealer, { maxKeys: 2, now: () => now, onFull: () => full++ });
    const a = await store.begin("a", "fp", 60_000);
    if (a.kind !== "acquired") throw new Error();
    await store.complete("a", a.token, "fp", result, 60_000);
    expect((await store.begin("b", "fp", 10_000)).kind).toBe("acquired");
    await expect(store.begin("c", "fp", 60_000)).rejects.toBeInstanceOf(MemoryStoreFullError);
    expect(full).toBe(1);
    // The live records are still there: a replays, b is in flight.
    expect(await store.begin("a", "fp", 60_000)).toEqual({ kind: "replay", result });
    expect(await store.begin("b", "fp", 60_000)).toEqual({ kind: "in-flight", pendingForMs: 10_000 });
    now += 10_000; // b's pending record expires
    expect((await store.begin("c", "fp", 60_000)).kind).toBe("acquired");
  });

  it("seals the result before holding it, and a result that does not open is a store failure (never a replay)", async () => {
    const sealed: string[] = [];
    let tamper = false;
    class Watching extends StoreSealer {
      override seal(plaintext: string, context: readonly string[]): string {
        const out = super.seal(plaintext, context);
        sealed.push(out);
        return out;
      }
      override open(value: string, context: readonly string[]): string {
        return super.open(tamper ? value.slice(0, -2) + (value.endsWith("AA") ? "AB" : "AA") : value, context);
      }
    }
    const store = new MemoryIdempotencyStore(new Watching([deriveStoreKey(Buffer.from("w".repeat(32)))]));
    const first = await store.begin("k", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error();
    const secret = { typename: "CibilCustomerRegistered", data: { accessToken: "canary-access-token-77" } };
    await store.complete("k", first.token, "fp", secret, 60_000);
    expect(sealed).toHaveLength(1);
    expect(sealed[0]).toMatch(/^s1\.hmac\./);
    expect(sealed[0]).not.toContain("canary");
    expect(await store.begin("k", "fp", 60_000)).toEqual({ kind: "replay", result: secret });
    tamper = true;
    // Its request went ahead: `unopenable` (answered OUTCOME_UNKNOWN, send-guard.ts), not a thrown store failure
    // (PROTECTION_UNAVAILABLE: "nothing was sent, try again", a new key a second OTP).
    const unopenable = await store.begin("k", "fp", 60_000);
    expect(unopenable).toMatchObject({ kind: "unopenable" });
    const { error } = unopenable as { error: unknown };
    expect(error).toBeInstanceOf(ProtectionStoreError);
    expect((error as Error).message).toMatch(/^idempotency: shared state unavailable$/);
  });

  it.each([
    ["no JSON (JSON.parse's error quotes its start)", 'not json "canary-access-token-77"'],
    ["JSON null", "null"],
    ["a number", "42"],
    ["an object without a type name", '{"data":{"accessToken":"canary-access-token-77"}}'],
  ])("a result that opens as %s is unreadable (OUTCOME_UNKNOWN), never a replay nor an error", async (_n, opened) => {
    class Opening extends StoreSealer {
      override open(): string {
        return opened;
      }
    }
    const store = new MemoryIdempotencyStore(new Opening([deriveStoreKey(Buffer.from("w".repeat(32)))]));
    const first = await store.begin("k", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", { typename: "CibilCustomerRegistered", data: {} }, 60_000);
    // Before: the text in an `unopenable` error's cause (SyntaxError: its message quotes the text), or a replay of
    // null or 42 (the send guard's `result.typename` a TypeError: an internal error).
    expect(await store.begin("k", "fp", 60_000)).toEqual({ kind: "unreadable" });
  });
});
