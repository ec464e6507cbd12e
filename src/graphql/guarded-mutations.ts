import { Mutation } from "type-graphql";
import type { DestinationKind, ThrottlePurpose } from "../protection/otp-throttle";

/**
 * How one guarded mutation is protected (docs/security-requirements.md A2, B1-B5, E4).
 * - budget: `send` (an SMS goes out: cooldown, window and daily cap per destination, prefix, IP, client, global),
 *   `verify` (an OTP is checked: the destination's verification budget), `register` (a CIBIL registration: its IP's
 *   and client's registration budgets), or null (no budget).
 * - destinations: where the SMS goes, or what the upstream may find the recipient or the challenge by; each is
 *   budgeted on its own, so that a send or a guess repeats none of them within its budget. Either a validated,
 *   canonical input field (`field`; `anyCase`: its budget key is upper-cased, see AEPS_REGISTRATION), or the mobile a
 *   CIBIL id was registered with (`registeredFor`: the input field holding the CIBIL id; `orToken`: the one holding
 *   the access token, whose registration's mobiles are recalled too), recalled from protection/registered-mobiles.ts
 *   and budgeted when known (a CIBIL id and token with no record add nothing).
 * - registers (registration only): the input fields holding the mobile and the PAN, and the answer field holding the
 *   CIBIL id AOPay assigned (and the access token issued with it), remembered together when AOPay answers, so that
 *   the id's (and the token's) OTP sends are budgeted on that mobile; a PAN registered here before names its CIBIL id
 *   beforehand, and the mobile is added before AOPay is called.
 */
export interface GuardSpec {
  readonly budget: ThrottlePurpose | null;
  readonly destinations: ReadonlyArray<GuardedDestination>;
  readonly registers?: {
    readonly mobileField: string;
    readonly panField: string;
    readonly cibilIdAnswerField: string;
    /** The answer field holding the access token AOPay issued with the id: linked to the id (registered-mobiles.ts). */
    readonly tokenAnswerField: string;
  };
}

export type GuardedDestination =
  | { readonly kind: DestinationKind; readonly field: string; readonly anyCase?: true }
  | { readonly kind: "mobile"; readonly registeredFor: string; readonly orToken?: string };

/**
 * The CIBIL customer's access token, besides the CIBIL id: GenerateOTP and SubmitOTP take both
 * (docs/upstream/aopay-api.md §1.2, §1.3), the token authorizes access to one customer's CIBIL data
 * (registerCibilCustomer returns one per customer), and which of the two AOPay finds the customer (and so the
 * registered mobile, or the challenge) by, or whether it checks that they match, the docs do not say. Budgeted by the
 * CIBIL id alone, one customer's token with a new CIBIL id per request was a new budget each time. Upper-cased for its
 * budget key, as AEPS_REGISTRATION's.
 */
const CIBIL_TOKEN = { kind: "cibil-token", field: "accessToken", anyCase: true } as const satisfies GuardedDestination;

/**
 * The AEPS registration an OTP belongs to, besides the mobile and the Aadhaar number in the input. AOPay's ResendOTP
 * "resends the registration OTP to the user's registered mobile" (docs/upstream/aopay-api.md §2.1): the user is the
 * `Userkey` from AEPS onboarding, and the registration is named by `PrimaryKeyId` and `EncodeTxnId`, which VerifyOTP
 * and ResendOTP both need (§2); whether AOPay checks that the `Mobile` and `AdhaarNumber` sent match them, the docs do
 * not say. Budgeted by the input's mobile and Aadhaar alone, one registration took a send (and five guesses) per fresh
 * pair of valid numbers: an audit sent six resends and twelve guesses for one user key and registration in as many
 * seconds, all of which reached AOPay. So each of the three is a destination of its own: whichever of them AOPay
 * picks the phone or the challenge by, a repeat meets its budget.
 * How AOPay compares them is undocumented too (§2.1 gives their types only), so they are sent exactly as typed
 * (aeps/resend-aeps-otp.input.ts) but their budget keys are upper-cased (they are ASCII): a budget is never split by a
 * spelling that may be the same value upstream, and two values that differ only by case sharing one budget only makes
 * it stricter.
 */
const AEPS_REGISTRATION = [
  { kind: "aeps-user", field: "userKey", anyCase: true },
  { kind: "aeps-primary-key", field: "primaryKeyId", anyCase: true },
  { kind: "aeps-txn", field: "encodeTxnId", anyCase: true },
] as const satisfies ReadonlyArray<GuardedDestination>;

/**
 * The budget key of an `anyCase` destination (AEPS_REGISTRATION, CIBIL_TOKEN): upper-cased. Also what the log's
 * reference of an AEPS user key is computed from (customer-refs.ts), so that it is one per budget.
 */
export function anyCaseKey(value: string): string {
  return value.toUpperCase();
}

/**
 * THE list of mutations that write upstream (send an SMS, burn a verification attempt, create a customer), declared
 * once. Everything that depends on it derives from it:
 * - the resolver is declared with @GuardedMutation, which refuses (at startup) a name missing here;
 * - guardedSend (guarded-send.ts, over protection/send-guard.ts) admits only these fields, takes the budget and destinations from here, and applies
 *   Idempotency-Key handling to every one; it alone issues the send pass AopayClient requires for a side-effecting
 *   endpoint, so a mutation cannot reach AOPay any other way;
 * - the once-per-document validation rule (limits.ts) watches exactly these fields;
 * - the tests' samples and PII canaries are keyed by these names (a new entry without a sample does not compile), and
 *   test/e2e/guarded-mutations.test.ts proves every Mutation field of the schema is here and goes through the guard.
 */
export const GUARDED_MUTATIONS = {
  // Creates a customer, sends no OTP: idempotency applies, the OTP send budgets do not. Its input carries the mobile
  // AOPay will send that customer's CIBIL OTPs to (docs/upstream/aopay-api.md §1 flow, §1.1): remembered with the
  // CIBIL id AOPay answers (sealed, keyed by the id's HMAC), for 90 days, in tables every client shares. Refused
  // (PROTECTION_UNAVAILABLE, nothing sent) when that record could not be kept (store full or unreachable). Its own
  // budgets per IP and per client (`register`, REGISTER_*): without them one client registering as fast as admission
  // lets it filled those tables for every client (RegistrationRefused RATE_LIMITED, nothing sent).
  registerCibilCustomer: {
    budget: "register",
    destinations: [],
    // The id as AOPay issued it, not the client's copy (scrubbed of credentials and request values: cibil-register.ts).
    registers: {
      mobileField: "mobile",
      panField: "pan",
      cibilIdAnswerField: "issuedCibilId",
      tokenAnswerField: "issuedAccessToken",
    },
  },
  // AOPay sends the OTP to the customer's REGISTERED mobile (§1.2); GenerateOTP names the customer by the CIBIL id and
  // its access token only. Budgeted on the CIBIL id, the token (CIBIL_TOKEN) and that mobile, the same "mobile"
  // budgets (cooldown, window, daily cap, prefix) AEPS sends use:
  // many CIBIL ids registered to one phone share its budget. Which of the two AOPay finds the customer by, its docs do
  // not say, so the mobiles are recalled by both (`orToken`): the id's registration's, and the registration's the
  // token was issued with, when that is another id (a token sent with any digits as its id). A CIBIL id and token
  // without a record (registered before this record existed, elsewhere, more than CIBIL_REGISTERED_MOBILE_TTL_SECONDS
  // ago, or in memory before a restart) are budgeted by themselves only.
  generateCibilOtp: {
    budget: "send",
    destinations: [
      { kind: "cibil", field: "cibilId" },
      CIBIL_TOKEN,
      { kind: "mobile", registeredFor: "cibilId", orToken: "accessToken" },
    ],
  },
  // Each attempt spends one of the customer's verification attempts (OTP_VERIFY_*), whatever AOPay allows. Per CIBIL
  // id and token (whichever AOPay finds the challenge by), not per registered mobile: an attempt checks one challenge
  // (one customer's OTP) and sends nothing, so it cannot flood a phone; guessing is bounded per challenge, and the
  // attempts on one id cannot be multiplied by registering more ids without each new id first passing
  // generateCibilOtp, which the mobile's budget gates.
  submitCibilOtp: { budget: "verify", destinations: [{ kind: "cibil", field: "cibilId" }, CIBIL_TOKEN] },
  // The SMS goes to the mobile registered for the Aadhaar number, or for the user and registration it names
  // (AEPS_REGISTRATION): each is budgeted on its own.
  resendAepsOtp: {
    budget: "send",
    destinations: [{ kind: "mobile", field: "mobile" }, { kind: "aadhaar", field: "aadhaar" }, ...AEPS_REGISTRATION],
  },
  // An attempt checks the registration's OTP: its guesses are counted on the registration too, not only on the mobile
  // and Aadhaar number sent with them.
  verifyAepsOtp: {
    budget: "verify",
    destinations: [{ kind: "mobile", field: "mobile" }, { kind: "aadhaar", field: "aadhaar" }, ...AEPS_REGISTRATION],
  },
} as const satisfies Record<string, GuardSpec>;

export type GuardedMutationName = keyof typeof GUARDED_MUTATIONS;

export const GUARDED_MUTATION_NAMES = Object.freeze(Object.keys(GUARDED_MUTATIONS)) as readonly GuardedMutationName[];

export function isGuardedMutation(field: string): field is GuardedMutationName {
  return Object.hasOwn(GUARDED_MUTATIONS, field);
}

/**
 * type-graphql's @Mutation for a mutation in GUARDED_MUTATIONS: the schema field takes the method's name, and a name
 * that is not in the list fails at startup (before the server listens), not at the first request.
 */
export function GuardedMutation(...args: Parameters<typeof Mutation>): MethodDecorator {
  const mutation = Mutation(...args);
  return (target, property, descriptor) => {
    if (!isGuardedMutation(String(property))) {
      throw new Error(
        `@GuardedMutation ${String(property)}: add it to GUARDED_MUTATIONS (graphql/guarded-mutations.ts) with its budget and destinations`,
      );
    }
    mutation(target, property, descriptor);
  };
}
