import { type ThrottleConfig } from "../../../src/config";
import { GENEROUS, throttleConfig } from "../../helpers/throttle";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { OtpThrottle, type OtpSubject, type Reservation, type Throttled } from "../../../src/protection/otp-throttle";

const config = (overrides: Partial<ThrottleConfig> = {}): ThrottleConfig =>
  throttleConfig({ verify: { points: 5, seconds: 600 }, ...overrides });
const hasher = new KeyHasher(Buffer.from("k".repeat(32)));
const subject = (overrides: Partial<OtpSubject> = {}): OtpSubject => ({
  destinations: [{ kind: "mobile", value: "9876543210" }],
  ip: "203.0.113.7",
  clientId: "app",
  ...overrides,
});

describe("OtpThrottle (in memory)", () => {
  it("enforces the cooldown per destination (B1)", async () => {
    const t = new OtpThrottle(config(), hasher, null);
    expect((await t.reserve(subject())).allowed).toBe(true);
    const second = (await t.reserve(subject())) as Throttled;
    expect(second).toMatchObject({ allowed: false, code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expect(second.retryAfterSeconds).toBeGreaterThan(55);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another destination is not affected.
    expect((await t.reserve(subject({ destinations: [{ kind: "mobile", value: "9876543211" }] }))).allowed).toBe(true);
  });

  it("caps sends per destination per window (B2) once the cooldown is out of the way", async () => {
    const t = new OtpThrottle(config({ cooldownSeconds: 0 }), hasher, null);
    for (let i = 0; i < 3; i++) expect((await t.reserve(subject())).allowed).toBe(true);
    expect(await t.reserve(subject())).toMatchObject({
      allowed: false,
      code: "OTP_LIMIT_REACHED",
      scope: "DESTINATION",
    });
  });

  it("caps sends per destination per day", async () => {
    const t = new OtpThrottle(
      config({ cooldownSeconds: 0, destinationWindow: GENEROUS, destinationDaily: { points: 2, seconds: 86_400 } }),
      hasher,
      null,
    );
    await t.reserve(subject());
    await t.reserve(subject());
    const third = (await t.reserve(subject())) as Throttled;
    expect(third).toMatchObject({ code: "OTP_LIMIT_REACHED" });
    expect(third.retryAfterSeconds).toBeGreaterThan(86_000);
  });

  it.each([
    ["ip", "IP", (i: number) => subject({ destinations: [{ kind: "mobile", value: `98765432${10 + i}` }] })],
    [
      "client",
      "CLIENT",
      (i: number) => subject({ destinations: [{ kind: "mobile", value: `98765432${10 + i}` }], ip: `203.0.113.${i}` }),
    ],
    [
      "global",
      "GLOBAL",
      (i: number) =>
        subject({
          destinations: [{ kind: "mobile", value: `98765432${10 + i}` }],
          ip: `203.0.113.${i}`,
          clientId: `c${i}`,
        }),
    ],
  ] as const)("caps sends per %s across destinations (B3/B4)", async (budget, scope, nth) => {
    const t = new OtpThrottle(config({ [budget]: { points: 2, seconds: 60 } }), hasher, null);
    expect((await t.reserve(nth(1))).allowed).toBe(true);
    expect((await t.reserve(nth(2))).allowed).toBe(true);
    expect(await t.reserve(nth(3))).toMatchObject({ allowed: false, code: "RATE_LIMITED", scope });
  });

  it.each([
    ["verifyIp", "IP", (i: number) => subject({ destinations: [{ kind: "cibil", value: `10227710${i}` }] })],
    [
      "verifyClient",
      "CLIENT",
      (i: number) => subject({ destinations: [{ kind: "cibil", value: `10227710${i}` }], ip: `203.0.113.${i}` }),
    ],
  ] as const)("caps verifications per %s across customers, apart from the sends", async (budget, scope, nth) => {
    // The sends' own budget of that scope at 1: a verification must neither spend it nor be refused by it.
    const sendBudget = budget === "verifyIp" ? "ip" : "client";
    const t = new OtpThrottle(
      config({ [budget]: { points: 2, seconds: 60 }, [sendBudget]: { points: 1, seconds: 60 } }),
      hasher,
      null,
    );
    expect((await t.reserve(nth(1), "verify")).allowed).toBe(true);
    expect((await t.reserve(nth(2), "verify")).allowed).toBe(true);
    const third = (await t.reserve(nth(3), "verify")) as Throttled;
    expect(third).toMatchObject({ allowed: false, code: "RATE_LIMITED", scope });
    expect(third.retryAfterSeconds).toBe(60);
    expect((await t.reserve(nth(4))).allowed).toBe(true);
  });

  it("B4: caps sends to one mobile-number range across callers (SMS pumping walks ranges)", async () => {
    const t = new OtpThrottle(config({ mobilePrefix: { points: 3, seconds: 600 } }), hasher, null);
    const send = (mobile: string, ip: string) =>
      t.reserve(subject({ destinations: [{ kind: "mobile", value: mobile }], ip, clientId: ip }));
    for (let i = 0; i < 3; i++) expect((await send(`987654321${i}`, `203.0.113.${i}`)).allowed).toBe(true);
    expect(await send("9876543299", "198.51.100.9")).toMatchObject({
      allowed: false,
      code: "RATE_LIMITED",
      scope: "MOBILE_PREFIX",
    });
    // Another range is untouched.
    expect((await send("9123456789", "198.51.100.9")).allowed).toBe(true);
  });

  it("takes all points or none: a refused send does not use up the other budgets", async () => {
    const t = new OtpThrottle(config({ cooldownSeconds: 0, ip: { points: 1, seconds: 60 } }), hasher, null);
    expect((await t.reserve(subject())).allowed).toBe(true);
    // Refused by the IP budget: the destination's window must not have been charged for it.
    for (let i = 0; i < 5; i++) expect(await t.reserve(subject())).toMatchObject({ allowed: false, scope: "IP" });
    // From another IP the destination still has 2 of its 3 window points.
    expect((await t.reserve(subject({ ip: "198.51.100.1" }))).allowed).toBe(true);
    expect((await t.reserve(subject({ ip: "198.51.100.2" }))).allowed).toBe(true);
    expect(await t.reserve(subject({ ip: "198.51.100.3" }))).toMatchObject({ code: "OTP_LIMIT_REACHED" });
  });

  it("refund gives every point back (for a send that provably never left)", async () => {
    const t = new OtpThrottle(config(), hasher, null);
    const first = await t.reserve(subject());
    if (!first.allowed) throw new Error("expected allowed");
    await first.refund();
    expect((await t.reserve(subject())).allowed).toBe(true);
  });

  it("a refund given after the charged cooldown ended leaves the cooldown a later send opened (no second SMS in it)", async () => {
    let now = 1_700_000_000_000;
    const t = new OtpThrottle(config({ destinationWindow: { points: 2, seconds: 600 } }), hasher, null, {
      maxKeys: 100,
      now: () => now,
    });
    const held = await t.reserve(subject());
    if (!held.allowed) throw new Error("expected allowed");
    // That call waits in the queue past the 60 s cooldown; another send opens the next cooldown.
    now += 60_000;
    expect((await t.reserve(subject())).allowed).toBe(true);
    // The first call never left (a deadline in the queue): it is refunded. The new cooldown keeps its point.
    await held.refund();
    expect(await t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_COOLDOWN", scope: "DESTINATION" });
    // Its own window (the 10-minute one, opened with it) did get the point back: one more send after the cooldown.
    now += 60_000;
    expect((await t.reserve(subject())).allowed).toBe(true);
    now += 60_000;
    expect(await t.reserve(subject())).toMatchObject({ code: "OTP_LIMIT_REACHED" });
  });

  it("the same for a budget of its own (the IP's): a late refund leaves the window opened since", async () => {
    let now = 1_700_000_000_000;
    const t = new OtpThrottle(config({ ip: { points: 1, seconds: 60 } }), hasher, null, {
      maxKeys: 100,
      now: () => now,
    });
    const to = (value: string) => subject({ destinations: [{ kind: "mobile", value }] });
    const held = await t.reserve(to("9123456781"));
    if (!held.allowed) throw new Error("expected allowed");
    now += 60_000;
    expect((await t.reserve(to("9223456782"))).allowed).toBe(true);
    await held.refund();
    expect(await t.reserve(to("9323456783"))).toMatchObject({ allowed: false, code: "RATE_LIMITED", scope: "IP" });
  });

  it("refused attempts leave no trace: after refunding the one real send, the destination is free again", async () => {
    const t = new OtpThrottle(config(), hasher, null);
    const first = await t.reserve(subject());
    for (let i = 0; i < 3; i++) expect((await t.reserve(subject())).allowed).toBe(false);
    if (!first.allowed) throw new Error("expected allowed");
    await first.refund();
    expect((await t.reserve(subject())).allowed).toBe(true);
  });

  it("budgets each destination of a send on its own: an AEPS send with a used Aadhaar is refused", async () => {
    const t = new OtpThrottle(config(), hasher, null);
    const aadhaar = { kind: "aadhaar" as const, value: "234123412346" };
    await t.reserve(subject({ destinations: [{ kind: "mobile", value: "9876543210" }, aadhaar] }));
    expect(
      await t.reserve(subject({ destinations: [{ kind: "mobile", value: "9000000001" }, aadhaar] })),
    ).toMatchObject({
      code: "OTP_COOLDOWN",
    });
  });

  it("reports the most specific code and the longest wait when several budgets refuse", async () => {
    const t = new OtpThrottle(config({ global: { points: 1, seconds: 30 } }), hasher, null);
    await t.reserve(subject());
    const refused = (await t.reserve(subject())) as Throttled;
    expect(refused.code).toBe("OTP_COOLDOWN");
    expect(refused.retryAfterSeconds).toBeGreaterThan(55);
  });

  it("keys by HMAC: the same digits as a mobile and as a CIBIL id are separate destinations", async () => {
    const t = new OtpThrottle(config(), hasher, null);
    await t.reserve(subject({ destinations: [{ kind: "mobile", value: "9876543210" }] }));
    expect((await t.reserve(subject({ destinations: [{ kind: "cibil", value: "9876543210" }] }))).allowed).toBe(true);
    expect(hasher.hash("destination:mobile", "9876543210")).not.toContain("9876543210");
    expect(hasher.hash("destination:mobile", "9876543210")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("remembers the mobile prefix's key (not customer data), never a whole mobile's, and keys the prefix the same", () => {
    // Counts the HMACs actually computed, by dimension.
    class CountingHasher extends KeyHasher {
      readonly computed: string[] = [];
      override hash(dimension: string, identifier: string): string {
        this.computed.push(`${dimension}:${identifier}`);
        return super.hash(dimension, identifier);
      }
    }
    const counting = new CountingHasher(Buffer.from("k".repeat(32)));
    const t = new OtpThrottle(config({ cooldownSeconds: 0 }), counting, null);
    const sendTo = (mobile: string) => t.reserve(subject({ destinations: [{ kind: "mobile", value: mobile }] }));
    expect(sendTo("9876543210")).toMatchObject({ allowed: true });
    expect(sendTo("9876549999")).toMatchObject({ allowed: true });
    expect(sendTo("9876543210")).toMatchObject({ allowed: true });
    // Each send hashes its mobile afresh; the shared prefix 987654 is hashed once.
    expect(counting.computed.filter((c) => c.startsWith("destination:mobile:"))).toEqual([
      "destination:mobile:9876543210",
      "destination:mobile:9876549999",
      "destination:mobile:9876543210",
    ]);
    expect(counting.computed.filter((c) => c.startsWith("mobile-prefix:"))).toEqual(["mobile-prefix:987654"]);
    // The remembered key is the HMAC itself: a Redis store written before (or by another replica) matches.
    expect(counting.memoized("mobile-prefix", "987654")).toBe(hasher.hash("mobile-prefix", "987654"));
  });

  it("answers synchronously in memory (no promise per send): a value, or a thrown error", () => {
    const t = new OtpThrottle(config(), hasher, null);
    const first = t.reserve(subject());
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toMatchObject({ allowed: true });
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_COOLDOWN" });
  });

  it("window boundaries on a moved clock: a window is there until its last millisecond, then reopens (cooldown, window)", () => {
    const c = { t: 1_000_000 };
    const t = new OtpThrottle(config(), hasher, null, { maxKeys: 100, now: () => c.t });
    const start = c.t;
    // The first send uses up the cooldown (1 point): the next send is 60 s away; the window (3) still has 2.
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    c.t = start + 59_999;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_COOLDOWN", retryAfterSeconds: 1 });
    c.t = start + 60_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    // The third send in the window uses it up too: the later reset (the window's, opened at `start`) wins.
    c.t = start + 120_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 480_000 });
    c.t = start + 599_999;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED", retryAfterSeconds: 1 });
    c.t = start + 600_000;
    // The refused attempt 1 ms earlier left no window open (its points given back, its empty cooldown window ended):
    // this send opens a whole cooldown of its own.
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
  });

  it("a day is the 24 hours from the destination's first send (a fixed window), not a calendar day in UTC or IST", () => {
    // 23:50 IST (18:20 UTC) on 1 March 2026: ten sends use up the day; ten minutes later it is 2 March in India and
    // in UTC, and the day still refuses, for another 23 h 50 min.
    const c = { t: Date.UTC(2026, 2, 1, 18, 20) };
    const t = new OtpThrottle(
      config({ cooldownSeconds: 0, destinationWindow: GENEROUS, destinationDaily: { points: 10, seconds: 86_400 } }),
      hasher,
      null,
      { maxKeys: 100, now: () => c.t },
    );
    const start = c.t;
    for (let i = 0; i < 10; i++) expect(t.reserve(subject())).toMatchObject({ allowed: true });
    c.t = start + 10 * 60_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, retryAfterSeconds: 86_400 - 600 });
    c.t = start + 86_400_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: true });
  });

  it("across a window's end the defaults let 19 sends through in 70 minutes, and 5 in 4 minutes (fixed windows)", () => {
    // docs/security.md "What a window is, and which clock times it": the figures it states. A client that saves its sends for the end of its
    // day, then sends as fast as the cooldown and the 10-minute window allow.
    const c = { t: 1_750_000_000_000 };
    const t = new OtpThrottle(config(), hasher, null, { maxKeys: 100, now: () => c.t });
    const first = c.t;
    const sent: number[] = [];
    const attempt = () => {
      const r = t.reserve(subject()) as Reservation | Throttled;
      if (r.allowed) sent.push(c.t);
      return r.allowed ? 0 : r.retryAfterSeconds * 1000;
    };
    attempt();
    c.t = first + 86_400_000 - 40 * 60_000;
    while (c.t < first + 2 * 86_400_000) c.t += attempt() || 1;
    const most = (spanMs: number) => {
      let best = 0;
      for (let i = 0, j = 0; i < sent.length; i++) {
        while (j < sent.length && sent[j] - sent[i] < spanMs) j++;
        best = Math.max(best, j - i);
      }
      return best;
    };
    expect(sent).toHaveLength(20);
    expect(most(86_400_000)).toBe(19);
    // 70 minutes and the few ms each wait was rounded up by.
    expect(sent[19] - sent[1]).toBeLessThan(71 * 60_000);
    // The 10-minute window the same way: its first send at 0, two saved for its last two minutes, three more as the
    // next window opens: five sends in four minutes under "3 per 10 minutes".
    const w = new OtpThrottle(config(), hasher, null, { maxKeys: 100, now: () => c.t });
    const zero = c.t;
    for (const minute of [0, 8, 9, 10, 11, 12]) {
      c.t = zero + minute * 60_000;
      expect(w.reserve(subject({ ip: "198.51.100.1" }))).toMatchObject({ allowed: true });
    }
  });

  it("an attempt refused by the window does not shorten the next send's cooldown (two SMS 1 ms apart before)", () => {
    const c = { t: 1_000_000 };
    const t = new OtpThrottle(config(), hasher, null, { maxKeys: 100, now: () => c.t });
    const start = c.t;
    for (const at of [0, 60_000, 120_000]) {
      c.t = start + at;
      expect(t.reserve(subject())).toMatchObject({ allowed: true });
    }
    // The window (3 per 10 min) is used up until start + 600,000; the cooldown ended at start + 180,000.
    c.t = start + 540_001;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED", retryAfterSeconds: 60 });
    c.t = start + 600_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    // The refused attempt's empty cooldown window, kept open, ended here, and this send went out too.
    c.t = start + 600_001;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_COOLDOWN", retryAfterSeconds: 60 });
    c.t = start + 660_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: true });
  });

  it("the same destination twice in one send: each consume is judged as it happens, and the refusal gives all back", () => {
    const c = { t: 1_000_000 };
    const t = new OtpThrottle(config(), hasher, null, { maxKeys: 100, now: () => c.t });
    const twice = subject({
      destinations: [
        { kind: "mobile", value: "9876543210" },
        { kind: "mobile", value: "9876543210" },
      ],
    });
    // The first cooldown consume is allowed, the second (same key) is not.
    expect(t.reserve(twice)).toMatchObject({ allowed: false, code: "OTP_COOLDOWN", retryAfterSeconds: 60 });
    expect(t.reserve(subject())).toMatchObject({ allowed: true });
  });

  it("at the cap: a known destination's windows reopen in its own entry, a new destination is refused", () => {
    const c = { t: 1_000_000 };
    // One entry per destination (its cooldown, window and daily together) plus the IP, client and global ones: a CIBIL
    // send to a new id needs 4, so 4 is room for one destination exactly.
    const t = new OtpThrottle(config(), hasher, null, { maxKeys: 4, now: () => c.t });
    const cibil = (value: string) => subject({ destinations: [{ kind: "cibil", value }] });
    expect(t.reserve(cibil("700000001"))).toMatchObject({ allowed: true });
    expect(() => t.reserve(cibil("700000002"))).toThrow(MemoryStoreFullError);
    c.t += 60_000;
    // The cooldown window ended: it opens again in the destination's entry, which needs no room.
    expect(t.reserve(cibil("700000001"))).toMatchObject({ allowed: true });
    expect(() => t.reserve(cibil("700000002"))).toThrow(MemoryStoreFullError);
    // Past the window, the daily window still holds the entry (and its 2 of 10 sends): still full.
    c.t += 600_000;
    expect(() => t.reserve(cibil("700000002"))).toThrow(MemoryStoreFullError);
    // A day after the last send every window of the entry has ended: the sweep before refusing frees its unit.
    c.t += 86_400_000;
    expect(t.reserve(cibil("700000002"))).toMatchObject({ allowed: true });
    expect(() => t.reserve(cibil("700000003"))).toThrow(MemoryStoreFullError);
  });

  it("one entry per destination for its three budgets: a cap of 1,003 holds 1,000 destinations (and IP, client, global)", () => {
    const c = { t: 1_000_000 };
    const t = new OtpThrottle(config(), hasher, null, { maxKeys: 1_003, now: () => c.t });
    const cibil = (i: number) => subject({ destinations: [{ kind: "cibil", value: String(700_000_000 + i) }] });
    for (let i = 0; i < 1_000; i++) expect(t.reserve(cibil(i))).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    expect(() => t.reserve(cibil(1_000))).toThrow(MemoryStoreFullError);
    // Every destination held keeps all three of its budgets (none evicted): each is in its cooldown.
    for (let i = 0; i < 1_000; i += 99) expect(t.reserve(cibil(i))).toMatchObject({ code: "OTP_COOLDOWN" });
  });

  it("a table that fills in the middle of a send: refused (store full) and every point it took is given back", async () => {
    // Without a cooldown, an AEPS send to a new mobile and a new Aadhaar needs 6 entries (the two destinations, the
    // prefix, IP, client and global); 7 leave room for the first send and for the second's mobile, not its Aadhaar.
    const t = new OtpThrottle(config({ cooldownSeconds: 0, global: { points: 2, seconds: 60 } }), hasher, null, {
      maxKeys: 7,
    });
    const aeps = (mobile: string, aadhaar: string) =>
      subject({
        destinations: [
          { kind: "mobile", value: mobile },
          { kind: "aadhaar", value: aadhaar },
        ],
      });
    const x = aeps("9876543210", "200000000001");
    expect((await t.reserve(x)).allowed).toBe(true);
    expect(() => t.reserve(aeps("9876543211", "200000000002"))).toThrow(MemoryStoreFullError);
    // The failed send gave the global point back: the known destinations still have the second one.
    expect((await t.reserve(x)).allowed).toBe(true);
    expect(await t.reserve(x)).toMatchObject({ allowed: false, code: "RATE_LIMITED", scope: "GLOBAL" });
    // The new mobile's points were given back too (its entry took the 7th unit): with a daily cap of 2, it still has
    // both sends.
    const day = new OtpThrottle(
      config({ cooldownSeconds: 0, destinationWindow: GENEROUS, destinationDaily: { points: 2, seconds: 86_400 } }),
      hasher,
      null,
      { maxKeys: 7 },
    );
    expect((await day.reserve(x)).allowed).toBe(true);
    expect(() => day.reserve(aeps("9876543211", "200000000002"))).toThrow(MemoryStoreFullError);
    const mobileOnly = subject({ destinations: [{ kind: "mobile", value: "9876543211" }] });
    expect((await day.reserve(mobileOnly)).allowed).toBe(true);
    expect((await day.reserve(mobileOnly)).allowed).toBe(true);
    expect(await day.reserve(mobileOnly)).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED" });
  });
});
