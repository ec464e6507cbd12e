import { fixtureJson } from "../helpers/fixtures";
import { type FakeUpstream, json, raw, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { stackPerTest, type TestStack } from "../helpers/stack";

/**
 * A retry hint is the real time until a retry is taken: a client that waits exactly `retryAfterSeconds` is let
 * through, one that comes back a second sooner is refused. Through the server, against a scripted AOPay.
 */
const RESET_MS = 2_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("retry hints: the real time until a retry is taken", () => {
  const stacks = stackPerTest(() => ({}));
  let upstream: FakeUpstream;
  beforeEach(async () => {
    upstream = await startFakeUpstream(raw(503, "text/plain", "down", { "retry-after": "1" }));
  });
  afterEach(() => upstream.close());

  const send = async (t: TestStack, cibilId: string) =>
    resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId))).body, "generateCibilOtp");

  it("the 503 that opens the circuit says the circuit's time, not AOPay's Retry-After: 1 s before it refused, at it sent", async () => {
    const t = await stacks.start({
      ...upstreamEnv(upstream),
      BREAKER_VOLUME_THRESHOLD: "3",
      BREAKER_RESET_MS: String(RESET_MS),
    });
    // The circuit closed: AOPay's own wait (it may take the next call after it).
    for (let i = 0; i < 2; i++)
      expect(await send(t, `15000000${i}`)).toMatchObject({
        __typename: "UpstreamUnavailable",
        retryAfterSeconds: 1,
      });
    // The third opens the circuit for RESET_MS: told AOPay's 1 s before, and refused CIRCUIT_OPEN after it.
    const opening = await send(t, "150000002");
    const toldAt = Date.now();
    expect(opening).toMatchObject({
      __typename: "UpstreamUnavailable",
      retryable: true,
      retryAfterSeconds: Math.ceil(RESET_MS / 1000),
    });
    upstream.respond(json(200, fixtureJson("cibil/generate-otp.success")));
    const hintMs = (opening.retryAfterSeconds as number) * 1000;
    await sleep(toldAt + hintMs - 1_000 - Date.now());
    expect(await send(t, "150000003")).toMatchObject({ __typename: "UpstreamUnavailable", retryAfterSeconds: 1 });
    expect(upstream.calls).toHaveLength(3);
    await sleep(toldAt + hintMs - Date.now());
    expect((await send(t, "150000004")).__typename).toBe("CibilOtpChallenge");
    expect(upstream.calls).toHaveLength(4);
  }, 15_000);
});
