import {
  AopayBadResponseError,
  AopayOutcomeUnknownError,
  AopayRejectedError,
  AopayUnauthorizedError,
  AopayUnavailableError,
} from "../../../src/aopay/errors";
import { type AopayErrorCode, AopayError } from "../../../src/aopay/errors";
import {
  classifyFailure,
  interpretResponse,
  MAX_HANDED_ON_DEPTH,
  nestedWithin,
  parseRetryAfter,
  scrubbedMessage,
  scrubbedQuestionText,
  scrubbedMerchantReference,
  scrubbedReference,
} from "../../../src/aopay/outcome";
import { Scrubber, type TextScrubber } from "../../../src/pii/scrub";
import { fixture } from "../../helpers/fixtures";

const send = { name: "cibil.generateOtp", sideEffect: true };
const read = { name: "cibil.creditHistory", sideEffect: false };
const scrubber = new Scrubber();
const res = (
  statusCode: number,
  body: Buffer | string,
  headers: Record<string, string> = { "content-type": "application/json" },
) => ({
  statusCode,
  headers,
  body: typeof body === "string" ? Buffer.from(body) : body,
});

describe("interpretResponse: HTTP status and envelope together", () => {
  it("returns the success envelope for 200 + success", () => {
    expect(interpretResponse(send, res(200, fixture("cibil/generate-otp.success")), scrubber).kind).toBe("success");
  });

  it("a failure inside HTTP 200 is a rejection with the upstream's code and message", () => {
    const call = () => interpretResponse(send, res(200, fixture("cibil/generic-error")), scrubber);
    expect(call).toThrow(AopayRejectedError);
    try {
      call();
    } catch (e) {
      expect(e).toMatchObject({
        code: "UPSTREAM_REJECTED",
        upstreamCode: "207",
        upstreamMessage: "Amount is Requaired",
        httpStatus: 200,
        sent: true,
      });
    }
  });

  it("401 and 403 are unauthorized, keeping the body's code and message (Observation 8)", () => {
    for (const status of [401, 403]) {
      try {
        interpretResponse(send, res(status, fixture("aeps/resend-otp.error")), scrubber);
        throw new Error("expected a throw");
      } catch (e) {
        expect(e).toBeInstanceOf(AopayUnauthorizedError);
        expect(e).toMatchObject({ upstreamCode: "5", upstreamMessage: "Invalid signature encoding", retryable: false });
      }
    }
  });

  it("to a read, 5xx and 429 are unavailable and retryable, with Retry-After when given", () => {
    for (const status of [500, 501, 502, 503, 504, 505, 429]) {
      const r = res(status, "<html>oops</html>", { "content-type": "text/html", "retry-after": "12" });
      try {
        interpretResponse(read, r, scrubber);
        throw new Error("expected a throw");
      } catch (e) {
        expect(e).toBeInstanceOf(AopayUnavailableError);
        expect(e).toMatchObject({ retryable: true, retryAfterSeconds: 12, httpStatus: status });
      }
    }
  });

  it("to a send, only the statuses that say it was not carried out are retryable; any other 5xx is OUTCOME_UNKNOWN", () => {
    for (const status of [501, 503, 505, 429]) {
      const r = res(status, "<html>busy</html>", { "content-type": "text/html", "retry-after": "12" });
      expect(() => interpretResponse(send, r, scrubber)).toThrow(AopayUnavailableError);
    }
    // 500: an unexpected condition, anywhere in the handling; 502, 504 and the rest: a gateway passed it on.
    for (const status of [500, 502, 504, 507, 520, 524, 599]) {
      const r = res(status, "<html>oops</html>", { "content-type": "text/html" });
      try {
        interpretResponse(send, r, scrubber);
        throw new Error("expected a throw");
      } catch (e) {
        expect(e).toBeInstanceOf(AopayOutcomeUnknownError);
        expect(e).toMatchObject({ code: "OUTCOME_UNKNOWN", retryable: false, sent: true, httpStatus: status });
      }
    }
  });

  it("a 5xx JSON body that claims success is still a failure: unavailable to a read, unknown to a send", () => {
    expect(() => interpretResponse(read, res(500, '{"status":true}'), scrubber)).toThrow(AopayUnavailableError);
    expect(() => interpretResponse(send, res(500, '{"status":true}'), scrubber)).toThrow(AopayOutcomeUnknownError);
  });

  it("a redirect is never followed: to a send the outcome is unknown (it may have been carried out), to a read a bad response", () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const answer = res(status, "", { location: "http://evil.example/" });
      expect(() => interpretResponse(send, answer, scrubber)).toThrow(AopayOutcomeUnknownError);
      expect(() => interpretResponse(read, answer, scrubber)).toThrow(AopayBadResponseError);
    }
  });

  it("a 4xx with a failure envelope is a rejection; a 4xx HTML page is a bad response", () => {
    expect(() =>
      interpretResponse(send, res(412, '{"status":false,"response_code":10,"message":"token data issue"}'), scrubber),
    ).toThrow(AopayRejectedError);
    expect(() =>
      interpretResponse(send, res(404, "<html>Not Found</html>", { "content-type": "text/html" }), scrubber),
    ).toThrow(AopayBadResponseError);
  });

  it("an unreadable 2xx on an OTP send is OUTCOME_UNKNOWN; on a read it is a bad response", () => {
    for (const body of ['{"status":"SUCC', "", "<html></html>", '{"result":{}}']) {
      expect(() => interpretResponse(send, res(200, body), scrubber)).toThrow(AopayOutcomeUnknownError);
      expect(() => interpretResponse(read, res(200, body), scrubber)).toThrow(AopayBadResponseError);
    }
  });

  it("masks PII in the upstream message before it can reach a client", () => {
    const body = '{"status":false,"message":"Aadhaar 999941057058 not linked to 9876543210"}';
    try {
      interpretResponse(send, res(200, body), scrubber);
      throw new Error("expected a throw");
    } catch (e) {
      expect((e as AopayRejectedError).upstreamMessage).toBe("Aadhaar XXXX XXXX 7058 not linked to XXXXXX3210");
    }
  });

  it("error messages name the endpoint and status but never the body", () => {
    try {
      interpretResponse(send, res(200, '{"status":false,"message":"secret-body-text"}'), scrubber);
    } catch (e) {
      expect((e as Error).message).toBe("cibil.generateOtp: rejected (HTTP 200, failure envelope)");
    }
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-22T10:00:00Z");
  it.each([
    ["30", 30],
    [" 30 ", 30],
    // At least 1: a 0 told the client to call again at once (UpstreamUnavailable.retryAfterSeconds, retryable).
    ["0", 1],
    ["999999", 3600],
    ["Sun, 22 Nov 2026 10:00:45 GMT", 45],
    ["Sunday, 22-Nov-26 10:00:45 GMT", 45],
    ["Sun Nov 22 10:00:45 2026", 45],
    ["Sun, 22 Nov 2026 09:00:00 GMT", 1],
    // Not dates, though Date.parse reads each as one (years -3, 2001 and 300): refused, not "0 seconds".
    ["-3", undefined],
    ["1.5", undefined],
    ["3e2", undefined],
    ["soon", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("%j -> %j", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe("classifyFailure: the one place a failure code becomes an error class", () => {
  const codes: AopayErrorCode[] = [
    "UPSTREAM_REJECTED",
    "UPSTREAM_UNAUTHORIZED",
    "UPSTREAM_UNAVAILABLE",
    "CIRCUIT_OPEN",
    "UPSTREAM_TIMEOUT",
    "UPSTREAM_BAD_RESPONSE",
    "OUTCOME_UNKNOWN",
    "OVERLOADED",
  ];

  it.each(codes)("%s gives an AopayError with exactly that code and the details", (code) => {
    const error = classifyFailure(code, "m", { endpoint: "cibil.generateOtp", sent: false, retryAfterSeconds: 3 });
    expect(error).toBeInstanceOf(AopayError);
    expect(error).toMatchObject({
      code,
      message: "m",
      endpoint: "cibil.generateOtp",
      sent: false,
      retryAfterSeconds: 3,
    });
  });

  it("gives each code its own class (no two codes share one, so nothing needs instanceof to tell them apart)", () => {
    const classes = codes.map((code) => classifyFailure(code, "m", { endpoint: "e", sent: false }).constructor);
    expect(new Set(classes).size).toBe(codes.length);
  });
});

describe("nestedWithin: the depth of what is handed on as it came", () => {
  const deep = (n: number) => JSON.parse("[".repeat(n) + "]".repeat(n)) as unknown;
  it("counts objects and arrays alike; scalars add no level", () => {
    expect(nestedWithin("text", 0)).toBe(true);
    expect(nestedWithin({}, 0)).toBe(false);
    expect(nestedWithin({ a: [1, { b: "x" }] }, 3)).toBe(true);
    expect(nestedWithin({ a: [1, { b: "x" }] }, 2)).toBe(false);
    expect(nestedWithin({ wide: [[], [], [[]]], other: {} }, 4)).toBe(true);
    expect(nestedWithin({ wide: [[], [], [[]]], other: {} }, 3)).toBe(false);
  });
  it("walks without recursion: 100,000 levels are answered, not a stack overflow", () => {
    expect(nestedWithin(deep(100_000), MAX_HANDED_ON_DEPTH)).toBe(false);
    expect(nestedWithin(deep(MAX_HANDED_ON_DEPTH), MAX_HANDED_ON_DEPTH)).toBe(true);
  });
});

describe("AOPay's texts: a number it masked in part shows no digit (pii/partly-masked.ts)", () => {
  const own = scrubber.forRequest(["9362678", "tok-0001"]);
  const texts: Array<[string, (text: string, s: TextScrubber) => string]> = [
    ["scrubbedMessage", scrubbedMessage],
    ["scrubbedReference", scrubbedReference],
    ["scrubbedQuestionText", scrubbedQuestionText],
  ];

  it.each(texts)("%s hides every digit of 94138****, 97XXXXXXXX, 2341 XXXX XXXX", (_name, scrub) => {
    for (const s of [scrubber, own]) {
      expect(scrub("sent to 94138****.", s)).toBe("sent to *********.");
      expect(scrub("OTP sent to 97XXXXXXXX", s)).toBe("OTP sent to XXXXXXXXXX");
      expect(scrub("Aadhaar 2341 XXXX XXXX", s)).toBe("Aadhaar XXXX XXXX XXXX");
    }
  });

  it.each(texts)(
    "%s keeps the scrubber's own masks, made later, and what is not a partly masked number",
    (_n, scrub) => {
      for (const s of [scrubber, own]) {
        // Whole numbers become our masks after the partly masked ones are hidden: their last four digits stay.
        expect(scrub("98765****, or 9876543210 and 234123412346", s)).toBe(
          "*********, or XXXXXX3210 and XXXX XXXX 2346",
        );
        expect(scrub("AOP554N3XXXXX HTTP 5xx", s)).toBe("AOP554N3XXXXX HTTP 5xx");
        expect(scrub("SIMCBL000000000001", s)).toBe("SIMCBL000000000001");
      }
    },
  );

  it.each([
    // The two documented references (docs/upstream/aopay-api.md §1.3 and the GenerateOTP seed page).
    "SPCBL2308181506522334ZiSHM7bAe",
    "SPCBL2308181502437743aQaHNGxZM",
    // Digits in the nine, none of them a number past the fixed 16.
    "SPCBL23080115024377431aQaHNGxZ",
  ])("scrubbedMerchantReference keeps AOPay's reference in its documented form whole: %s", (reference) => {
    for (const s of [scrubber, own]) expect(scrubbedMerchantReference(reference, s)).toBe(reference);
    // As a token or a message, the same text's 16 digits hold a mobile's shape: masked.
    expect(scrubbedReference(reference, scrubber)).toBe(reference.replace(/[0-9]+/, (run) => "X".repeat(run.length)));
  });

  it.each([
    ["SPCBL9876543210123456ZiSHM7bAe", "SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe"],
    ["SPCBL2308181506522334ZiSHM7bAe1", "SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe1"],
    ["MT98765432101234", "MTXXXXXXXXXXXXXX"],
    ["SIMCBL000000000001", "SIMCBL000000000001"],
    // The documented form with a mobile or an Aadhaar number in the four digits and the nine (all digits there), or
    // across the time's seconds into them, or a date no calendar has (February 31st): masked, not kept whole.
    ["SPCBL2308181506529876543210abc", `SPCBL${"X".repeat(22)}abc`],
    ["SPCBL230818150652234123412346a", `SPCBL${"X".repeat(24)}a`],
    ["SPCBL230818150659876543210abcd", `SPCBL${"X".repeat(21)}abcd`],
    ["SPCBL2302311506522334ZiSHM7bAe", "SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe"],
  ])("scrubbedMerchantReference masks any other form as scrubbedReference does: %s", (reference, shown) => {
    expect(scrubbedMerchantReference(reference, scrubber)).toBe(shown);
  });

  it("scrubbedMerchantReference redacts a request's own value inside a documented form", () => {
    const mine = scrubber.forRequest(["1506522334"]);
    expect(scrubbedMerchantReference("SPCBL2308181506522334ZiSHM7bAe", mine)).not.toContain("1506522334");
  });

  it("a failure's upstreamMessage, logged and shown, hides them too", () => {
    const body = JSON.stringify({ status: false, message: "OTP already sent to 98765-*****", error_code: "7" });
    try {
      interpretResponse(send, res(200, body), scrubber);
      throw new Error("not thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(AopayRejectedError);
      expect((e as AopayRejectedError).upstreamMessage).toBe("OTP already sent to *****-*****");
    }
  });
});
