import { blackHole, type FakeUpstream, json, raw, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { describeUnless, storeBackends } from "../helpers/redis";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * A half-open circuit's one probe is an OTP send, through the server with the real budgets, in memory and in Redis: the
 * probe may reach AOPay, so what it costs stays spent whatever comes back (held past its deadline here:
 * OUTCOME_UNKNOWN, its Idempotency-Key replayed, its destination in its cooldown), while the sends the open circuit
 * (and the probe already out) refuse never left, so theirs are given back: each destination sends as soon as the
 * circuit closes. AOPay sees each destination once. The client-level rules are test/integration/resilience.test.ts's;
 * test/e2e/operations.test.ts has the circuit open and close through the server, with no budget looked at.
 */
const RESET_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeBackends("circuit-probe-secret-0123456789abcdef"))("%s", (_name, skip, backendEnv) => {
  describeUnless(skip, "a half-open circuit's probe is an OTP send", () => {
    const stack = stackPerTest(backendEnv);
    let upstream: FakeUpstream;
    beforeEach(async () => {
      upstream = await startFakeUpstream(raw(503, "text/plain", "down"));
    });
    afterEach(async () => {
      await upstream.close();
    });

    const send = async (t: TestStack, cibilId: string, headers: Record<string, string> = {}) =>
      resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId), headers)).body, "generateCibilOtp");

    it("its cost is kept (OUTCOME_UNKNOWN); the sends it and the open circuit refused get theirs back", async () => {
      const t = await stack.start({
        ...DEFAULT_THROTTLE,
        ...upstreamEnv(upstream),
        BREAKER_VOLUME_THRESHOLD: "3",
        BREAKER_RESET_MS: String(RESET_MS),
        AOPAY_DEADLINE_MS: "700",
      });
      // Three 503s (they may have been carried out: their cost stays) open the circuit.
      for (let i = 0; i < 3; i++) expect((await send(t, `14000000${i}`)).__typename).toBe("UpstreamUnavailable");
      expect(upstream.calls).toHaveLength(3);
      // Open: refused before anything is written.
      expect(await send(t, "140000050")).toMatchObject({ __typename: "UpstreamUnavailable", retryable: true });
      expect(upstream.calls).toHaveLength(3);

      await sleep(RESET_MS + 100);
      upstream.respond(blackHole);
      // Half-open: the probe is this send, held by AOPay past its deadline.
      const probe = t.gql(GENERATE_CIBIL_OTP, cibilInput("140000060"), { "idempotency-key": "circuit-probe" });
      const until = Date.now() + 5_000;
      while (upstream.calls.length < 4 && Date.now() < until) await sleep(10);
      expect(upstream.calls).toHaveLength(4);
      // Another customer's send while the probe is out: refused, never written.
      expect(await send(t, "140000070")).toMatchObject({ __typename: "UpstreamUnavailable", retryable: true });
      expect(upstream.calls).toHaveLength(4);
      expect(resultOf((await probe).body, "generateCibilOtp")).toMatchObject({
        __typename: "OutcomeUnknown",
        code: "OUTCOME_UNKNOWN",
      });
      // Its key: the same answer again, nothing sent.
      const replay = await t.gql(GENERATE_CIBIL_OTP, cibilInput("140000060"), { "idempotency-key": "circuit-probe" });
      expect(replay.headers["idempotent-replayed"]).toBe("true");
      expect(resultOf(replay.body, "generateCibilOtp").__typename).toBe("OutcomeUnknown");

      // The failed probe opened the circuit again; its next probe finds AOPay answering and closes it.
      await sleep(RESET_MS + 100);
      upstream.respond(json(200, fixtureJson("cibil/generate-otp.success")));
      // Refused by the open circuit and by the probe being out: their budgets were given back, so no cooldown.
      expect((await send(t, "140000070")).__typename).toBe("CibilOtpChallenge");
      expect((await send(t, "140000050")).__typename).toBe("CibilOtpChallenge");
      // The probe may have sent its OTP: its destination is in its cooldown (a new key does not change that).
      expect(await send(t, "140000060", { "idempotency-key": "circuit-probe-2" })).toMatchObject({
        __typename: "OtpThrottled",
        code: "OTP_COOLDOWN",
      });
      expect(upstream.calls.map((call) => (JSON.parse(call.body) as { cibil_id: number }).cibil_id)).toEqual([
        140000000, 140000001, 140000002, 140000060, 140000070, 140000050,
      ]);
    }, 20_000);
  });
});
