import { AopayOutcomeUnknownError, AopayUnavailableError } from "../../../src/aopay/errors";
import { redeemSendPass, type SendPass } from "../../../src/aopay/send-pass";
import { createLogger } from "../../../src/logging/logger";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { MemoryIdempotencyStore, type StoredResult } from "../../../src/protection/idempotency-store";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import type { RequestObserver } from "../../../src/protection/observer";
import { OtpThrottle, type ThrottlePurpose } from "../../../src/protection/otp-throttle";
import {
  type Answer,
  canonicalJson,
  SendGuard,
  type SendGuardOptions,
  type SendRequest,
} from "../../../src/protection/send-guard";
import { LogCapture } from "../../helpers/log-capture";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";
import { throttleConfig } from "../../helpers/throttle";

/**
 * The write path's every branch, on the in-memory stores (the Redis ones are proven against the same contract in
 * test/integration/redis-stores.test.ts). The "upstream call" is a function that records its calls: the guard's only
 * business with AOPay is to call it at most once, with a live pass.
 */

const hasher = new KeyHasher(Buffer.from("k".repeat(32)));
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("s".repeat(32)))]);
const NOW = 1_750_000_000_000;
const d = { endpoint: "cibil.generateOtp" };
/**
 * "ok", and the next send possible one cooldown (60 s) after NOW: the throttle reads its own clock for the time left,
 * so it can say a millisecond less than 60 s.
 */
const AFTER_COOLDOWN = expect.stringMatching(/^ok@17500000(59|60)[0-9]{3}$/);

interface Events {
  throttled: string[];
  replayed: string[];
  unavailable: string[];
}

function setup(overrides: Partial<SendGuardOptions> = {}) {
  const events: Events = { throttled: [], replayed: [], unavailable: [] };
  const observe: RequestObserver = {
    throttled: (field, code, scope) => events.throttled.push(`${field}:${code}:${scope}`),
    replayed: (field) => events.replayed.push(field),
    protectionUnavailable: (field) => events.unavailable.push(field),
  };
  const idempotency = new MemoryIdempotencyStore(sealer);
  const throttle = new OtpThrottle(throttleConfig(), hasher, null);
  const guard = new SendGuard({
    throttle,
    idempotency,
    hasher,
    observe,
    clock: () => NOW,
    idempotencyTtlMs: 60_000,
    pendingTtlMs: 60_000,
    ...overrides,
  });
  return { guard, events, idempotency, throttle };
}

/** One request; `answer` is what the upstream call does (default: answers "ok"). */
function request(
  options: {
    key?: string;
    input?: object;
    budget?: ThrottlePurpose | null;
    answer?: (pass: SendPass) => Promise<string>;
  } = {},
) {
  const log = new LogCapture();
  const calls: boolean[] = [];
  const req: SendRequest<string, string> = {
    field: "generateCibilOtp",
    budget: options.budget === undefined ? "send" : options.budget,
    subject: { destinations: [{ kind: "cibil", value: "102277100" }], ip: "203.0.113.7", clientId: "app" },
    input: options.input ?? { cibilId: "102277100" },
    idempotencyKey: options.key,
    log: createLogger({ level: "debug", destination: log }),
    call: async (pass) => {
      // Whether the pass is live: AopayClient would refuse the call otherwise.
      calls.push(redeemSendPass(pass));
      return (options.answer ?? (async () => "ok"))(pass);
    },
    settle: (answer: Answer<string>, sent) =>
      "value" in answer ? `${answer.value}@${sent.nextSendAt}` : `failure:${answer.error.code}`,
    store: (result) => ({ typename: "Text", data: { result } }),
    revive: (stored: StoredResult) => (stored.typename === "Text" ? String(stored.data.result) : undefined),
  };
  return { req, calls, log };
}

const failing = (what: string) => async (): Promise<never> => {
  throw new ProtectionStoreError("idempotency", new Error(`${what} down`));
};

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
    expect(second.log.text()).toContain("otp send throttled");
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
      expect(again.log.text()).toContain("idempotent replay");
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
      expect(await guard.run(second.req)).toEqual({ kind: "in-flight" });
      expect(second.log.text()).toContain("idempotency key in flight");
      finish("late");
      expect(await running).toEqual({ kind: "sent", result: expect.stringMatching(/^late@17500000(59|60)[0-9]{3}$/) });
      expect([...first.calls, ...second.calls]).toEqual([true]);
    });

    it("a stored result that cannot be revived is treated as a store failure: unavailable, nothing sent", async () => {
      const { guard, events } = setup();
      await guard.run(request({ key: "k-1" }).req);
      const again = request({ key: "k-1" });
      again.req.revive = () => undefined;
      expect(await guard.run(again.req)).toEqual({ kind: "unavailable" });
      expect(again.calls).toEqual([]);
      expect(events.unavailable).toEqual(["generateCibilOtp"]);
    });
  });

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

    it("a bug (not an upstream failure) is thrown, and the key is freed for a retry", async () => {
      const { guard } = setup();
      const bug = request({ key: "k-1", answer: async () => Promise.reject(new TypeError("bug")) });
      await expect(guard.run(bug.req)).rejects.toThrow("bug");
      // Cooldown spent (we cannot tell what was sent), but the key is free: the retry is throttled, not in-flight.
      expect((await guard.run(request({ key: "k-1" }).req)).kind).toBe("throttled");
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

  describe("fail closed when the shared store is unreachable", () => {
    it("at the idempotency claim: unavailable, the observer told, nothing sent", async () => {
      const idempotency = new MemoryIdempotencyStore(sealer);
      idempotency.begin = failing("begin");
      const { guard, events } = setup({ idempotency });
      const { req, calls, log } = request({ key: "k-1" });
      expect(await guard.run(req)).toEqual({ kind: "unavailable" });
      expect(calls).toEqual([]);
      expect(events.unavailable).toEqual(["generateCibilOtp"]);
      expect(log.text()).toContain("otp send refused: protection store unavailable");
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
      expect(line).toMatchObject({ level: "info", otpSend: { field: "generateCibilOtp", refused: "memory store full" } });
      expect(log.text()).not.toContain("protection store unavailable");
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
    });
    const before = Date.now();
    const outcome = (await guard.run(request().req)) as { kind: "sent"; result: string };
    expect(Number(outcome.result.split("@")[1])).toBeGreaterThanOrEqual(before + 60_000);
    expect(await guard.run(request().req)).toMatchObject({ kind: "throttled" });
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every level, keeps array order, drops undefined, and writes scalars as JSON", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null }, e: undefined })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson("x")).toBe('"x"');
    expect(canonicalJson(undefined)).toBe("null");
  });
});
