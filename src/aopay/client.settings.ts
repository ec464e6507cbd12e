import { defineSettings, oneOf, text } from "../settings/schema";
import type { BreakerConfig } from "./circuit-breakers.settings";

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
    AOPAY_AEPS_PIPE: text({
      default: DEFAULT_AEPS_PIPE,
      pattern: TOKEN,
      mustBe: TOKEN_RULE,
      doc: 'AEPS `Pipe` ("Must Be bank6" per AOPay)',
    }),
    AOPAY_AEPS_ACCESS_MODE_TYPE: text({
      default: DEFAULT_AEPS_ACCESS_MODE_TYPE,
      pattern: TOKEN,
      mustBe: TOKEN_RULE,
      doc: "AEPS `AccessModeType`",
    }),
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

/** Upstream (AOPay) connection settings. All times in milliseconds. */
export interface AopayConfig {
  /** `live`: AOPAY_BASE_URL is set. `simulator`: the built-in simulator is started in-process (development only). */
  mode: "live" | "simulator";
  /** Origin plus optional base path, e.g. `https://api.aopay.co.in`. Null in simulator mode until the simulator listens. */
  baseUrl: URL | null;
  /** Path prefix of the partner's API family. `/api/AOP` on api.aopay.co.in; `/api/BOS` on the white-label host (docs/upstream/aopay-api.md §0). */
  apiPrefix: string;
  /** Partner credentials (docs/upstream/aopay-api.md §4): server-side only, never sent to or accepted from GraphQL clients. */
  registrationId: string;
  companyCode: string;
  /** AEPS `Pipe`: the ResendOTP page says "Must Be bank6". */
  aepsPipe: string;
  /** AEPS `AccessModeType`: the page's example is `SITE`; its description row is cut off in the stored copy. */
  aepsAccessModeType: string;
  /** CIBIL registeration's method: its page header says GET, its cURL sample POST (docs/upstream/aopay-api.md §1.1). */
  cibilRegistrationMethod: "GET" | "POST";
  /** Wire format of `date_of_birth`; the example `01/01/2000` is ambiguous (Observation 15). */
  dobFormat: "DD/MM/YYYY" | "MM/DD/YYYY" | "YYYY-MM-DD";
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Whole-call deadline for one upstream call, from dispatch to the last body byte. */
  deadlineMs: number;
  maxResponseBytes: number;
  /** Upper bound of sockets to AOPay. */
  connections: number;
  /** Calls allowed to wait for a socket when all `connections` are busy; beyond that: OVERLOADED at once. */
  queueLimit: number;
  /**
   * Keep a connection alive after a GET that carried a body (AOPay's CIBIL calls). undici closes it by default,
   * because a server that does not read GET bodies would take the body for the next request. AOPay documents GET
   * with a body, so its server reads it; set false if a proxy in between drops GET bodies.
   */
  getBodyKeepAlive: boolean;
  keepAliveTimeoutMs: number;
  /** Extra attempts for a call that provably never left the process (refused, DNS, connect timeout). */
  retryMax: number;
  breaker: BreakerConfig;
}
