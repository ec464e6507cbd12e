import { MemoryIdempotencyStore } from "../../../src/protection/idempotency-store";

const result = { typename: "CibilOtpChallenge", data: { cibilId: "1" } };

describe("MemoryIdempotencyStore", () => {
  it("first request takes the key; a repeat sees it in flight, then replays the stored result", async () => {
    const store = new MemoryIdempotencyStore();
    const first = await store.begin("k", "fp", 60_000);
    expect(first.kind).toBe("acquired");
    expect(await store.begin("k", "fp", 60_000)).toEqual({ kind: "in-flight" });
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", result, 60_000);
    expect(await store.begin("k", "fp", 60_000)).toEqual({ kind: "replay", result });
  });

  it("a repeat with another input fingerprint is a mismatch, in flight or done", async () => {
    const store = new MemoryIdempotencyStore();
    const first = await store.begin("k", "fp", 60_000);
    expect(await store.begin("k", "other", 60_000)).toEqual({ kind: "mismatch" });
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", result, 60_000);
    expect(await store.begin("k", "other", 60_000)).toEqual({ kind: "mismatch" });
  });

  it("release frees the key, but only for the request holding it", async () => {
    const store = new MemoryIdempotencyStore();
    const first = await store.begin("k", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error();
    await store.release("k", "someone-else");
    expect(await store.begin("k", "fp", 60_000)).toEqual({ kind: "in-flight" });
    await store.release("k", first.token);
    expect((await store.begin("k", "fp", 60_000)).kind).toBe("acquired");
  });

  it("keys expire", async () => {
    const store = new MemoryIdempotencyStore();
    const first = await store.begin("k", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error();
    await store.complete("k", first.token, "fp", result, 30);
    await new Promise((r) => setTimeout(r, 60));
    expect((await store.begin("k", "fp", 60_000)).kind).toBe("acquired");
  });
});
