import { json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { devanagari } from "../helpers/identifiers";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf, SUBMIT_CIBIL_OTP, cibilToken } from "../helpers/operations";
import { tracedStack } from "../helpers/traced-stack";

/**
 * AOPay's merchant reference (`merchant_trans_id`, `merchantTrxnRefId`: docs/upstream/aopay-api.md §1.3, §5 item 5)
 * is logged on every later line of its request, set on the attempt's span (`aopay.merchant_transaction_id`, which no
 * scrubber reads) and handed to the client; its code is logged and shown, an undocumented key's name logged. An
 * attack review had the reference carry another customer's mobile glued to letters (`MT9876543210`), which the shape
 * masks leave alone by design (a run glued to letters is an identifier's): it reached all three whole. Here a scripted
 * upstream answers such references; no 10-digit run may reach a span, no mobile, Aadhaar number or PAN the answer or a
 * log line, and the documented reference must still reach the client and the log as it came (support quotes it).
 */
const OTHERS = { mobile: "9876543210", aadhaar: "234123412346", pan: "CNRPY7315Q" };

/** References carrying another customer's number glued to letters, and what the client and the log are shown. */
const GLUED: ReadonlyArray<[what: string, reference: string, shown: string]> = [
  ["a mobile glued in", `MT${OTHERS.mobile}`, "MTXXXXXXXXXX"],
  ["a mobile after 91 glued in", `MT91${OTHERS.mobile}Z`, "MTXXXXXXXXXXXXZ"],
  ["a mobile after 0 glued in", `ref0${OTHERS.mobile}`, "refXXXXXXXXXXX"],
  ["an Aadhaar number glued in", `AOP${OTHERS.aadhaar}x`, "AOPXXXXXXXXXXXXx"],
  ["a PAN glued in", `MT${OTHERS.pan}01`, "MTXXXXXX315Q01"],
  ["a mobile in Devanagari digits glued in", `MT${devanagari(OTHERS.mobile)}`, "MTXXXXXXXXXX"],
];

/**
 * References in the documented form (pii/scrub.ts keptAopayReference), the number in the digits the form leaves free:
 * the four after the date and time, and the nine letters or digits, all digits here. The form alone kept them whole.
 */
const IN_FORM: ReadonlyArray<[what: string, reference: string, shown: string]> = [
  ["a mobile in the documented form", `SPCBL230818150652${OTHERS.mobile}abc`, `SPCBL${"X".repeat(22)}abc`],
  ["an Aadhaar number in the documented form", `SPCBL230818150652${OTHERS.aadhaar}a`, `SPCBL${"X".repeat(24)}a`],
];

const DOCUMENTED = "SPCBL2308181506522334ZiSHM7bAe";

describe("AOPay's merchant reference, code and key names: no other customer's number on a span, log or answer", () => {
  const s = tracedStack("debug");
  const { exporter } = s;
  let id = 0;

  /** A GenerateCibilOtp answered with `body` (the documented success, changed): its answer, spans and log text. */
  async function generate(change: Record<string, unknown>) {
    exporter.reset();
    const before = s.t.logs.text().length;
    s.upstream.respond(json(200, { ...fixtureJson("cibil/generate-otp.success"), ...change }));
    const res = await s.t.gql(GENERATE_CIBIL_OTP, cibilInput(String(160000000 + ++id)));
    const spans = exporter.getFinishedSpans().filter((s) => s.name.startsWith("aopay "));
    return {
      answer: resultOf(res.body, "generateCibilOtp"),
      text: res.text,
      span: JSON.stringify(spans.map((s) => s.attributes)),
      reference: spans[0]?.attributes["aopay.merchant_transaction_id"],
      log: s.t.logs.text().slice(before),
    };
  }

  it.each([...GLUED, ...IN_FORM])(
    "a reference with %s: masked on the span, the log and the answer",
    async (_w, ref, shown) => {
      const got = await generate({ merchant_trans_id: ref });
      expect(got.answer).toMatchObject({ __typename: "CibilOtpChallenge", merchantTransactionId: shown });
      expect(got.reference).toBe(shown);
      const all = `${got.text}\n${got.span}\n${got.log}`;
      for (const value of Object.values(OTHERS)) expect([value, all.includes(value)]).toEqual([value, false]);
      expect(all).not.toContain(devanagari(OTHERS.mobile));
      expect(got.log).toContain(`"merchantTransactionId":"${shown}"`);
    },
  );

  it("the documented reference reaches the answer and the log as it came, its digit run masked on the span", async () => {
    const got = await generate({ merchant_trans_id: DOCUMENTED });
    expect(got.answer).toMatchObject({ merchantTransactionId: DOCUMENTED });
    expect(got.log).toContain(`"merchantTransactionId":"${DOCUMENTED}"`);
    expect(got.reference).toBe("SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe");
    // No run of ten digits on any attribute of the attempt's span.
    expect(got.span).not.toMatch(/[0-9]{10}/);
  });

  it("an undocumented key naming a mobile is logged masked", async () => {
    const got = await generate({ [`x${OTHERS.mobile}`]: 1 });
    expect(got.log).toContain("upstream answer has undocumented fields");
    expect(got.log).toContain("xXXXXXXXXXX");
    expect(got.log).not.toContain(OTHERS.mobile);
  });

  it.each(GLUED)(
    "a rejection's message quoting a reference with %s: masked in upstreamMessage and the log",
    async (_w, ref, shown) => {
      exporter.reset();
      const before = s.t.logs.text().length;
      const cibilId = String(180000000 + ++id);
      s.upstream.respond(
        json(200, { code: "E17", description: `declined, see ${ref} and 9123 4567 80`, status: "False" }),
      );
      const res = await s.t.gql(SUBMIT_CIBIL_OTP, {
        input: { cibilId, accessToken: cibilToken(cibilId), otp: "4829", questionKey: "q1", answerKey: "a1" },
      });
      const answer = resultOf(res.body, "submitCibilOtp");
      expect(answer).toMatchObject({ __typename: "UpstreamRejected", upstreamCode: "E17" });
      expect(answer.upstreamMessage).toContain(`see ${shown} and`);
      const spans = JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes));
      const all = `${res.text}\n${spans}\n${s.t.logs.text().slice(before)}`;
      for (const value of [...Object.values(OTHERS), "9123 4567 80"])
        expect([value, all.includes(value)]).toEqual([value, false]);
      expect(all).not.toContain(devanagari(OTHERS.mobile));
    },
  );

  it("a rejection's code with a mobile glued in: masked in UpstreamRejected.upstreamCode and the log", async () => {
    exporter.reset();
    const before = s.t.logs.text().length;
    const cibilId = String(170000000 + ++id);
    s.upstream.respond(json(200, { code: `E${OTHERS.mobile}`, description: "declined", status: "False" }));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, {
      input: { cibilId, accessToken: cibilToken(cibilId), otp: "4829", questionKey: "q1", answerKey: "a1" },
    });
    expect(resultOf(res.body, "submitCibilOtp")).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamCode: "EXXXXXXXXXX",
    });
    const spans = JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes));
    expect(`${res.text}\n${spans}\n${s.t.logs.text().slice(before)}`).not.toContain(OTHERS.mobile);
  });
});
