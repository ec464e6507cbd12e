import type { ServerResponse } from "node:http";
import type { FakeUpstream } from "./fake-upstream";
import { fixtureJson } from "./fixtures";

export interface ModelledAopayOptions {
  /**
   * Which of the two GenerateOTP takes AOPay finds the customer by: the CIBIL id or the access token (AOPay's docs
   * give both and do not say which it reads: docs/upstream/aopay-api.md §1.2, src/graphql/guarded-mutations.ts
   * CIBIL_TOKEN). By id, an id of no registration is sent to "unknown"; by token, a token AOPay never issued is
   * answered with the generic error and sends nothing.
   */
  readonly findsBy: "cibilId" | "token";
  /** The first CIBIL id handed out (one per PAN, counting up): suites sharing a Redis keep theirs apart. */
  readonly firstCibilId: number;
  /** How long a registration's answer is held, by the mobile it registers; the mobile is set when it ARRIVES. */
  readonly holdMs?: (mobile: string) => number;
  /** Mobiles whose registration AOPay refuses (the generic error): a refused registration changes nothing. */
  readonly refused?: ReadonlySet<string>;
  /** How long GenerateOTP takes; its SMS goes to the mobile the customer has when it answers. */
  readonly generateMs?: number;
}

/**
 * A scripted AOPay keeping, per customer (one CIBIL id per PAN, its token `tok<id>`), the mobile its OTPs go to.
 * GenerateOTP sends to the customer's registered mobile (docs/upstream/aopay-api.md §1, §1.2) and a later registration
 * of the same customer replaces it (when a registration takes effect at AOPay, its docs do not say: here on arrival).
 * `sms` lists the mobile of each GenerateOTP in the order they answer; ResendOTP answers the documented success.
 */
export function modelledAopay(upstream: FakeUpstream, options: ModelledAopayOptions): { readonly sms: string[] } {
  const { findsBy, firstCibilId, holdMs = () => 0, refused = new Set<string>(), generateMs = 0 } = options;
  const idOfPan = new Map<string, string>();
  const mobileOf = new Map<string, string>();
  const sms: string[] = [];
  const challenge = fixtureJson("cibil/generate-otp.success") as { result: Record<string, unknown> };
  const answer = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  upstream.respond((call, res) => {
    const body = JSON.parse(call.body) as Record<string, unknown>;
    if (call.path.endsWith("/registeration")) {
      const pan = String(body.pancard);
      const mobile = String(body.mobile_number);
      if (!idOfPan.has(pan)) idOfPan.set(pan, String(firstCibilId + idOfPan.size));
      const cibilId = idOfPan.get(pan) as string;
      if (refused.has(mobile)) return answer(res, fixtureJson("cibil/generic-error"));
      mobileOf.set(cibilId, mobile);
      const registered = {
        status: "SUCCESS",
        message: "success",
        error_code: "SPC-200",
        access_token: `tok${cibilId}`,
        result: { cibil_id: cibilId },
      };
      setTimeout(() => answer(res, registered), holdMs(mobile));
    } else if (call.path.endsWith("/GenerateOTP")) {
      const cibilId = String(body.cibil_id);
      const token = String(body.access_token);
      const customer = findsBy === "cibilId" ? cibilId : token.startsWith("tok") ? token.slice(3) : undefined;
      const known = customer !== undefined && mobileOf.has(customer);
      if (findsBy === "token" && !known) return answer(res, fixtureJson("cibil/generic-error"));
      setTimeout(() => {
        sms.push((known && mobileOf.get(customer as string)) || "unknown");
        answer(res, { ...challenge, result: { ...challenge.result, cibil_id: cibilId } });
      }, generateMs);
    } else answer(res, fixtureJson("aeps/resend-otp.success"));
  });
  return { sms };
}
