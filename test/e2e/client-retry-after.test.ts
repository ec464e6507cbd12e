import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { ResendAepsOtpDocument } from "../../client/src/generated/graphql";
import possibleTypesResult from "../../client/src/generated/possible-types";
import { createRequestMetaLink, requestMetaOf } from "../../client/src/react";
import { MAX_RETRY_AFTER_SECONDS, retryAfterSeconds } from "../../client/src/retry-after";
import { createSdk } from "../../client/src/sdk";
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * The clients read `Retry-After`: the SDK as `SdkResult.retryAfterSeconds`, the React link as
 * `requestMetaOf(...).retryAfterSeconds`. Against the real server with an in-flight cap of 1 (ADMISSION_MAX_IN_FLIGHT)
 * and an upstream that holds its answer, so the second request is refused as OVERLOADED with no timing involved.
 */
describe("clients and Retry-After: a 503 OVERLOADED from the real server", () => {
  let upstream: FakeUpstream;
  let t: TestStack;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    t = await startTestStack({
      ...upstreamEnv(upstream),
      ADMISSION_MAX_IN_FLIGHT: "1",
      ADMISSION_RETRY_AFTER_SECONDS: "7",
    });
  });
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
  });

  it("SDK: the refusal is a result with status 503, code OVERLOADED and retryAfterSeconds 7; a served call has null; nothing is repeated", async () => {
    const sdk = createSdk({ url: t.graphqlUrl });
    const hold = holdingUpstream(upstream);
    const admitted = sdk.resendAepsOtp(aepsInput("9876543210"));
    await until("the admitted send to reach the upstream", () => upstream.calls.length === 1);

    const refused = await sdk.resendAepsOtp(aepsInput("9876543211"));
    expect(refused.status).toBe(503);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe("OVERLOADED");
    expect(refused.retryAfterSeconds).toBe(7);
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);

    hold.release();
    const served = await admitted;
    expect(served.status).toBe(200);
    expect(served.data?.resendAepsOtp.__typename).toBe("AepsOtpResent");
    expect(served.retryAfterSeconds).toBeNull();
    // The refused call reached no upstream, and the SDK did not send it again on its own.
    expect(upstream.calls).toHaveLength(1);
  });

  it("React link: mutate() rejects with a ServerError whose requestMetaOf has retryAfterSeconds 7; a served result has null", async () => {
    upstream.calls.length = 0;
    const client = new ApolloClient({
      link: ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri: t.graphqlUrl })]),
      cache: new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes }),
    });
    const hold = holdingUpstream(upstream);
    const admitted = client.mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput("9876543212") });
    await until("the admitted send to reach the upstream", () => upstream.calls.length === 1);

    const failed: unknown = await client
      .mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput("9876543213") })
      .then(
        () => new Error("expected a rejection"),
        (error: unknown) => error,
      );
    expect(ServerError.is(failed)).toBe(true);
    expect(requestMetaOf(failed)).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayed: false,
      retryAfterSeconds: 7,
    });

    hold.release();
    const served = await admitted;
    expect(served.data?.resendAepsOtp.__typename).toBe("AepsOtpResent");
    expect(requestMetaOf(served).retryAfterSeconds).toBeNull();
    expect(upstream.calls).toHaveLength(1);
    client.stop();
  });
});

describe("retryAfterSeconds (RFC 9110 Retry-After)", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");

  it("reads delay-seconds as given, capped at a day", () => {
    expect(retryAfterSeconds("0", now)).toBe(0);
    expect(retryAfterSeconds("1", now)).toBe(1);
    expect(retryAfterSeconds(" 120 ", now)).toBe(120);
    expect(retryAfterSeconds("99999999999", now)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it("reads an HTTP-date as the whole seconds until it, 0 when past", () => {
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:30 GMT", now)).toBe(30);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds("Mon, 30 Nov 2026 10:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:00 GMT", now - 1)).toBe(1);
    expect(retryAfterSeconds("Sat, 01 Dec 2040 10:00:00 GMT", now)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it("is null without a header or for anything else", () => {
    for (const value of [undefined, null, "", "soon", "-3", "1.5", "1e3", "0x10", "2026-12-01"])
      expect(retryAfterSeconds(value, now)).toBeNull();
  });
});
