import { createHash } from "node:crypto";
import type { CibilCustomer } from "./state";

/**
 * How AOPay shows a customer's identifiers in its answers, from its own examples (test/fixtures/aopay/):
 * GenerateOTP's "The One Time Password is sent to 94138****" keeps the first five digits of the mobile and writes
 * four asterisks (for five hidden digits: the asterisks do not stand one for one); SubmitOTP's `"cibil_id": "93626**"`
 * keeps the first five digits of the id GenerateOTP answered as 9362678. The simulator masks the same way.
 */
export function aopayMaskedMobile(mobile: string): string {
  return `${mobile.slice(0, 5)}****`;
}

export function aopayMaskedCibilId(cibilId: string): string {
  return `${cibilId.slice(0, 5)}**`;
}

/**
 * The simulator's `cibil_score_fetch_date`: AOPay names the field (SubmitOTP, docs/upstream/aopay-api.md §1.3) but its
 * only example is null, so the format is the simulator's choice: the UTC calendar date, YYYY-MM-DD.
 */
export function simFetchDate(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export const SAMPLE_REPORT_NOTICE =
  "Sample data from the aopay-graphql simulator. AOPay does not document GetCreditHistory's payload " +
  "(docs/upstream/aopay-api.md §1.4), so every field of this object, its names included, is the simulator's invention. " +
  "Only what it says about the customer (CIBIL id, names, masked mobile) comes from the customer's registration.";

/**
 * GetCreditHistory's `result` as the simulator answers it: a clearly labelled sample (`simulated: true` and a notice
 * at the top). AOPay documents no part of it, so its shape is invented; what it says about the customer is the
 * customer's record (id, registered names, mobile masked as AOPay masks it) and the rest is derived from the CIBIL id,
 * so the same customer always gets the same accounts and score. Dates come from the simulator's clock.
 */
export function sampleReport(customer: CibilCustomer, clientOrderId: string, now: number): Record<string, unknown> {
  const seed = createHash("sha256").update(customer.cibilId).digest();
  const day = 86_400_000;
  return {
    simulated: true,
    notice: SAMPLE_REPORT_NOTICE,
    cibil_id: customer.cibilId,
    client_order_id: clientOrderId,
    cibil_score_fetch_date: simFetchDate(now),
    customer: {
      first_name: customer.firstName,
      middle_name: customer.middleName,
      last_name: customer.lastName,
      mobile: aopayMaskedMobile(customer.mobile),
    },
    score: { value: 650 + (seed.readUInt16BE(0) % 250), range: "300-900" },
    accounts: [
      {
        type: "Credit card",
        lender: "Simulated Bank",
        status: "Active",
        credit_limit: 100_000 + 10_000 * (seed[2] % 10),
        current_balance: 1_000 * (seed[3] % 60),
        overdue_amount: 0,
        opened_on: simFetchDate(now - (400 + seed[4]) * day),
      },
      {
        type: "Personal loan",
        lender: "Simulated Finance",
        status: seed[5] % 2 === 0 ? "Active" : "Closed",
        sanctioned_amount: 50_000 * (1 + (seed[6] % 8)),
        current_balance: 5_000 * (seed[7] % 20),
        overdue_amount: 0,
        opened_on: simFetchDate(now - (900 + seed[8]) * day),
      },
    ],
    enquiries: [
      { purpose: "Credit card", member: "Simulated Bank", date: simFetchDate(now - (30 + (seed[9] % 60)) * day) },
    ],
  };
}
