import { maskedPansAsScrubbed, Scrubber } from "../../../src/pii/scrub";
import { Scrubber as FrozenScrubber } from "../../fixtures/frozen/scrub-31bcea0";

/**
 * The log scrubber's test for a registered secret or a PAN's shape (src/pii/scrub.ts Scrubber.scrubLine; one scan for
 * both until pan-any-case): a line with neither skips the secrets' redaction and maskShapes' PAN pass, and masks only
 * e-mail addresses where it holds no number either. Every combination of a secret, a PAN (its shape, in upper and in
 * lower case, glued and alone), an e-mail address and a mobile number, with a scrubber of secrets and one of none, must
 * come out as the frozen copy of round 087d21e's scrubber writes it (test/fixtures/frozen/scrub-31bcea0.ts), which
 * scanned for each in turn; no PAN standing alone, e-mail local part or secret may stay whole. It fails with the PAN's
 * shape left out of the scan (a line with a PAN and no secret kept its PAN: 4 of 6 failed) and with the e-mail pass
 * skipped on a line holding neither (4 of 6 failed). Since PANs are masked in either case and glued (src/pii/scrub.ts
 * PAN_SHAPE_SOURCE), the frozen copy's line is compared with its PANs so masked (maskedPansAsScrubbed): it kept
 * `abcpe1234f` and `xABCPE1234Fy`.
 */

const SECRETS = ["bench-registration-id", "bench-company-code", "bench-api-key-0123456789"];
const PARTS: Record<string, readonly string[]> = {
  secret: ["", '"key":"bench-api-key-0123456789"', '"msg":"with bench-company-code in it"'],
  pan: ["", '"pan":"ABCPE1234F"', '"msg":"pan abcpe1234f here"', '"msg":"glued xABCPE1234Fy"', '"id":"ABCPE1234"'],
  email: ["", '"email":"someone.else@example.com"', '"msg":"write to a@b.co"'],
  mobile: ["", '"msg":"call 9876543210"', '"status":200'],
};

function* lines(): Generator<string> {
  for (const secret of PARTS.secret)
    for (const pan of PARTS.pan)
      for (const email of PARTS.email)
        for (const mobile of PARTS.mobile) {
          const members = [secret, pan, email, mobile].filter((m) => m !== "");
          yield `{"level":"info","time":1796557635637,"service":"aopay-graphql",${[...members, '"ms":3'].join(",")}}\n`;
        }
}

describe.each([
  ["registered secrets", SECRETS],
  ["no secrets", []],
])("scrubLine's one scan for a secret or a PAN, with %s", (_name, secrets) => {
  const now = new Scrubber(secrets);
  const frozen = new FrozenScrubber(secrets);

  it("writes every line as the frozen copy does", () => {
    let count = 0;
    for (const line of lines()) {
      expect([line, now.scrubLine(line)]).toEqual([line, maskedPansAsScrubbed(frozen.scrubLine(line), true, true)]);
      count++;
    }
    expect(count).toBe(3 * 5 * 3 * 3);
  });

  it("leaves no PAN standing alone, e-mail local part or registered secret whole", () => {
    for (const line of lines()) {
      const out = now.scrubLine(line);
      // A PAN in either case, glued to letters or not.
      expect(out).not.toMatch(/ABCPE1234F|someone\.else@|"a@b/i);
      if (secrets.length > 0) expect(out).not.toMatch(/bench-api-key-0123456789|bench-company-code/);
      expect(JSON.parse(out)).toBeInstanceOf(Object);
    }
  });

  it("keeps a line with none of them as it was", () => {
    const line = '{"level":"info","time":1796557635637,"service":"aopay-graphql","id":"ABCPE1234","ms":3}\n';
    expect(now.scrubLine(line)).toBe(line);
  });
});
