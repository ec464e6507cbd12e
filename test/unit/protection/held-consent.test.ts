import { createLogger } from "../../../src/logging/logger";
import {
  type ConsentStore,
  HELD_CONSENT_LINES_PER_INTERVAL,
  HeldConsentStore,
  MAX_HELD_GRANTS,
} from "../../../src/protection/consent-store";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { LogCapture } from "../../helpers/log-capture";

/**
 * HeldConsentStore (protection/consent-store.ts): a grant Redis refuses is held by this process for the consent's time
 * and written again in the background. Driven here over a store that refuses at will (test/e2e/redis-full.test.ts
 * drives it over a full Redis).
 */
class Refusing implements ConsentStore {
  refuse = true;
  readonly granted = new Map<string, number>();
  async grant(key: string, ttlMs: number): Promise<void> {
    if (this.refuse) throw new ProtectionStoreError("consent", new Error("OOM command not allowed"));
    this.granted.set(key, ttlMs);
  }
  async has(key: string): Promise<boolean> {
    if (this.refuse) throw new ProtectionStoreError("consent", new Error("unreachable"));
    return this.granted.has(key);
  }
}

function held(now: () => number = () => 0, retryMs = 120_000) {
  const inner = new Refusing();
  const logs = new LogCapture();
  const given = { up: 0 };
  const log = createLogger({ level: "info", destination: logs });
  const store = new HeldConsentStore(inner, log, { retryMs, now, unrecorded: () => given.up++ });
  return { inner, logs, store, given };
}

describe("HeldConsentStore", () => {
  it("holds a refused grant, answers it without the store, and writes it once the store takes it", async () => {
    const { inner, logs, store } = held();
    await store.grant("k", 60_000);
    expect(await store.has("k")).toBe(true);
    await expect(store.has("other")).rejects.toThrow(ProtectionStoreError);
    inner.refuse = false;
    for (let i = 0; i < 50 && !inner.granted.has("k"); i++) await new Promise((r) => setTimeout(r, 50));
    expect(inner.granted.get("k")).toBe(60_000);
    expect(logs.records().map((r) => r.msg)).toContain("held consent written to Redis");
    store.close();
  });

  it("written again no longer than its retry time: then logged and counted, held until the consent's end", async () => {
    let now = 0;
    const { inner, logs, store, given } = held(() => now, 500);
    await store.grant("k", 1_000);
    now = 500;
    await new Promise((r) => setTimeout(r, 300));
    expect(given.up).toBe(1);
    expect(logs.records().map((r) => r.msg)).toContain(
      "could not record CIBIL consent in Redis: held by this process alone, other replicas answer CONSENT_REQUIRED",
    );
    expect(await store.has("k")).toBe(true);
    now = 1_000;
    inner.refuse = false;
    expect(await store.has("k")).toBe(false);
    expect(inner.granted.has("k")).toBe(false);
  });

  it("not held with no retry time (CIBIL_REGISTERED_MOBILE_RETRY_SECONDS=0): the grant throws, as before", async () => {
    const { store, given } = held(() => 0, 0);
    await expect(store.grant("k", 60_000)).rejects.toThrow(ProtectionStoreError);
    expect(given.up).toBe(0);
  });

  it(`at most ${MAX_HELD_GRANTS} held, and none once closed: then the grant throws, as before`, async () => {
    const { store } = held();
    for (let i = 0; i < MAX_HELD_GRANTS; i++) await store.grant(`k${i}`, 60_000);
    await expect(store.grant("one more", 60_000)).rejects.toThrow(ProtectionStoreError);
    expect(await store.has("one more").catch(() => "refused")).toBe("refused");
    store.close();
    const fresh = held().store;
    fresh.close();
    await expect(fresh.grant("k", 60_000)).rejects.toThrow(ProtectionStoreError);
  });
});

describe("HeldConsentStore: a held grant's time and a newer grant", () => {
  it("a later grant that lands is not written over by the held one's retry (its shorter time)", async () => {
    let now = 0;
    const { inner, store } = held(() => now);
    await store.grant("k", 60_000);
    // The customer verifies again 30 s later, and Redis takes that grant: its consent runs 60 s from then.
    now = 30_000;
    inner.refuse = false;
    await store.grant("k", 60_000);
    expect(inner.granted.get("k")).toBe(60_000);
    // The first grant's retry (200 ms on) must not shorten it to the 30 s the first consent had left.
    await new Promise((r) => setTimeout(r, 600));
    expect(inner.granted.get("k")).toBe(60_000);
    store.close();
  });

  // Two holds of one key in turn: the first's retry write lands after the customer verified again and Redis refused
  // that grant too. Before, the first's landing dropped the newer hold and its retry (the newer consent's time lost:
  // Redis kept the first's shorter time); now the newer hold stays and its retry writes its own time.
  it("an older hold's write landing late leaves a newer hold of the key and its retry in place", async () => {
    let now = 0;
    const { inner, store } = held(() => now);
    let release: () => void = () => undefined;
    let calls = 0;
    inner.grant = async (key: string, ttlMs: number) => {
      const call = ++calls;
      // The first grant and the second (calls 1 and 3) refused; the first's retry (call 2) in flight until released.
      if (call === 2) await new Promise<void>((r) => (release = r));
      if (call === 1 || call === 3) throw new ProtectionStoreError("consent", new Error("OOM command not allowed"));
      inner.granted.set(key, ttlMs);
    };
    await store.grant("k", 1_000);
    for (let i = 0; i < 50 && calls < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(2);
    // The customer verifies again; Redis refuses that grant as well: held, 60 s from now.
    now = 100;
    await store.grant("k", 60_000);
    expect(calls).toBe(3);
    release();
    await new Promise((r) => setTimeout(r, 600));
    // The newer hold's retry wrote its own time (call 4).
    expect([calls, inner.granted.get("k")]).toEqual([4, 60_000]);
    store.close();
  });

  it("its retry never shortens a newer consent another replica granted meanwhile (grantNoShorter)", async () => {
    let now = 0;
    const { inner, store } = held(() => now);
    // As RedisConsentStore's: a longer consent at the key stands.
    const noShorter = async (key: string, ttlMs: number) => {
      if (inner.refuse) throw new ProtectionStoreError("consent", new Error("OOM command not allowed"));
      if ((inner.granted.get(key) ?? 0) < ttlMs) inner.granted.set(key, ttlMs);
    };
    Object.assign(inner, { grantNoShorter: noShorter });
    await store.grant("k", 60_000);
    // Another replica verified the customer again 30 s on, Redis took its grant: 60 s from then.
    now = 30_000;
    inner.refuse = false;
    inner.granted.set("k", 60_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(inner.granted.get("k")).toBe(60_000);
    store.close();
  });

  it("a consent held after a slow refusal ends its time after the grant was asked, not after the refusal", async () => {
    let now = 0;
    const inner = new Refusing();
    // The refusal took 5 s (a command timed out): the consent's 60 s began when the grant was asked.
    const slow: ConsentStore = {
      grant: async (key, ttlMs) => {
        now += 5_000;
        return inner.grant(key, ttlMs);
      },
      has: (key) => inner.has(key),
    };
    const store = new HeldConsentStore(slow, createLogger({ level: "error", destination: new LogCapture() }), {
      retryMs: 120_000,
      now: () => now,
      unrecorded: () => undefined,
    });
    await store.grant("k", 60_000);
    now = 60_000;
    expect(await store.has("k").catch(() => "refused")).toBe("refused");
    now = 59_999;
    expect(await store.has("k")).toBe(true);
    store.close();
  });
});

describe("HeldConsentStore: a shutdown while grants are held", () => {
  it("close() gives up the grants still being written at once: logged and counted, not left to an unref'd timer", async () => {
    const { store, logs, given } = held();
    await store.grant("a", 60_000);
    await store.grant("b", 60_000);
    store.close();
    // Nothing awaited: a stopping process does not wait for the retries' timers.
    expect(given.up).toBe(2);
    const lines = logs.records().filter((r) => String(r.msg).startsWith("could not record CIBIL consent in Redis"));
    expect(lines).toHaveLength(1);
    // Counted once each: the retries woken later count nothing more.
    await new Promise((r) => setTimeout(r, 300));
    expect(given.up).toBe(2);
  });

  it("close() counts nothing for a grant written meanwhile, or held by a newer grant that Redis took", async () => {
    const { inner, store, given } = held();
    await store.grant("written", 60_000);
    await store.grant("superseded", 60_000);
    inner.refuse = false;
    await store.grant("superseded", 60_000);
    for (let i = 0; i < 50 && !inner.granted.has("written"); i++) await new Promise((r) => setTimeout(r, 20));
    store.close();
    expect(given.up).toBe(0);
  });
});

describe("HeldConsentStore: its lines while Redis refuses every consent", () => {
  it("writes at most HELD_CONSENT_LINES_PER_INTERVAL lines of each kind, the rest in one summary of that kind", async () => {
    let now = 0;
    const { inner, logs, store, given } = held(() => now, 400);
    const grants = 3 * HELD_CONSENT_LINES_PER_INTERVAL;
    for (let i = 0; i < grants; i++) await store.grant(`held ${i}`, 60_000);
    const msgs = () => logs.records().map((r) => String(r.msg));
    const heldLines = msgs().filter((m) => m.startsWith("consent not written to Redis: held in this process"));
    expect(heldLines).toHaveLength(HELD_CONSENT_LINES_PER_INTERVAL);
    // Their retry time over: every one given up and counted, a line for the first few only.
    now = 400;
    for (let i = 0; i < 50 && given.up < grants; i++) await new Promise((r) => setTimeout(r, 20));
    expect(given.up).toBe(grants);
    const givenUp = msgs().filter((m) => m.startsWith("could not record CIBIL consent in Redis"));
    expect(givenUp).toHaveLength(HELD_CONSENT_LINES_PER_INTERVAL);
    // Written on retry: the same bound.
    for (let i = 0; i < grants; i++) await store.grant(`late ${i}`, 60_000);
    now = 0;
    inner.refuse = false;
    for (let i = 0; i < 100 && inner.granted.size < grants; i++) await new Promise((r) => setTimeout(r, 20));
    expect(inner.granted.size).toBe(grants);
    const written = msgs().filter((m) => m === "held consent written to Redis");
    expect(written).toHaveLength(HELD_CONSENT_LINES_PER_INTERVAL);
    // The close writes the summaries: every grant accounted for, none named.
    store.close();
    const summaries = logs.records().filter((r) => String(r.msg).includes("not logged one by one"));
    const suppressed = Object.fromEntries(summaries.map((r) => [r.consent, r.suppressed]));
    expect(suppressed).toEqual({
      held: 2 * grants - HELD_CONSENT_LINES_PER_INTERVAL,
      "not written": grants - HELD_CONSENT_LINES_PER_INTERVAL,
      "written on retry": grants - HELD_CONSENT_LINES_PER_INTERVAL,
    });
    expect(JSON.stringify(summaries)).not.toMatch(/held \d|late \d/);
  });
});
