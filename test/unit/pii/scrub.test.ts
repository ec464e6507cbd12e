import { Scrubber } from "../../../src/pii/scrub";

describe("Scrubber", () => {
  const scrubber = new Scrubber(["AOP-554", "CMP1045"]);

  it("masks Aadhaar-shaped runs, plain or grouped", () => {
    expect(scrubber.scrub("aadhaar 999941057058 here")).toBe("aadhaar XXXX XXXX 7058 here");
    expect(scrubber.scrub("aadhaar 9999 4105 7058.")).toBe("aadhaar XXXX XXXX 7058.");
    expect(scrubber.scrub('{"AdhaarNumber":"234123412346"}')).toBe('{"AdhaarNumber":"XXXX XXXX 2346"}');
  });

  it("masks mobile-shaped runs, with or without +91/0", () => {
    expect(scrubber.scrub("sent to 9876543210")).toBe("sent to XXXXXX3210");
    expect(scrubber.scrub("sent to +91 9876543210")).toBe("sent to XXXXXX3210");
    expect(scrubber.scrub("sent to 09876543210")).toBe("sent to XXXXXX3210");
    expect(scrubber.scrub('"Mobile":9876543210}')).toBe('"Mobile":XXXXXX3210}');
  });

  it("masks PAN-shaped tokens and the local part of e-mail addresses", () => {
    expect(scrubber.scrub("PAN ABCPE1234F on file")).toBe("PAN XXXXXX234F on file");
    expect(scrubber.scrub('{"email_id":"asha.k@example.co.in"}')).toBe('{"email_id":"***@example.co.in"}');
    // A PAN-shaped run inside a longer token is left alone.
    expect(scrubber.scrub("idABCPE1234F")).toBe("idABCPE1234F");
  });

  it("replaces registered secrets wherever they appear", () => {
    expect(scrubber.scrub("RegistrationID=AOP-554;CompanyCode:CMP1045")).toBe(
      "RegistrationID=[REDACTED];CompanyCode:[REDACTED]",
    );
  });

  it("leaves ordinary numbers alone: timestamps, ids, short codes, numbers starting 0-5", () => {
    const text = '{"time":1732252800000,"ms":12,"code":"207","id":"4220112750","key":"1423489238","pid":41234}';
    expect(scrubber.scrub(text)).toBe(text);
  });

  it("leaves digit runs inside identifier tokens alone (request-id UUIDs, keys)", () => {
    const text = '{"requestId":"68f74483-ff9b-4582-bb53-6281738160bf","other":"ab12-999941057058","k":"x9876543210y"}';
    expect(scrubber.scrub(text)).toBe(text);
    expect(scrubber.scrub('{"requestId":"req-1","m":"9876543210"}')).toBe('{"requestId":"req-1","m":"XXXXXX3210"}');
  });

  it("ignores secrets shorter than four characters (they would mangle ordinary text)", () => {
    expect(new Scrubber(["ab"]).scrub("about abc")).toBe("about abc");
  });
});
