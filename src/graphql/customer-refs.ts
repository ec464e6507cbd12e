import type { CustomerRefKind } from "../protection/customer-refs";
import type { OtpSubject } from "../protection/otp-throttle";
import { ResendAepsOtpInput } from "./aeps/resend-aeps-otp.input";
import { GenerateCibilOtpInput } from "./cibil/generate-cibil-otp.input";
import { RegisterCibilCustomerInput } from "./cibil/register-cibil-customer.input";
import type { GraphQLContext } from "./context";
import { anyCaseKey, GUARDED_MUTATIONS } from "./guarded-mutations";
import { InputValidationError, validateInput } from "./validation/validate-input";

/**
 * The customers a request names, on its access line and span as keyed references (protection/customer-refs.ts): from
 * the values the guard's destinations and the validated inputs already hold in canonical form, never canonicalised
 * again. One HMAC per identifier.
 */
export function noteCustomerRef(ctx: GraphQLContext, kind: CustomerRefKind, canonical: string): void {
  // No summary: the schema run outside the server (tests executing it directly).
  const summary = ctx.summary as GraphQLContext["summary"] | undefined;
  if (!summary) return;
  ctx.protection.customerRefs.note((summary.refs ??= []), kind, canonical);
}

/** The destinations that name a customer (mobile, Aadhaar, CIBIL id, AEPS user key), as the guard budgets them. */
export function noteDestinationRefs(ctx: GraphQLContext, destinations: OtpSubject["destinations"]): void {
  for (const { kind, value } of destinations) {
    switch (kind) {
      case "mobile":
      case "aadhaar":
      case "cibil":
      case "aeps-user":
        noteCustomerRef(ctx, kind, value);
        break;
      default:
      // A token or a registration reference: not a customer identifier support holds (customer-refs.ts).
    }
  }
}

/** A valid input of each class that holds a referenced identifier: one field is replaced by what support typed. */
const AEPS_SAMPLE = {
  userKey: "AOP554N3XXXX",
  mobile: "9876543210",
  aadhaar: "234123412346",
  primaryKeyId: "TEST",
  encodeTxnId: "DEMO",
};
const REGISTRATION_SAMPLE = {
  firstName: "Asha",
  lastName: "Kulkarni",
  pan: "ABCPE1234F",
  dateOfBirth: "1990-01-01",
  email: "asha@example.com",
  mobile: "9876543210",
};
/** The user key's budget key (guarded-mutations.ts): `anyCase`, as GUARDED_MUTATIONS declares it. */
const USER_KEY_ANY_CASE = GUARDED_MUTATIONS.resendAepsOtp.destinations.some(
  (d) => "field" in d && d.field === "userKey" && "anyCase" in d && d.anyCase,
);
const PROBES: ReadonlyArray<{
  kind: CustomerRefKind;
  type: new () => object;
  sample: Record<string, string>;
  field: string;
  key?: (canonical: string) => string;
}> = [
  { kind: "mobile", type: ResendAepsOtpInput, sample: AEPS_SAMPLE, field: "mobile" },
  { kind: "aadhaar", type: ResendAepsOtpInput, sample: AEPS_SAMPLE, field: "aadhaar" },
  { kind: "pan", type: RegisterCibilCustomerInput, sample: REGISTRATION_SAMPLE, field: "pan" },
  {
    kind: "cibil",
    type: GenerateCibilOtpInput,
    sample: { cibilId: "102277100", accessToken: "tok102277100" },
    field: "cibilId",
  },
  {
    kind: "aeps-user",
    type: ResendAepsOtpInput,
    sample: AEPS_SAMPLE,
    field: "userKey",
    key: USER_KEY_ANY_CASE ? anyCaseKey : undefined,
  },
];

/**
 * What support may type, as the server would take it, for each kind it is a valid value of: the value is put in an
 * input of the operation that takes it and run through the server's own validation and canonicalisation
 * (validation/validate-input.ts, the field's decorators: a mobile as typed, an Aadhaar's 12 digits, a PAN upper-cased,
 * a CIBIL id without leading zeros), then, for a user key, made its budget key (guarded-mutations.ts anyCaseKey).
 * Ambiguous input (10 digits are a mobile, a CIBIL id and a user key) gives each kind's. For `npm run customer-ref`
 * (scripts/customer-ref.js).
 */
export function customerRefCandidates(raw: string): Array<{ kind: CustomerRefKind; canonical: string }> {
  const candidates: Array<{ kind: CustomerRefKind; canonical: string }> = [];
  for (const probe of PROBES) {
    const input = Object.assign(new probe.type(), probe.sample, { [probe.field]: raw }) as Record<string, unknown>;
    try {
      // Synchronous (validate-input.ts): it throws, or canonicalises `input` in place.
      void validateInput(input, undefined as never, { args: { input } } as never);
    } catch (error) {
      if (error instanceof InputValidationError) continue;
      throw error;
    }
    const canonical = input[probe.field] as string;
    candidates.push({ kind: probe.kind, canonical: probe.key ? probe.key(canonical) : canonical });
  }
  return candidates;
}
