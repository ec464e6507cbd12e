import { request } from "undici";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../../src/config";
import { type Simulator, startSimulator } from "../../../src/simulator/server";

/**
 * The simulator's call counts (Simulator.calls) are what the tests read as "reached AOPay": a request the simulator
 * refuses before any scenario answers it sent nothing and is not counted. A 405 (a method the endpoint does not take)
 * was counted as a call: a test asserting that no OTP was sent would have read one.
 */
describe("the simulator counts the calls its scenarios answer, not the ones it refuses", () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({
      registrationId: SIMULATOR_REGISTRATION_ID,
      companyCode: SIMULATOR_COMPANY_CODE,
    });
  });
  afterAll(() => simulator?.close());
  beforeEach(() => simulator.resetCalls());

  const url = (path: string) => new URL(`/api/AOP${path}`, simulator.url).toString();
  const RESEND = "/V1/AEPS/UserRegisterBankWise/ResendOTP";
  const GENERATE = "/CibilScore/GenerateOTP";

  it.each([
    ["PUT", GENERATE, "cibil.generateOtp" as const],
    ["DELETE", RESEND, "aeps.resendOtp" as const],
    ["GET", RESEND, "aeps.resendOtp" as const],
  ])("%s %s: 405, no call counted", async (method, path, endpoint) => {
    const res = await request(url(path), {
      method: method as "PUT" | "DELETE" | "GET",
      body: method === "GET" ? undefined : JSON.stringify({ Mobile: "9876543210", cibil_id: "102277100" }),
    });
    await res.body.text();
    expect(res.statusCode).toBe(405);
    expect([simulator.calls(endpoint), simulator.calls()]).toEqual([0, 0]);
  });

  it("a body that is no JSON object: 400, no call counted", async () => {
    for (const body of ["not json", "[1,2]", "null", ""]) {
      const res = await request(url(RESEND), { method: "POST", body });
      await res.body.text();
      expect(res.statusCode).toBe(400);
    }
    expect(simulator.calls()).toBe(0);
  });

  it("a call its scenario answers is counted, once, whatever it answers", async () => {
    const res = await request(url(RESEND), {
      method: "POST",
      body: JSON.stringify({ Mobile: "9876543210", PrimaryKeyId: "PK1", EncodeTxnId: "T1" }),
    });
    await res.body.text();
    expect(res.statusCode).toBeLessThan(500);
    const generate = await request(url(GENERATE), { method: "GET", body: JSON.stringify({ cibil_id: "102277100" }) });
    await generate.body.text();
    expect([simulator.calls("aeps.resendOtp"), simulator.calls("cibil.generateOtp"), simulator.calls()]).toEqual([
      1, 1, 2,
    ]);
  });
});
