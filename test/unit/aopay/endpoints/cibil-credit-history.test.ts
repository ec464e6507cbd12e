import { unknownKeysOf } from "../../../../src/aopay/client";
import { cibilCreditHistory } from "../../../../src/aopay/endpoints/cibil-credit-history";
import { WIRE as wire, scrubber, successOf as success } from "../../../helpers/endpoint-wire";

describe("cibil.creditHistory (payload undocumented)", () => {
  it("is a read (no side effect), sends client_order_id, and hands AOPay's result on as the report, unchanged", () => {
    expect(cibilCreditHistory.sideEffect).toBe(false);
    expect(cibilCreditHistory.toWire({ cibilId: "7", orderId: "o1" }, wire)).toEqual({
      client_order_id: "o1",
      cibil_id: "7",
      RegistrationID: "AOP-554",
      CompanyCode: "CMP1045",
    });
    // Not scrubbed: the report is the customer's own data, for the client the customer consented to (a number AOPay
    // masked in part aside: below).
    const result = { score: 700, holder: { mobile: "9876543210" }, cibil_score_fetch_date: 20240131 };
    const out = cibilCreditHistory.fromWire(
      success({ status: "SUCCESS", message: "ok", result }),
      { cibilId: "7", orderId: "o1" },
      scrubber,
    );
    expect(out).toEqual({
      cibilId: "7",
      orderId: "o1",
      upstreamMessage: "ok",
      merchantTransactionId: null,
      report: result,
      scoreFetchDate: "20240131",
    });
    expect(out.report).toBe(result);
  });

  it("hides every digit of a number AOPay masked in part, anywhere in the report; the rest stays as it came", () => {
    const result = {
      customer: { name: "Ravi", mobile: "98765****", masked: "XXXXXX3210", whole: "9876543210" },
      accounts: [{ number: "5123XXXXXXXX9876", ref: "AOP554N3XXXXX" }],
    };
    const out = cibilCreditHistory.fromWire(
      success({ status: "SUCCESS", result }),
      { cibilId: "7", orderId: "o1" },
      scrubber,
    );
    expect(out.report).toEqual({
      // The first five digits AOPay shows, beside our `XXXXXX3210`, made nine of ten: all hidden.
      customer: { name: "Ravi", mobile: "*********", masked: "XXXXXX3210", whole: "9876543210" },
      accounts: [{ number: "XXXXXXXXXXXXXXXX", ref: "AOP554N3XXXXX" }],
    });
  });

  it("has no report when AOPay's answer carries no result object", () => {
    const out = cibilCreditHistory.fromWire(
      success({ status: "SUCCESS", result: ["not", "an", "object"] }),
      { cibilId: "7", orderId: "o1" },
      scrubber,
    );
    expect(out).toMatchObject({ report: null, scoreFetchDate: null });
  });

  it("knows every key inside the report, so the unknown-keys log line never names one", () => {
    expect(
      unknownKeysOf(
        { status: "SUCCESS", result: { "9876543210": 1, name: "x" }, extra: 1 },
        cibilCreditHistory.knownKeys,
      ),
    ).toEqual(["extra"]);
  });
});
