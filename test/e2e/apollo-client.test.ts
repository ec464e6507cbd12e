import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import {
  CibilCreditHistoryDocument,
  GenerateCibilOtpDocument,
  ResendAepsOtpDocument,
  ServiceInfoDocument,
  SubmitCibilOtpDocument,
} from "../../client/src/generated/graphql";
import possibleTypesResult from "../../client/src/generated/possible-types";
import { prerenderStatic } from "@apollo/client/react/ssr";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { typePolicies } from "../../client/src";
import {
  createRequestMetaLink,
  fieldProblems,
  requestMetaOf,
  useCibilCreditHistoryQuery,
  useGenerateCibilOtpMutation,
  useSubmitCibilOtpMutation,
  withHookDefaults,
} from "../../client/src/react";
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

  // The generated hooks default to `fetchPolicy: "no-cache"` for every operation with variables (client/src/bind.ts):
  // with Apollo's cache-first the report stayed under `cibilCreditHistory({"cibilId":"..."})` and the answer choices
  // under `CibilAnswerChoice:<AOPay's id>`. Run here with exactly the options the hooks pass (withHookDefaults).
  it("the hooks' defaults leave no CIBIL id, answer choice or credit report in the cache", async () => {
    const walk = async (
      cache: InMemoryCache,
      override: { mutations?: { fetchPolicy: "network-only" }; query?: { fetchPolicy: "cache-first" } },
    ) => {
      const apollo = new ApolloClient({ link: new HttpLink({ uri: t.graphqlUrl }), cache });
      const ids = cibilInput("102277143").input;
      const sent = await apollo.mutate(
        withHookDefaults(useGenerateCibilOtpMutation.defaultOptions, {
          mutation: GenerateCibilOtpDocument,
          variables: { input: ids },
          ...override.mutations,
        }),
      );
      const challenge = sent.data?.generateCibilOtp;
      if (challenge?.__typename !== "CibilOtpChallenge") throw new Error(`no challenge: ${challenge?.__typename}`);
      const answer = { otp: "123456", questionKey: challenge.question?.key ?? "", answerKey: "USER_TO_INPUT_ANSWER" };
      await apollo.mutate(
        withHookDefaults(useSubmitCibilOtpMutation.defaultOptions, {
          mutation: SubmitCibilOtpDocument,
          variables: { input: { ...ids, ...answer } },
          ...override.mutations,
        }),
      );
      const read = await apollo.query(
        withHookDefaults(useCibilCreditHistoryQuery.defaultOptions, {
          query: CibilCreditHistoryDocument,
          variables: { cibilId: ids.cibilId },
          ...override.query,
        }),
      );
      expect(read.data?.cibilCreditHistory).toMatchObject({ __typename: "CibilCreditHistory", cibilId: ids.cibilId });
      apollo.stop();
      const state = cache.extract();
      return { cached: JSON.stringify(state), rootFields: Object.keys(state.ROOT_QUERY ?? {}), cibilId: ids.cibilId };
    };
    expect(useCibilCreditHistoryQuery.defaultOptions).toEqual({ fetchPolicy: "no-cache" });
    const plainCache = () => new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes });

    const safe = await walk(plainCache(), {});
    expect(safe.cached).not.toContain(safe.cibilId);
    expect(safe.cached).not.toMatch(/report|CibilAnswerChoice|cibilCreditHistory/);

    // The same walk with the caller's own fetchPolicy (Apollo's defaults): what the hooks did before.
    const cached = await walk(plainCache(), { query: { fetchPolicy: "cache-first" } });
    expect(cached.rootFields).toContain(`cibilCreditHistory({"cibilId":"${cached.cibilId}"})`);
    expect(cached.cached).toContain('"report"');
    const written = await walk(plainCache(), { mutations: { fetchPolicy: "network-only" } });
    expect(written.cached).toMatch(/"CibilAnswerChoice:[^"]+"/);
    // typePolicies keeps a mutation's answer choices inside its result, dropped with it (ROOT_MUTATION's fields).
    const kept = await walk(new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes, typePolicies }), {
      mutations: { fetchPolicy: "network-only" },
    });
    expect(kept.cached).not.toMatch(/CibilAnswerChoice/);
    expect(kept.cached).not.toContain(kept.cibilId);
  });

  // React rendering without a browser: Apollo's prerenderStatic renders the tree with react-dom/server and runs the
  // generated hook's queries, so the hook itself (not only its options) runs. Apollo does not run a `no-cache` query
  // while prerendering: the report stays out of the HTML and of the cache state an SSR app serialises into it, and
  // the browser fetches it. With cache-first (the hook's default before) it was sent and landed in both.
  it("useCibilCreditHistoryQuery, server-rendered, leaves the report out of the cache and the HTML", async () => {
    const ids = cibilInput("102277144").input;
    const sent = await client.mutate({
      mutation: GenerateCibilOtpDocument,
      variables: { input: ids },
      fetchPolicy: "no-cache",
    });
    const challenge = sent.data?.generateCibilOtp;
    if (challenge?.__typename !== "CibilOtpChallenge") throw new Error(`no challenge: ${challenge?.__typename}`);
    const answer = { otp: "123456", questionKey: challenge.question?.key ?? "", answerKey: "USER_TO_INPUT_ANSWER" };
    await client.mutate({
      mutation: SubmitCibilOtpDocument,
      variables: { input: { ...ids, ...answer } },
      fetchPolicy: "no-cache",
    });
    const render = async (options: { fetchPolicy?: "cache-first" }) => {
      const answered: string[] = [];
      const cache = new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes, typePolicies });
      const seen = new ApolloLink((operation, forward) => {
        answered.push(JSON.stringify(operation.variables));
        return forward(operation);
      });
      const apollo = new ApolloClient({ link: ApolloLink.from([seen, new HttpLink({ uri: t.graphqlUrl })]), cache });
      function Report() {
        const { data } = useCibilCreditHistoryQuery({ variables: { cibilId: ids.cibilId }, ...options });
        const history = data?.cibilCreditHistory;
        return createElement("p", null, history?.__typename === "CibilCreditHistory" ? history.cibilId : "loading");
      }
      const { result } = await prerenderStatic({
        tree: createElement(Report),
        context: { client: apollo },
        renderFunction: renderToString,
      });
      apollo.stop();
      return { html: result, answered, cached: JSON.stringify(cache.extract()) };
    };
    const safe = await render({});
    expect(safe.answered).toEqual([]);
    expect(safe.html).toBe("<p>loading</p>");
    expect(safe.cached).not.toContain(ids.cibilId);
    // What the hook did before (Apollo's cache-first): the report rendered into the HTML and kept in the cache.
    const cached = await render({ fetchPolicy: "cache-first" });
    expect(cached.answered).toEqual([JSON.stringify({ cibilId: ids.cibilId })]);
    expect(cached.html).toBe(`<p>${ids.cibilId}</p>`);
    expect(cached.cached).toContain('"report"');
  });

  it("ServiceInfo query", async () => {
    const { data } = await client.query({ query: ServiceInfoDocument });
    expect(data?.serviceInfo.upstream).toBe("SIMULATOR");
  });
});
