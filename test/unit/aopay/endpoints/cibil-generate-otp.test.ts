import { cibilGenerateOtp } from "../../../../src/aopay/endpoints/cibil-generate-otp";
import { type SuccessEnvelope } from "../../../../src/aopay/outcome";
import { WIRE as wire, scrubber, successFromFixture as success } from "../../../helpers/endpoint-wire";

describe("cibil.generateOtp wire mapping (GenerateOTP seed page)", () => {
  const input = { cibilId: "102277100", accessToken: "123456542124" };

  it("is GET with a JSON body at /CibilScore/GenerateOTP and has side effects", () => {
    expect(cibilGenerateOtp).toMatchObject({ method: "GET", path: "/CibilScore/GenerateOTP", sideEffect: true });
  });

  it("builds the documented body, cibil_id as a JSON number and the partner credentials from config", () => {
    expect(cibilGenerateOtp.toWire(input, wire)).toEqual({
      cibil_id: 102277100,
      access_token: "123456542124",
      RegistrationID: "AOP-554",
      CompanyCode: "CMP1045",
    });
  });

  it("maps the documented success example into a typed challenge with real booleans", () => {
    const out = cibilGenerateOtp.fromWire(success("cibil/generate-otp.success", cibilGenerateOtp), input, scrubber);
    expect(out).toEqual({
      cibilId: "9362678",
      status: "PENDING",
      question: {
        key: "1423489238",
        text: "The One Time Password is sent to *********. Please enter the One Time Password.",
        lastChance: false,
        skipEligible: false,
        resendEligible: true,
        answerChoices: [
          {
            id: "4220112750",
            key: "USER_TO_INPUT_ANSWER",
            text: "The One Time Password is sent to *********. Please enter the One Time Password.",
          },
        ],
      },
      nextStep: "VERIFY_ANSWERS",
      nextStepName: "cibil-verify-answers",
      merchantTransactionId: "SPCBL2308181502437743aQaHNGxZM",
    });
  });

  it("keeps unknowns honest: missing questions is null, unknown status/next step are UNRECOGNIZED", () => {
    const envelope: SuccessEnvelope = {
      kind: "success",
      body: { status: "SUCCESS", result: { cibil_status: "Processing", next_api_call: "cibil-new-step" } },
    };
    expect(cibilGenerateOtp.fromWire(envelope, input, scrubber)).toMatchObject({
      cibilId: "102277100",
      status: "UNRECOGNIZED",
      question: null,
      nextStep: "UNRECOGNIZED",
      nextStepName: "cibil-new-step",
      merchantTransactionId: null,
    });
  });

  it("accepts several answer choices and drops incomplete ones", () => {
    const envelope: SuccessEnvelope = {
      kind: "success",
      body: {
        status: "SUCCESS",
        result: {
          questions: {
            Key: "Q1",
            AnswerChoice: [
              { AnswerChoiceId: "1", Key: "A", AnswerChoiceText: "first" },
              { AnswerChoiceId: "2", Key: "B" },
              { AnswerChoiceId: "3", Key: "C", AnswerChoiceText: "third" },
            ],
          },
        },
      },
    };
    const out = cibilGenerateOtp.fromWire(envelope, input, scrubber);
    expect(out.question?.answerChoices.map((c) => c.id)).toEqual(["1", "3"]);
    expect(out.question?.lastChance).toBeNull();
  });

  it("masks an unmasked mobile in the question text", () => {
    const envelope: SuccessEnvelope = {
      kind: "success",
      body: { status: "SUCCESS", result: { questions: { FullQuestionText: "OTP sent to 9413812345." } } },
    };
    expect(cibilGenerateOtp.fromWire(envelope, input, scrubber).question?.text).toBe("OTP sent to XXXXXX2345.");
  });
});
