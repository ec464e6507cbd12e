import { type ThrottleConfig } from "../../../src/config";
import { GENEROUS, mostInAnySpan, seeded, throttleConfig } from "../../helpers/throttle";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import {
  OtpThrottle,
  type OtpSubject,
  type Reservation,
  THROTTLE_REFUSALS,
  type Throttled,
  type ThrottlePurpose,
} from "../../../src/protection/otp-throttle";

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

  it("a day is any 24 hours (a sliding window), not a calendar day in UTC or IST", () => {
    // 23:50 IST (18:20 UTC) on 1 March 2026: ten sends use up the day; ten minutes later it is 2 March in India and
    // in UTC, and the day still refuses, for another 23 h 50 min: until the first of the ten is 24 hours old.
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

  it("across a window's end: a burst saved for its last minutes is refused (5 sends in 4 minutes before)", () => {
    // docs/security.md "What a window is, and which clock times it". With fixed windows the 10-minute window opened
    // at minute 0 let two more sends through at minutes 8 and 9, and the next window three more at 10, 11 and 12:
    // five sends in four minutes under "3 per 10 minutes".
    const c = { t: 1_750_000_000_000 };
    const w = new OtpThrottle(config(), hasher, null, { maxKeys: 100, now: () => c.t });
    const zero = c.t;
    const at = (minute: number) => {
      c.t = zero + minute * 60_000;
      return w.reserve(subject());
    };
    expect(at(0)).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    expect(at(8)).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    // The third send in (minute -1, 9]: the next send waits for minute 0's to leave the span, at minute 10.
    expect(at(9)).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    expect(at(10)).toMatchObject({ allowed: true, nextSendInMs: 8 * 60_000 });
    // The spans (1, 11] and (2, 12] hold 8, 9 and 10: refused until minute 8's send is ten minutes old.
    expect(at(11)).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED", retryAfterSeconds: 7 * 60 });
    expect(at(12)).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED", retryAfterSeconds: 6 * 60 });
    expect(at(18)).toMatchObject({ allowed: true });
  });

  it("across a day's end: a client sending as fast as it is allowed gets 10 in any 24 hours (19 in 70 minutes before)", () => {
    // A client that saves its sends for the end of its day, then sends whenever the answers say it may.
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
    while (c.t < first + 3 * 86_400_000) c.t += attempt() || 1;
    expect(mostInAnySpan(sent, 86_400_000)).toBe(10);
    expect(mostInAnySpan(sent, 600_000)).toBe(3);
    expect(mostInAnySpan(sent, 60_000)).toBe(1);
    // Each wait it was told was exact: every send after the first ten came when the day's oldest left the span.
    for (let i = 10; i < sent.length; i++) expect(sent[i] - sent[i - 10]).toBeGreaterThanOrEqual(86_400_000);
    // (Each wait rounded up to whole seconds, and the 1 ms steps of the client's loop.)
    expect(sent[10] - sent[0]).toBeLessThan(86_400_000 + 1_000);
  });

  it("retryAfterSeconds and nextSendInMs say exactly when the send that blocks leaves its span", () => {
    const c = { t: 1_000_000 };
    const t = new OtpThrottle(config({ destinationWindow: { points: 2, seconds: 600 } }), hasher, null, {
      maxKeys: 100,
      now: () => c.t,
    });
    const start = c.t;
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    c.t = start + 100_500;
    // The window's second send: the next waits for the first to be ten minutes old (499.5 s, said as 500).
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 499_500 });
    c.t = start + 200_250;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED", retryAfterSeconds: 400 });
    c.t = start + 599_999;
    expect(t.reserve(subject())).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    c.t = start + 600_000;
    // Told to wait N seconds at 200.25 s, it is allowed at 200.25 + N and not before the first send's span ends.
    expect(200_250 + 400_000).toBeGreaterThanOrEqual(600_000);
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 100_500 });
  });

  it("a refund removes exactly the send it took: given twice, or beside a send of the same millisecond, no other", () => {
    const c = { t: 1_000_000 };
    const t = new OtpThrottle(config({ cooldownSeconds: 0 }), hasher, null, { maxKeys: 100, now: () => c.t });
    const start = c.t;
    const held = t.reserve(subject()) as Reservation;
    expect(held.allowed).toBe(true);
    // Another send in the same millisecond, then a third later: the window (3) is used up.
    expect(t.reserve(subject())).toMatchObject({ allowed: true });
    c.t = start + 60_000;
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 540_000 });
    expect(t.reserve(subject())).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED" });
    void held.refund();
    void held.refund();
    // One send given back, not two: one more fits, then the window refuses until the other send of `start` is old.
    expect(t.reserve(subject())).toMatchObject({ allowed: true, nextSendInMs: 540_000 });
    expect(t.reserve(subject())).toMatchObject({ allowed: false, retryAfterSeconds: 540 });
  });

  it("every span holds at most its budget's sends, and every answer is the exact one (seeded schedule, refunds)", () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = seeded(seed);
      const c = { t: 1_750_000_000_000 };
      const t = new OtpThrottle(config(), hasher, null, { maxKeys: 1_000, now: () => c.t });
      const pool = [
        { kind: "mobile" as const, value: "9876543210" },
        { kind: "mobile" as const, value: "9876543211" },
        { kind: "aadhaar" as const, value: "234123412346" },
      ];
      const budgets = [
        { points: 1, ms: 60_000, code: "OTP_COOLDOWN" },
        { points: 3, ms: 600_000, code: "OTP_LIMIT_REACHED" },
        { points: 10, ms: 86_400_000, code: "OTP_LIMIT_REACHED" },
      ];
      // The reference: each destination's counted sends, as times (a refund removes one of its time).
      const counted = new Map<string, number[]>(pool.map((d) => [d.value, []]));
      const history = new Map<string, number[]>(pool.map((d) => [d.value, []]));
      const held: Array<{ reservation: Reservation; at: number; to: string[] }> = [];
      let allowed = 0;
      let refused = 0;
      for (let step = 0; step < 3_000; step++) {
        // Mostly short gaps (a burst), sometimes minutes, now and then hours.
        const r = random();
        c.t += r < 0.6 ? Math.floor(random() * 90_000) : r < 0.95 ? Math.floor(random() * 900_000) : 3_600_000;
        if (random() < 0.05 && held.length > 0) {
          const { reservation, at, to } = held.splice(Math.floor(random() * held.length), 1)[0];
          void reservation.refund();
          for (const value of to) {
            const times = counted.get(value)!;
            times.splice(times.indexOf(at), 1);
            const past = history.get(value)!;
            past.splice(past.lastIndexOf(at), 1);
          }
          continue;
        }
        const to = random() < 0.5 ? [pool[Math.floor(random() * 3)]] : [pool[0], pool[2]];
        let wait = 0;
        let code: string | undefined;
        let next = 0;
        for (const { value } of to) {
          const times = counted.get(value)!;
          for (const b of budgets) {
            const blocking = times.length >= b.points ? times[times.length - b.points] : -Infinity;
            if (blocking + b.ms > c.t) {
              wait = Math.max(wait, blocking + b.ms - c.t);
              if (code === undefined || b.code === "OTP_COOLDOWN") code = b.code;
            }
            const after = [...times, c.t];
            const gate = after.length >= b.points ? after[after.length - b.points] : -Infinity;
            next = Math.max(next, gate + b.ms - c.t);
          }
        }
        const answer = t.reserve(subject({ destinations: to })) as Reservation | Throttled;
        if (code === undefined) {
          expect(answer).toMatchObject({ allowed: true, nextSendInMs: next });
          allowed++;
          for (const { value } of to) {
            counted.get(value)!.push(c.t);
            history.get(value)!.push(c.t);
          }
          if (random() < 0.3) held.push({ reservation: answer as Reservation, at: c.t, to: to.map((d) => d.value) });
        } else {
          expect(answer).toMatchObject({
            allowed: false,
            code,
            retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
          });
          refused++;
        }
      }
      // The schedule met both answers often, and the promise holds in every span of every destination.
      expect(allowed).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(100);
      for (const times of history.values()) {
        expect(mostInAnySpan(times, 60_000)).toBeLessThanOrEqual(1);
        expect(mostInAnySpan(times, 600_000)).toBeLessThanOrEqual(3);
        expect(mostInAnySpan(times, 86_400_000)).toBeLessThanOrEqual(10);
      }
      expect(Math.max(...[...history.values()].map((times) => mostInAnySpan(times, 86_400_000)))).toBe(10);
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

describe("THROTTLE_REFUSALS (the series metrics.ts starts at 0)", () => {
  // Each budget alone at one point, every other GENEROUS (no cooldown): the second request is refused by it. Its code
  // and scope must be listed for its purpose, else that refusal's series is absent until it first happens.
  const ONE = { points: 1, seconds: 600 };
  const NONE = { cooldownSeconds: 0, destinationWindow: GENEROUS, destinationDaily: GENEROUS };
  it.each<[ThrottlePurpose, Partial<ThrottleConfig>]>([
    ["send", { cooldownSeconds: 60, destinationWindow: GENEROUS, destinationDaily: GENEROUS }],
    ["send", { ...NONE, destinationWindow: ONE }],
    ["send", { ...NONE, mobilePrefix: ONE }],
    ["send", { ...NONE, ip: ONE }],
    ["send", { ...NONE, client: ONE }],
    ["send", { ...NONE, global: ONE }],
    ["verify", { ...NONE, verify: ONE }],
    ["verify", { ...NONE, verifyIp: ONE }],
    ["verify", { ...NONE, verifyClient: ONE }],
    ["register", { ...NONE, registerIp: ONE }],
    ["register", { ...NONE, registerClient: ONE }],
    ["read", { ...NONE, readCibil: ONE }],
    ["read", { ...NONE, readClient: ONE }],
    ["read-attempt", { ...NONE, readIp: ONE }],
  ])("a %s refusal is listed: %j", async (purpose, overrides) => {
    const t = new OtpThrottle(throttleConfig(overrides), hasher, null);
    expect((await t.reserve(subject(), purpose)).allowed).toBe(true);
    const refused = (await t.reserve(subject(), purpose)) as Throttled;
    expect(refused.allowed).toBe(false);
    expect(THROTTLE_REFUSALS[purpose]).toContainEqual({ code: refused.code, scope: refused.scope });
  });

  it("lists each pair once per purpose, and every budget of the constructor is covered above", () => {
    for (const purpose of ["send", "verify", "register", "read", "read-attempt"] as const) {
      const pairs = THROTTLE_REFUSALS[purpose].map((p) => `${p.code}/${p.scope}`);
      expect(new Set(pairs).size).toBe(pairs.length);
    }
    expect(THROTTLE_REFUSALS.send).toHaveLength(6);
    expect(THROTTLE_REFUSALS.verify).toHaveLength(3);
    expect(THROTTLE_REFUSALS.register).toHaveLength(2);
    expect(THROTTLE_REFUSALS.read).toHaveLength(2);
    expect(THROTTLE_REFUSALS["read-attempt"]).toHaveLength(1);
  });

  it("a read attempt takes its IP's read budget only: another IP is not refused, nor a read of the same IP", async () => {
    const t = new OtpThrottle(throttleConfig({ ...NONE, readIp: ONE, ip: ONE, client: ONE }), hasher, null);
    const attempt = (ip: string) =>
      t.reserve(subject({ ip, destinations: [{ kind: "cibil", value: "1" }] }), "read-attempt");
    expect((await attempt("198.51.100.1")).allowed).toBe(true);
    expect(await attempt("198.51.100.1")).toMatchObject({ allowed: false, code: "READ_THROTTLED", scope: "IP" });
    expect((await attempt("198.51.100.2")).allowed).toBe(true);
    // The consented read's budgets are others: the IP's spent attempts do not refuse it.
    const read = await t.reserve(
      subject({ ip: "198.51.100.1", destinations: [{ kind: "cibil", value: "1" }] }),
      "read",
    );
    expect(read.allowed).toBe(true);
  });

  it("a read takes its (client, customer) and client read budgets only: another client or customer is not refused", async () => {
    const t = new OtpThrottle(
      throttleConfig({ ...NONE, readCibil: { points: 2, seconds: 1800 }, ip: ONE, client: ONE, verify: ONE }),
      hasher,
      null,
    );
    const read = (clientId: string, cibilId: string) =>
      t.reserve(subject({ clientId, destinations: [{ kind: "cibil", value: cibilId }] }), "read");
    for (let i = 0; i < 2; i++) expect((await read("app", "102277100")).allowed).toBe(true);
    const refused = (await read("app", "102277100")) as Throttled;
    expect(refused).toMatchObject({ allowed: false, code: "READ_THROTTLED", scope: "DESTINATION" });
    expect(refused.retryAfterSeconds).toBeGreaterThan(1790);
    expect((await read("other-app", "102277100")).allowed).toBe(true);
    expect((await read("app", "102277101")).allowed).toBe(true);
    // The sends' and guesses' budgets are untouched (each at one point: a read taking them would refuse these).
    expect((await t.reserve(subject(), "send")).allowed).toBe(true);
    expect((await t.reserve(subject(), "verify")).allowed).toBe(true);
  });

  it("a read's refund gives its points back", async () => {
    const t = new OtpThrottle(throttleConfig({ ...NONE, readCibil: ONE }), hasher, null);
    const read = () => t.reserve(subject({ destinations: [{ kind: "cibil", value: "102277100" }] }), "read");
    const taken = await read();
    expect(taken.allowed).toBe(true);
    await (taken as Reservation).refund();
    expect((await read()).allowed).toBe(true);
    expect(await read()).toMatchObject({ allowed: false, code: "READ_THROTTLED" });
  });

  it("a registration takes only its IP's and client's registration budgets, none of the sends' or guesses'", async () => {
    const t = new OtpThrottle(
      throttleConfig({ ...NONE, registerIp: { points: 2, seconds: 60 }, ip: ONE, client: ONE, verifyIp: ONE }),
      hasher,
      null,
    );
    for (let i = 0; i < 2; i++) expect((await t.reserve(subject(), "register")).allowed).toBe(true);
    const refused = (await t.reserve(subject(), "register")) as Throttled;
    expect(refused).toMatchObject({ allowed: false, code: "RATE_LIMITED", scope: "IP" });
    expect(refused.retryAfterSeconds).toBeGreaterThan(55);
    // Another address of the same client is not refused; the sends' and guesses' budgets are untouched.
    expect((await t.reserve(subject({ ip: "198.51.100.9" }), "register")).allowed).toBe(true);
    expect((await t.reserve(subject(), "send")).allowed).toBe(true);
    expect((await t.reserve(subject(), "verify")).allowed).toBe(true);
  });
});
