import { defineSettings, oneOf, text } from "../settings/schema";

export const DEFAULT_AEPS_PIPE = "bank6";
export const DEFAULT_AEPS_ACCESS_MODE_TYPE = "SITE";
/** Credentials the built-in simulator accepts. They are not secrets: the simulator is a development tool. */
export const SIMULATOR_REGISTRATION_ID = "SIM-REG-0001";
export const SIMULATOR_COMPANY_CODE = "SIMCO01";

/** A short printable identifier: letters, digits and `-_.` (credentials and AEPS constants). Never echoed. */
const TOKEN = /^[A-Za-z0-9._-]{1,64}$/;
const TOKEN_RULE = "must be 1-64 characters of letters, digits, '.', '_' or '-'";

/** What src/aopay/client.ts puts in every request body: the partner account and AOPay's undocumented choices. */
export const clientSettings = defineSettings({
  title: "AOPay partner account and wire format",
  module: "src/aopay/client.ts",
  prefixes: ["AOPAY_"],
  settings: {
    AOPAY_REGISTRATION_ID: text({
      pattern: TOKEN,
      mustBe: TOKEN_RULE,
      secret: true,
      defaultDoc: "the simulator's",
      doc: "partner `RegistrationID`; required with `AOPAY_BASE_URL`; treated as a secret",
    }),
    AOPAY_COMPANY_CODE: text({
      pattern: TOKEN,
      mustBe: TOKEN_RULE,
      secret: true,
      defaultDoc: "the simulator's",
      doc: "partner `CompanyCode`; required with `AOPAY_BASE_URL`; treated as a secret",
    }),
    AOPAY_AEPS_PIPE: text({ default: DEFAULT_AEPS_PIPE, pattern: TOKEN, mustBe: TOKEN_RULE, doc: "AEPS `Pipe` (\"Must Be bank6\" per AOPay)" }),
    AOPAY_AEPS_ACCESS_MODE_TYPE: text({ default: DEFAULT_AEPS_ACCESS_MODE_TYPE, pattern: TOKEN, mustBe: TOKEN_RULE, doc: "AEPS `AccessModeType`" }),
    AOPAY_CIBIL_REGISTRATION_METHOD: oneOf(["GET", "POST"], {
      default: "GET",
      doc: "`GET` (the page header) or `POST` (its cURL sample): undocumented",
    }),
    // Indian convention; confirm with AOPay (docs/upstream/aopay-api.md §7 question 7).
    AOPAY_DOB_FORMAT: oneOf(["DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD"], {
      default: "DD/MM/YYYY",
      doc: "how `date_of_birth` is written for AOPay: `DD/MM/YYYY`, `MM/DD/YYYY` or `YYYY-MM-DD`",
    }),
  },
});
