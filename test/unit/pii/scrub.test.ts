import {
  maskDigitRuns,
  maskGlued,
  maskNumberShapes,
  maskNumberShapesKeepingLast4,
  Scrubber,
} from "../../../src/pii/scrub";

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
    // Glued into a longer token too, in either case (src/pii/scrub.ts PAN_SHAPE_SOURCE): `idABCPE1234F` passed whole.
    expect(scrubber.scrub("idABCPE1234F")).toBe("idXXXXXX234F");
    expect(scrubber.scrub("pan_abcpe1234f")).toBe("pan_XXXXXX234F");
  });

  it("replaces registered secrets wherever they appear", () => {
    expect(scrubber.scrub("RegistrationID=AOP-554;CompanyCode:CMP1045")).toBe(
      "RegistrationID=[REDACTED];CompanyCode:[REDACTED]",
    );
  });

  it("leaves ordinary numbers alone: ids, short codes, numbers starting 0-5", () => {
    const text = '{"ms":12,"code":"207","id":"4220112750","key":"1423489238","pid":41234}';
    expect(scrubber.scrub(text)).toBe(text);
  });

  // The bare scrub ends with the log line's reading (asLogged): what the log line masks in a text, it masks. An epoch
  // time, a request id and a number glued into a token are kept only in their own place (a log line's own `time` and
  // `requestId`: src/pii/kept-forms.ts); a text has none, and there the log line masked them before the exits agreed.
  it("masks a number inside a token, an epoch time and a request id's run as the log line does in a text", () => {
    const text =
      '{"time":1732252800000,"requestId":"68f74483-ff9b-4582-bb53-6281738160bf","other":"ab12-999941057058",' +
      '"k":"x9876543210y"}';
    const asLogged = (t: string) =>
      (JSON.parse(scrubber.scrubLine(JSON.stringify({ level: "info", time: 1, msg: t }))) as { msg: string }).msg;
    expect(scrubber.scrub(text)).toBe(asLogged(text));
    expect(scrubber.scrub(text)).toBe(
      '{"time":XXXXXXXXXXXXX,"requestId":"68f74483-ff9b-4582-bbXX-XXXXXXXXXXbf","other":"abXX-XXXXXXXXXXXX",' +
        '"k":"xXXXXXXXXXXy"}',
    );
    expect(scrubber.scrub('{"requestId":"req-1","m":"9876543210"}')).toBe('{"requestId":"req-1","m":"XXXXXX3210"}');
  });

  // Spellings an audit got through the scrubber in upstream messages, an Origin header and an operation name.
  it.each([
    ["a mobile in groups of five", "call 98765 43210 now", "call XXXXXX3210 now"],
    ["a mobile with a dash", "call 98728-72123.", "call XXXXXX2123."],
    ["a mobile +91, dashed", "call +91 98728-72123", "call XXXXXX2123"],
    ["a mobile +91, glued", "call +919876543210", "call XXXXXX3210"],
    ["a mobile 3-3-4", "call 987 654 3210", "call XXXXXX3210"],
    ["a mobile with a no-break space", "call 98765\u00A043210", "call XXXXXX3210"],
    ["a mobile with a thin space", "call 98765\u200943210", "call XXXXXX3210"],
    ["an Aadhaar with dots", "uid 5788.9628.9123", "uid XXXX XXXX 9123"],
    ["an Aadhaar with dashes", "uid 2341-2341-2346", "uid XXXX XXXX 2346"],
    ["an Aadhaar 8-4", "uid 23412341-2346", "uid XXXX XXXX 2346"],
    ["an Aadhaar with narrow no-break spaces", "uid 2341\u202F2341\u202F2346", "uid XXXX XXXX 2346"],
    ["an Aadhaar after an underscore", "uid_234123412346", "uid_XXXX XXXX 2346"],
    ["an Aadhaar after a JSON newline escape", '{"msg":"a\\n234123412346"}', '{"msg":"a\\nXXXX XXXX 2346"}'],
    ["a mobile after a JSON tab escape", '{"msg":"a\\t9876543210"}', '{"msg":"a\\tXXXXXX3210"}'],
  ])("masks %s", (_what, text, masked) => {
    expect(scrubber.scrub(text)).toBe(masked);
  });

  // A letter between the groups, as a separator (pii/scrub.ts AADHAAR_SPLIT, MOBILE_SPLIT): it passed every mask, in
  // free text and in a log line alike.
  it.each([
    ["98765x43210", "XXXXXX3210"],
    ["call 98765X43210 now", "call XXXXXX3210 now"],
    ["987x654x3210.", "XXXXXX3210."],
    ["98765o43210", "XXXXXX3210"],
    ["uid 2341x2341x2346", "uid XXXX XXXX 2346"],
    ["uid 2341-2341x2346", "uid XXXX XXXX 2346"],
    // The letter beside separators and after a prefix, where MOBILE_RUN reads a separator: an attack review had each
    // pass every mask (the same spellings with `-` for the letter were masked).
    ["call 987-654x3210", "call XXXXXX3210"],
    ["call 98765 43x210", "call XXXXXX3210"],
    ["call 987.654.321o0", "call XXXXXX3210"],
    ["call +9198765x43210", "call XXXXXX3210"],
    ["call +91-98765x43210", "call XXXXXX3210"],
    ["call +91 98765x43210", "call XXXXXX3210"],
    ["call 0091-98765x43210", "call XXXXXX3210"],
    // An invisible character beside the letter (zero-width space, joiner, soft hyphen, byte order mark).
    ["call 98765\u200Bx43210", "call XXXXXX3210"],
    ["call 98765x\u200D43210", "call XXXXXX3210"],
    ["call 9876\u00ADx543210", "call XXXXXX3210"],
    ["uid 2341\uFEFFx2341x2346", "uid XXXX XXXX 2346"],
  ])("masks a number split by a letter %j, in text and in a log line", (text, masked) => {
    expect(scrubber.scrub(text)).toBe(masked);
    const line = JSON.stringify({ level: "info", time: 1796392274221, msg: text });
    expect(JSON.parse(scrubber.scrubLine(line))).toMatchObject({ msg: masked });
  });

  it.each([
    ["0x9876543210", "0xXXXXXXXXXX"],
    ["6281738160bf", "XXXXXXXXXXbf"],
    ["68f74483-ff9b-4582-bb53-6281738160bf", "68f74483-ff9b-4582-bbXX-XXXXXXXXXXbf"],
    // AOPay's reference is kept in its own place alone (src/pii/kept-forms.ts): a text is none.
    ["SPCBL2308181502437743aQaHNGxZM", "SPCBLXXXXXXXXXXXXXXXXaQaHNGxZM"],
  ])("masks a number glued into a token as the log line does: %j", (text, masked) => {
    expect(scrubber.scrub(text)).toBe(masked);
    const line = JSON.stringify({ level: "info", time: 1, msg: text });
    expect(JSON.parse(scrubber.scrubLine(line))).toMatchObject({ msg: masked });
  });

  it.each([
    "1920x1080",
    "ab9876x43210",
    "98765x43210x",
    "2026-12-04T13:45:12Z",
    "9876x54321",
    "98765a43210",
    "98765F43210",
    "+91x9876x543210",
    "0x98765-43x210",
    "98765-43x210y",
    "98765\u200Bxx43210",
  ])("keeps a token split by letters that is no number standing alone: %j", (text) => {
    expect(scrubber.scrub(text)).toBe(text);
  });

  it("still leaves numbers that are not identifiers alone: IPs, dates, times, amounts, UUIDs, trace ids", () => {
    const text =
      '{"ip":"192.100.113.200","date":"2026-12-02","at":"08:02:40.123","amount":"1,234,567.89","ms":1033123456789,' +
      '"requestId":"68f74483-ff9b-4582-bb53-123412341234","traceId":"4bf92f3577b34da6a3ce929d0e0e4736","v":"1.12.123.1234"}';
    expect(scrubber.scrub(text)).toBe(text);
  });

  // Decided (src/pii/kept-forms.ts MASKED_LOOK_ALIKES): an IP-shaped value that is an Aadhaar number's shape, an epoch
  // time in a text (13 digits holding a mobile's) and a request id's run that reads as a number are masked at every
  // exit, as the log line masked them: fail closed.
  it("masks a dotted quad of an Aadhaar number's shape, an epoch time in a text, a request id's number", () => {
    expect(scrubber.scrub("ip 203.100.113.200")).toBe("ip XXX.XXX.XXX.XXX");
    expect(scrubber.scrub("at 1733123456789")).toBe("at XXXXXXXXXXXXX");
    expect(scrubber.scrub("id 68f74483-ff9b-4582-bb53-628173816012")).toBe("id 68f74483-ff9b-4582-bbXX-XXXXXXXXXXXX");
  });

  describe("forRequest: what AOPay answers one request, scrubbed of that request's own values too", () => {
    const call = scrubber.forRequest(["40719263", "tokECHO7f3a9c55", "9182736450", "ab", undefined, null]);

    it("redacts an OTP or token that has no shape to recognise, wherever it appears", () => {
      expect(call.scrub("40719263")).toBe("[REDACTED]");
      expect(call.scrub("otp=40719263;t=tokECHO7f3a9c55")).toBe("otp=[REDACTED];t=[REDACTED]");
    });

    it("masks shapes first, so a mobile keeps its readable mask; glued into a token, it is redacted", () => {
      expect(call.scrub("to 9182736450")).toBe("to XXXXXX6450");
      expect(call.scrub("MT918273645040719263")).toBe("MT[REDACTED][REDACTED]");
    });

    it("masks a PAN in either case, as the log's scrubber does (it masked capitals alone until pan-any-case)", () => {
      expect(call.scrub("pan abcpk9859q, ABCPK9859Q")).toBe("pan XXXXXX859Q, XXXXXX859Q");
      expect(scrubber.scrub("pan abcpk9859q")).toBe("pan XXXXXX859Q");
    });

    it("redacts the longer of two values that contain each other whole", () => {
      expect(scrubber.forRequest(["7319", "73190455"]).scrub("id 73190455")).toBe("id [REDACTED]");
    });

    it("ignores values shorter than four characters", () => {
      expect(call.scrub("about ab")).toBe("about ab");
      // The registered secrets still apply.
      expect(call.scrub("AOP-554")).toBe("[REDACTED]");
    });

    // An upstream echo keeps neither the case nor the spelling of what it echoes (upstream audit).
    it("redacts the secrets and the request's values in any letter case", () => {
      expect(call.scrub("partner aop-554 / Cmp1045")).toBe("partner [REDACTED] / [REDACTED]");
      expect(call.scrub("token TOKECHO7F3A9C55")).toBe("token [REDACTED]");
      expect(scrubber.forRequest(["Zebediah"]).scrub("NAME: ZEBEDIAH ECHO")).toBe("NAME: [REDACTED] ECHO");
    });

    it("redacts the request's own numbers however their digits are spaced", () => {
      for (const spelt of ["4 0 7 1 9 2 6 3", "4071-9263", "40 71 92 63"])
        expect(call.scrub(`otp ${spelt}.`)).toBe("otp [REDACTED].");
      for (const spelt of ["91827  36450", "(91827) 36450", "91827_36450", "918 273 6450", "91827 - 36450"])
        expect(call.scrub(`to ${spelt}`)).not.toMatch(/918|273|36450/);
      const aadhaar = scrubber.forRequest(["999971658847"]);
      for (const spelt of ["999 971 658 847", "9999_7165_8847", "9999/7165/8847"])
        expect(aadhaar.scrub(`uid ${spelt}`)).toBe("uid [REDACTED]");
    });

    it("reads percent-escapes and compatibility forms first (a value inside a URL, fullwidth digits)", () => {
      const none = scrubber.forRequest([]);
      expect(none.scrub("https://x.example/?a=2341%202341%202346&m%3D9876543210")).toBe(
        "https://x.example/?a=XXXX XXXX 2346&m=XXXXXX3210",
      );
      expect(none.scrub("r=%41%4F%50%2D%35%35%34 and %2541OP-554")).toBe("r=[REDACTED] and [REDACTED]");
      expect(none.scrub("\uFF19\uFF18\uFF17\uFF16\uFF15\uFF14\uFF13\uFF12\uFF11\uFF10")).toBe("XXXXXX3210");
      // A byte that is not UTF-8 reads as U+FFFD, and does not glue to the number behind it.
      expect(none.scrub("%FF%39%38%37%36%35%34%33%32%31%30")).toBe("\uFFFDXXXXXX3210");
    });

    // An attack review: a message in Hindi writes numbers in Devanagari digits, which NFKC leaves alone.
    it.each([
      ["Devanagari", "मोबाइल ९८७६५४३२१० पर, आधार २३४१ २३४१ २३४६", "मोबाइल XXXXXX3210 पर, आधार XXXX XXXX 2346"],
      ["Bengali", "মোবাইল ৯৮৭৬৫৪৩২১০", "মোবাইল XXXXXX3210"],
      ["Arabic-Indic", "\u0669\u0668\u0667\u0666\u0665\u0664\u0663\u0662\u0661\u0660", "XXXXXX3210"],
      ["Gujarati, mixed with ASCII", "૯૮૭૬૫43210", "XXXXXX3210"],
    ])("reads the digits of other scripts as digits (%s)", (_script, text, scrubbed) => {
      expect(scrubber.forRequest([]).scrub(text)).toBe(scrubbed);
    });

    it("redacts the request's own values written in the digits of another script", () => {
      expect(call.scrub("OTP ४०७१९२६३")).toBe("OTP [REDACTED]");
      expect(call.scrub("MT९१८२७३६४५०४०७१९२६३")).toBe("MT[REDACTED][REDACTED]");
      expect(call.identifier("PK९१८२७३६४५०")).toBe("PK[REDACTED]");
    });

    it("identifier: hands an issued id on exactly as it came, unless it holds a secret or a request value", () => {
      // AOPay's example keys, and a key that reads as a mobile or an Aadhaar number: untouched (the client sends it back).
      for (const id of ["1423489238", "4220112750", "9423489238", "234123412346", "USER_TO_INPUT_ANSWER", "TEST%20X"])
        expect(call.identifier(id)).toBe(id);
      expect(call.identifier("k-aop-554")).toBe("k-[REDACTED]");
      expect(call.identifier("k%2DAOP%2D554")).toBe("k-[REDACTED]");
      expect(call.identifier("pk_9182736450_40719263")).toBe("pk_XXXXXX6450_[REDACTED]");
      // Once it holds one it cannot be handed on: scrubbed as free text, shapes masked too.
      expect(call.identifier("AOP-554 uid 999971658847")).toBe("[REDACTED] uid XXXX XXXX 8847");
      expect(scrubber.identifier("cmp1045:9876543210")).toBe("[REDACTED]:XXXXXX3210");
      expect(scrubber.identifier("9876543210")).toBe("9876543210");
    });

    // A CIBIL id AOPay issued held a numeric company code among its digits and reached the client as `800[REDACTED]02`,
    // which it could not send back: the customer's flow ended there.
    it("identifier: a short number (under 8 digits) counts only as a whole run of digits, not inside a longer one", () => {
      const numeric = new Scrubber(["4471", "BENCH-REG-0001"]);
      for (const id of ["800447102", "44710", "04471", "800४४७१02", "800%34%34%37%3102", "1234567890447102"])
        expect(numeric.identifier(id)).toBe(id);
      // Standing whole (letters or separators beside it, or alone), it is an echo: redacted in any spelling.
      expect(numeric.identifier("4471")).toBe("[REDACTED]");
      expect(numeric.identifier("CMP-4471-x")).toBe("CMP-[REDACTED]-x");
      expect(numeric.identifier("cc4471")).toBe("cc[REDACTED]");
      expect(numeric.identifier("800 4471 02")).toBe("800 [REDACTED] 02");
      expect(numeric.identifier("k%34%34%37%31")).toBe("k[REDACTED]");
      expect(numeric.identifier("id४४७१")).toBe("id[REDACTED]");
      // A secret that is not a short number is still found anywhere, and with it the short one too.
      expect(numeric.identifier("800bench-reg-000147102")).toBe("800[REDACTED]47102");
      expect(numeric.identifier("8004471BENCH-REG-0001")).toBe("800[REDACTED][REDACTED]");

      // The request's own values the same way: a 6-digit OTP inside a longer run is a different number...
      const otp = numeric.forRequest(["482913", "19900101", "9182736450"]);
      for (const id of ["948291307", "4829130", "94829131"]) expect(otp.identifier(id)).toBe(id);
      // ...but whole, spaced as the echoes audits found (`4 8 2 9 1 3`), or glued to letters, it is redacted.
      expect(otp.identifier("TXN482913")).toBe("TXN[REDACTED]");
      expect(otp.identifier("k-4 8 2 9 1 3")).toBe("k-[REDACTED]");
      expect(otp.identifier("482913")).toBe("[REDACTED]");
      // Values of 8 digits or more are found anywhere, inside a longer run too: a date of birth, a mobile.
      expect(otp.identifier("31990010125")).toBe("3[REDACTED]25");
      expect(otp.identifier("19182736450")).toBe("1[REDACTED]");
    });

    // An attack review: a digit that exists only once the id is read (a percent-escape, a superscript or circled digit
    // NFKC folds) glued the number in that reading alone, and the id went to the client as issued, the company code
    // (or the request's number) standing whole in what it was shown.
    it("identifier: a short number glued to digits only in its reading (`%31`, `¹`, `①`) is redacted", () => {
      const numeric = new Scrubber(["4471", "BENCH-REG-0001"]);
      for (const id of ["4471%31", "4471①", "①4471", "4471¹", "₁4471", "४४७१%31", "%34%34%37%31①"])
        expect({ id, out: numeric.identifier(id) }).toEqual({ id, out: expect.stringContaining("[REDACTED]") });
      const otp = numeric.forRequest(["482913", "9362678"]);
      for (const id of ["482913①", "²482913", "9362678%30", "k%39362678"])
        expect({ id, out: otp.identifier(id) }).toEqual({ id, out: expect.stringContaining("[REDACTED]") });
      // Glued to digits as written, and in every reading, it is still a different number: handed on as issued.
      for (const id of ["%344471", "1%344471", "800４４７１02", "１4471"]) expect(numeric.identifier(id)).toBe(id);
      for (const id of ["9482913", "%394829130"]) expect(otp.identifier(id)).toBe(id);
    });

    // An attack review: a `%` before a value whose first two characters are hex digits reads as one character
    // (`%BE` is a byte that is not UTF-8: U+FFFD), so the value was no longer found in the text's reading: an id went
    // to the client whole, a message read with most of the value's characters (`\uFFFDNCH-REG-0001`, `H2913`).
    it("a value that reading the text would break (`%BENCH-REG-0001`, `%482913`) is redacted as written first", () => {
      const secrets = new Scrubber(["4471", "BENCH-REG-0001", "CAFE-5150"]);
      const call = secrets.forRequest(["482913", "9182736450", "bench-token-42"]);
      for (const [text, id] of [
        ["%BENCH-REG-0001", "%[REDACTED]"],
        ["id%bench-reg-0001x", "id%[REDACTED]x"],
        ["%4471", "%[REDACTED]"],
        ["k%CAFE-5150", "k%[REDACTED]"],
      ]) {
        expect({ text, out: secrets.identifier(text) }).toEqual({ text, out: id });
        expect({ text, out: call.identifier(text) }).toEqual({ text, out: id });
        expect({ text, out: call.scrub(text) }).toEqual({ text, out: id });
      }
      for (const [text, out] of [
        ["%482913", "%[REDACTED]"],
        ["TXN%9182736450", "TXN%[REDACTED]"],
        ["%bench-token-42", "%[REDACTED]"],
        ["sent %48 29 13 to %9182736450", "sent %[REDACTED] to %[REDACTED]"],
      ]) {
        expect({ text, out: call.identifier(text) }).toEqual({ text, out });
        expect({ text, out: call.scrub(text) }).toEqual({ text, out });
      }
      // What reading does not break is read as before: an escape beside a value, or one that spells it.
      expect(call.scrub("100%25 done, %41%42 ok")).toBe("100% done, AB ok");
      expect(call.scrub("r=%34%38%32%39%31%33")).toBe("r=[REDACTED]");
      expect(secrets.identifier("x%2DBENCH-REG-0001")).toBe("x-[REDACTED]");
      expect(call.identifier("%41%42")).toBe("%41%42");
    });
  });

  it("maskDigitRuns masks every run of ten or more digits, glued or separated, and leaves ports and years", () => {
    expect(maskDigitRuns("https://x234123412346.example:8443")).toBe("https://xXXXXXXXXXXXX.example:8443");
    expect(maskDigitRuns("https://98287 35123.example")).toBe("https://XXXXX XXXXX.example");
    expect(maskDigitRuns("https://app-2026.example.com:4000")).toBe("https://app-2026.example.com:4000");
    expect(maskDigitRuns("a 123456789 b", 9)).toBe("a XXXXXXXXX b");
  });

  it.each([
    // An attack review's spellings: digits of other scripts, and what hides a run's length between its digits.
    ["x98765_43210", "xXXXXX_XXXXX"],
    ["(98765) 43210", "(XXXXX) XXXXX"],
    ["98765\u200b43210", "XXXXX\u200bXXXXX"],
    ["2341\u00ad2341\u00ad2346", "XXXX\u00adXXXX\u00adXXXX"],
    ["98765/43210", "XXXXX/XXXXX"],
    ["９８７６５４３２１０", "XXXXXXXXXX"],
    ["९८७६५४३२१०", "XXXXXXXXXX"],
    ["m①②③④⑤⑥⑦⑧⑨⓪", "mXXXXXXXXXX"],
  ])("maskDigitRuns masks %j as %j", (text, masked) => {
    expect(maskDigitRuns(text)).toBe(masked);
  });

  it("maskDigitRuns leaves a host and its port readable, and runs split by letters", () => {
    expect(maskDigitRuns("http://127.0.0.1:40123")).toBe("http://127.0.0.1:40123");
    expect(maskDigitRuns("a1c2e3f4-0b1d-4e2f-8a3b-4c5d6e7f8a9b")).toBe("a1c2e3f4-0b1d-4e2f-8a3b-4c5d6e7f8a9b");
  });

  it("maskGlued also masks PAN shapes glued to a name, in either case", () => {
    expect(maskGlued("panCNRPY7315Q")).toBe("panXXXXXX315Q");
    expect(maskGlued("x_cnrpy7315q")).toBe("x_XXXXXX315Q");
    expect(maskGlued("ＣＮＲＰＹ７３１５Ｑ")).toBe("XXXXXX315Q");
    expect(maskGlued("ResendAepsOtpInput")).toBe("ResendAepsOtpInput");
  });

  it("ignores secrets shorter than four characters (they would mangle ordinary text)", () => {
    expect(new Scrubber(["ab"]).scrub("about abc")).toBe("about abc");
  });
});

describe("maskNumberShapes (AOPay's references and codes, src/aopay/outcome.ts scrubbedReference)", () => {
  it.each([
    ["MT9876543210", "MTXXXXXXXXXX"],
    ["MT09876543210", "MTXXXXXXXXXXX"],
    ["MT919876543210", "MTXXXXXXXXXXXX"],
    ["x98765_43210y", "xXXXXX_XXXXXy"],
    ["AOP234123412346", "AOPXXXXXXXXXXXX"],
    ["refcnrpy7315q", "refXXXXXX315Q"],
    ["MT９８７６５４３２１０", "MTXXXXXXXXXX"],
  ])("masks a glued number that reads whole as a mobile, an Aadhaar number or a PAN: %s", (text, masked) => {
    expect(maskNumberShapes(text)).toBe(masked);
  });

  it.each([
    // The simulator's reference: a run of 12 digits that holds neither shape, kept so that support can quote it.
    "SIMCBL000000000001",
    "SPC-200",
    "MT987654321",
    "MT5876543210",
    "MT123412341234",
    "TXN12345678901",
  ])("keeps a run that holds neither shape whole: %s", (text) => {
    expect(maskNumberShapes(text)).toBe(text);
  });

  it.each([
    // A mobile or an Aadhaar number glued to other digits is still the number: until this round a run of 10 to 14
    // digits was masked only when it was a number whole, a longer one never.
    ["MT98765432101", "MTXXXXXXXXXXX"],
    ["MT19876543210", "MTXXXXXXXXXXX"],
    ["9876543210123456", "XXXXXXXXXXXXXXXX"],
    ["ref 98765432100000000000000000000000", `ref ${"X".repeat(32)}`],
    ["TXN1234567890123", "TXNXXXXXXXXXXXXX"],
    // The documented reference's form outside scrubbedMerchantReference: its 16 digits hold a mobile-shaped part.
    ["SPCBL2308181506522334ZiSHM7bAe", "SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe"],
  ])("masks a run of digits that holds a mobile or an Aadhaar number glued to other digits: %s", (text, masked) => {
    expect(maskNumberShapes(text)).toBe(masked);
  });
});

describe("maskNumberShapesKeepingLast4 (the CIBIL question's texts, src/aopay/outcome.ts scrubbedQuestionText)", () => {
  it.each([
    ["A/c MT9876543210", "A/c MTXXXXXX3210"],
    ["MT09876543210", "MTXXXXXXX3210"],
    ["MT919876543210", "MTXXXXXXXX3210"],
    ["x98765_43210y", "xXXXXX_X3210y"],
    ["AOP234123412346", "AOPXXXXXXXX2346"],
    ["AOP2341-2341-2346z", "AOPXXXX-XXXX-2346z"],
    ["refcnrpy7315q", "refXXXXXX315Q"],
    ["MT９８７６５４３２１０", "MTXXXXXX3210"],
    ["MT९८७६५४३२१०", "MTXXXXXX३२१०"],
  ])("keeps the last four digits of a glued mobile or Aadhaar number: %s", (text, masked) => {
    expect(maskNumberShapesKeepingLast4(text)).toBe(masked);
  });

  it.each(["SIMCBL000000000001", "MT987654321", "MT5876543210", "TXN12345678901", "ends in 3210"])(
    "keeps what maskNumberShapes keeps: %s",
    (text) => {
      expect(maskNumberShapesKeepingLast4(text)).toBe(text);
    },
  );

  it("masks exactly where maskNumberShapes does, digit for digit but the last four", () => {
    for (const text of ["a MT9876543210 b AOP234123412346 c", "9876543210", "x+919876543210", "0 98765 43210"]) {
      const whole = maskNumberShapes(text);
      const kept = maskNumberShapesKeepingLast4(text);
      expect(kept.length).toBe(whole.length);
      expect(kept.replace(/[0-9]/g, "X")).toBe(whole.replace(/[0-9]/g, "X"));
    }
  });
});

/**
 * The letter-split rule's documented edges (docs/security.md): what it masks over, and the gaps it leaves as written.
 */
describe("letter-split numbers: the documented over-mask and gaps", () => {
  const scrubber = new Scrubber([]);
  const line = (t: string) =>
    (JSON.parse(scrubber.scrubLine(JSON.stringify({ level: "info", time: 1, msg: t }))) as { msg: string }).msg;

  it.each([["20261206T1250", "XXXX XXXX 1250"]])(
    "a time to the minute, %s, is masked as an Aadhaar number (over-mask accepted)",
    (t, masked) => {
      expect(scrubber.scrub(t)).toBe(masked);
      expect(line(t)).toBe(masked);
    },
  );

  it.each(["20261206T125000", "2026-12-04 13:45:12"])("with seconds, %s stays", (t) => {
    expect(scrubber.scrub(t)).toBe(t);
    expect(line(t)).toBe(t);
  });

  it.each(["mob98765x43210", "98765 x 43210", "09876x543210"])("a known gap, %s, is shown as written", (t) => {
    // If one of these becomes masked, update docs/security.md ("Known gaps of this rule").
    expect(scrubber.scrub(t)).toBe(t);
    expect(line(t)).toBe(t);
    expect(maskNumberShapes(scrubber.forRequest([]).scrub(t))).toBe(t);
  });
});
