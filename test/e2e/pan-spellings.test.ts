import { request } from "undici";
import { AEPS_RESEND, aepsDeclined, REGISTRATION, registrationRejected } from "../helpers/message-echoes";
import { REGISTER_CIBIL_CUSTOMER, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { LENIENT_THROTTLE, stackOnFakeUpstream } from "../helpers/stack";

/**
 * A PAN that is no value of the request (another holder's, so only its shape can find it) in the spellings a reader
 * reads as the PAN, through a real server: a scripted upstream answers it in a registration's rejection and in an AEPS
 * answer's message, and a client puts it in an alias, an operation name and a variable's name. Nothing may show it,
 * read as a person reads (case ignored, anything but letters and digits dropped): the GraphQL answers, every log line
 * (debug), the metrics page. The spelled-apart and invisible spellings passed whole before the PAN_SPACED round.
 */
const PAN = "KLMPQ4821Z";
const SPELLINGS = [
  PAN,
  PAN.toLowerCase(),
  `PAN${PAN.toLowerCase()}X`,
  `pan_${PAN}`,
  "KLMPQ 4821 Z",
  "klmpq-4821-z",
  "KLMPQ.4821.Z",
  "KLMPQ\u00A04821Z",
  "KLMPQ\u200B4821Z",
  "KL\u00ADMPQ4821Z",
  "ｋｌｍｐｑ４８２１ｚ",
];
const read = (text: string) =>
  text
    .replace(/\\u([0-9A-Fa-f]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .normalize("NFKC")
    .replace(/[^\p{L}\p{Nd}]/gu, "")
    .toUpperCase();

describe("a PAN not the request's own, in every spelling a reader reads, through a real server", () => {
  const { upstream, t } = stackOnFakeUpstream({ env: { ...LENIENT_THROTTLE, LOG_LEVEL: "debug" } });
  const outputs: string[] = [];
  const message = `holder ${SPELLINGS.join(" / ")}; again \\u006b${PAN.slice(1).toLowerCase()}`;

  it("the upstream's rejection of a registration carries it in its message", async () => {
    upstream.respond(registrationRejected(message));
    const res = await t.gql(REGISTER_CIBIL_CUSTOMER, { input: REGISTRATION });
    outputs.push(res.text, JSON.stringify(res.headers));
    const rejected = resultOf(res.body, "registerCibilCustomer");
    expect(rejected.__typename).toBe("UpstreamRejected");
    expect(rejected.upstreamMessage).toContain("XXXXXX821Z");
  });

  it("an AEPS answer carries it in its message", async () => {
    upstream.respond(aepsDeclined(message));
    const res = await t.gql(RESEND_AEPS_OTP, { input: AEPS_RESEND });
    outputs.push(res.text, JSON.stringify(res.headers));
    expect(res.text).toContain("XXXXXX821Z");
  });

  it("a client puts it in an alias, an operation name and a variable's name", async () => {
    for (const name of [PAN.toLowerCase(), `pan_${PAN}`, `x${PAN.toLowerCase()}`]) {
      const res = await t.gql(`query ${name}($${name}: String) { ${name}: serviceInfo { upstream } ${name}x: nope }`, {
        [name]: "v",
      });
      outputs.push(res.text, JSON.stringify(res.headers));
      expect(res.status).toBe(400);
    }
    outputs.push(await (await request(t.stack.app.metricsUrl as string)).body.text());
  });

  it("no answer, header, metric or log line shows it", () => {
    expect(upstream.calls).toHaveLength(2);
    expect(t.logs.lines.length).toBeGreaterThan(5);
    for (const text of [...outputs, ...t.logs.raw().split("\n")]) expect(read(text)).not.toContain(PAN);
  });
});
