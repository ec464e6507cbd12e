import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { GenerateCibilOtpDocument, ResendAepsOtpDocument } from "../../client/src/generated/graphql";
import { trustedDocumentIds } from "../../client/src/generated/trusted-documents";
import { createRequestMetaLink, createTrustedDocumentLink, possibleTypes } from "../../client/src/react";
import { createSdk } from "../../client/src/sdk";
import { GenerateCibilOtpOperation, ServiceInfoOperation } from "../../client/src/generated/sdk";
import { aepsInput, cibilInput, VALID_AADHAAR } from "../helpers/operations";
import {
  type ProductionTestStack,
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  type TestStack,
} from "../helpers/stack";

/** Every document of a released client package (schema/releases/trusted-documents-v*.json), with its version. */
function releasedDocuments(): Array<{ version: string; id: string; name: string; body: string }> {
  const dir = join(__dirname, "../../schema/releases");
  return readdirSync(dir)
    .filter((f) => /^trusted-documents-v[\d.]+\.json$/.test(f))
    .flatMap((file) =>
      (
        JSON.parse(readFileSync(join(dir, file), "utf8")) as {
          operations: Array<{ id: string; name: string; body: string }>;
        }
      ).operations.map((op) => ({ version: file.slice("trusted-documents-v".length, -".json".length), ...op })),
    );
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.statusCode,
    body: (await res.body.json()) as {
      data?: Record<string, unknown> | null;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    },
  };
}

describe("trusted documents, TRUSTED_DOCUMENTS=enforce (docs/security-requirements.md A11)", () => {
  let t: ProductionTestStack;
  const auth = { "x-api-key": TEST_API_KEY };
  beforeAll(async () => {
    t = await startProductionStack({ TRUSTED_DOCUMENTS: "enforce" });
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator.resetCalls());

  it.each([
    ["the smallest document", "{ __typename }"],
    // Valid against the schema, but a selection of its own: not one of client/operations.
    [
      "a valid OTP send that is not on the list",
      "mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) { generateCibilOtp(input: $input) { __typename } }",
    ],
    ["a trusted text with one extra space", ` ${GenerateCibilOtpOperation.query}`],
  ])("refuses %s with 400 UNTRUSTED_DOCUMENT before it runs", async (_name, query) => {
    const res = await post(t.graphqlUrl, { query, variables: cibilInput() }, auth);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("UNTRUSTED_DOCUMENT");
    expect(res.body.data ?? null).toBeNull();
    expect(t.simulator.calls()).toBe(0);
  });

  it("refuses an unknown id, and a GET, the same way", async () => {
    const unknown = await post(t.graphqlUrl, byId(sha256("{ __typename }")), auth);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("UNTRUSTED_DOCUMENT");
    const get = await request(`${t.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, { headers: auth });
    expect(get.statusCode).toBe(400);
    expect(
      ((await get.body.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code,
    ).toBe("UNTRUSTED_DOCUMENT");
  });

  it("runs a trusted document sent in full (the SDK), with __typename on every object", async () => {
    const sdk = createSdk({ url: t.graphqlUrl, apiKey: TEST_API_KEY });
    const { data } = await sdk.generateCibilOtp(cibilInput());
    expect(data?.generateCibilOtp).toMatchObject({
      __typename: "CibilOtpChallenge",
      question: { __typename: "CibilOtpQuestion" },
    });
    expect(t.simulator.calls()).toBe(1);
  });

  it("runs a trusted document sent by id only (POST, and GET for a query)", async () => {
    const res = await post(
      t.graphqlUrl,
      { ...byId(trustedDocumentIds.GenerateCibilOtp), variables: cibilInput() },
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.body.data?.generateCibilOtp).toMatchObject({ __typename: "CibilOtpChallenge" });
    const extensions = encodeURIComponent(JSON.stringify(byId(trustedDocumentIds.ServiceInfo).extensions));
    // Apollo's CSRF prevention asks a GET to show it is not a simple request.
    const get = await request(`${t.graphqlUrl}?extensions=${extensions}`, {
      headers: { ...auth, "apollo-require-preflight": "true" },
    });
    expect(get.statusCode).toBe(200);
    expect(await get.body.json()).toEqual({ data: { serviceInfo: { __typename: "ServiceInfo", upstream: "LIVE" } } });
  });

  // An app built with a released client package keeps sending that package's texts and ids after the operations
  // change (RegistrationRefused.retryAfterSeconds added to FailureFields changed five of them): the server is deployed
  // first (docs/security.md "Trusted documents"), so it must still run them.
  it("still runs every released client package's documents, in full and by id", async () => {
    const released = releasedDocuments();
    expect(released.map((d) => d.name)).toEqual(expect.arrayContaining(["GenerateCibilOtp", "RegisterCibilCustomer"]));
    // At least one released text differs from today's, or this would test nothing beyond the current list.
    expect(released.some((d) => d.id !== trustedDocumentIds[d.name as keyof typeof trustedDocumentIds])).toBe(true);
    for (const { version, name, id, body } of released) {
      const fields = { operationName: name, variables: name === "ServiceInfo" ? {} : { cibilId: "102277100" } };
      for (const [how, sent] of [
        ["in full", { query: body, ...fields }],
        ["by id", { ...byId(id), ...fields }],
      ] as const) {
        const res = await post(t.graphqlUrl, sent, auth);
        // Refused as untrusted (400 UNTRUSTED_DOCUMENT) is the failure; the variables fit only some operations, so
        // the others get a variables error from GraphQL, which runs only after the document was admitted.
        const code = String(res.body.errors?.[0]?.extensions?.code ?? "");
        const refused = ["UNTRUSTED_DOCUMENT", "PERSISTED_QUERY_NOT_FOUND"].includes(code);
        expect({ version, name, how, refused }).toEqual({ version, name, how, refused: false });
      }
    }
    // A released GenerateCibilOtp, by id, sends the OTP as it did.
    const generate = released.find((d) => d.name === "GenerateCibilOtp")!;
    const res = await post(t.graphqlUrl, { ...byId(generate.id), variables: cibilInput() }, auth);
    expect(res.body.data?.generateCibilOtp).toMatchObject({ __typename: "CibilOtpChallenge" });
  });

  it("refuses a trusted text sent with another document's id, and registers nothing", async () => {
    const mismatch = await post(
      t.graphqlUrl,
      { query: ServiceInfoOperation.query, ...byId(trustedDocumentIds.GenerateCibilOtp) },
      auth,
    );
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors?.[0]).toMatchObject({
      message: "provided sha does not match query",
      extensions: { code: "BAD_REQUEST" },
    });
    // An APQ registration of an untrusted document is refused, and its id stays unknown afterwards.
    const query = "{ serviceInfo { upstream } }";
    expect((await post(t.graphqlUrl, { query, ...byId(sha256(query)) }, auth)).status).toBe(400);
    expect((await post(t.graphqlUrl, byId(sha256(query)), auth)).body.errors?.[0]?.extensions?.code).toBe(
      "UNTRUSTED_DOCUMENT",
    );
  });

  it("never logs a refused document (it may carry an Aadhaar number as a literal)", async () => {
    const query = `mutation { resendAepsOtp(input: { userKey: "AOP554N3XXXX", mobile: "9876543210", aadhaar: "${VALID_AADHAAR}", primaryKeyId: "T", encodeTxnId: "D" }) { __typename } }`;
    const res = await post(
      t.graphqlUrl,
      { query },
      { ...auth, "x-request-id": "d4f5b6c7-3e4a-4b5c-9d6e-7f8a9b0c1d2e" },
    );
    expect(res.status).toBe(400);
    const lines = t.logs.records().filter((r) => r.callerRequestId === "d4f5b6c7-3e4a-4b5c-9d6e-7f8a9b0c1d2e");
    // One line, the access line, which says why.
    expect(lines).toEqual([
      expect.objectContaining({
        msg: "request completed",
        status: 400,
        result: "UNTRUSTED_DOCUMENT",
        refused: "untrusted document (sent as text)",
      }),
    ]);
    expect(t.logs.text()).not.toContain(VALID_AADHAAR);
    expect(t.logs.text()).not.toContain("9876543210");
  });

  it("serves Apollo Client 4 through createTrustedDocumentLink: ids only, typed results, no cache complaints", async () => {
    const sent: unknown[] = [];
    // Apollo Client reports a result that lacks a field its (transformed) document asked for, e.g. a __typename.
    const complaints = [
      jest.spyOn(console, "error").mockImplementation(() => undefined),
      jest.spyOn(console, "warn").mockImplementation(() => undefined),
    ];
    const client = new ApolloClient({
      link: ApolloLink.from([
        createRequestMetaLink(),
        createTrustedDocumentLink(),
        new HttpLink({
          uri: t.graphqlUrl,
          headers: auth,
          fetch: async (input, init) => {
            sent.push(JSON.parse(String(init?.body)));
            return fetch(input, init);
          },
        }),
      ]),
      cache: new InMemoryCache({ possibleTypes }),
    });
    try {
      const cibil = await client.mutate({ mutation: GenerateCibilOtpDocument, variables: cibilInput() });
      expect(cibil.data?.generateCibilOtp).toMatchObject({ __typename: "CibilOtpChallenge" });
      const aeps = await client.mutate({ mutation: ResendAepsOtpDocument, variables: aepsInput() });
      expect(aeps.data?.resendAepsOtp).toMatchObject({ __typename: "AepsOtpResent", maskedAadhaar: "XXXX XXXX 2346" });
      const sentAs = (id: string) =>
        expect.objectContaining({ extensions: expect.objectContaining(byId(id).extensions) });
      expect(sent).toEqual([sentAs(trustedDocumentIds.GenerateCibilOtp), sentAs(trustedDocumentIds.ResendAepsOtp)]);
      expect(sent.every((body) => !("query" in (body as object)))).toBe(true);
      expect(t.simulator.calls()).toBe(2);
      expect(complaints.flatMap((spy) => spy.mock.calls)).toEqual([]);
    } finally {
      client.stop();
      for (const spy of complaints) spy.mockRestore();
    }
  });
});

describe("trusted documents, TRUSTED_DOCUMENTS=off (the default)", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(() => t?.stop());

  it("runs any document within the limits, and the trusted ones by id too", async () => {
    expect((await post(t.graphqlUrl, { query: "{ __typename }" })).body).toEqual({ data: { __typename: "Query" } });
    const res = await post(t.graphqlUrl, { ...byId(trustedDocumentIds.GenerateCibilOtp), variables: cibilInput() });
    expect(res.body.data?.generateCibilOtp).toMatchObject({ __typename: "CibilOtpChallenge" });
  });

  it("keeps Apollo's APQ for other documents: unknown id, then registration, then by id", async () => {
    const query = "{ serviceInfo { upstream } }";
    const first = await post(t.graphqlUrl, byId(sha256(query)));
    expect(first.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect((await post(t.graphqlUrl, { query, ...byId(sha256(query)) })).body.data).toEqual({
      serviceInfo: { upstream: "SIMULATOR" },
    });
    expect((await post(t.graphqlUrl, byId(sha256(query)))).body.data).toEqual({
      serviceInfo: { upstream: "SIMULATOR" },
    });
  });
});
