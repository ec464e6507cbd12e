import { request } from "undici";
import { cibilInput, GENERATE_CIBIL_OTP, withoutRequestIds } from "../helpers/operations";
import {
  postGraphQL,
  type ProductionTestStack,
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  type TestStack,
} from "../helpers/stack";

const BODY_SHAPE = 'send a JSON object such as {"query": "{ serviceInfo { upstream } }", "variables": {}}.';

describe("HTTP surface (development)", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ NODE_ENV: "development", CORS_ORIGINS: "https://app.example" });
  });
  afterAll(() => t?.stop());

  it("/healthz and /readyz answer while the server serves", async () => {
    const health = await request(`${t.baseUrl}/healthz`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: "ok" });
    const ready = await request(`${t.baseUrl}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toMatchObject({ status: "ready" });
  });

  /**
   * One id, one request: a caller's x-request-id was adopted, so two requests (or another caller's request, with an
   * id seen in a support ticket) could share one id, and a search for it found both.
   */
  it("gives every request an id of its own, and logs a caller's UUID beside it as callerRequestId", async () => {
    const id = "0190a4b2-7c3e-7d41-9a2b-5e6f7a8b9c0d";
    const first = await t.gql("{ nope }", undefined, { "x-request-id": id });
    const second = await t.gql("{ serviceInfo { upstream } }", undefined, { "x-request-id": id.toUpperCase() });
    const ids = [first, second].map((res) => res.headers["x-request-id"] as string);
    expect(ids[0]).not.toBe(ids[1]);
    for (const used of ids) {
      expect(used).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(used).not.toBe(id);
      const lines = t.logs.records().filter((r) => r.requestId === used);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.callerRequestId).toBe(id);
    }
    expect(first.body.errors?.[0]?.extensions?.requestId).toBe(ids[0]);
    // The caller's id is logged, never sent back.
    expect(first.text).not.toContain(id);
    expect(t.logs.records().filter((r) => r.requestId === id)).toEqual([]);
  });

  it.each([
    "bad id with spaces",
    "req-abc.123",
    "234123412346",
    "23456789-1234-4abc-8def-abcdefabcdef",
    // A number spelled across the dashes (a mobile; an Aadhaar number written XXXX-XXXX-XXXX): both were logged.
    "abcdef12-3456-4abc-9876-543210abcdef",
    "ABCDEF12-3456-4234-8123-4123ABCDEF12",
  ])(
    "logs no callerRequestId for x-request-id %j (not a UUID, digits, or a UUID the scrubber would rewrite)",
    async (given) => {
      const res = await t.gql("{ serviceInfo { upstream } }", undefined, { "x-request-id": given });
      const used = res.headers["x-request-id"] as string;
      expect(used).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const lines = t.logs.records().filter((r) => r.requestId === used);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).not.toHaveProperty("callerRequestId");
      expect(t.logs.raw()).not.toContain("XXXX XXXX 1234-");
      expect(t.logs.raw().toLowerCase()).not.toContain(given.toLowerCase());
    },
  );

  it("tells a developer it is talking to the simulator", async () => {
    const res = await t.gql("{ serviceInfo { upstream } }");
    expect(res.body.data).toEqual({ serviceInfo: { upstream: "SIMULATOR" } });
  });

  it("serves the Apollo Sandbox landing page to browsers in development", async () => {
    const res = await request(t.graphqlUrl, { headers: { accept: "text/html" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(await res.body.text()).toContain("embeddable-sandbox");
  });

  it("allows listed CORS origins and no others", async () => {
    const preflight = (origin: string) =>
      request(t.graphqlUrl, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    const ok = await preflight("https://app.example");
    expect(ok.headers["access-control-allow-origin"]).toBe("https://app.example");
    await ok.body.dump();
    const evil = await preflight("https://evil.example");
    expect(evil.headers["access-control-allow-origin"]).toBeUndefined();
    await evil.body.dump();
  });

  describe("requests that never reach a resolver (upstream sees no call)", () => {
    beforeEach(() => t.simulator?.resetCalls());
    afterEach(() => expect(t.simulator?.calls()).toBe(0));

    it("blocks a simple-request POST as CSRF (text/plain)", async () => {
      const res = await request(t.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ query: GENERATE_CIBIL_OTP, variables: cibilInput() }),
      });
      expect(res.statusCode).toBe(400);
      expect(await res.body.text()).toContain("Cross-Site Request Forgery");
    });

    it("rejects a form-encoded POST", async () => {
      const res = await request(t.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "query=mutation",
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      await res.body.dump();
    });

    it("refuses mutations over GET (405)", async () => {
      const q = encodeURIComponent(
        'mutation { generateCibilOtp(input: {cibilId: "1", accessToken: "abcd"}) { __typename } }',
      );
      const res = await request(`${t.graphqlUrl}?query=${q}`, { headers: { "apollo-require-preflight": "1" } });
      expect(res.statusCode).toBe(405);
      await res.body.dump();
    });

    it("refuses JSON-array batching", async () => {
      const one = { query: GENERATE_CIBIL_OTP, variables: cibilInput() };
      const res = await postGraphQL(t.graphqlUrl, [one, one]);
      expect(res.status).toBe(400);
      expect(res.text).toContain("batching");
    });

    it("refuses a body over the limit", async () => {
      const res = await postGraphQL(t.graphqlUrl, { query: `{ serviceInfo { upstream } } # ${"x".repeat(64 * 1024)}` });
      expect(res.status).toBe(413);
      expect(res.body.errors?.[0]?.message).toBe("Request body is too large.");
    });

    it("answers invalid JSON with a GraphQL-shaped 400", async () => {
      const res = await postGraphQL(t.graphqlUrl, '{"query": ');
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]).toMatchObject({
        message: `Request body is not valid JSON: ${BODY_SHAPE}`,
        extensions: { code: "BAD_REQUEST" },
      });
    });

    it("does not repeat the URL of an unknown route", async () => {
      const res = await request(`${t.baseUrl}/nope?aadhaar=999941057058`);
      expect(res.statusCode).toBe(404);
      const text = await res.body.text();
      expect(text).not.toContain("999941057058");
      expect(text).not.toContain("nope");
      expect(t.logs.text()).not.toContain("999941057058");
    });
  });

  it("masks unexpected errors (nothing internal reaches the client) and logs them with the request id", async () => {
    const original = t.stack.app.aopay.cibil.generateOtp;
    t.stack.app.aopay.cibil.generateOtp = async () => {
      throw new Error("boom at 10.1.2.3:443 with RegistrationID SIM-REG-0001");
    };
    try {
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput());
      const id = res.headers["x-request-id"] as string;
      expect(res.body.errors?.[0]).toMatchObject({
        message: "Unexpected error.",
        extensions: { code: "INTERNAL_SERVER_ERROR", requestId: id },
      });
      expect(res.text).not.toMatch(/boom|10\.1\.2\.3|SIM-REG|stacktrace/);
      const line = t.logs.records().find((r) => r.requestId === id && r.level === "error");
      expect(line?.msg).toBe("unexpected error (masked for the client)");
      expect(JSON.stringify(line)).not.toContain("SIM-REG-0001");
    } finally {
      t.stack.app.aopay.cibil.generateOtp = original;
    }
  });
});

describe("HTTP surface (production)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack();
  });
  afterAll(async () => {
    await t?.stop();
  });
  const auth = { "x-api-key": TEST_API_KEY };

  it("serves no landing page", async () => {
    const res = await request(t.graphqlUrl, { headers: { accept: "text/html", ...auth } });
    const text = await res.body.text();
    // Authenticated (not a 401) and routed (not a 404): without a landing page, an Accept that takes only text/html
    // is refused before GraphQL (406, in JSON: http/graphql-route.ts notAcceptable). Before, Apollo answered this GET
    // without a query 400, and one with a query 406 after running it.
    expect(res.statusCode).toBe(406);
    expect(res.headers["content-type"]).toContain("application/json");
    expect(text).not.toContain("embeddable-sandbox");
    expect(text).not.toContain("<html");
  });

  it.each(["{ __schema { types { name } } }", '{ __type(name: "Mutation") { fields { name } } }'])(
    "rejects introspection: %s",
    async (query) => {
      const res = await t.gql(query, undefined, auth);
      expect(res.body.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
      expect(res.body.data ?? null).toBeNull();
    },
  );

  it("gives no field suggestions", async () => {
    const res = await t.gql("mutation { generateCibilOt }", undefined, auth);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(res.text).not.toMatch(/Did you mean/);
    expect(withoutRequestIds(res.text)).not.toContain("generateCibilOtp");
  });

  it("still serves the mutations", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), auth);
    expect((res.body.data as { generateCibilOtp: { __typename: string } }).generateCibilOtp.__typename).toBe(
      "CibilOtpChallenge",
    );
  });

  it("allows no cross-origin browser access by default", async () => {
    const res = await request(t.graphqlUrl, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
    });
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    await res.body.dump();
  });
});
