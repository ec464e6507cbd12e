import { payloadWithRequestId } from "../../../src/http/exchange";
import type { AccessSummary } from "../../../src/logging/access-log";

/**
 * payloadWithRequestId names Apollo's refusals before its pipeline on the access line (`refused`, counted in
 * http_requests_refused_total). An answer Apollo decided after its pipeline ran (the summary names the operation: it
 * may have run, a mutation's OTP sent) is no refusal: before, Apollo's 406 after a sent OTP was rewritten
 * `refused: "refused by Apollo (406)"`, operation null, and counted.
 */
describe("payloadWithRequestId", () => {
  const apollo406 = JSON.stringify({
    errors: [{ message: "An 'accept' header ...", extensions: { code: "BAD_REQUEST" } }],
  });

  it("an answer after GraphQL's pipeline ran keeps what the operation did, and is not called refused", () => {
    const graphql: AccessSummary = { operation: "ResendAepsOtp", result: "AepsOtpResent" };
    const exchange = { id: "req-1", graphql };
    const payload = payloadWithRequestId(406, apollo406, exchange);
    expect(exchange.graphql).toEqual({ operation: "ResendAepsOtp", result: "AepsOtpResent" });
    expect(JSON.parse(payload).errors[0].extensions.requestId).toBe("req-1");
  });

  it("Apollo's refusals before its pipeline: no summary, or a context built and nothing noted", () => {
    const none = { id: "req-2", graphql: null as AccessSummary | null };
    payloadWithRequestId(400, JSON.stringify({ errors: [{ message: "batching" }] }), none);
    expect(none.graphql).toEqual({ operation: null, result: "BAD_REQUEST", refused: "batched request" });
    const built = { id: "req-3", graphql: { operation: null, result: null } as AccessSummary };
    payloadWithRequestId(400, JSON.stringify({ errors: [{ message: "POST body missing" }] }), built);
    expect(built.graphql).toEqual({ operation: null, result: "BAD_REQUEST", refused: "refused by Apollo (400)" });
  });
});
