import { randomUUID } from "node:crypto";
import { SIM_OTP } from "../../src/simulator/state";
import { nextAadhaar, nextAepsRegistration, nextCibilId, nextMobile, registrationInput } from "../helpers/identifiers";
import { aepsInput, GENERATE_CIBIL_OTP, RESEND_AEPS_OTP, resultOf, VALID_AADHAAR } from "../helpers/operations";
import { deletePrefixes, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type ProductionTestStack, startProductionStack, TEST_API_KEY, type WireRequest } from "../helpers/stack";

/**
 * One identifier, one budget, one wire value (docs/security-requirements.md B1, C1-C3): every identifier is
 * canonicalised once, at validation, to exactly the form AOPay receives, and that value keys every throttle, consent
 * record, idempotency fingerprint and DataLoader. Each table feeds equivalent spellings of one identifier, in both
 * orders, one after the other and at once, against the production configuration with the real per-destination budgets,
 * and asserts one budget (the second spelling meets OTP_COOLDOWN, the upstream count stays 1) and one canonical value
 * on the wire. Spellings whose equivalence the upstream docs do not establish are refused or treated as distinct, never
 * merged by guesswork; those tables assert that too.
 */
const REAL_BUDGETS: Record<string, string> = {
  OTP_COOLDOWN_SECONDS: "60",
  OTP_WINDOW_MAX: "3",
  OTP_DAILY_MAX: "10",
  OTP_PREFIX_MAX: "50",
  OTP_IP_MAX: "50",
  OTP_CLIENT_MAX: "300",
  OTP_GLOBAL_MAX: "1000",
  OTP_VERIFY_MAX: "2",
};
const auth = { "x-api-key": TEST_API_KEY };

const SUBMIT = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) {
  __typename ... on CibilOtpVerified { status } ... on Failure { code } } }`;
const VERIFY = `mutation($input: VerifyAepsOtpInput!) { verifyAepsOtp(input: $input) { __typename ... on Failure { code } } }`;
const REGISTER = `mutation($input: RegisterCibilCustomerInput!) { registerCibilCustomer(input: $input) {
  __typename ... on CibilCustomerRegistered { cibilId accessToken } ... on Failure { code } } }`;
const GENERATE_CHALLENGE = `mutation($input: GenerateCibilOtpInput!) { generateCibilOtp(input: $input) {
  __typename ... on CibilOtpChallenge { question { key answerChoices { key } } } ... on Failure { code } } }`;
const HISTORY = `query($cibilId: String!) { cibilCreditHistory(cibilId: $cibilId) { __typename ... on Failure { code } } }`;

/**
 * A new CIBIL access token per request: the token is a destination of its own (src/graphql/guarded-mutations.ts
 * CIBIL_TOKEN), so only the CIBIL id's budget can refuse a spelling here.
 */
let tokens = 0;
const freshToken = () => `tok-canonical-${++tokens}`;

const spaced = (aadhaar: string) => aadhaar.replace(/^(....)(....)(....)$/, "$1 $2 $3");

function suite(name: string, env: () => Record<string, string>) {
  describe(name, () => {
    let t: ProductionTestStack;
    let stackEnv: Record<string, string> = {};
    beforeAll(async () => {
      stackEnv = env();
      t = await startProductionStack({ ...REAL_BUDGETS, ...stackEnv });
    });
    afterAll(async () => {
      await t?.stop();
      // Its budgets live for up to a day (OTP_DAILY_MAX's window): not left in a shared Redis.
      if (stackEnv.REDIS_KEY_PREFIX) await deletePrefixes([stackEnv.REDIS_KEY_PREFIX]);
    });
    beforeEach(() => {
      t.simulator.resetCalls();
      t.received.length = 0;
    });
    const wire = (endpoint: WireRequest["endpoint"]) =>
      t.received.filter((r) => r.endpoint === endpoint).map((r) => r.body);
    const generate = async (cibilId: string, headers: Record<string, string> = {}) =>
      resultOf(
        (await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken: freshToken() } }, { ...auth, ...headers }))
          .body,
        "generateCibilOtp",
      );

    describe("CIBIL id: leading zeros are the same id (GenerateOTP sends cibil_id as a number)", () => {
      it.each([
        ["canonical first", (id: string) => [id, `0${id}`, `00${id}`, `00000${id}`]],
        ["zero-padded first", (id: string) => [`00${id}`, id, `0${id}`]],
        ["the longest padding first", (id: string) => [id.padStart(15, "0"), `0${id}`, id]],
      ])(
        "generateCibilOtp, %s: one send, the rest OTP_COOLDOWN, AOPay saw the canonical number once",
        async (_order, spellings) => {
          const id = nextCibilId();
          const [first, ...rest] = spellings(id);
          expect((await generate(first)).__typename).toBe("CibilOtpChallenge");
          for (const spelling of rest)
            expect(await generate(spelling)).toMatchObject({
              __typename: "OtpThrottled",
              code: "OTP_COOLDOWN",
              scope: "DESTINATION",
            });
          expect(t.simulator.calls("cibil.generateOtp")).toBe(1);
          expect(wire("cibil.generateOtp")).toEqual([expect.objectContaining({ cibil_id: Number(id) })]);
        },
      );

      it("spellings written inline in the document, and sent by variables, are one id", async () => {
        const id = nextCibilId();
        const inline = await t.gql(
          `mutation { generateCibilOtp(input: { cibilId: "00${id}", accessToken: "${freshToken()}" }) { __typename } }`,
          undefined,
          auth,
        );
        expect(resultOf(inline.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
        expect(await generate(`0${id}`)).toMatchObject({ code: "OTP_COOLDOWN" });
        expect(t.simulator.calls()).toBe(1);
        expect(wire("cibil.generateOtp")[0].cibil_id).toBe(Number(id));
      });

      it("the same Idempotency-Key with another spelling replays (one fingerprint), and a new key meets the cooldown", async () => {
        const id = nextCibilId();
        const key = randomUUID();
        const accessToken = freshToken();
        const first = await t.gql(
          GENERATE_CIBIL_OTP,
          { input: { cibilId: id, accessToken } },
          { ...auth, "idempotency-key": key },
        );
        const again = await t.gql(
          GENERATE_CIBIL_OTP,
          { input: { cibilId: `000${id}`, accessToken } },
          { ...auth, "idempotency-key": key },
        );
        expect(again.headers["idempotent-replayed"]).toBe("true");
        expect(again.body).toEqual(first.body);
        expect(await generate(`0${id}`, { "idempotency-key": randomUUID() })).toMatchObject({ code: "OTP_COOLDOWN" });
        expect(t.simulator.calls()).toBe(1);
      });

      it("six spellings at once: exactly one reaches AOPay", async () => {
        const id = nextCibilId();
        const results = await Promise.all([0, 1, 2, 3, 4, 5].map((zeros) => generate(`${"0".repeat(zeros)}${id}`)));
        expect(results.filter((r) => r.__typename === "CibilOtpChallenge")).toHaveLength(1);
        expect(results.filter((r) => r.code === "OTP_COOLDOWN")).toHaveLength(5);
        expect(t.simulator.calls()).toBe(1);
        expect(wire("cibil.generateOtp")[0].cibil_id).toBe(Number(id));
      });

      // The token is budgeted too (guarded-mutations.ts CIBIL_TOKEN), in any case: AOPay's docs do not say whether it
      // finds the customer by the CIBIL id or by the token. Before, a new CIBIL id per request was a new budget.
      it("generateCibilOtp: a send repeating the access token just sent with, in either case, under a new CIBIL id, meets the cooldown", async () => {
        const accessToken = freshToken();
        const send = (cibilId: string, token: string) =>
          t
            .gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken: token } }, auth)
            .then((r) => resultOf(r.body, "generateCibilOtp"));
        expect((await send(nextCibilId(), accessToken)).__typename).toBe("CibilOtpChallenge");
        for (const spelling of [accessToken, accessToken.toUpperCase()]) {
          expect(await send(nextCibilId(), spelling)).toMatchObject({
            __typename: "OtpThrottled",
            code: "OTP_COOLDOWN",
            scope: "DESTINATION",
          });
        }
        expect(t.simulator.calls()).toBe(1);
        expect(wire("cibil.generateOtp")[0].access_token).toBe(accessToken);
      });

      it("submitCibilOtp: guesses repeating one access token under new CIBIL ids share one verification budget", async () => {
        const accessToken = freshToken();
        const submit = (token: string, otp: string) =>
          t
            .gql(
              SUBMIT,
              { input: { cibilId: nextCibilId(), accessToken: token, otp, questionKey: "k", answerKey: "a" } },
              auth,
            )
            .then((r) => resultOf(r.body, "submitCibilOtp"));
        // OTP_VERIFY_MAX is 2 here (REAL_BUDGETS).
        expect((await submit(accessToken, "1111")).code).not.toBe("VERIFY_LIMIT_REACHED");
        expect((await submit(accessToken.toUpperCase(), "2222")).code).not.toBe("VERIFY_LIMIT_REACHED");
        expect(await submit(accessToken, "3333")).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
        expect(t.simulator.calls("cibil.submitOtp")).toBe(2);
      });

      it("submitCibilOtp: guesses under every spelling share one verification budget, and SubmitOTP gets the canonical digits", async () => {
        const id = nextCibilId();
        const submit = (cibilId: string, otp: string) =>
          t
            .gql(SUBMIT, { input: { cibilId, accessToken: freshToken(), otp, questionKey: "k", answerKey: "a" } }, auth)
            .then((r) => resultOf(r.body, "submitCibilOtp"));
        expect((await submit(id, "1111")).code).not.toBe("VERIFY_LIMIT_REACHED");
        expect((await submit(`0${id}`, "2222")).code).not.toBe("VERIFY_LIMIT_REACHED");
        expect(await submit(`00${id}`, "3333")).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
        expect(await submit(`000${id}`, "4444")).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
        expect(t.simulator.calls("cibil.submitOtp")).toBe(2);
        expect(wire("cibil.submitOtp").map((b) => b.cibil_id)).toEqual([id, id]);
      });

      it("submitCibilOtp: twenty guesses at once, under every spelling, with and without Idempotency-Keys: two reach AOPay", async () => {
        // The budget's check and its take are one step (in memory, one synchronous call; in Redis, one script): an
        // audit sent 40 at once, in memory, Redis and with two workers, and saw OTP_VERIFY_MAX reach AOPay each time.
        const id = nextCibilId();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            t
              .gql(
                SUBMIT,
                {
                  input: {
                    cibilId: `${"0".repeat(i % 4)}${id}`,
                    accessToken: freshToken(),
                    otp: String(1000 + i),
                    questionKey: "k",
                    answerKey: "a",
                  },
                },
                i % 2 ? { ...auth, "idempotency-key": `guess-${id}-${i}` } : auth,
              )
              .then((r) => resultOf(r.body, "submitCibilOtp")),
          ),
        );
        expect(results.filter((r) => r.code === "VERIFY_LIMIT_REACHED")).toHaveLength(18);
        expect(t.simulator.calls("cibil.submitOtp")).toBe(2);
      });

      it("consent and credit history: verified under one spelling, readable under another, read once per canonical id", async () => {
        const reg = resultOf(
          (await t.gql(REGISTER, { input: registrationInput() }, auth)).body,
          "registerCibilCustomer",
        ) as unknown as { cibilId: string; accessToken: string };
        const challenge = resultOf(
          (
            await t.gql(
              GENERATE_CHALLENGE,
              { input: { cibilId: `0${reg.cibilId}`, accessToken: reg.accessToken } },
              auth,
            )
          ).body,
          "generateCibilOtp",
        );
        const question = challenge.question as { key: string; answerChoices: Array<{ key: string }> };
        // Before verification: no consent under any spelling.
        expect(
          resultOf((await t.gql(HISTORY, { cibilId: `00${reg.cibilId}` }, auth)).body, "cibilCreditHistory"),
        ).toMatchObject({ code: "CONSENT_REQUIRED" });
        const verified = resultOf(
          (
            await t.gql(
              SUBMIT,
              {
                input: {
                  cibilId: `00${reg.cibilId}`,
                  accessToken: reg.accessToken,
                  otp: SIM_OTP,
                  questionKey: question.key,
                  answerKey: question.answerChoices[0].key,
                },
              },
              auth,
            )
          ).body,
          "submitCibilOtp",
        );
        expect(verified).toMatchObject({ __typename: "CibilOtpVerified", status: "SUCCESS" });
        for (const spelling of [reg.cibilId, `0${reg.cibilId}`, reg.cibilId.padStart(15, "0")]) {
          expect(
            resultOf((await t.gql(HISTORY, { cibilId: spelling }, auth)).body, "cibilCreditHistory").__typename,
          ).toBe("CibilCreditHistory");
        }
        // Two spellings in one operation are one DataLoader key: one upstream read.
        const before = t.simulator.calls("cibil.creditHistory");
        const both = await t.gql(
          `{ a: cibilCreditHistory(cibilId: "${reg.cibilId}") { __typename } b: cibilCreditHistory(cibilId: "000${reg.cibilId}") { __typename } }`,
          undefined,
          auth,
        );
        expect(both.body.data).toEqual({
          a: { __typename: "CibilCreditHistory" },
          b: { __typename: "CibilCreditHistory" },
        });
        expect(t.simulator.calls("cibil.creditHistory")).toBe(before + 1);
        expect(new Set(wire("cibil.creditHistory").map((b) => b.cibil_id))).toEqual(new Set([reg.cibilId]));
        expect(
          new Set([...wire("cibil.generateOtp"), ...wire("cibil.submitOtp")].map((b) => String(b.cibil_id))),
        ).toEqual(new Set([reg.cibilId]));
      });

      it.each([
        " 760191459",
        "760191459 ",
        "7601 91459",
        "+760191459",
        "-760191459",
        "७६०१९१४५९",
        "７６０１９１４５９",
        "0x2D4F6A63",
        "7.6e8",
        "1234567890123456",
      ])("refuses %j before any budget or upstream call", async (spelling) => {
        const res = await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: spelling, accessToken: freshToken() } }, auth);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
        expect(t.simulator.calls()).toBe(0);
      });
    });

    describe("Aadhaar: 12 digits or three spaced groups of four are one number", () => {
      // A fresh registration each time: only the Aadhaar's budget is under test.
      const aeps = (mobile: string, aadhaar: string, extra: Record<string, string> = {}) => ({
        input: { ...nextAepsRegistration(), mobile, aadhaar, ...extra },
      });
      const resend = async (mobile: string, aadhaar: string) =>
        resultOf((await t.gql(RESEND_AEPS_OTP, aeps(mobile, aadhaar), auth)).body, "resendAepsOtp");

      it.each([
        ["plain first", (a: string) => [a, spaced(a)]],
        ["spaced first", (a: string) => [spaced(a), a]],
      ])(
        "resendAepsOtp, %s: the second spelling (with another mobile) meets the Aadhaar's cooldown",
        async (_order, spellings) => {
          const aadhaar = nextAadhaar();
          const [first, second] = spellings(aadhaar);
          const mobile = nextMobile();
          expect((await resend(mobile, first)).__typename).toBe("AepsOtpResent");
          expect(await resend(nextMobile(), second)).toMatchObject({
            __typename: "OtpThrottled",
            code: "OTP_COOLDOWN",
          });
          expect(t.simulator.calls()).toBe(1);
          expect(wire("aeps.resendOtp")).toEqual([
            expect.objectContaining({ AdhaarNumber: aadhaar, Mobile: Number(mobile) }),
          ]);
        },
      );

      it("both spellings at once: exactly one reaches AOPay", async () => {
        const aadhaar = nextAadhaar();
        const results = await Promise.all(
          [aadhaar, spaced(aadhaar), aadhaar, spaced(aadhaar)].map((a) => resend(nextMobile(), a)),
        );
        expect(results.filter((r) => r.__typename === "AepsOtpResent")).toHaveLength(1);
        expect(results.filter((r) => r.code === "OTP_COOLDOWN")).toHaveLength(3);
        expect(t.simulator.calls()).toBe(1);
        expect(wire("aeps.resendOtp")[0].AdhaarNumber).toBe(aadhaar);
      });

      it("verifyAepsOtp: guesses under both spellings share one verification budget", async () => {
        // A new mobile for every guess: only the Aadhaar's verification budget can refuse the third.
        const aadhaar = nextAadhaar();
        const verify = (spelling: string, otp: string) =>
          t.gql(VERIFY, aeps(nextMobile(), spelling, { otp }), auth).then((r) => resultOf(r.body, "verifyAepsOtp"));
        expect((await verify(aadhaar, "111111")).code).not.toBe("VERIFY_LIMIT_REACHED");
        expect((await verify(spaced(aadhaar), "222222")).code).not.toBe("VERIFY_LIMIT_REACHED");
        expect(await verify(aadhaar, "333333")).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
        expect(await verify(spaced(aadhaar), "444444")).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
        expect(t.simulator.calls("aeps.verifyOtp")).toBe(2);
        expect(wire("aeps.verifyOtp").map((b) => b.AdhaarNumber)).toEqual([aadhaar, aadhaar]);
      });

      it.each([
        "2341-2341-2346",
        "2341  2341 2346",
        " 234123412346",
        "234123412346 ",
        "23412341 2346",
        "２３４１２３４１２３４６",
        "२३४१२३४१२३४६",
        "2341\t2341\t2346",
      ])("refuses %j (a spelling whose equivalence is not ours to assume)", async (spelling) => {
        const res = await t.gql(RESEND_AEPS_OTP, aeps("9876543210", spelling), auth);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
        expect(t.simulator.calls()).toBe(0);
      });
    });

    describe("mobile: one spelling only (+91, 0, spaces and other digits are refused, not normalised)", () => {
      it("the accepted spelling goes on the wire as the same ten digits", async () => {
        const mobile = nextMobile();
        const res = resultOf(
          (
            await t.gql(
              RESEND_AEPS_OTP,
              {
                input: { ...nextAepsRegistration(), mobile, aadhaar: nextAadhaar() },
              },
              auth,
            )
          ).body,
          "resendAepsOtp",
        );
        expect(res.__typename).toBe("AepsOtpResent");
        expect(wire("aeps.resendOtp")).toEqual([expect.objectContaining({ Mobile: Number(mobile) })]);
      });

      it.each([
        "+919876543210",
        "919876543210",
        "09876543210",
        "+91 9876543210",
        " 9876543210",
        "9876543210 ",
        "98765 43210",
        "98765-43210",
        "９８７６５４３２１０",
        "९८७६५४३२१०",
      ])("refuses %j before any budget or upstream call", async (mobile) => {
        const res = await t.gql(RESEND_AEPS_OTP, aepsInput(mobile), auth);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
        expect(t.simulator.calls()).toBe(0);
      });
    });

    describe("registration (idempotency fingerprint): PAN case, e-mail domain case and Unicode form are one spelling", () => {
      const customer = (overrides: Record<string, string>) => ({
        input: {
          firstName: "Zoë",
          lastName: "Kulkarni",
          pan: "ABCPE7301F",
          dateOfBirth: "1990-04-23",
          email: "Asha.K@example.com",
          mobile: "9876500731",
          ...overrides,
        },
      });
      const register = (key: string, overrides: Record<string, string>) =>
        t.gql(REGISTER, customer(overrides), { ...auth, "idempotency-key": key });

      it.each([
        ["PAN", { pan: "abcpe7302f" }, [{ pan: "ABCPE7302F" }, { pan: "AbCpE7302f" }], { pancard: "ABCPE7302F" }],
        [
          "e-mail domain",
          { email: "Asha.K@Example.COM", pan: "ABCPE7303F" },
          [{ email: "Asha.K@EXAMPLE.com", pan: "ABCPE7303F" }],
          { email_id: "Asha.K@example.com" },
        ],
        [
          "name in NFD",
          { firstName: "Zoe\u0308", pan: "ABCPE7304F" },
          [{ firstName: "Zo\u00eb", pan: "ABCPE7304F" }],
          { first_name: "Zo\u00eb" },
        ],
      ])(
        "%s: the same Idempotency-Key with another spelling replays, and AOPay saw the canonical value once",
        async (_what, first, others, onWire) => {
          const key = randomUUID();
          const one = await register(key, first);
          expect(resultOf(one.body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
          for (const other of others) {
            const again = await register(key, other);
            expect(again.headers["idempotent-replayed"]).toBe("true");
            expect(again.body).toEqual(one.body);
          }
          expect(t.simulator.calls("cibil.register")).toBe(1);
          expect(wire("cibil.register")).toEqual([expect.objectContaining(onWire)]);
        },
      );

      it("the e-mail's local part is case-sensitive (RFC 5321): another local-part case is another input", async () => {
        const key = randomUUID();
        await register(key, { email: "Asha.K@example.com", pan: "ABCPE7305F" });
        const other = await register(key, { email: "asha.k@example.com", pan: "ABCPE7305F" });
        expect(other.status).toBe(422);
        expect(other.body.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_KEY_REUSED");
        expect(t.simulator.calls("cibil.register")).toBe(1);
      });

      it.each([
        ["a quoted local part", { email: '"asha"@example.com' }],
        ["a Unicode domain", { email: "asha@exämple.com" }],
        ["surrounding space", { email: " asha@example.com" }],
        ["a trailing space in a name", { lastName: "Kulkarni " }],
        ["a doubled space in a name", { lastName: "Van  Dyke" }],
        ["a PAN with a space", { pan: "ABCPE 7306F" }],
        ["a PAN with a dotless i (toUpperCase would make it I)", { pan: "ABCPE7306\u0131" }],
        ["a PAN with a long s (toUpperCase would make it S)", { pan: "\u017fBCPE7306F" }],
        ["a PAN in full-width letters", { pan: "ＡＢＣＰＥ7306Ｆ" }],
      ])("refuses %s", async (_what, overrides) => {
        const res = await register(randomUUID(), overrides);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
        expect(t.simulator.calls()).toBe(0);
      });
    });

    describe("userKey, primaryKeyId, encodeTxnId: the docs do not say how AOPay compares them, so spellings stay distinct", () => {
      const input = (overrides: Record<string, string>) => ({
        input: {
          ...nextAepsRegistration(),
          mobile: "9876500123",
          aadhaar: VALID_AADHAAR,
          ...overrides,
        },
      });
      it.each([
        ["userKey", "AOP554N3XXXX", "aop554n3xxxx", "Userkey"],
        ["primaryKeyId", "PkId+Ab/9=", "pkid+ab/9=", "PrimaryKeyId"],
        ["encodeTxnId", "EncTxn42", "ENCTXN42", "EncodeTxnId"],
      ])(
        "%s is sent exactly as typed, and another case is another input (Idempotency-Key reuse is refused)",
        async (field, typed, otherCase, wireKey) => {
          const key = randomUUID();
          const mobile = nextMobile();
          const aadhaar = nextAadhaar();
          const first = await t.gql(RESEND_AEPS_OTP, input({ [field]: typed, mobile, aadhaar }), {
            ...auth,
            "idempotency-key": key,
          });
          expect(resultOf(first.body, "resendAepsOtp").__typename).not.toBe("OtpThrottled");
          const second = await t.gql(RESEND_AEPS_OTP, input({ [field]: otherCase, mobile, aadhaar }), {
            ...auth,
            "idempotency-key": key,
          });
          expect(second.status).toBe(422);
          expect(t.simulator.calls()).toBe(1);
          expect(wire("aeps.resendOtp")[0][wireKey]).toBe(typed);
        },
      );

      // Sent as typed, but budgeted in any case (guarded-mutations.ts AEPS_REGISTRATION): each names the registration
      // whose OTP AOPay resends "to the user's registered mobile" (docs/upstream/aopay-api.md §2.1), whatever mobile
      // and Aadhaar number come with it. Before, a new pair of valid numbers per request was a new budget.
      const FIELDS = ["userKey", "primaryKeyId", "encodeTxnId"] as const;
      it.each(FIELDS)(
        "resendAepsOtp: a resend repeating the %s of a registration just sent to, in either case, with a new mobile, Aadhaar and other values, meets the cooldown",
        async (field) => {
          const registration = nextAepsRegistration();
          const resend = (values: Record<string, string>) =>
            t
              .gql(RESEND_AEPS_OTP, { input: { mobile: nextMobile(), aadhaar: nextAadhaar(), ...values } }, auth)
              .then((r) => resultOf(r.body, "resendAepsOtp"));
          expect((await resend(registration)).__typename).toBe("AepsOtpResent");
          for (const spelling of [registration[field], registration[field].toLowerCase()]) {
            expect(await resend({ ...nextAepsRegistration(), [field]: spelling })).toMatchObject({
              __typename: "OtpThrottled",
              code: "OTP_COOLDOWN",
              scope: "DESTINATION",
            });
          }
          expect(t.simulator.calls()).toBe(1);
          expect(wire("aeps.resendOtp")[0]).toMatchObject({
            Userkey: registration.userKey,
            PrimaryKeyId: registration.primaryKeyId,
            EncodeTxnId: registration.encodeTxnId,
          });
        },
      );

      it.each(FIELDS)(
        "verifyAepsOtp: guesses repeating the %s of one registration share its verification budget, whatever mobile and Aadhaar come with them",
        async (field) => {
          const registration = nextAepsRegistration();
          const verify = (otp: string, spelling: string) =>
            t
              .gql(
                VERIFY,
                {
                  input: {
                    ...nextAepsRegistration(),
                    [field]: spelling,
                    mobile: nextMobile(),
                    aadhaar: nextAadhaar(),
                    otp,
                  },
                },
                auth,
              )
              .then((r) => resultOf(r.body, "verifyAepsOtp"));
          // OTP_VERIFY_MAX is 2 here (REAL_BUDGETS).
          expect((await verify("111111", registration[field])).code).not.toBe("VERIFY_LIMIT_REACHED");
          expect((await verify("222222", registration[field].toLowerCase())).code).not.toBe("VERIFY_LIMIT_REACHED");
          expect(await verify("333333", registration[field])).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
          expect(t.simulator.calls("aeps.verifyOtp")).toBe(2);
        },
      );

      it.each([
        ["userKey", " AOP554N3XXXX"],
        ["userKey", "AOP554N3XXXX "],
        ["primaryKeyId", "TEST "],
        ["primaryKeyId", "TE ST"],
        ["encodeTxnId", "\tDEMO"],
      ])("refuses %s %j (white space would make two spellings of one value)", async (field, value) => {
        const res = await t.gql(RESEND_AEPS_OTP, input({ [field]: value }), auth);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
        expect(t.simulator.calls()).toBe(0);
      });
    });
  });
}

suite("one identifier, one budget, one wire value (production, in-memory state)", () => ({}));

describeWithRedis("with Redis", () => {
  suite("one identifier, one budget, one wire value (production, Redis state)", () => ({
    REDIS_URL: REDIS_URL as string,
    REDIS_KEY_PREFIX: uniquePrefix(),
  }));
});

describe("source IP: one per-IP budget per address (IPv4-mapped as IPv4) or IPv6 /64, however a trusted proxy wrote it", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({ ...REAL_BUDGETS, OTP_IP_MAX: "1", TRUSTED_PROXIES: "127.0.0.1" });
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator.resetCalls());
  const send = async (ip: string) =>
    resultOf(
      (
        await t.gql(
          GENERATE_CIBIL_OTP,
          { input: { cibilId: nextCibilId(), accessToken: freshToken() } },
          { ...auth, "x-forwarded-for": ip },
        )
      ).body,
      "generateCibilOtp",
    );

  it.each([
    ["IPv6 spellings", ["2001:db8:7::1", "2001:DB8:7:0:0:0:0:1", "2001:0db8:0007:0000::1"]],
    ["addresses of one IPv6 /64", ["2001:db8:8::1", "2001:db8:8::2", "2001:db8:8:0:ffff:ffff:ffff:ffff"]],
    ["IPv4 and its IPv4-mapped IPv6 forms", ["198.51.100.9", "::ffff:198.51.100.9", "::ffff:c633:6409"]],
    // An attack review: a proxy that writes the client's port too (Azure Application Gateway's X-Forwarded-For is
    // `IP:port`) made every connection's new source port a new per-IP budget.
    ["IPv4 with the source port a proxy appends", ["198.51.100.12:50001", "198.51.100.12:50002", "198.51.100.12"]],
    ["IPv6 in brackets with a port", ["[2001:db8:c::1]:443", "[2001:db8:c::2]:50002", "[2001:db8:c::3]"]],
    ["an IPv4-mapped address in brackets with a port", ["[::ffff:198.51.100.13]:1", "198.51.100.13:2"]],
  ])("%s: one send, then RATE_LIMITED (IP), one upstream call", async (_what, ips) => {
    expect((await send(ips[0])).__typename).toBe("CibilOtpChallenge");
    for (const ip of ips.slice(1)) expect(await send(ip)).toMatchObject({ code: "RATE_LIMITED", scope: "IP" });
    expect(t.simulator.calls()).toBe(1);
  });

  it("another /64 is another budget", async () => {
    expect((await send("2001:db8:9::1")).__typename).toBe("CibilOtpChallenge");
    expect((await send("2001:db8:a::1")).__typename).toBe("CibilOtpChallenge");
    expect(t.simulator.calls()).toBe(2);
  });
});
