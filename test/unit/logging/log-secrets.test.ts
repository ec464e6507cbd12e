import { loadConfig, logOptions, SETTINGS_GROUPS, secretValues } from "../../../src/config";
import { createLogger } from "../../../src/logging/logger";
import { LogCapture } from "../../helpers/log-capture";

/**
 * The running server's loggers hide every secret setting's value wherever it appears in a line, as the logger of a
 * start that failed does (index.ts failStart): until an attack review they knew only the partner credentials, and
 * AUTH_JWKS_URL's password reached the error line of every request with a bearer token (fetch quotes the URL whole;
 * such a URL is now refused at start: test/e2e/config-process.test.ts). A value of each secret setting, valid, with
 * `hunter2` in it; the first test fails when a secret setting is added without one here.
 */
const SAMPLES: Record<string, string> = {
  AOPAY_REGISTRATION_ID: "AOP-hunter2-reg",
  AOPAY_COMPANY_CODE: "CMP-hunter2-co",
  REDIS_URL: "redis://app:hunter2%2Fredis@redis:6379/0",
  HMAC_SECRET: "hunter2-hmac-secret-0123456789-abcdefghij",
  HMAC_SECRET_PREVIOUS: "hunter2-previous-secret-0123456789-abcdefg,hunter2-older-secret-0123456789-abcdefghi",
  HMAC_SECRET_NEXT: "hunter2-next-secret-0123456789-abcdefghijk",
  HMAC_SECRET_RETIRED: "hunter2-retired-secret-0123456789-abcdefgh",
  STORE_ENCRYPTION_KEYS: `k2:${Buffer.alloc(32, 0x68).toString("base64")},k1:${Buffer.alloc(32, 0x32).toString("base64")}`,
  METRICS_TOKEN: "hunter2-metrics-token-0123",
  METRICS_TOKEN_PREVIOUS: "hunter2-metrics-previous-0123",
  OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20hunter2-otlp,x-tenant=hunter2-tenant",
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: "authorization=Bearer%20hunter2-traces",
  AUTH_JWKS_URL: "https://login.example/jwks.json?key=hunter2-jwks-key",
};

const secretNames = () =>
  SETTINGS_GROUPS.flatMap((group) => Object.entries(group.settings))
    .filter(([, setting]) => setting.secret)
    .map(([name]) => name)
    .sort();

/** What an error may quote of each sample: the value whole, each entry, and a URL's password and query values. */
const QUOTED = [
  ...Object.values(SAMPLES),
  ...Object.values(SAMPLES).flatMap((value) => value.split(",")),
  "hunter2%2Fredis",
  "hunter2/redis",
  "redis://app:hunter2%2Fredis@redis:6379/0",
  "hunter2-jwks-key",
  Buffer.alloc(32, 0x68).toString("base64"),
];

describe("the running server's loggers hide every secret setting's value", () => {
  it("a sample of every secret setting is here", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(secretNames());
  });

  it("a logger made as the app makes it (logOptions) writes none of them, in a message, a field or an error", () => {
    const config = loadConfig({ AOPAY_BASE_URL: "https://api.aopay.example", ...SAMPLES });
    const capture = new LogCapture();
    const log = createLogger({ ...logOptions(config), level: "trace", destination: capture });
    for (const value of QUOTED) {
      log.error({ err: new TypeError(`could not fetch ${value}: refused`) }, "unhandled HTTP error");
      log.warn({ detail: `upstream said ${value}` }, `seen ${value}`);
    }
    expect(capture.raw()).not.toContain("hunter2");
    expect(capture.records()).toHaveLength(2 * QUOTED.length);
  });

  it("secretValues takes a URL's password and query values, decoded, and the URL as a library writes it", () => {
    const values = secretValues({
      REDIS_URL: "redis://:hunter2%40pw@redis",
      AUTH_JWKS_URL: "HTTPS://Login.Example/jwks?k=hunter2%20key",
    });
    expect(values).toEqual(
      expect.arrayContaining([
        "redis://:hunter2%40pw@redis",
        "hunter2%40pw",
        "hunter2@pw",
        "https://login.example/jwks?k=hunter2%20key",
        "hunter2 key",
      ]),
    );
    // Not the settings that are no secret; and a secret that only parses as a URL is no URL (its "query" is not
    // taken apart: `json` would be hidden from every line).
    expect(secretValues({ HOST: "127.0.0.1", REDIS_KEY_PREFIX: "hunter2:" })).toEqual([]);
    expect(secretValues({ METRICS_TOKEN: "hunter2:token?mode=json" })).toEqual(["hunter2:token?mode=json"]);
  });
});
