import { AEPS_RESEND, aepsDeclined, REGISTRATION, registrationRejected } from "../helpers/message-echoes";
import { REGISTER_CIBIL_CUSTOMER, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { read } from "../helpers/scrub-entry-points";
import { LENIENT_THROTTLE, stackOnFakeUpstream } from "../helpers/stack";

/**
 * A PAN, a mobile and an Aadhaar number that are no values of the request (another holder's: only how they read can
 * find them) in the spellings a person reads as them though the masks did not before this round (look-alike
 * Cyrillic and Greek letters, combining marks, invisible characters, Indian scripts' digits, dashes other than `-`,
 * `_`, `/`, a space inside a PAN's letters), through a real server: a scripted upstream answers them in a
 * registration's rejection and in an AEPS answer's message, and a client sends them in its GraphQL variables (a field
 * the input type does not define, whose value the validation error quotes). Nothing may show them as a person reads:
 * the GraphQL answers, their headers, every log line (debug).
 */
const SPELLINGS = [
  "ВЕНРК5678М",
  "ΒΕΗΡΚ5678Μ",
  "B\u0301EHPK5678M",
  "BEHPK\u180E5678M",
  "BEHPK\u034F5678M",
  "BEHPK_5678_M",
  "BEHPK/5678/M",
  "BEH PK 5678 M",
  "BEHPK\u20135678\u2013M",
  "BEHPK५६७८M",
  "98123\u201345670",
  "+91\u201198123\u201145670",
  "९८१२३४५६७०",
  "٩٨١٢٣٤٥٦٧٠",
  "98123_45670",
  "3456\u20133456\u20133457",
  "३४५६ ३४५६ ३४५७",
  "3456/3456/3457",
];
/** What must never be read: the PAN's first six, the mobile's first six, the Aadhaar number's first eight. */
const SECRETS = ["behpk5", "981234", "34563456"];
/** `read`, with a JSON text's escapes read first (a log line writes a tab as `\t`). */
const readJson = (text: string) =>
  read(
    text
      .replace(/\\u([0-9A-Fa-f]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\[tnrbf"\\/]/g, " "),
  );

describe("identifiers in look-alike spellings, not the request's own, through a real server", () => {
  const { upstream, t } = stackOnFakeUpstream({ env: { ...LENIENT_THROTTLE, LOG_LEVEL: "debug" } });
  const outputs: string[] = [];
  const message = `holder ${SPELLINGS.join(" ; ")}`;

  it("the upstream's rejection of a registration carries them in its message", async () => {
    upstream.respond(registrationRejected(message));
    const res = await t.gql(REGISTER_CIBIL_CUSTOMER, { input: REGISTRATION });
    outputs.push(res.text, JSON.stringify(res.headers));
    const rejected = resultOf(res.body, "registerCibilCustomer");
    expect(rejected.__typename).toBe("UpstreamRejected");
    expect(rejected.upstreamMessage).toContain("XXXXXX678");
  });

  it("an AEPS answer carries them in its message", async () => {
    upstream.respond(aepsDeclined(message));
    const res = await t.gql(RESEND_AEPS_OTP, { input: AEPS_RESEND });
    outputs.push(res.text, JSON.stringify(res.headers));
    expect(res.text).toContain("XXXXXX678");
  });

  it("a client sends them in its variables, which the validation error quotes", async () => {
    const res = await t.gql(REGISTER_CIBIL_CUSTOMER, { input: { ...REGISTRATION, note: message } });
    outputs.push(res.text, JSON.stringify(res.headers));
    expect(res.text).toContain("note");
    expect(upstream.calls).toHaveLength(2);
  });

  it("no answer, header or log line shows them as a person reads", () => {
    expect(t.logs.lines.length).toBeGreaterThan(5);
    const shown: string[] = [];
    for (const text of [...outputs, ...t.logs.raw().split("\n")])
      for (const secret of SECRETS) if (readJson(text).includes(secret)) shown.push(`${secret}: ${text.slice(0, 300)}`);
    expect(shown).toEqual([]);
  });
});
