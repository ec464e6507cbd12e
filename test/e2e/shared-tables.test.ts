import { randomUUID } from "node:crypto";
import { hashApiKey } from "../../src/auth/authenticator";
import { nextCibilId, nextMobile, nextPan, type RegistrationInput, registrationInput } from "../helpers/identifiers";
import { cibilInput, GENERATE_CIBIL_OTP, REGISTER_CIBIL_CUSTOMER, resultOf, type Result } from "../helpers/operations";
import { deletePrefixes, storeBackends } from "../helpers/redis";
import { type ProductionTestStack, startProductionStack, TEST_API_KEY, TEST_API_KEYS_ENTRY } from "../helpers/stack";

/**
 * Tables every client shares must not be fillable by one client at no cost (docs/security.md "Other tables keyed by
 * what a request sends"): registrations have budgets of their own per client and per IP (REGISTER_*), and one client
 * holds at most its share of the in-memory idempotency table (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT). The server on
 * loopback in production mode, the simulator as AOPay counting what reaches it; Redis (REDIS_URL) under a key prefix
 * of its own.
 */
const HMAC_SECRET = "s".repeat(32);
const OTHER_KEY = "aopk_test_other_0123456789abcdefghijklmnopqrstuvwxyz";
const A = { "x-api-key": TEST_API_KEY };
const B = { "x-api-key": OTHER_KEY };
const TWO_CLIENTS = `${TEST_API_KEYS_ENTRY},other-client:${hashApiKey(OTHER_KEY)}`;

const register = async (
  t: ProductionTestStack,
  headers: Record<string, string>,
  input: Partial<RegistrationInput> = {},
): Promise<Result> =>
  resultOf(
    (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput(input) }, headers)).body,
    "registerCibilCustomer",
  );
const metricsPage = async (t: ProductionTestStack): Promise<string> =>
  (await fetch(t.stack.app.metricsUrl as string)).text();
const registrations = (t: ProductionTestStack) => t.received.filter((w) => w.endpoint === "cibil.register").length;

describe.each(storeBackends(HMAC_SECRET))("registration budgets (%s)", (_name, skip, backendEnv) => {
  const maybe = skip === null ? it : it.skip;
  let t: ProductionTestStack | undefined;
  let prefix: string | undefined;
  const start = async (env: Record<string, string>) => {
    const backend = backendEnv();
    prefix = backend.REDIS_KEY_PREFIX;
    t = await startProductionStack({ ...backend, HMAC_SECRET, API_KEYS: TWO_CLIENTS, ...env });
    return t;
  };
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    if (prefix) await deletePrefixes([prefix]);
  });

  maybe("a client registering fast is refused RATE_LIMITED (nothing sent) while another client registers", async () => {
    const s = await start({ REGISTER_CLIENT_MAX: "3", REGISTER_CLIENT_WINDOW_SECONDS: "600", REGISTER_IP_MAX: "100" });
    for (let i = 0; i < 3; i++) expect((await register(s, A)).__typename).toBe("CibilCustomerRegistered");
    const refused = await register(s, A);
    expect(refused).toMatchObject({ __typename: "RegistrationRefused", code: "RATE_LIMITED", retryable: true });
    expect(refused.retryAfterSeconds).toBeGreaterThan(500);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
    // Counted before AOPay is called: the refused one never reached it.
    expect(registrations(s)).toBe(3);
    // The other client's budget is its own.
    expect((await register(s, B)).__typename).toBe("CibilCustomerRegistered");
    expect(registrations(s)).toBe(4);
    // On the metrics page, with the budget's scope, next to the series at 0 for the IP's.
    const page = await metricsPage(s);
    expect(page).toMatch(
      /aopay_otp_throttled_total\{operation="registerCibilCustomer",code="RATE_LIMITED",scope="CLIENT"\} 1\b/,
    );
    expect(page).toMatch(
      /aopay_otp_throttled_total\{operation="registerCibilCustomer",code="RATE_LIMITED",scope="IP"\} 0\b/,
    );
  });

  maybe("one address registering fast is refused RATE_LIMITED; another address of the same client is not", async () => {
    const s = await start({ REGISTER_IP_MAX: "2", REGISTER_CLIENT_MAX: "100", TRUSTED_PROXIES: "127.0.0.1" });
    const from = (ip: string) => ({ ...A, "x-forwarded-for": ip });
    for (let i = 0; i < 2; i++)
      expect((await register(s, from("203.0.113.7"))).__typename).toBe("CibilCustomerRegistered");
    // Another client from the same address shares the address's budget.
    expect(await register(s, { ...B, "x-forwarded-for": "203.0.113.7" })).toMatchObject({
      __typename: "RegistrationRefused",
      code: "RATE_LIMITED",
    });
    expect((await register(s, from("198.51.100.9"))).__typename).toBe("CibilCustomerRegistered");
    expect(registrations(s)).toBe(3);
  });

  // A registration's points pay for the store work before AOPay (the PAN's link and its CIBIL id's record read and
  // opened, a mobile added, a write in Redis): given back when that work refused, or when the call never left, it
  // cost the client nothing, as often as it liked (docs/security.md "How OTP sends are counted").
  maybe(
    "a registration refused before AOPay (MOBILE_LIMIT_REACHED) keeps its point: the budget still bounds them",
    async () => {
      const s = await start({
        REGISTER_CLIENT_MAX: "6",
        REGISTER_CLIENT_WINDOW_SECONDS: "600",
        REGISTER_IP_MAX: "100",
      });
      const pan = nextPan();
      for (let i = 0; i < 4; i++) expect((await register(s, A, { pan })).__typename).toBe("CibilCustomerRegistered");
      const fifth = nextMobile();
      const codes: unknown[] = [];
      for (let i = 0; i < 5; i++) codes.push((await register(s, A, { pan, mobile: fifth })).code);
      expect(codes).toEqual(["MOBILE_LIMIT_REACHED", "MOBILE_LIMIT_REACHED", ...Array(3).fill("RATE_LIMITED")]);
      expect(registrations(s)).toBe(4);
    },
  );

  maybe(
    "a registration whose call never left (circuit open) keeps its point: the budget still bounds them",
    async () => {
      const s = await start({
        REGISTER_CLIENT_MAX: "5",
        REGISTER_CLIENT_WINDOW_SECONDS: "600",
        REGISTER_IP_MAX: "100",
        BREAKER_VOLUME_THRESHOLD: "2",
        BREAKER_ERROR_PERCENT: "50",
        BREAKER_RESET_MS: "600000",
      });
      // Mobiles ending in 503: the simulator answers 503 (src/simulator/scenarios.ts); two open the circuit.
      const unavailable = () => `${nextMobile().slice(0, 7)}503`;
      for (let i = 0; i < 2; i++) await register(s, A, { mobile: unavailable() });
      expect(registrations(s)).toBe(2);
      const answers: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await register(s, A);
        answers.push(r.__typename === "RegistrationRefused" ? r.code : r.__typename);
      }
      // Three more points (5 in all), each answered without a call; then refused by the budget.
      expect(answers).toEqual([...Array(3).fill("UpstreamUnavailable"), "RATE_LIMITED", "RATE_LIMITED"]);
      expect(registrations(s)).toBe(2);
    },
  );
});

describe("in-memory idempotency table shared by every client (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    // 4 records, half each at most: the default share.
    t = await startProductionStack({ API_KEYS: TWO_CLIENTS, MEMORY_IDEMPOTENCY_MAX_KEYS: "4" });
  });
  afterAll(() => t?.stop());

  it("one client sending a new key with every request does not make another client's keyed request PROTECTION_UNAVAILABLE", async () => {
    const keyed = (headers: Record<string, string>, key = randomUUID()) =>
      t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() }, { ...headers, "idempotency-key": key });
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = resultOf((await keyed(A)).body, "registerCibilCustomer");
      outcomes.push(r.__typename === "CibilCustomerRegistered" ? "sent" : (r.code as string));
    }
    // Its share (2 of 4), then refused, nothing sent.
    expect(outcomes).toEqual(["sent", "sent", ...Array(4).fill("PROTECTION_UNAVAILABLE")]);
    expect(registrations(t)).toBe(2);
    // The other client's keyed requests are served (its share is free), and replay.
    const key = randomUUID();
    const input = registrationInput();
    const first = await t.gql(REGISTER_CIBIL_CUSTOMER, { input }, { ...B, "idempotency-key": key });
    expect(resultOf(first.body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
    const again = await t.gql(REGISTER_CIBIL_CUSTOMER, { input }, { ...B, "idempotency-key": key });
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect((await keyed(B)).body.data).toMatchObject({
      registerCibilCustomer: { __typename: "CibilCustomerRegistered" },
    });
    expect(registrations(t)).toBe(4);
    // The client past its share still registers without a key.
    expect((await register(t, A)).__typename).toBe("CibilCustomerRegistered");
    // Warned about without naming the client (the refused requests' access lines do).
    const warned = t.logs.records().filter((r) => (r.memoryStore as { share?: boolean } | undefined)?.share);
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned[0])).not.toContain("test-client");
    // Counted as that client's limit, not as the store failing (which pages operators).
    const page = await metricsPage(t);
    expect(page).toMatch(/aopay_client_share_refusals_total\{table="idempotency"\} 4\b/);
    expect(page).toMatch(/aopay_protection_unavailable_total\{operation="registerCibilCustomer"\} 0\b/);
  });
});

describe("in-memory registered mobiles shared by every client (MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    // Three records per customer (its id's mobiles, its PAN's link, its token's): 4 customers in all, 2 per client at
    // the default share (half).
    t = await startProductionStack({ API_KEYS: TWO_CLIENTS, MEMORY_REGISTERED_MOBILE_MAX_KEYS: "12" });
  });
  afterAll(() => t?.stop());

  it("one client registering within its budgets does not fill the table for the others (90 days)", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await register(t, A);
      outcomes.push(r.__typename === "CibilCustomerRegistered" ? "sent" : (r.code as string));
    }
    expect(outcomes).toEqual(["sent", "sent", "PROTECTION_UNAVAILABLE", "PROTECTION_UNAVAILABLE"]);
    expect(registrations(t)).toBe(2);
    // The other client's registrations are served, and its mobiles recorded (their sends budgeted on them).
    for (let i = 0; i < 2; i++) expect((await register(t, B)).__typename).toBe("CibilCustomerRegistered");
    expect(registrations(t)).toBe(4);
    const warned = t.logs
      .records()
      .filter((r) => (r.memoryStore as { store?: string; share?: boolean } | undefined)?.share);
    expect(warned.map((r) => (r.memoryStore as { store: string }).store)).toEqual(["registered mobile"]);
    const page = await metricsPage(t);
    expect(page).toMatch(/aopay_client_share_refusals_total\{table="registered_mobile"\} 2\b/);
    expect(page).toMatch(/aopay_protection_unavailable_total\{operation="registerCibilCustomer"\} 0\b/);
  });
});

/**
 * The in-memory throttle: full, it refuses every send needing a new entry (fail closed: a live budget is never
 * evicted), so one client sending to new destinations filled it for every client. Redis has no such cap (maxmemory
 * bounds it: docs/security.md), so this runs in memory only.
 */
describe("in-memory throttle table shared by every client (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    // 20 entries, 10 per client at the default share (half).
    t = await startProductionStack({ API_KEYS: TWO_CLIENTS, MEMORY_THROTTLE_MAX_KEYS: "20" });
  });
  afterAll(() => t?.stop());

  const sendTo = async (headers: Record<string, string>, cibilId: string): Promise<string> => {
    const r = resultOf(
      (await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken: `token-${cibilId}` } }, headers)).body,
      "generateCibilOtp",
    );
    return r.__typename === "CibilOtpChallenge" ? "sent" : String(r.code ?? r.__typename);
  };
  const sends = () => t.received.filter((w) => w.endpoint === "cibil.generateOtp").length;

  it("one client sending OTPs to new destinations does not fill it for the others", async () => {
    // Each send to a new CIBIL id takes two entries (the id and its access token), the first also the IP's, the
    // client's and the global window: 5, 7, 9, then the fourth finds its client at its 10.
    const ids = Array.from({ length: 10 }, () => nextCibilId());
    const outcomes: string[] = [];
    for (const id of ids) outcomes.push(await sendTo(A, id));
    expect(outcomes).toEqual(["sent", "sent", "sent", ...Array(7).fill("PROTECTION_UNAVAILABLE")]);
    expect(sends()).toBe(3);
    // Its sends to destinations it already holds take no entry: still served.
    expect(await sendTo(A, ids[0])).toBe("sent");
    // The other client's sends to new destinations are served.
    for (let i = 0; i < 3; i++) expect(await sendTo(B, nextCibilId())).toBe("sent");
    expect(sends()).toBe(7);
    const warned = t.logs
      .records()
      .filter((r) => (r.memoryStore as { store?: string; share?: boolean } | undefined)?.share);
    expect(warned.map((r) => (r.memoryStore as { store: string }).store)).toEqual(["otp throttle"]);
    expect(JSON.stringify(warned)).not.toContain("test-client");
    const page = await metricsPage(t);
    expect(page).toMatch(/aopay_client_share_refusals_total\{table="throttle"\} 7\b/);
    expect(page).toMatch(/aopay_protection_unavailable_total\{operation="generateCibilOtp"\} 0\b/);
  });
});

describe("the in-memory idempotency table's bytes shared by every client (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    // The records far from full (10,000), the bytes at the least budget (64 KiB) with 16 KiB results: half each, 32
    // KiB, room for one pending record (about 23 kB) beside a few kept challenges.
    t = await startProductionStack({
      API_KEYS: TWO_CLIENTS,
      MEMORY_IDEMPOTENCY_MAX_KEYS: "10000",
      MEMORY_IDEMPOTENCY_MAX_BYTES: String(64 * 1024),
      IDEMPOTENCY_MAX_RESULT_BYTES: String(16 * 1024),
    });
  });
  afterAll(() => t?.stop());

  it("one client's keyed sends hold at most its share of the bytes; the other client's are still sent", async () => {
    const sends = () => t.received.filter((w) => w.endpoint === "cibil.generateOtp").length;
    const keyed = async (headers: Record<string, string>) => {
      const before = sends();
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(nextCibilId()), headers);
      const r = resultOf(res.body, "generateCibilOtp");
      // A refused key reaches no one.
      expect(sends() - before).toBe(r.__typename === "CibilOtpChallenge" ? 1 : 0);
      return r.__typename === "CibilOtpChallenge" ? "sent" : (r.code as string);
    };
    const a: string[] = [];
    for (let i = 0; i < 20; i++) a.push(await keyed({ ...A, "idempotency-key": randomUUID() }));
    const sent = a.filter((o) => o === "sent").length;
    // Its half (32 KiB) holds a pending record's room beside a few kept challenges. Without the share of the bytes,
    // all 20 were sent (the records' share is far away), and the table was then full for B too.
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(8);
    expect(a).toEqual([...Array(sent).fill("sent"), ...Array(20 - sent).fill("PROTECTION_UNAVAILABLE")]);
    // Counted by records alone (as before), A took the whole budget and B was refused as the table full.
    expect(await keyed({ ...B, "idempotency-key": randomUUID() })).toBe("sent");
    expect(await keyed({ ...B, "idempotency-key": randomUUID() })).toBe("sent");
    const page = await metricsPage(t);
    expect(page).toMatch(new RegExp(`aopay_client_share_refusals_total\\{table="idempotency"\\} ${20 - sent}\\b`));
    expect(page).toMatch(/aopay_protection_unavailable_total\{operation="generateCibilOtp"\} 0\b/);
  });
});
