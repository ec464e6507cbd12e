import { AopayUnavailableError } from "../../../src/aopay/errors";
import type { SendPass } from "../../../src/aopay/send-pass";
import { ProtectionRefusal, ProtectionStoreError } from "../../../src/protection/errors";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import {
  RegisteredMobilesBusyError,
  RegisteredMobilesFullError,
  RegistrationRaceError,
} from "../../../src/protection/registered-mobiles";
import { OtpThrottle } from "../../../src/protection/otp-throttle";
import { canonicalJson } from "../../../src/protection/send-guard";
import { monotonicNow } from "../../../src/util/clock";
import { AFTER_COOLDOWN, d, failing, hasher, NOW, request, setup } from "../../helpers/send-guard";
import { throttleConfig } from "../../helpers/throttle";

describe("SendGuard: the one path of every upstream write", () => {
  it("without a key: reserves, calls once with a live pass, and says when the destination takes another send", async () => {
    const { guard } = setup();
    const { req, calls } = request();
    const outcome = await guard.run(req);
    // The 60 s cooldown is used up by this send: the next one is possible from NOW + 60 s.
    expect(outcome).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
    expect(calls).toEqual([true]);
  });

  it("with no budget (a write that sends no SMS): no throttle is consulted, and nothing gates the next send", async () => {
    const reserve = jest.fn();
    const { guard } = setup({ throttle: { reserve } });
    const { req, calls } = request({ budget: null });
    expect(await guard.run(req)).toEqual({ kind: "sent", result: `ok@${NOW}` });
    expect(reserve).not.toHaveBeenCalled();
    expect(calls).toEqual([true]);
  });

  it("throttled: nothing is sent, the observer is told, and the key is freed for a later try", async () => {
    const { guard, events, idempotency } = setup();
    await guard.run(request().req);
    const second = request({ key: "k-1" });
    const outcome = await guard.run(second.req);
    expect(outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expect((outcome as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(second.calls).toEqual([]);
    expect(events.throttled).toEqual(["generateCibilOtp:OTP_COOLDOWN:DESTINATION"]);
    // No line of its own: the access line notes the throttle (graphql/guarded-send.ts).
    expect(second.log.text()).toBe("");
    // The claim was released: the same key with the same input is free again.
    const key = hasher.hash("idempotency", "app\ngenerateCibilOtp\nk-1");
    const fingerprint = hasher.hash("fingerprint", `generateCibilOtp\n${canonicalJson({ cibilId: "102277100" })}`);
    expect(await idempotency.begin(key, fingerprint, 1000)).toMatchObject({ kind: "acquired" });
  });

  describe("Idempotency-Key", () => {
    it("a repeat with the same input replays the stored result without calling again", async () => {
      const { guard, events } = setup();
      const first = request({ key: "k-1" });
      expect(await guard.run(first.req)).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
      const again = request({ key: "k-1" });
      expect(await guard.run(again.req)).toEqual({ kind: "replayed", result: AFTER_COOLDOWN });
      expect(again.calls).toEqual([]);
      expect(events.replayed).toEqual(["generateCibilOtp"]);
      // No line of its own: the access line notes the replay (graphql/guarded-send.ts).
      expect(again.log.text()).toBe("");
    });

    it("the fingerprint ignores key order: the same input written differently is still a repeat", async () => {
      const { guard } = setup();
      await guard.run(request({ key: "k-1", input: { a: 1, b: { c: 2, d: [1, 2] } } }).req);
      const again = request({ key: "k-1", input: { b: { d: [1, 2], c: 2 }, a: 1 } });
      expect((await guard.run(again.req)).kind).toBe("replayed");
    });

    it("the same key with other input is refused, and nothing is sent", async () => {
      const { guard } = setup();
      await guard.run(request({ key: "k-1" }).req);
      const other = request({ key: "k-1", input: { cibilId: "999" } });
      expect(await guard.run(other.req)).toEqual({ kind: "key-reused" });
      expect(other.calls).toEqual([]);
    });

    it("a repeat while the first still runs is told so, and nothing is sent twice", async () => {
      const { guard } = setup();
      let finish: (value: string) => void = () => undefined;
      const first = request({ key: "k-1", answer: () => new Promise<string>((resolve) => (finish = resolve)) });
      const running = guard.run(first.req);
      await new Promise((r) => setImmediate(r));
      const second = request({ key: "k-1" });
      expect(await guard.run(second.req)).toEqual({ kind: "in-flight", retryAfterMs: 2_000 });
      expect(second.log.text()).toBe("");
      finish("late");
      expect(await running).toEqual({ kind: "sent", result: expect.stringMatching(/^late@17500000(59|60)[0-9]{3}$/) });
      expect([...first.calls, ...second.calls]).toEqual([true]);
    });

    it("a kept result of a type this version does not know: OUTCOME_UNKNOWN, nothing sent", async () => {
      // Its request went ahead: PROTECTION_UNAVAILABLE (as before) told the client nothing was sent, paged operators,
      // and lasted as long as the record (a rolling update: docs/operations.md).
      const { guard, events } = setup();
      await guard.run(request({ key: "k-1" }).req);
      const again = request({ key: "k-1" });
      again.req.revive = () => undefined;
      expect(await guard.run(again.req)).toEqual({ kind: "replayed", result: "failure:OUTCOME_UNKNOWN" });
      expect(again.calls).toEqual([]);
      expect(events.unavailable).toEqual([]);
      expect(again.log.records()).toEqual([
        expect.objectContaining({
          level: "warn",
          otpSend: { field: "generateCibilOtp", idempotency: "unknown type", storedType: "Text" },
        }),
      ]);
    });
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every level, keeps array order, drops undefined, and writes scalars as JSON", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null }, e: undefined })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson("x")).toBe('"x"');
    expect(canonicalJson(undefined)).toBe("null");
  });
});

describe("SendGuard: prepare (destinations recalled from a store) and remember (kept after the call)", () => {
  const MOBILE = { kind: "mobile" as const, value: "9876512345" };

  it("recalled destinations are budgeted with the request's own: another CIBIL id to the same mobile meets its cooldown", async () => {
    const { guard, events } = setup();
    const first = request();
    first.req.prepare = () => [MOBILE];
    expect(await guard.run(first.req)).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
    const second = request();
    second.req.subject = { ...second.req.subject, destinations: [{ kind: "cibil", value: "102277101" }] };
    second.req.prepare = async () => [MOBILE];
    expect(await guard.run(second.req)).toMatchObject({
      kind: "throttled",
      code: "OTP_COOLDOWN",
      scope: "DESTINATION",
    });
    expect(second.calls).toEqual([]);
    expect(events.throttled).toEqual(["generateCibilOtp:OTP_COOLDOWN:DESTINATION"]);
  });

  it("nothing recalled: budgeted by the request's own destinations, as before", async () => {
    const { guard } = setup();
    const first = request();
    first.req.prepare = () => undefined;
    expect((await guard.run(first.req)).kind).toBe("sent");
    const other = request();
    other.req.subject = { ...other.req.subject, destinations: [{ kind: "cibil", value: "102277101" }] };
    other.req.prepare = () => [];
    expect((await guard.run(other.req)).kind).toBe("sent");
  });

  it("a store failure in prepare refuses (unavailable): nothing sent, the key freed, the observer told", async () => {
    const { guard, events } = setup();
    const req = request({ key: "k-1" });
    req.req.prepare = failing("registered mobile");
    expect(await guard.run(req.req)).toEqual({ kind: "unavailable" });
    expect(req.calls).toEqual([]);
    expect(events.unavailable).toEqual(["generateCibilOtp"]);
    const again = request({ key: "k-1" });
    expect((await guard.run(again.req)).kind).toBe("sent");
  });

  it.each([
    ["a send under way", () => new RegistrationRaceError(), "OTP_SEND_IN_PROGRESS", 2_000],
    ["a mark left to expire", () => new RegistrationRaceError(95_300), "OTP_SEND_IN_PROGRESS", 95_300],
    ["one mobile too many", () => new RegisteredMobilesFullError(), "MOBILE_LIMIT_REACHED", undefined],
    [
      "other registrations changing the record",
      () => new RegisteredMobilesBusyError(),
      "REGISTRATION_IN_PROGRESS",
      2_000,
    ],
  ] as const)(
    "a rule's refusal in prepare (%s) is refused with its code and the wait its store gives, never unavailable: no store-failure line or count",
    async (_name, refusal, code, retryAfterMs) => {
      const { guard, events } = setup();
      const req = request({ key: "k-1" });
      req.req.prepare = () => {
        throw refusal();
      };
      expect(refusal()).toBeInstanceOf(ProtectionRefusal);
      expect(await guard.run(req.req)).toEqual({ kind: "refused", code, retryAfterMs });
      expect(req.calls).toEqual([]);
      expect(events.unavailable).toEqual([]);
      expect(events.refused).toEqual([`generateCibilOtp:${code}`]);
      // No line of its own (the access line names the code), least of all a store failure's.
      expect(req.log.text()).toBe("");
      // Nothing was sent: the key is free for the same request once the rule allows it.
      const again = request({ key: "k-1" });
      expect((await guard.run(again.req)).kind).toBe("sent");
    },
  );

  it("a registration's budgets are taken before prepare: past them, prepare never runs (no store write)", async () => {
    const throttle = new OtpThrottle(throttleConfig({ registerClient: { points: 1, seconds: 60 } }), hasher, null);
    const { guard, events } = setup({ throttle });
    let prepared = 0;
    const first = request({ budget: "register" });
    first.req.prepare = () => void prepared++;
    expect((await guard.run(first.req)).kind).toBe("sent");
    const second = request({ budget: "register" });
    second.req.prepare = () => void prepared++;
    expect(await guard.run(second.req)).toMatchObject({ kind: "throttled", code: "RATE_LIMITED", scope: "CLIENT" });
    expect(prepared).toBe(1);
    expect(second.calls).toEqual([]);
    expect(events.throttled).toEqual(["generateCibilOtp:RATE_LIMITED:CLIENT"]);
  });

  // The points paid for prepare's store work (a record read and opened, a mobile added, a Redis write): given back,
  // that work was free, as often as a client liked.
  it.each<[string, () => unknown, (pass: SendPass) => Promise<string>]>([
    [
      "a rule's refusal (MOBILE_LIMIT_REACHED)",
      () => {
        throw new RegisteredMobilesFullError();
      },
      async () => "ok",
    ],
    [
      "a rule's refusal (OTP_SEND_IN_PROGRESS)",
      () => {
        throw new RegistrationRaceError();
      },
      async () => "ok",
    ],
    [
      "the store failing",
      () => {
        throw new ProtectionStoreError("registered mobile", new Error("down"));
      },
      async () => "ok",
    ],
    [
      "a call that never left (circuit open)",
      () => undefined,
      async () => Promise.reject(new AopayUnavailableError("circuit open", { ...d, sent: false })),
    ],
  ])("a registration's point is kept once prepare has run: %s", async (_name, prepare, answer) => {
    const throttle = new OtpThrottle(throttleConfig({ registerClient: { points: 2, seconds: 60 } }), hasher, null);
    const { guard } = setup({ throttle });
    let prepared = 0;
    const attempt = () => {
      const r = request({ budget: "register", answer });
      r.req.prepare = () => {
        prepared++;
        return prepare() as undefined;
      };
      return r;
    };
    for (let i = 0; i < 2; i++) expect((await guard.run(attempt().req)).kind).not.toBe("throttled");
    const third = attempt();
    expect(await guard.run(third.req)).toMatchObject({ kind: "throttled", code: "RATE_LIMITED", scope: "CLIENT" });
    // Past the budget, prepare's store work is not done again.
    expect(prepared).toBe(2);
    expect(third.calls).toEqual([]);
  });

  it("remember gets the call's value; its failure keeps the result (logged, counted as unrecorded)", async () => {
    const { guard, events } = setup();
    const kept: string[] = [];
    const ok = request({ budget: null });
    ok.req.remember = async (value) => void kept.push(value);
    expect(await guard.run(ok.req)).toEqual({ kind: "sent", result: `ok@${NOW}` });
    expect(kept).toEqual(["ok"]);
    const broken = request({ budget: null, key: "k-2" });
    broken.req.remember = failing("registered mobile");
    expect(await guard.run(broken.req)).toEqual({ kind: "sent", result: `ok@${NOW}` });
    expect(events.unrecorded).toEqual(["generateCibilOtp"]);
    expect(broken.log.text()).toContain("was not stored");
    // The result was stored under the key all the same: a repeat replays it, nothing is sent again.
    const again = request({ budget: null, key: "k-2" });
    expect((await guard.run(again.req)).kind).toBe("replayed");
  });

  describe("a remember that failed, tried again in the background (rememberRetryMs)", () => {
    /** A store that is down for its first `downFor` writes, then keeps what it is given. */
    const flaky = (downFor: number) => {
      const kept: string[] = [];
      let writes = 0;
      const remember = async (value: string): Promise<void> => {
        writes += 1;
        if (writes <= downFor) throw new ProtectionStoreError("registered-mobiles", new Error("redis down"));
        kept.push(value);
      };
      return { kept, remember, writes: () => writes };
    };

    it("is stored once the store is back, not counted as unrecorded, and the upstream called once", async () => {
      const { guard, events } = setup({ rememberRetryMs: 5_000 });
      const store = flaky(2);
      const r = request({ budget: null });
      r.req.remember = store.remember;
      expect(await guard.run(r.req)).toEqual({ kind: "sent", result: `ok@${NOW}` });
      expect(store.kept).toEqual([]);
      expect(r.log.text()).toContain("trying again in the background");
      await guard.drain(monotonicNow() + 5_000);
      expect(store.kept).toEqual(["ok"]);
      expect(store.writes()).toBe(3);
      expect(events.unrecorded).toEqual([]);
      expect(r.calls).toEqual([true]);
      expect(r.log.text()).toContain("remembered on retry");
    });

    it("gives up after rememberRetryMs: logged and counted once, never called upstream again", async () => {
      const { guard, events } = setup({ rememberRetryMs: 500 });
      const store = flaky(Infinity);
      const r = request({ budget: null });
      r.req.remember = store.remember;
      await guard.run(r.req);
      expect(events.unrecorded).toEqual([]);
      await guard.drain(monotonicNow() + 5_000);
      expect(events.unrecorded).toEqual(["generateCibilOtp"]);
      // 200 ms, then 400 ms would pass the 500 ms: the first write and one retry.
      expect(store.writes()).toBe(2);
      expect(r.calls).toEqual([true]);
      expect(r.log.text()).toContain("sent, but what it needs remembered was not stored");
    });

    it("a shutdown cuts it short: counted as unrecorded at the drain's deadline", async () => {
      const { guard, events } = setup({ rememberRetryMs: 60_000 });
      const r = request({ budget: null });
      r.req.remember = flaky(Infinity).remember;
      await guard.run(r.req);
      expect(events.unrecorded).toEqual([]);
      const started = monotonicNow();
      await guard.drain(started + 300);
      expect(monotonicNow() - started).toBeLessThan(1_000);
      // The loop sees the drain at its next wake-up (at most STORE_RETRY_MAX_MS later).
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      expect(events.unrecorded).toEqual(["generateCibilOtp"]);
    });

    it("a full in-memory store is not tried again (room comes only as records expire)", async () => {
      const { guard, events } = setup({ rememberRetryMs: 5_000 });
      const r = request({ budget: null });
      let writes = 0;
      r.req.remember = async () => {
        writes += 1;
        throw new MemoryStoreFullError("registered-mobiles");
      };
      await guard.run(r.req);
      expect(events.unrecorded).toEqual(["generateCibilOtp"]);
      await guard.drain(monotonicNow() + 1_000);
      expect(writes).toBe(1);
    });
  });
});
