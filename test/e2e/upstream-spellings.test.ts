import { request } from "undici";
import { json } from "../helpers/fake-upstream";
import { devanagari } from "../helpers/identifiers";
import { RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { readJsonDigits } from "../helpers/number-spellings";
import { PRODUCTION_SECURITY, stackOnFakeUpstream, TEST_API_KEY } from "../helpers/stack";

/**
 * Another customer's mobile and Aadhaar number in AOPay's answer, in the spellings a reader reads as one number and the
 * scrubbers read as several runs or none (test/unit/pii/spelling-class.test.ts holds the whole class at the unit
 * level): the `0091`, `091`, `+0091` and `(+91)` prefixes glued or separated, any mark between the digit groups
 * (`98765:43210`, `98765–43210`, `98765*43210`, `98765→43210`), glued to letters in a code (`MT…`). A scripted AOPay
 * on loopback answers each request with one spelling as its message and, glued, as its code; through the real server
 * in production, its logger at debug, nothing may show the number as a reader reads it: the answers, their headers,
 * every log line, the metrics page. On the code of 21554c8, 24 of the 26 answers showed the number so, and 48 log
 * lines.
 */
const MOBILE = "7012983456";
const AADHAAR = "234123412346";
const [M1, M2] = [MOBILE.slice(0, 5), MOBILE.slice(5)];
const Q = AADHAAR.match(/.{4}/g) as string[];
const SPELLINGS = [
  `0091${MOBILE}`,
  `0091-${M1}-${M2}`,
  `0091 ${M1} ${M2}`,
  `091${MOBILE}`,
  `+0091${MOBILE}`,
  `(+91)-${M1}-${M2}`,
  `+91 ${M1}:${M2}`,
  `${M1}:${M2}`,
  `${M1}\uFF1A${M2}`,
  `${M1}\u2013${M2}`,
  `${M1}\u00B7${M2}`,
  `${M1}*${M2}`,
  `${M1}#${M2}`,
  `${M1}|${M2}`,
  `${M1}=${M2}`,
  `${M1}~${M2}`,
  `${M1}\u2192${M2}`,
  `[${M1}][${M2}]`,
  `${M1}'${M2}`,
  [...MOBILE].map((d) => `${d}\uFE0F\u20E3`).join(""),
  [...MOBILE].join("\u0301"),
  `0091${devanagari(M1)}${M2}`,
  Q.join(":"),
  Q.join("*"),
  Q.join("\u2013"),
  Q.join("\u00B7"),
];

describe("another customer's number in AOPay's answer, in every spelling of the class (production, debug)", () => {
  const { upstream, t } = stackOnFakeUpstream({ env: { NODE_ENV: "production", ...PRODUCTION_SECURITY } });
  const outputs: string[] = [];
  const input = { userKey: "AOP554N3XXXX", mobile: "9182736450", aadhaar: "999971658847", primaryKeyId: "PK1" };
  const send = async () => {
    const res = await t.gql(
      RESEND_AEPS_OTP,
      { input: { ...input, encodeTxnId: "DEMO" } },
      { "x-api-key": TEST_API_KEY },
    );
    outputs.push(res.text, JSON.stringify(res.headers));
    return resultOf(res.body, "resendAepsOtp");
  };

  it("each spelling, as AOPay's message and glued into its code, is answered as a rejection", async () => {
    for (const spelling of SPELLINGS) {
      upstream.respond(
        json(200, {
          status: false,
          response_code: 5,
          message: `Not sent: ${spelling} is busy`,
          error_code: `MT${spelling}`,
        }),
      );
      expect(await send()).toMatchObject({ __typename: "UpstreamRejected" });
    }
    expect(upstream.calls).toHaveLength(SPELLINGS.length);
  });

  it("what is not a number stays readable: ports, times, request ids, amounts, ids", async () => {
    const message =
      "Retry after 10:30:45 via 127.0.0.1:4000 or localhost:43210; request 68f74483-ff9b-4582-bb53-123173816012, " +
      "amount 1,234,567.89, from 192.168.100.200, ref SIMCBL000000000001";
    upstream.respond(json(200, { status: false, response_code: 5, message, error_code: "TXN12345678901" }));
    expect(await send()).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamMessage: message,
      upstreamCode: "TXN12345678901",
    });
  });

  it("a run of digits that holds a number's shape is masked, glued or not; AOPay's reference too, in a message", async () => {
    // Only the merchant reference's own field keeps its documented form (aopay/outcome.ts scrubbedMerchantReference).
    const message =
      "request 68f74483-ff9b-4582-bb53-628173816012, ref SPCBL2308181506522334ZiSHM7bAe, 9876543210123456";
    upstream.respond(json(200, { status: false, response_code: 5, message, error_code: "TXN1234567890123" }));
    expect(await send()).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamMessage:
        "request 68f74483-ff9b-4582-bbXX-XXXXXXXXXXXX, ref SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe, XXXXXXXXXXXXXXXX",
      upstreamCode: "TXNXXXXXXXXXXXXX",
    });
  });

  it("the reader reads the number in every spelling", () => {
    for (const s of SPELLINGS) expect(readJsonDigits(s)).toMatch(new RegExp(`${MOBILE}|${AADHAAR}`));
  });

  it.each([
    ["the answers, their headers and the metrics page", async () => outputs],
    ["the log lines", async () => t.logs.raw().split("\n")],
  ])("%s hold neither number as a reader reads them", async (_what, texts) => {
    const all = [...(await texts())];
    if (_what.startsWith("the answers")) all.push(await (await request(t.stack.app.metricsUrl as string)).body.text());
    expect(all.length).toBeGreaterThan(SPELLINGS.length);
    const shown = all.filter((text) => readJsonDigits(text).includes(MOBILE) || readJsonDigits(text).includes(AADHAAR));
    expect(shown).toEqual([]);
  });
});
