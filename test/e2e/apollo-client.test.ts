import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import {
  CibilCreditHistoryDocument,
  GenerateCibilOtpDocument,
  ResendAepsOtpDocument,
  ServiceInfoDocument,
  SubmitCibilOtpDocument,
} from "../../client/src/generated/graphql";
import possibleTypesResult from "../../client/src/generated/possible-types";
import { createRequestMetaLink, fieldProblems, requestMetaOf } from "../../client/src/react";
import { aepsInput, cibilInput } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

/** The generated documents, run by a real Apollo Client 4 against the running server (no React needed). */
describe("generated client documents with Apollo Client 4", () => {
  let t: TestStack;
  let client: ApolloClient;

  beforeAll(async () => {
    t = await startTestStack();
    client = new ApolloClient({
      link: new HttpLink({ uri: t.graphqlUrl }),
      cache: new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes }),
    });
  });
  afterAll(async () => {
    client?.stop();
    await t?.stop();
  });

  it("GenerateCibilOtp returns a typed challenge", async () => {
    const { data } = await client.mutate({ mutation: GenerateCibilOtpDocument, variables: cibilInput() });
    const result = data?.generateCibilOtp;
    expect(result?.__typename).toBe("CibilOtpChallenge");
    if (result?.__typename === "CibilOtpChallenge") {
      expect(result.question?.resendEligible).toBe(true);
      expect(result.nextStep).toBe("VERIFY_ANSWERS");
    }
  });

  it("GenerateCibilOtp failures arrive through the shared FailureFields fragment", async () => {
    const { data } = await client.mutate({ mutation: GenerateCibilOtpDocument, variables: cibilInput("102277503") });
    const result = data?.generateCibilOtp;
    expect(result).toMatchObject({
      __typename: "UpstreamUnavailable",
      code: "UPSTREAM_UNAVAILABLE",
      retryable: true,
      retryAfterSeconds: 30,
    });
  });

  it("ResendAepsOtp returns masked identifiers", async () => {
    const { data } = await client.mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput() });
    expect(data?.resendAepsOtp).toMatchObject({
      __typename: "AepsOtpResent",
      maskedAadhaar: "XXXX XXXX 2346",
      maskedMobile: "XXXXXX3210",
    });
  });

  it("a validation error rejects with the server's BAD_USER_INPUT", async () => {
    await expect(
      client.mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput("5876543210") }),
    ).rejects.toMatchObject({
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) })],
    });
  });

  it("createRequestMetaLink surfaces x-request-id and Idempotent-Replayed; requestMetaOf reads them", async () => {
    const withMeta = new ApolloClient({
      link: ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri: t.graphqlUrl })]),
      cache: new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes }),
    });
    const context = { headers: { "Idempotency-Key": "apollo-meta-test-0001" } };
    const first = await withMeta.mutate({
      mutation: GenerateCibilOtpDocument,
      variables: cibilInput("102277112"),
      context,
    });
    const second = await withMeta.mutate({
      mutation: GenerateCibilOtpDocument,
      variables: cibilInput("102277112"),
      context,
    });
    expect(requestMetaOf(first)).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayed: false,
      retryAfterSeconds: null,
    });
    expect(requestMetaOf(second)).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayed: true,
      retryAfterSeconds: null,
    });
    expect(requestMetaOf(second).requestId).not.toBe(requestMetaOf(first).requestId);

    const failed: unknown = await withMeta
      .mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput("5876543210") })
      .catch((e: unknown) => e);
    expect(requestMetaOf(failed).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fieldProblems((failed as { errors?: [] }).errors)).toEqual({ "input.mobile": expect.any(String) });
    withMeta.stop();
  });

  // Over a plain HttpLink (no createTrustedDocumentLink, as TRUSTED_DOCUMENTS=off allows) Apollo sends its own print
  // of each document, with `__typename` added to every selection set: SubmitCibilOtp cost 1,101, over the default
  // GRAPHQL_MAX_COST of 1,000, and was refused (GRAPHQL_VALIDATION_FAILED "Query Cost limit of 1000 exceeded"): the
  // CIBIL flow could not be completed with it (test/unit/graphql/limits.test.ts checks every document so printed).
  it("walks the CIBIL flow to the credit report: SubmitCibilOtp and CibilCreditHistory as Apollo prints them", async () => {
    const ids = cibilInput("102277141").input;
    const sent = await client.mutate({ mutation: GenerateCibilOtpDocument, variables: { input: ids } });
    const challenge = sent.data?.generateCibilOtp;
    if (challenge?.__typename !== "CibilOtpChallenge") throw new Error(`no challenge: ${challenge?.__typename}`);
    const answer = { otp: "123456", questionKey: challenge.question?.key ?? "", answerKey: "USER_TO_INPUT_ANSWER" };
    const submitted = await client.mutate({
      mutation: SubmitCibilOtpDocument,
      variables: { input: { ...ids, ...answer } },
      fetchPolicy: "no-cache",
    });
    const verified = submitted.data?.submitCibilOtp;
    expect(verified?.__typename).toBe("CibilOtpVerified");
    if (verified?.__typename !== "CibilOtpVerified") return;
    expect(verified.creditHistory).toMatchObject({ __typename: "CibilCreditHistory", report: { simulated: true } });
    const read = await client.query({
      query: CibilCreditHistoryDocument,
      variables: { cibilId: ids.cibilId },
      fetchPolicy: "no-cache",
    });
    expect(read.data?.cibilCreditHistory).toMatchObject({ __typename: "CibilCreditHistory", cibilId: ids.cibilId });
  });

  it("ServiceInfo query", async () => {
    const { data } = await client.query({ query: ServiceInfoDocument });
    expect(data?.serviceInfo.upstream).toBe("SIMULATOR");
  });
});
