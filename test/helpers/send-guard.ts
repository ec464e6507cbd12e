import { redeemSendPass, type SendPass } from "../../src/aopay/send-pass";
import { createLogger } from "../../src/logging/logger";
import { ProtectionStoreError } from "../../src/protection/errors";
import { MemoryIdempotencyStore, type StoredResult } from "../../src/protection/idempotency-store";
import { KeyHasher } from "../../src/protection/key-hasher";
import type { RequestObserver } from "../../src/protection/observer";
import { OtpThrottle, type ThrottlePurpose } from "../../src/protection/otp-throttle";
import { type Answer, SendGuard, type SendGuardOptions, type SendRequest } from "../../src/protection/send-guard";
import { LogCapture } from "./log-capture";
import { deriveStoreKey, StoreSealer } from "../../src/protection/store-sealer";
import { StoreFailureLines } from "../../src/protection/store-failure";
import { throttleConfig } from "./throttle";

/**
 * Shared by the send guard's unit tests (test/unit/protection/send-guard*.test.ts), which walk the write path's every
 * branch on the in-memory stores (the Redis ones are proven against the same contract in
 * test/integration/redis-stores.test.ts). The "upstream call" is a function that records its calls: the guard's only
 * business with AOPay is to call it at most once, with a live pass.
 */

export const hasher = new KeyHasher(Buffer.from("k".repeat(32)));
export const sealer = new StoreSealer([deriveStoreKey(Buffer.from("s".repeat(32)))]);
export const NOW = 1_750_000_000_000;
export const d = { endpoint: "cibil.generateOtp" };
/**
 * "ok", and the next send possible one cooldown (60 s) after NOW: the throttle reads its own clock for the time left,
 * so it can say a millisecond less than 60 s.
 */
export const AFTER_COOLDOWN = expect.stringMatching(/^ok@17500000(59|60)[0-9]{3}$/);

interface Events {
  throttled: string[];
  replayed: string[];
  unavailable: string[];
  refused: string[];
  unrecorded: string[];
}

export function setup(overrides: Partial<SendGuardOptions> = {}) {
  const events: Events = { throttled: [], replayed: [], unavailable: [], refused: [], unrecorded: [] };
  const observe: RequestObserver = {
    throttled: (field, code, scope) => events.throttled.push(`${field}:${code}:${scope}`),
    replayed: (field) => events.replayed.push(field),
    protectionUnavailable: (field) => events.unavailable.push(field),
    refused: (field, code) => events.refused.push(`${field}:${code}`),
    unrecorded: (field) => events.unrecorded.push(field),
  };
  const idempotency = new MemoryIdempotencyStore(sealer);
  const throttle = new OtpThrottle(throttleConfig(), hasher, null);
  // The process's log: the store-failure lines' summaries (a request's own lines are in its `request().log`).
  const processLog = new LogCapture();
  const storeLines = new StoreFailureLines(createLogger({ level: "debug", destination: processLog }));
  const guard = new SendGuard({
    throttle,
    idempotency,
    hasher,
    observe,
    clock: () => NOW,
    idempotencyTtlMs: 60_000,
    pendingTtlMs: 60_000,
    longestRequestMs: 10_000,
    storeLines,
    ...overrides,
  });
  return { guard, events, idempotency, throttle, storeLines, processLog };
}

/** One request; `answer` is what the upstream call does (default: answers "ok"). */
export function request(
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

export const failing = (what: string) => async (): Promise<never> => {
  throw new ProtectionStoreError("idempotency", new Error(`${what} down`));
};
