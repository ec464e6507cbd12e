import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { DEFAULT_THROTTLE, startTestStack, type TestStack } from "../helpers/stack";

/**
 * A step of the wall clock under a running server with the in-memory stores (no REDIS_URL), through HTTP on loopback
 * and the simulator: Date.now is replaced by the real one plus `step` before the server is made (its stores took their
 * clock when made), then stepped between two requests. test/unit/util/clock-steps.test.ts holds each store, the breaker
 * and the deadlines to the same; with Redis the windows and TTLs are Redis's own.
 */
const HOUR = 3_600_000;
let step = 0;
const realNow = Date.now.bind(Date);

describe("a wall-clock step under a running server (in-memory stores)", () => {
  let t: TestStack | undefined;
  beforeEach(() => {
    step = 0;
    jest.spyOn(Date, "now").mockImplementation(() => realNow() + step);
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    jest.restoreAllMocks();
  });
  const send = async (stack: TestStack, headers: Record<string, string> = {}) =>
    resultOf((await stack.gql(GENERATE_CIBIL_OTP, cibilInput("700000071"), headers)).body, "generateCibilOtp");

  it("a step forward of an hour: the second send inside the 60 s cooldown is still refused; AOPay saw one", async () => {
    t = await startTestStack(DEFAULT_THROTTLE);
    expect((await send(t)).__typename).toBe("CibilOtpChallenge");
    step = HOUR;
    const second = await send(t);
    expect(second).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(t.simulator?.calls()).toBe(1);
  });

  it("a step back of an hour: the refusal says the cooldown's 60 s, not 3,660", async () => {
    t = await startTestStack(DEFAULT_THROTTLE);
    expect((await send(t)).__typename).toBe("CibilOtpChallenge");
    step = -HOUR;
    const second = await send(t);
    expect(second).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    // 60, or 59 if a second passed between the two requests.
    expect(second.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("a step forward of 25 h: a repeat of an Idempotency-Key replays its result, nothing is sent again", async () => {
    t = await startTestStack();
    const headers = { "idempotency-key": "clock-step-0001" };
    const first = await send(t, headers);
    expect(first.__typename).toBe("CibilOtpChallenge");
    step = 25 * HOUR;
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput("700000071"), headers);
    expect(res.headers["idempotent-replayed"]).toBe("true");
    expect(resultOf(res.body, "generateCibilOtp")).toEqual(first);
    expect(t.simulator?.calls()).toBe(1);
  });
});
