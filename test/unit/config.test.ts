import {
  ConfigError,
  DEFAULT_DEADLINE_MS,
  loadConfig,
  rawDebugSwitches,
  SETTINGS_GROUPS,
  SIMULATOR_REGISTRATION_ID,
  upstreamOf,
} from "../../src/config";

const problemsOf = (env: Record<string, string>, execArgv: string[] = []): string[] => {
  try {
    loadConfig(env, { execArgv });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

/** What production needs besides AOPay settings. */
const SECURE = { HMAC_SECRET: "x".repeat(32), API_KEYS: `app:${"a".repeat(64)}` };

describe("loadConfig", () => {
  it("defaults to development with the simulator and the documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ env: "development", port: 4000, host: "127.0.0.1", logLevel: "info" });
    expect(c.aopay).toMatchObject({
      mode: "simulator",
      baseUrl: null,
      apiPrefix: "/api/AOP",
      registrationId: SIMULATOR_REGISTRATION_ID,
      aepsPipe: "bank6",
      aepsAccessModeType: "SITE",
      connectTimeoutMs: 3000,
      deadlineMs: DEFAULT_DEADLINE_MS,
    });
    expect(Object.isFrozen(c.aopay)).toBe(true);
  });

  it("refuses to start in production without AOPAY_BASE_URL, and says why", () => {
    expect(problemsOf({ NODE_ENV: "production" }).join("\n")).toMatch(
      /AOPAY_BASE_URL is required when NODE_ENV=production/,
    );
  });

  it("reads the event-loop delay over two samples at least (ADMISSION_SAMPLE_INTERVAL_MS)", () => {
    // Sampled every 50 ms (src/http/admission.settings.ts): an interval with no sample would read as no delay.
    expect(problemsOf({ ADMISSION_SAMPLE_INTERVAL_MS: "99" }).join("\n")).toMatch(/ADMISSION_SAMPLE_INTERVAL_MS/);
    expect(problemsOf({ ADMISSION_SAMPLE_INTERVAL_MS: "100" })).toEqual([]);
  });

  it("never tells a refused client to send again at once (ADMISSION_RETRY_AFTER_SECONDS at least 1)", () => {
    // `Retry-After: 0` on an OVERLOADED or draining 503 sends every refused client straight back into the overload.
    expect(problemsOf({ ADMISSION_RETRY_AFTER_SECONDS: "0" }).join("\n")).toMatch(/ADMISSION_RETRY_AFTER_SECONDS/);
    expect(problemsOf({ ADMISSION_RETRY_AFTER_SECONDS: "1" })).toEqual([]);
    expect(loadConfig({}).admission.retryAfterSeconds).toBe(1);
  });

  it("keeps half the admission places from any one client, unless only one client can be admitted at all", () => {
    const share = (env: Record<string, string>) => loadConfig(env).admission.maxInFlightPerClient;
    const a = `app:${"a".repeat(64)}`;
    const b = `web:${"b".repeat(64)}`;
    // Development: requests without credentials count by IP, so there are as many clients as addresses.
    expect(share({})).toBe(192);
    expect(share({ API_KEYS: a })).toBe(192);
    // Credentials required: two clients, or bearer tokens (any number of clients), keep the share.
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: `${a},${b}` })).toBe(192);
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: a, AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json" })).toBe(192);
    // One client only (its two keys during a rotation are still one client): no one to keep places for.
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: a })).toBe(0);
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: `${a},app:${"c".repeat(64)}` })).toBe(0);
    // Set explicitly, it is what it says; and it follows the cap.
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: a, ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: "10" })).toBe(10);
    expect(share({ ADMISSION_MAX_IN_FLIGHT: "9" })).toBe(5);
  });

  it("keeps half the in-memory throttle table from any one client, unless only one client can be admitted at all", () => {
    const share = (env: Record<string, string>) => loadConfig(env).memoryLimits.throttleClientSharePercent;
    const a = `app:${"a".repeat(64)}`;
    const b = `web:${"b".repeat(64)}`;
    expect(share({})).toBe(50);
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: `${a},${b}` })).toBe(50);
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: a, AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json" })).toBe(50);
    // One client only: the table is its own.
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: a })).toBe(100);
    expect(share({ AUTH_REQUIRED: "true", API_KEYS: a, MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: "30" })).toBe(30);
    expect(problemsOf({ MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: "0" }).join("\n")).toMatch(
      /MEMORY_THROTTLE_CLIENT_SHARE_PERCENT/,
    );
  });

  it("the idempotency and registered-mobile tables follow the same rule: all of it for the only client admitted", () => {
    const shares = (env: Record<string, string>) => {
      const { idempotencyClientSharePercent, registeredMobileClientSharePercent } = loadConfig(env).memoryLimits;
      return [idempotencyClientSharePercent, registeredMobileClientSharePercent];
    };
    const a = `app:${"a".repeat(64)}`;
    const b = `web:${"b".repeat(64)}`;
    expect(shares({})).toEqual([50, 50]);
    expect(shares({ AUTH_REQUIRED: "true", API_KEYS: `${a},${b}` })).toEqual([50, 50]);
    expect(shares({ AUTH_REQUIRED: "true", API_KEYS: a, AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json" })).toEqual([
      50, 50,
    ]);
    // One client only (two keys of one client included): the tables are its own, as the throttle's.
    expect(shares({ AUTH_REQUIRED: "true", API_KEYS: a })).toEqual([100, 100]);
    expect(shares({ AUTH_REQUIRED: "true", API_KEYS: `${a},app:${"c".repeat(64)}` })).toEqual([100, 100]);
    const set = { MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT: "30", MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT: "40" };
    expect(shares({ AUTH_REQUIRED: "true", API_KEYS: a, ...set })).toEqual([30, 40]);
    expect(shares(set)).toEqual([30, 40]);
    for (const name of Object.keys(set)) expect(problemsOf({ [name]: "0" }).join("\n")).toMatch(new RegExp(name));
  });

  it("refuses an in-memory idempotency byte budget below one record of the largest result kept", () => {
    // Every keyed request would be refused for good: a key is taken only with room for that record.
    expect(loadConfig({}).memoryLimits.idempotencyMaxBytes).toBe(128 * 1024 * 1024);
    const small = { MEMORY_IDEMPOTENCY_MAX_BYTES: String(64 * 1024), IDEMPOTENCY_MAX_RESULT_BYTES: String(64 * 1024) };
    expect(problemsOf(small)).toEqual([
      "MEMORY_IDEMPOTENCY_MAX_BYTES must be at least 88262 with IDEMPOTENCY_MAX_RESULT_BYTES=65536 (one record " +
        "holding the largest result kept, sealed)",
    ]);
    // With Redis the table is not used: no check.
    expect(problemsOf({ ...small, REDIS_URL: "redis://127.0.0.1:6379", HMAC_SECRET: "h".repeat(32) })).toEqual([]);
    expect(problemsOf({ ...small, IDEMPOTENCY_MAX_RESULT_BYTES: String(16 * 1024) })).toEqual([]);
  });

  it("requires partner credentials with a base URL", () => {
    expect(problemsOf({ AOPAY_BASE_URL: "https://api.aopay.co.in" })).toEqual([
      "AOPAY_REGISTRATION_ID is required when AOPAY_BASE_URL is set",
      "AOPAY_COMPANY_CODE is required when AOPAY_BASE_URL is set",
    ]);
  });

  it("accepts a live configuration", () => {
    const c = loadConfig({
      ...SECURE,
      NODE_ENV: "production",
      AOPAY_BASE_URL: "https://api.bos.center",
      AOPAY_API_PREFIX: "/api/BOS",
      AOPAY_REGISTRATION_ID: "BOS-554",
      AOPAY_COMPANY_CODE: "CMP1045",
    });
    expect(c.aopay).toMatchObject({ mode: "live", apiPrefix: "/api/BOS", registrationId: "BOS-554" });
    expect(c.aopay.baseUrl?.href).toBe("https://api.bos.center/");
    expect(c.corsOrigins).toEqual([]);
  });

  it("requires https in production (docs/security-requirements.md D5)", () => {
    const problems = problemsOf({
      ...SECURE,
      NODE_ENV: "production",
      AOPAY_BASE_URL: "http://api.aopay.co.in",
      AOPAY_REGISTRATION_ID: "AOP-554",
      AOPAY_COMPANY_CODE: "CMP1045",
    });
    expect(problems).toEqual([
      "AOPAY_BASE_URL must use https in production (plain http is allowed only to a loopback address)",
    ]);
    const loopback = {
      ...SECURE,
      NODE_ENV: "production",
      AOPAY_REGISTRATION_ID: "AOP-554",
      AOPAY_COMPANY_CODE: "CMP1045",
    };
    expect(loadConfig({ ...loopback, AOPAY_BASE_URL: "http://127.0.0.1:8443" }).aopay.mode).toBe("live");
  });

  it("collects every bad value in one error, never echoing credential values", () => {
    const problems = problemsOf({
      PORT: "eighty",
      AOPAY_DEADLINE_MS: "5",
      LOG_LEVEL: "loud",
      AOPAY_DEADLNE_MS: "100",
      CORS_ORIGINS: "https://ok.example,not a url",
      AOPAY_BASE_URL: "https://api.aopay.co.in",
      AOPAY_REGISTRATION_ID: "AOP 554 secret",
      AOPAY_COMPANY_CODE: "CMP1045",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "PORT must be a whole number (got a non-numeric value; write digits only, no unit)",
        "AOPAY_DEADLINE_MS must be between 100 and 120000 (got 5)",
        "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace",
        "Unknown setting AOPAY_DEADLNE_MS: did you mean AOPAY_DEADLINE_MS?",
        expect.stringContaining("CORS_ORIGINS entries must be exact origins"),
        "AOPAY_REGISTRATION_ID must be 1-64 characters of letters, digits, '.', '_' or '-'",
      ]),
    );
    expect(problems.join("\n")).not.toContain("AOP 554 secret");
  });

  it("caps the destination budgets' points at 100 (each destination keeps the times of that many sends), not the others", () => {
    expect(problemsOf({ OTP_WINDOW_MAX: "101", OTP_DAILY_MAX: "1000", OTP_IP_MAX: "1000000" })).toEqual([
      "OTP_WINDOW_MAX must be between 1 and 100 (got 101)",
      "OTP_DAILY_MAX must be between 1 and 100 (got 1000)",
    ]);
    expect(loadConfig({ OTP_WINDOW_MAX: "100", OTP_DAILY_MAX: "100" }).throttle.destinationDaily.points).toBe(100);
  });

  it("refuses a shutdown grace under 100 ms but 0: seconds written in milliseconds (30 is 30 ms)", () => {
    expect(problemsOf({ SHUTDOWN_GRACE_MS: "30" })).toEqual([
      "SHUTDOWN_GRACE_MS must be 0 (connections cut at once) or at least 100 (got 30): it is in milliseconds (30 s is 30000)",
    ]);
    expect(problemsOf({ SHUTDOWN_GRACE_MS: "99" })).toHaveLength(1);
    expect([0, 100, 30_000].map((ms) => loadConfig({ SHUTDOWN_GRACE_MS: String(ms) }).shutdownGraceMs)).toEqual([
      0, 100, 30_000,
    ]);
  });

  it("says what is wrong with a number: negative against its range, decimal as not whole, blanks ignored", () => {
    expect(
      problemsOf({
        SHUTDOWN_GRACE_MS: "-5",
        AOPAY_DEADLINE_MS: "1500.5",
        OTP_COOLDOWN_SECONDS: "60s",
        OTP_DAILY_MAX: "1e3",
      }),
    ).toEqual(
      expect.arrayContaining([
        "SHUTDOWN_GRACE_MS must be between 0 and 600000 (got -5)",
        "AOPAY_DEADLINE_MS must be a whole number (got 1500.5)",
        "OTP_COOLDOWN_SECONDS must be a whole number (got a non-numeric value; write digits only, no unit)",
        "OTP_DAILY_MAX must be a whole number (got a non-numeric value; write digits only, no unit)",
      ]),
    );
    const config = loadConfig({ AOPAY_DEADLINE_MS: " 2500 ", PORT: "-0" });
    expect(config.aopay.deadlineMs).toBe(2500);
    expect(Object.is(config.port, 0)).toBe(true);
  });

  it("requires the issuer and audience of JWTs in production (RFC 8725 3.8, 3.9), not in development", () => {
    const jwt = { AUTH_JWKS_URL: "https://login.example/jwks.json" };
    const live = { AOPAY_BASE_URL: "https://api.aopay.example", AOPAY_REGISTRATION_ID: "R", AOPAY_COMPANY_CODE: "C" };
    const problems = problemsOf({ NODE_ENV: "production", ...SECURE, ...live, ...jwt });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AUTH_JWT_ISSUER must be set in production/)]),
    );
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AUTH_JWT_AUDIENCE must be set in production/)]),
    );
    const both = { ...jwt, AUTH_JWT_ISSUER: "https://login.example/", AUTH_JWT_AUDIENCE: "aopay-graphql" };
    expect(problemsOf({ NODE_ENV: "production", ...SECURE, ...live, ...both })).toEqual([]);
    expect(problemsOf(jwt)).toEqual([]);
  });

  // One client id, one client (docs/security.md "Authentication"): budgets, idempotency records and consents belong to
  // the id. `anonymous` is the id of every request without credentials (development), so an API key named so shared
  // them with anyone; two names differing in case only are two clients, a rotation's new entry spelt `App` for `app`
  // among them (its client lost its records and consents, and got a second set of budgets). Both started before.
  it.each([
    ["an API key named anonymous", `anonymous:${"a".repeat(64)}`, /^API_KEYS names the client `anonymous`/],
    [
      "two names that differ in case only",
      `app:${"a".repeat(64)},App:${"b".repeat(64)}`,
      /^API_KEYS names one client in two spellings \(app, App\)/,
    ],
  ])("refuses API_KEYS with %s, in development too", (_what, entries, message) => {
    expect(problemsOf({ API_KEYS: entries })).toEqual([expect.stringMatching(message)]);
    expect(problemsOf({ NODE_ENV: "production", ...SECURE, API_KEYS: entries })).toEqual(
      expect.arrayContaining([expect.stringMatching(message)]),
    );
  });

  it("takes two entries of the same client id (a rotation)", () => {
    const config = loadConfig({ API_KEYS: `app:${"a".repeat(64)},app:${"b".repeat(64)},web:${"c".repeat(64)}` });
    expect([...config.auth.apiKeys.values()]).toEqual(["app", "app", "web"]);
  });

  it("reads AUTH_JWT_TYPES as normalised JWT types (RFC 7515 §4.1.9), at+jwt by default (RFC 9068 §4)", () => {
    const jwt = { AUTH_JWKS_URL: "https://login.example/jwks.json" };
    expect([...loadConfig(jwt).auth.jwt!.types]).toEqual(["at+jwt"]);
    expect([...loadConfig({ ...jwt, AUTH_JWT_TYPES: "," }).auth.jwt!.types]).toEqual(["at+jwt"]);
    expect([...loadConfig({ ...jwt, AUTH_JWT_TYPES: "application/AT+JWT, JWT" }).auth.jwt!.types]).toEqual([
      "at+jwt",
      "jwt",
    ]);
    const problems = problemsOf({ ...jwt, AUTH_JWT_TYPES: "at+jwt,secret value;" });
    expect(problems).toEqual([expect.stringMatching(/^AUTH_JWT_TYPES/)]);
    expect(problems.join()).not.toContain("secret value");
  });

  it("reads AUTH_JWT_ALGORITHMS: asymmetric JWS algorithms only, every one by default (RFC 8725 §3.1)", () => {
    const jwt = { AUTH_JWKS_URL: "https://login.example/jwks.json" };
    expect(loadConfig(jwt).auth.jwt!.algorithms).toEqual(expect.arrayContaining(["RS256", "PS256", "ES256", "EdDSA"]));
    expect(loadConfig(jwt).auth.jwt!.algorithms.some((a) => a.startsWith("HS"))).toBe(false);
    expect(loadConfig({ ...jwt, AUTH_JWT_ALGORITHMS: "," }).auth.jwt!.algorithms).toEqual(
      loadConfig(jwt).auth.jwt!.algorithms,
    );
    expect(loadConfig({ ...jwt, AUTH_JWT_ALGORITHMS: "RS256, ES256" }).auth.jwt!.algorithms).toEqual([
      "RS256",
      "ES256",
    ]);
    for (const refused of ["HS256", "none", "RS256,HS512", "rs256"]) {
      expect(problemsOf({ ...jwt, AUTH_JWT_ALGORITHMS: refused })).toEqual([
        expect.stringMatching(/^AUTH_JWT_ALGORITHMS.*asymmetric JWS algorithms/),
      ]);
    }
  });

  it("parses CORS_ORIGINS as an exact-origin list; empty means none", () => {
    expect(loadConfig({ CORS_ORIGINS: "https://a.example, http://localhost:3000" }).corsOrigins).toEqual([
      "https://a.example",
      "http://localhost:3000",
    ]);
    expect(loadConfig({ CORS_ORIGINS: "" }).corsOrigins).toEqual([]);
    expect(problemsOf({ CORS_ORIGINS: "https://a.example/path" })).toHaveLength(1);
  });

  it("reads every OTP budget's documented names (OTP_WINDOW_SECONDS was once read as OTP_WINDOW_WINDOW_SECONDS)", () => {
    const c = loadConfig({
      OTP_COOLDOWN_SECONDS: "7",
      OTP_WINDOW_MAX: "4",
      OTP_WINDOW_SECONDS: "20",
      OTP_DAILY_MAX: "9",
      OTP_PREFIX_MAX: "11",
      OTP_PREFIX_WINDOW_SECONDS: "21",
      OTP_IP_MAX: "12",
      OTP_IP_WINDOW_SECONDS: "22",
      OTP_CLIENT_MAX: "13",
      OTP_CLIENT_WINDOW_SECONDS: "23",
      OTP_GLOBAL_MAX: "14",
      OTP_GLOBAL_WINDOW_SECONDS: "24",
      OTP_VERIFY_MAX: "15",
      OTP_VERIFY_WINDOW_SECONDS: "25",
      OTP_VERIFY_IP_MAX: "16",
      OTP_VERIFY_IP_WINDOW_SECONDS: "26",
      OTP_VERIFY_CLIENT_MAX: "17",
      OTP_VERIFY_CLIENT_WINDOW_SECONDS: "27",
      REGISTER_IP_MAX: "18",
      REGISTER_IP_WINDOW_SECONDS: "28",
      REGISTER_CLIENT_MAX: "19",
      REGISTER_CLIENT_WINDOW_SECONDS: "29",
      READ_CIBIL_MAX: "30",
      READ_CIBIL_WINDOW_SECONDS: "31",
      READ_CLIENT_MAX: "32",
      READ_CLIENT_WINDOW_SECONDS: "33",
      READ_IP_MAX: "34",
      READ_IP_WINDOW_SECONDS: "35",
      OTP_LEGACY_DESTINATION_KEYS: "false",
    });
    expect(c.throttle).toEqual({
      cooldownSeconds: 7,
      destinationWindow: { points: 4, seconds: 20 },
      destinationDaily: { points: 9, seconds: 86_400 },
      mobilePrefix: { points: 11, seconds: 21 },
      ip: { points: 12, seconds: 22 },
      client: { points: 13, seconds: 23 },
      global: { points: 14, seconds: 24 },
      verify: { points: 15, seconds: 25 },
      verifyIp: { points: 16, seconds: 26 },
      verifyClient: { points: 17, seconds: 27 },
      registerIp: { points: 18, seconds: 28 },
      registerClient: { points: 19, seconds: 29 },
      readCibil: { points: 30, seconds: 31 },
      readClient: { points: 32, seconds: 33 },
      readIp: { points: 34, seconds: 35 },
      legacyDestinationKeys: false,
    });
    expect(loadConfig({}).throttle.legacyDestinationKeys).toBe(true);
    // The read budgets' defaults: 5 reads of a customer per 30 minutes (the consent window), 300 a minute per client.
    expect(loadConfig({}).throttle).toMatchObject({
      readCibil: { points: 5, seconds: 1800 },
      readClient: { points: 300, seconds: 60 },
      readIp: { points: 100, seconds: 60 },
    });
  });
});

// The ready line said `upstream: "live"` for a server pointed at `npm run simulator` (docs/simulator.md's command).
describe("upstreamOf: who the ready line says answers the calls to AOPay", () => {
  const standalone = {
    AOPAY_BASE_URL: "http://127.0.0.1:4010",
    AOPAY_REGISTRATION_ID: "SIM-REG-0001",
    AOPAY_COMPANY_CODE: "SIMCO01",
  };
  it.each([
    ["unset: the built-in simulator", {}, /^built-in simulator /],
    ["at the standalone simulator, with its credentials", standalone, /standalone simulator \(npm run simulator\)$/],
    ["elsewhere: AOPay, or a stand-in", { ...standalone, AOPAY_COMPANY_CODE: "CMP1045" }, /^AOPAY_BASE_URL: AOPay, or/],
    ["another registration id", { ...standalone, AOPAY_REGISTRATION_ID: "AOP-554" }, /^AOPAY_BASE_URL: AOPay, or/],
  ])("AOPAY_BASE_URL %s", (_name, env, said) => {
    const line = upstreamOf(loadConfig(env).aopay);
    expect(line).toMatch(said);
    // Never "live" for the simulator, and no credential's value.
    expect(line).not.toMatch(/live|SIM-REG|SIMCO|AOP-554|CMP1045/i);
  });
});

describe("OTEL_* (trace export)", () => {
  it("is off by default and with an endpoint alone turns on, with the SDK's defaults named", () => {
    expect(loadConfig({}).telemetry).toMatchObject({
      enabled: false,
      endpoint: null,
      sampler: "parentbased_always_on",
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4318" }).telemetry).toMatchObject({
      enabled: true,
      endpoint: "http://otel-collector:4318",
      defaultServiceName: "aopay-graphql",
    });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://c.example/v1/traces", OTEL_SDK_DISABLED: "true" })
        .telemetry.enabled,
    ).toBe(false);
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" }).telemetry.enabled,
    ).toBe(false);
  });

  it("stops the start on a misspelt name or a value the SDK would quietly ignore, never echoing headers", () => {
    const problems = problemsOf({
      OTEL_EXPORTER_OTLP_ENDPIONT: "http://c:4318",
      OTEL_EXPORTER_OTLP_ENDPOINT: "otel-collector:4318",
      OTEL_TRACES_SAMPLER: "traceidration",
      OTEL_TRACES_SAMPLER_ARG: "10%",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_METRICS_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=collector-secret-value",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "Unknown setting OTEL_EXPORTER_OTLP_ENDPIONT: did you mean OTEL_EXPORTER_OTLP_ENDPOINT?",
        expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/),
        expect.stringMatching(/^OTEL_TRACES_SAMPLER must be one of always_on, /),
        "OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, e.g. 0.1",
        "OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json",
        expect.stringMatching(/^OTEL_METRICS_EXPORTER must be none or unset: this server exports traces only/),
      ]),
    );
    expect(problems.join("\n")).not.toContain("collector-secret-value");
  });

  it("accepts a ratio sampler with its argument", () => {
    const c = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    });
    expect(c.telemetry).toMatchObject({ enabled: true, sampler: "parentbased_traceidratio" });
    expect(problemsOf({ OTEL_TRACES_SAMPLER: "always_on", OTEL_TRACES_SAMPLER_ARG: "0.5" })).toEqual([
      "OTEL_TRACES_SAMPLER_ARG applies only to OTEL_TRACES_SAMPLER=traceidratio or parentbased_traceidratio",
    ]);
  });
});

describe("every invalid setting, as the operator reads it", () => {
  // The canary is in every bad value: a secret's must never come back, whole or in part (6 characters of it).
  const CANARY = "Zq7CanaryXy";
  const leaks = (text: string): boolean => {
    for (let i = 0; i + 6 <= CANARY.length; i++) if (text.includes(CANARY.slice(i, i + 6))) return true;
    return false;
  };
  /**
   * What says the accepted form in a problem: a list of values, a range, a length, an example, a shape. A message
   * that only says "is invalid" tells the operator nothing to type.
   */
  const ACCEPTED_FORM = new RegExp(
    [
      /one of |between -?\d+ and \d+|at least \d+ characters|\d+-\d+ characters of |\d+ bytes, base64/,
      /e\.g\. |such as |like |must be an address|must look like |whole number|need |needs /,
      /must be [a-zA-Z]+:[a-z0-9]+|algorithms: |id:base64key|must be none /,
    ]
      .map((re) => re.source)
      .join("|"),
  );
  /** Malformed values of the secrets, each a mistake an operator makes (a raw key, a missing id, a short secret). */
  const SECRETS: Array<[string, string]> = [
    ["HMAC_SECRET", `${CANARY}-short`],
    ["HMAC_SECRET_NEXT", `${CANARY}-short`],
    ["HMAC_SECRET_PREVIOUS", `${CANARY}-a,${CANARY}-b`],
    ["HMAC_SECRET_RETIRED", `${CANARY}-c`],
    ["API_KEYS", `mobile-app:${CANARY}RawKeyPastedInsteadOfItsHash`],
    ["API_KEYS", `${CANARY}RawKeyPastedInsteadOfItsHash`],
    ["METRICS_TOKEN", CANARY],
    ["METRICS_TOKEN_PREVIOUS", CANARY],
    ["STORE_ENCRYPTION_KEYS", `k1:${Buffer.from(`${CANARY}-16-bytes`).toString("base64")}`],
    ["STORE_ENCRYPTION_KEYS", `${CANARY}${Buffer.alloc(32, 7).toString("base64")}`],
    [
      "STORE_ENCRYPTION_KEYS",
      `k1:${Buffer.alloc(32, 7).toString("base64")},k1:${Buffer.alloc(32, 8).toString("base64")}`,
    ],
    ["STORE_ENCRYPTION_KEYS", ","],
    ["REDIS_URL", `redis://:${CANARY}@redis:6379/0?tls=false`],
    ["REDIS_URL", `${CANARY}@redis:6379`],
    ["REDIS_URL", `redis://:${CANARY}@redis:6379/zero`],
    ["AOPAY_REGISTRATION_ID", `${CANARY} with spaces`],
    ["AOPAY_COMPANY_CODE", `${CANARY}/slash`],
    ["OTEL_EXPORTER_OTLP_HEADERS", `authorization: Bearer ${CANARY}`],
    ["OTEL_EXPORTER_OTLP_HEADERS", `x-api-key=${CANARY};tail`],
    ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", `x-api-key=${CANARY}%zz`],
  ];

  it.each(SECRETS)("%s=<malformed>: named, what is wrong and the accepted form, never its value", (name, value) => {
    const problems = problemsOf({ [name]: value });
    const own = problems.filter((p) => p.startsWith(`${name} `));
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/ must | lists /);
    expect(own[0]).toMatch(ACCEPTED_FORM);
    expect(problems.some((p) => leaks(p))).toBe(false);
  });

  it("accepts OTLP headers as the SDK reads them: key=value entries, percent-encoded, base64 padding kept", () => {
    expect(
      problemsOf({
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Basic%20dXNlcjpwYXNzd29yZA==, x-tenant=acme",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-api-key=abc,",
      }),
    ).toEqual([]);
  });

  it("a list's entries wrong the same way are one problem, not one per entry", () => {
    expect(problemsOf({ HMAC_SECRET_PREVIOUS: `${CANARY}-a,${CANARY}-b,${CANARY}-c` })).toEqual([
      "HMAC_SECRET_PREVIOUS entries must be at least 32 characters: secrets HMAC_SECRET replaced, comma-separated",
    ]);
  });

  it("every setting, given values it refuses, names itself and says what it accepts", () => {
    const problems: string[] = [];
    let refused = 0;
    for (const group of SETTINGS_GROUPS)
      for (const [name, setting] of Object.entries(group.settings))
        for (const value of [`${CANARY}!%`, "-5", "1.5", "x".repeat(300)]) {
          // The standalone simulator's settings are read by src/simulator/config.ts, not here.
          if (group.module === "src/simulator/main.ts") continue;
          const own = problemsOf({ [name]: value }).filter((p) => p.startsWith(`${name} `));
          refused += own.length;
          for (const p of own) {
            if (!ACCEPTED_FORM.test(p)) problems.push(`${p}  <- no accepted form`);
            if (setting.secret === true && leaks(p)) problems.push(`${name}: its value echoed`);
          }
        }
    expect(refused).toBeGreaterThan(150);
    expect(problems).toEqual([]);
  });
});

describe("rawDebugSwitches reads NODE_OPTIONS as Node does", () => {
  // Node drops double quotes and reads `\` inside them as an escape (src/node_options.cc): each of these turns
  // the heap dump on (checked against node 24: a .heapsnapshot written on SIGUSR2), so each is found.
  it.each([
    '"--heapsnapshot-signal=SIGUSR2"',
    '--heapsnapshot"-signal"=SIGUSR2',
    '--max-old-space-size=512 "--heapsnapshot_signal" SIGUSR2',
    '--require "./a b.js" --heapsnapshot-near-heap-limit=1',
    '"--heapsnapshot\\-signal=SIGUSR2"',
  ])("NODE_OPTIONS=%s", (options) => {
    expect(rawDebugSwitches({ NODE_OPTIONS: options })).toHaveLength(1);
    expect(problemsOf({ NODE_ENV: "production", ...SECURE, NODE_OPTIONS: options }).join("\n")).toMatch(
      /--heapsnapshot-(signal|near-heap-limit): writes what no scrubber reads/,
    );
  });

  it("--tls-keylog (AOPay's TLS session keys to a file) is refused in production as a heap dump is", () => {
    for (const options of ["--tls-keylog=/tmp/keys.log", '"--tls_keylog=/tmp/k"'])
      expect(rawDebugSwitches({ NODE_OPTIONS: options })).toEqual(["--tls-keylog"]);
    expect(rawDebugSwitches({}, ["--tls-keylog=/tmp/keys.log"])).toEqual(["--tls-keylog"]);
    expect(problemsOf({ NODE_ENV: "production", ...SECURE, NODE_OPTIONS: "--tls-keylog=/tmp/k" }).join("\n")).toMatch(
      /--tls-keylog: writes what no scrubber reads/,
    );
  });

  it("the flags opening Node's inspector (a debugger's port: code run in the process) are refused in production", () => {
    // Each checked against node 24: `--inspect*` open the port at start, `--inspect-port`/`--debug-port` set the one
    // SIGUSR1 opens; Node's arguments take `--inspect-brk-node` too (NODE_OPTIONS does not allow it).
    const inOptions = ["--inspect", "--inspect-brk", "--inspect-wait", "--inspect-port", "--debug-port"];
    for (const flag of inOptions)
      for (const options of [flag, `${flag}=0.0.0.0:9229`, `"${flag.replace(/-/g, "_").replace(/^__/, "--")}=9229"`])
        expect([options, rawDebugSwitches({ NODE_OPTIONS: options })]).toEqual([options, [flag]]);
    for (const flag of [...inOptions, "--inspect-brk-node"])
      expect(rawDebugSwitches({}, [`${flag}=127.0.0.1:0`])).toEqual([flag]);
    expect(rawDebugSwitches({ NODE_OPTIONS: "--inspect-publish-uid=http --max-old-space-size=512" })).toEqual([]);
    expect(problemsOf({ NODE_ENV: "production", ...SECURE, NODE_OPTIONS: "--inspect" }).join("\n")).toMatch(
      /--inspect: writes what no scrubber reads .* or opens Node's inspector/,
    );
    const allowed = { NODE_ENV: "production", ...SECURE, NODE_OPTIONS: "--inspect", ALLOW_RAW_DEBUG_OUTPUT: "true" };
    expect(problemsOf(allowed).filter((p) => p.includes("--inspect"))).toEqual([]);
  });

  it("--trace-event-categories (node.http: each request's URL, a GET's variables, to a file) is refused in production", () => {
    for (const options of [
      "--trace-event-categories=node.http",
      "--trace-event-categories v8",
      '"--trace_event_categories=v8"',
    ])
      expect(rawDebugSwitches({ NODE_OPTIONS: options })).toEqual(["--trace-event-categories"]);
    // The default categories (v8, node, node.async_hooks): measured, no value of a request in their file.
    expect(rawDebugSwitches({ NODE_OPTIONS: "--trace-events-enabled" })).toEqual([]);
  });

  it("--abort-on-uncaught-exception (Node prints the fault raw, before our listener, and dumps core) is refused", () => {
    for (const options of ["--abort-on-uncaught-exception", '"--abort_on_uncaught_exception"'])
      expect(rawDebugSwitches({ NODE_OPTIONS: options })).toEqual(["--abort-on-uncaught-exception"]);
    expect(rawDebugSwitches({}, ["--abort-on-uncaught-exception"])).toEqual(["--abort-on-uncaught-exception"]);
  });

  it("V8's output flags in Node's arguments (--trace-deopt-verbose printed strings in frames) are refused as a class", () => {
    // Taken by Node only in its arguments; `--trace-deopt-verbose` measured on node 24 (a string's value printed).
    for (const flag of ["--trace-deopt-verbose", "--print-bytecode", "--log-all", "--prof", "--maglev-print-filter=*"])
      expect([flag, rawDebugSwitches({}, [flag])]).toEqual([flag, [flag.split("=")[0]]]);
    expect(rawDebugSwitches({}, ["--trace_deopt_verbose", "--trace-deopt-verbose"])).toEqual(["--trace-deopt-verbose"]);
    // The Dockerfile's heap flags, `--no-` forms, a stack trace's shape, Node's own options read by the lists above,
    // and a value that is not a flag (a preload named for logging).
    const quiet = [
      "--max-semi-space-size=32",
      "--heap-growing-percent=50",
      "--no-allocation-site-pretenuring",
      "--no-trace-gc",
      // The GC's traces (numbers only, measured): the benchmark reads --trace-gc-nvp from the production build.
      "--trace-gc",
      "--trace-gc-nvp",
      "--trace_gc_verbose",
      "--stack-trace-limit=50",
      "--async-stack-traces",
      "--trace-warnings",
      "--trace-uncaught",
      "--cpu-prof",
      "--heap-prof",
      "--require",
      "./trace-log.js",
    ];
    expect(rawDebugSwitches({}, quiet)).toEqual([]);
    expect(problemsOf({ NODE_ENV: "production", ...SECURE }, ["--trace-deopt-verbose"]).join("\n")).toMatch(
      /--trace-deopt-verbose: writes what no scrubber reads/,
    );
  });

  it("an options file Node reads (--experimental-config-file: nodeOptions no execArgv shows) is refused", () => {
    for (const flag of ["--experimental-config-file", "--experimental-default-config-file"])
      for (const arg of [flag, `${flag}=node.config.json`, `${flag.replace(/-/g, "_").replace(/^__/, "--")}=x`])
        expect([arg, rawDebugSwitches({}, [arg])]).toEqual([arg, [flag]]);
  });

  it("a quoted path with spaces is one word, no flag", () => {
    expect(rawDebugSwitches({ NODE_OPTIONS: '--require "./my dir/x.js" --max-old-space-size=512' })).toEqual([]);
  });
});
