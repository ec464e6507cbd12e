import { json } from "./fake-upstream";

/**
 * What the spelling tests through a real server (e2e look-alike-spellings, pan-spellings) send and script: a
 * registration and an AEPS resend, valid and with values of their own, and AOPay's answers to each declining it with
 * `message` (a registration's rejection carries it as `description`, an AEPS answer as `message`), where the test puts
 * another holder's identifiers in the spellings it checks.
 */
export const REGISTRATION = {
  firstName: "Asha",
  lastName: "Rao",
  pan: "CNRPY7315Q",
  dateOfBirth: "1990-01-01",
  email: "asha@example.org",
  mobile: "9182736450",
};
export const AEPS_RESEND = {
  userKey: "AOP554N3XXXX",
  mobile: "9876543210",
  aadhaar: "234123412346",
  primaryKeyId: "P",
  encodeTxnId: "D",
};
export const registrationRejected = (message: string) =>
  json(200, { code: "207", description: message, merchantTrxnRefId: "MT1", status: "False" });
export const aepsDeclined = (message: string) =>
  json(200, { status: false, response_code: 5, message, error_code: "E5" });
