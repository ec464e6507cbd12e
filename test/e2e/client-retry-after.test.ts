import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ResendAepsOtpDocument } from "../../client/src/generated/graphql";
import possibleTypesResult from "../../client/src/generated/possible-types";
import { createRequestMetaLink, errorCodeOf, requestMetaOf } from "../../client/src/react";
import { MAX_RETRY_AFTER_SECONDS, retryAfterSeconds } from "../../client/src/retry-after";
import { createSdk } from "../../client/src/sdk";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput } from "../helpers/operations";
import { stackOnFakeUpstream } from "../helpers/stack";

/**
 * The clients read `Retry-After`: the SDK as `SdkResult.retryAfterSeconds`, the React link as
 * `requestMetaOf(...).retryAfterSeconds`. Against the real server with an in-flight cap of 1 (ADMISSION_MAX_IN_FLIGHT)
 * and an upstream that holds its answer, so the second request is refused as OVERLOADED with no timing involved.
 */
describe("clients and Retry-After: a 503 OVERLOADED from the real server", () => {
  const { upstream, t } = stackOnFakeUpstream({
    env: { ADMISSION_MAX_IN_FLIGHT: "1", ADMISSION_RETRY_AFTER_SECONDS: "7" },
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

  it("React link: mutate() rejects with CombinedGraphQLErrors whose requestMetaOf has retryAfterSeconds 7 and errorCodeOf OVERLOADED; a served result has null", async () => {
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
    // GraphQL errors, not a ServerError's text: the refusal speaks application/graphql-response+json, which Apollo
    // Client asks for first (test/e2e/refusal-media-type.test.ts).
    expect(CombinedGraphQLErrors.is(failed)).toBe(true);
    expect(requestMetaOf(failed)).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayed: false,
      retryAfterSeconds: 7,
    });
    // The code the SDK gives as errors[0].extensions.code: OVERLOADED, not any 503 (SERVICE_UNAVAILABLE, a proxy's).
    expect(errorCodeOf(failed)).toBe("OVERLOADED");

    hold.release();
    const served = await admitted;
    expect(served.data?.resendAepsOtp.__typename).toBe("AepsOtpResent");
    expect(requestMetaOf(served).retryAfterSeconds).toBeNull();
    expect(upstream.calls).toHaveLength(1);
    client.stop();
  });
});

/**
 * A 503 whose `Retry-After` says to come back at once (0, or a date already past), as a proxy in front of the server
 * may send: both clients hand the app 1 s, never 0 (an app resending at once meets the same overload). A real HTTP
 * server on loopback answers every request that way, with this server's OVERLOADED body.
 */
describe("clients and a Retry-After of nothing, from a proxy in front", () => {
  let proxy: Server;
  let url: string;
  let retryAfter = "0";
  let requests = 0;

  beforeAll(async () => {
    proxy = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(503, { "content-type": "application/json", "retry-after": retryAfter });
      res.end(JSON.stringify({ errors: [{ message: "busy", extensions: { code: "OVERLOADED" } }] }));
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it.each(["0", "Mon, 30 Nov 2026 10:00:00 GMT"])("Retry-After %p: the SDK's retryAfterSeconds is 1", async (value) => {
    retryAfter = value;
    const before = requests;
    const refused = await createSdk({ url }).resendAepsOtp(aepsInput("9876543214"));
    expect(refused.status).toBe(503);
    expect(refused.errors?.[0]?.extensions?.code).toBe("OVERLOADED");
    expect(refused.retryAfterSeconds).toBe(1);
    expect(requests - before).toBe(1);
  });

  it.each(["0", "Mon, 30 Nov 2026 10:00:00 GMT"])(
    "Retry-After %p: the React link's retryAfterSeconds is 1",
    async (value) => {
      retryAfter = value;
      const before = requests;
      const client = new ApolloClient({
        link: ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri: url })]),
        cache: new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes }),
      });
      const failed: unknown = await client
        .mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput("9876543215") })
        .then(
          () => new Error("expected a rejection"),
          (error: unknown) => error,
        );
      expect(ServerError.is(failed)).toBe(true);
      expect(requestMetaOf(failed).retryAfterSeconds).toBe(1);
      expect(requests - before).toBe(1);
      client.stop();
    },
  );
});

describe("retryAfterSeconds (RFC 9110 Retry-After)", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");

  it("reads delay-seconds as given, at least 1 s and at most a day", () => {
    // 0 is read as 1: an app following a wait of nothing resends at once into the overload that refused it.
    expect(retryAfterSeconds("0", now)).toBe(1);
    expect(retryAfterSeconds("000", now)).toBe(1);
    expect(retryAfterSeconds("1", now)).toBe(1);
    expect(retryAfterSeconds(" 120 ", now)).toBe(120);
    expect(retryAfterSeconds("99999999999", now)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it("reads an HTTP-date as the whole seconds until it, 1 when now or past", () => {
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:30 GMT", now)).toBe(30);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:00 GMT", now)).toBe(1);
    expect(retryAfterSeconds("Mon, 30 Nov 2026 10:00:00 GMT", now)).toBe(1);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:02 GMT", now - 1)).toBe(3);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:00:00 GMT", now - 1)).toBe(1);
    expect(retryAfterSeconds("Sat, 01 Dec 2040 10:00:00 GMT", now)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it("is null without a header or for anything else", () => {
    for (const value of [undefined, null, "", "soon", "-3", "1.5", "1e3", "0x10", "2026-12-01"])
      expect(retryAfterSeconds(value, now)).toBeNull();
  });
});
