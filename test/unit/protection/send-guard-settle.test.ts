import { AopayOutcomeUnknownError, AopayUnavailableError } from "../../../src/aopay/errors";
import { MemoryIdempotencyStore } from "../../../src/protection/idempotency-store";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { OtpThrottle } from "../../../src/protection/otp-throttle";
import { SendGuard } from "../../../src/protection/send-guard";
import { KEY_RECORD_LINES_PER_INTERVAL, StoreFailureLines } from "../../../src/protection/store-failure";
import { createLogger } from "../../../src/logging/logger";
import { monotonicNow } from "../../../src/util/clock";
import { AFTER_COOLDOWN, d, failing, hasher, request, sealer, setup } from "../../helpers/send-guard";
import { LogCapture } from "../../helpers/log-capture";
import { throttleConfig } from "../../helpers/throttle";

describe("SendGuard: settling and failing closed", () => {
  describe("settling after the upstream call", () => {
    it("a failure that provably never left: points refunded and key freed, so the same request may run again at once", async () => {
      const { guard } = setup();
      const notSent = request({
        key: "k-1",
        answer: async () => Promise.reject(new AopayUnavailableError("refused", { ...d, sent: false })),
      });
      expect(await guard.run(notSent.req)).toEqual({ kind: "sent", result: "failure:UPSTREAM_UNAVAILABLE" });
      // Not throttled by the cooldown (refunded), not replayed (released): it runs again.
      const retry = request({ key: "k-1" });
      expect(await guard.run(retry.req)).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
      expect(retry.calls).toEqual([true]);
    });

    it("a failure that may have reached AOPay keeps its cost and is stored: a repeat replays the failure", async () => {
      const { guard } = setup();
      const unknown = request({
        key: "k-1",
        answer: async () => Promise.reject(new AopayOutcomeUnknownError("reset", { ...d, sent: true })),
      });
      expect(await guard.run(unknown.req)).toEqual({ kind: "sent", result: "failure:OUTCOME_UNKNOWN" });
      expect(await guard.run(request({ key: "k-1" }).req)).toEqual({
        kind: "replayed",
        result: "failure:OUTCOME_UNKNOWN",
      });
      // The points stay spent: another key for the same destination meets the cooldown.
      expect((await guard.run(request({ key: "k-2" }).req)).kind).toBe("throttled");
    });

    // A bug (not an upstream failure) once the call may have left: thrown, and the key kept, never freed, so that a
    // repeat cannot send the OTP again (`remember` logs and retries its own failures: not a case). With the key freed (the old code) a repeat past the cooldown sent a second SMS
    // (an attack review, on Node 20: every answer failed to read after AOPay had sent). No budget here (budget null,
    // as with OTP_COOLDOWN_SECONDS=0): only the key stands between a repeat and AOPay.
    describe.each([
      ["in the call (reading AOPay's answer)", "call"],
      ["in settle (making the result)", "settle"],
    ] as const)("a bug %s", (_, where) => {
      it("is thrown; a repeat of its key is answered OUTCOME_UNKNOWN and AOPay is not called again", async () => {
        const { guard } = setup();
        let calls = 0;
        const first = request({
          key: "k-bug",
          budget: null,
          answer: async () => {
            calls++;
            if (where === "call") throw new TypeError("JSON.isRawJSON is not a function");
            return "ok";
          },
        });
        if (where === "settle") {
          first.req.settle = () => {
            throw new TypeError("bug in settle");
          };
        }
        await expect(guard.run(first.req)).rejects.toThrow(TypeError);
        const repeat = request({ key: "k-bug", budget: null, answer: async () => `${++calls}` });
        expect(await guard.run(repeat.req)).toEqual({ kind: "replayed", result: "failure:OUTCOME_UNKNOWN" });
        expect(repeat.calls).toEqual([]);
        expect(calls).toBe(1);
        // Another key is another request: it is sent (no budget here), so the kept key is all that held the repeat.
        expect((await guard.run(request({ key: "k-other", budget: null }).req)).kind).toBe("sent");
      });
    });

    it("a bug with the budget on: the points stay spent (the cooldown holds another key too)", async () => {
      const { guard } = setup();
      const bug = request({ key: "k-1", answer: async () => Promise.reject(new TypeError("bug")) });
      await expect(guard.run(bug.req)).rejects.toThrow("bug");
      expect((await guard.run(request({ key: "k-2" }).req)).kind).toBe("throttled");
    });

    it("a store that fails after the call does not turn a real result into an error (logged instead)", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer);
      idempotency.complete = failing("complete");
      const { guard } = setup({ idempotency });
      const { req, log } = request({ key: "k-1" });
      expect(await guard.run(req)).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
      expect(log.text()).toContain("otp settle step failed: store");
    });

    it("refund and release failures after a never-sent call are logged, and the failure result still returned", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer);
      idempotency.release = failing("release");
      const throttle = new OtpThrottle(throttleConfig(), hasher, null);
      const { guard } = setup({
        idempotency,
        throttle: {
          reserve: async (...args) => ({
            ...(await throttle.reserve(...args)),
            allowed: true,
            nextSendInMs: 0,
            refund: failing("refund"),
          }),
        },
      });
      const { req, log } = request({
        key: "k-1",
        answer: async () => Promise.reject(new AopayUnavailableError("refused", { ...d, sent: false })),
      });
      expect(await guard.run(req)).toEqual({ kind: "sent", result: "failure:UPSTREAM_UNAVAILABLE" });
      expect(log.text()).toContain("otp settle step failed: refund");
      expect(log.text()).toContain("otp settle step failed: release");
    });
  });

  describe("a key the store could not settle is settled again once the store answers", () => {
    /** The store's release (or complete) fails while `down()` says so, then works: Redis away for a moment. */
    function blipping(idempotency: MemoryIdempotencyStore, method: "release" | "complete", down: () => boolean) {
      const real = idempotency[method].bind(idempotency) as (...args: unknown[]) => Promise<void>;
      (idempotency as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        if (down()) await failing(method)();
        return real(...args);
      };
    }

    it("a throttled attempt whose key could not be freed: still answered throttled, and the key freed", async () => {
      // Before: the failed release turned the throttled answer into PROTECTION_UNAVAILABLE and left the key pending,
      // in flight for the pending time and OUTCOME_UNKNOWN after it, for an attempt that sent nothing.
      const idempotency = new MemoryIdempotencyStore(sealer);
      let down = false;
      blipping(idempotency, "release", () => down);
      const { guard } = setup({ idempotency });
      expect((await guard.run(request({ key: "k-0" }).req)).kind).toBe("sent");
      down = true;
      expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("throttled");
      down = false;
      await new Promise((r) => setTimeout(r, 400));
      // Free again: the same key meets the cooldown, not its own pending record.
      expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("throttled");
    });

    it("a result the store missed: stored in the background, and a repeat replays it", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer);
      let down = true;
      blipping(idempotency, "complete", () => down);
      const { guard } = setup({ idempotency });
      const first = request({ key: "k-1" });
      expect(await guard.run(first.req)).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
      expect(first.log.text()).toContain("otp settle step failed: store (trying again in the background)");
      expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("in-flight");
      down = false;
      await new Promise((r) => setTimeout(r, 400));
      expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("replayed");
    });

    describe("a settle step the store fails while the server drains", () => {
      it("a result: not tried again, and its first line says so; the give-up line names what a repeat meets", async () => {
        const idempotency = new MemoryIdempotencyStore(sealer);
        let down = true;
        blipping(idempotency, "complete", () => down);
        const { guard } = setup({ idempotency });
        await guard.drain(monotonicNow());
        const first = request({ key: "k-1" });
        expect(await guard.run(first.req)).toEqual({ kind: "sent", result: AFTER_COOLDOWN });
        const messages = first.log.records().map((r) => r.msg);
        // Before: "otp settle step failed: store (trying again in the background)", then at once the give-up line.
        expect(messages).toEqual([
          "otp settle step failed: store (not tried again: the server is draining)",
          "idempotency result not stored: a repeat of this key is answered IDEMPOTENCY_IN_FLIGHT until its pending time " +
            "ends, then OUTCOME_UNKNOWN, never with the result",
        ]);
        expect(first.log.records()[1]).toMatchObject({ otpSend: { pendingForMs: expect.any(Number) } });
        expect((first.log.records()[1] as { otpSend: { pendingForMs: number } }).otpSend.pendingForMs).toBeGreaterThan(
          0,
        );
        // What a repeat meets, as the line says: in flight (it said OUTCOME_UNKNOWN), and still after a retry's wait.
        down = false;
        await new Promise((r) => setTimeout(r, 400));
        expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("in-flight");
      });

      it("a key to free: not tried again, and its first line says so; a repeat meets IDEMPOTENCY_IN_FLIGHT", async () => {
        const idempotency = new MemoryIdempotencyStore(sealer);
        let down = false;
        blipping(idempotency, "release", () => down);
        const { guard } = setup({ idempotency });
        expect((await guard.run(request({ key: "k-0" }).req)).kind).toBe("sent");
        await guard.drain(monotonicNow());
        down = true;
        const throttled = request({ key: "k-1" });
        expect((await guard.run(throttled.req)).kind).toBe("throttled");
        const messages = throttled.log.records().map((r) => r.msg);
        expect(messages).toContain("otp settle step failed: release (not tried again: the server is draining)");
        expect(messages).toContain(
          "idempotency key not freed: a repeat of this key is answered IDEMPOTENCY_IN_FLIGHT until its pending time " +
            "ends, then OUTCOME_UNKNOWN, though nothing was sent",
        );
        expect(throttled.log.text()).not.toContain("trying again in the background");
        down = false;
        await new Promise((r) => setTimeout(r, 400));
        expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("in-flight");
      });
    });
  });

  describe("fail closed when the shared store is unreachable", () => {
    it("at the idempotency claim: the key's record unread, OUTCOME_UNKNOWN (not a replay), the observer told, nothing sent", async () => {
      // The key may hold the record of an earlier request that sent: "unavailable" (PROTECTION_UNAVAILABLE, "nothing
      // was sent") had its client try a new key and send a second OTP.
      const idempotency = new MemoryIdempotencyStore(sealer);
      idempotency.begin = failing("begin");
      const { guard, events } = setup({ idempotency });
      const { req, calls, log } = request({ key: "k-1" });
      expect(await guard.run(req)).toEqual({ kind: "unread", result: "failure:OUTCOME_UNKNOWN" });
      expect(calls).toEqual([]);
      expect(events.unavailable).toEqual(["generateCibilOtp"]);
      expect(events.replayed).toEqual([]);
      expect(log.text()).toContain("otp send refused: protection store unavailable");
    });

    it("at the idempotency claim, the in-memory table full: unavailable (it read the key: no record), nothing sent", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer, { maxKeys: 1 });
      const { guard, events } = setup({ idempotency });
      expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("sent");
      const { req, calls } = request({ key: "k-2" });
      expect(await guard.run(req)).toEqual({ kind: "unavailable" });
      expect(calls).toEqual([]);
      expect(events.unavailable).toEqual(["generateCibilOtp"]);
    });

    it("without a key, the store failing: unavailable (nothing can have been sent under a key)", async () => {
      const { guard } = setup({ throttle: { reserve: failing("throttle") } });
      const { req, calls } = request({});
      expect(await guard.run(req)).toEqual({ kind: "unavailable" });
      expect(calls).toEqual([]);
    });

    it("with a key, refused by assertSafe before the key is read: OUTCOME_UNKNOWN, nothing sent", async () => {
      const { guard } = setup({
        assertSafe: () => {
          throw new ProtectionStoreError("redis", new Error("evicting policy"));
        },
      });
      const { req, calls } = request({ key: "k-1" });
      expect(await guard.run(req)).toEqual({ kind: "unread", result: "failure:OUTCOME_UNKNOWN" });
      expect(calls).toEqual([]);
    });

    it("at the throttle: unavailable, nothing sent, and the claimed key freed (even if freeing fails too)", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer);
      const released: string[] = [];
      const release = idempotency.release.bind(idempotency);
      idempotency.release = async (key, token) => {
        released.push(key);
        return release(key, token);
      };
      const { guard } = setup({ idempotency, throttle: { reserve: failing("throttle") } });
      const { req, calls } = request({ key: "k-1" });
      expect(await guard.run(req)).toEqual({ kind: "unavailable" });
      expect(calls).toEqual([]);
      expect(released).toHaveLength(1);

      idempotency.release = failing("release");
      expect(await guard.run(request({ key: "k-2" }).req)).toEqual({ kind: "unavailable" });
    });

    it("a full in-memory store: unavailable too, logged as info (the store itself warns once a minute)", async () => {
      const full = async (): Promise<never> => {
        throw new MemoryStoreFullError("otp throttle");
      };
      const { guard, events } = setup({ throttle: { reserve: full } });
      const { req, calls, log } = request();
      expect(await guard.run(req)).toEqual({ kind: "unavailable" });
      expect(calls).toEqual([]);
      expect(events.unavailable).toEqual(["generateCibilOtp"]);
      const line = log.records().find((r) => r.msg === "otp send refused: in-memory store full");
      expect(line).toMatchObject({
        level: "info",
        otpSend: { field: "generateCibilOtp", refused: "memory store full" },
      });
      expect(log.text()).not.toContain("protection store unavailable");
    });

    it("a full in-memory store: one line per 10 s however many sends it refuses, every one counted", async () => {
      const full = async (): Promise<never> => {
        throw new MemoryStoreFullError("otp throttle");
      };
      const { guard, events, storeLines, processLog } = setup({ throttle: { reserve: full } });
      const logs: Array<ReturnType<typeof request>["log"]> = [];
      for (let i = 0; i < 50; i++) {
        const { req, log } = request();
        logs.push(log);
        expect(await guard.run(req)).toEqual({ kind: "unavailable" });
      }
      expect(events.unavailable).toHaveLength(50);
      const lines = logs.flatMap((l) => l.records().filter((r) => r.msg === "otp send refused: in-memory store full"));
      // Before: 50 lines. The interval's summary counts the 49 others (store-failure.ts StoreFailureLines).
      expect(lines).toHaveLength(1);
      storeLines.flush();
      expect(processLog.records()).toEqual([
        expect.objectContaining({
          level: "info",
          suppressed: 49,
          notLogged: { "otp send": 49 },
          msg: expect.stringMatching(/^otp send refused: in-memory store full: 49 more sends refused in the last/),
        }),
      ]);
    });

    it("a repeated key whose record is abandoned: K warnings per 10 s, a summary counting the other repeats", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer);
      idempotency.begin = async () => ({ kind: "abandoned" });
      const { guard, storeLines, processLog } = setup({ idempotency });
      const logs: Array<ReturnType<typeof request>["log"]> = [];
      for (let i = 0; i < 30; i++) {
        const { req, log, calls } = request({ key: "k-1" });
        logs.push(log);
        expect((await guard.run(req)).kind).toBe("replayed");
        expect(calls).toEqual([]);
      }
      const lines = logs.flatMap((l) =>
        l.records().filter((r) => r.msg === "idempotency key abandoned: answered OUTCOME_UNKNOWN"),
      );
      // Before: 30 warnings, one per repeat of the key.
      expect(lines).toHaveLength(KEY_RECORD_LINES_PER_INTERVAL);
      storeLines.flush();
      expect(processLog.records()).toEqual([
        expect.objectContaining({
          level: "warn",
          suppressed: 30 - KEY_RECORD_LINES_PER_INTERVAL,
          notLogged: { abandoned: 30 - KEY_RECORD_LINES_PER_INTERVAL },
        }),
      ]);
    });

    it("without a key there is nothing to free: unavailable all the same", async () => {
      const { guard } = setup({ throttle: { reserve: failing("throttle") } });
      expect(await guard.run(request().req)).toEqual({ kind: "unavailable" });
    });

    it("anything else thrown by a store is a bug and is not hidden as unavailable", async () => {
      const { guard } = setup({
        throttle: { reserve: async () => Promise.reject(new RangeError("bug in the throttle")) },
      });
      await expect(guard.run(request().req)).rejects.toThrow("bug in the throttle");
    });
  });

  it("works without an observer or clock given (defaults: none, Date.now)", async () => {
    const idempotency = new MemoryIdempotencyStore(sealer);
    const guard = new SendGuard({
      throttle: new OtpThrottle(throttleConfig(), hasher, null),
      idempotency,
      hasher,
      idempotencyTtlMs: 1000,
      pendingTtlMs: 1000,
      longestRequestMs: 300,
      storeLines: new StoreFailureLines(createLogger({ level: "fatal", destination: new LogCapture() })),
    });
    const before = Date.now();
    const outcome = (await guard.run(request().req)) as { kind: "sent"; result: string };
    expect(Number(outcome.result.split("@")[1])).toBeGreaterThanOrEqual(before + 60_000);
    expect(await guard.run(request().req)).toMatchObject({ kind: "throttled" });
  });
});
