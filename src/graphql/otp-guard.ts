import type { GraphQLResolveInfo } from "graphql";
import type { GuardedCallOptions } from "../aopay/client";
import { isAopayError } from "../aopay/errors";
import { issueSendPass } from "../aopay/send-pass";
import { ProtectionStoreError } from "../protection/errors";
import type { StoredResult } from "../protection/idempotency-store";
import { MemoryStoreFullError } from "../protection/memory-counters";
import type { OtpSubject } from "../protection/otp-throttle";
import type { GraphQLContext } from "./context";
import type { OtpSendFailure } from "./failures/failure.types";
import { idempotencyConflict, protectionUnavailable, throttledFailure, toFailure } from "./failures/to-failure";
import { GUARDED_MUTATIONS, type GuardSpec, isGuardedMutation } from "./guarded-mutations";
import { SafeMessageError } from "./plugins/safe-message-error";

/**
 * The one path every upstream write takes (OTP sends, OTP verifications, registrations; docs/security-requirements.md
 * B and E4), for the mutations in GUARDED_MUTATIONS only (guarded-mutations.ts), which also says which budgets and
 * destinations apply:
 *   1. Idempotency-Key (optional header): a repeat replays the first result; a repeat with other input is an error;
 *      a repeat while the first still runs gets IdempotencyConflict. Only then may anything be sent.
 *   2. Throttle: one point from every budget (destination, IP, client, global), or a typed OtpThrottled.
 *   3. The upstream call, exactly once, with a single-use send pass (aopay/send-pass.ts): without one AopayClient
 *      refuses every side-effecting endpoint, so there is no way to AOPay around this function.
 *   4. Settle: a call that provably never left the process gives its points back and frees the key; anything that
 *      may have reached AOPay keeps its cost and stores its result under the key.
 * If the shared store is unreachable, nothing is sent (fail closed): ProtectionUnavailable.
 */

export interface OtpSend<T, R> {
  /**
   * The validated, canonical input (validation/canonical.ts): the destinations are read from it, by the field names
   * GUARDED_MUTATIONS gives, and it is the idempotency fingerprint (never stored: only its HMAC is).
   */
  input: object;
  /** The upstream call, made at most once, with the options (send pass included) it must pass on to AopayClient. */
  call: (options: GuardedCallOptions) => Promise<T>;
  /** Builds the success member; `sent.nextSendAt` is when the destination takes another send (see SendInfo). */
  toResult: (value: T, sent: SendInfo) => R;
  /** The classes of the mutation's result union: what a stored result may be revived as on replay. */
  resultTypes: ReadonlyArray<new () => object>;
}

/** What the guard knows about a send that went ahead, for the success member. */
export interface SendInfo {
  /**
   * Epoch ms from which the destination's budgets will take another send: the reservation's time plus
   * Reservation.nextSendInMs (taken after the reservation, so never earlier than the counters allow). Equal to the
   * reservation's time when nothing gates the next send (or no budget applies).
   */
  nextSendAt: number;
}

const NO_BUDGET = { allowed: true as const, nextSendInMs: 0, refund: async () => undefined };

/** Visible ASCII, 1 to 255 characters (Stripe's bound; a UUID v4 is the recommended value). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Seconds a client is told to wait before asking again about a request still in flight. */
const CONFLICT_RETRY_SECONDS = 2;

interface Claim {
  key: string;
  token: string;
  fingerprint: string;
}

export class IdempotencyKeyReusedError extends SafeMessageError {
  constructor() {
    super("This Idempotency-Key was already used with different input. Use a new key for a new request.", {
      extensions: { code: "IDEMPOTENCY_KEY_REUSED", http: { status: 422 } },
    });
  }
}

/**
 * Runs a guarded mutation's upstream write. `info` is the resolver's own: the field is the one actually executing,
 * never a name a resolver could get wrong, and it must be a Mutation field listed in GUARDED_MUTATIONS.
 */
export async function guardOtpSend<T, R extends object>(ctx: GraphQLContext, info: GraphQLResolveInfo, send: OtpSend<T, R>): Promise<R | OtpSendFailure> {
  const field = info.fieldName;
  if (info.parentType !== info.schema.getMutationType() || !isGuardedMutation(field)) {
    // A bug (masked for the client, logged): nothing has been claimed, reserved or sent.
    throw new Error(`guardOtpSend: ${info.parentType.name}.${field} is not a mutation in GUARDED_MUTATIONS`);
  }
  const spec: GuardSpec = GUARDED_MUTATIONS[field];
  const destinations = destinationsOf(field, spec, send.input);
  let claim: Claim | undefined;
  try {
    const begun = await beginIdempotency(ctx, field, send);
    if ("replay" in begun) return begun.replay as R | OtpSendFailure;
    claim = begun.claim;

    const reservation = spec.budget
      ? await ctx.protection.throttle.reserve({ destinations, ip: ctx.ip, clientId: ctx.client.id }, spec.budget)
      : NO_BUDGET;
    if (!reservation.allowed) {
      await release(ctx, claim);
      ctx.log.info({ otpSend: { field, throttled: reservation.code, scope: reservation.scope } }, "otp send throttled");
      ctx.observe.throttled(field, reservation.code, reservation.scope);
      return throttledFailure(reservation.code, reservation.scope, reservation.retryAfterSeconds);
    }

    const sent: SendInfo = { nextSendAt: Date.now() + reservation.nextSendInMs };
    let result: R | OtpSendFailure;
    try {
      result = send.toResult(await send.call({ ...ctx.callOptions(), pass: issueSendPass(field) }), sent);
    } catch (error) {
      if (!isAopayError(error)) {
        // A bug, not an upstream outcome: free the key so the client can retry; the points stay spent (we cannot
        // tell whether anything was sent).
        await release(ctx, claim).catch(() => undefined);
        throw error;
      }
      result = toFailure(error);
      if (!error.sent) {
        await settleSafely(ctx, "refund", () => reservation.refund());
        await settleSafely(ctx, "release", () => release(ctx, claim));
        return result;
      }
    }
    if (claim) {
      const stored: StoredResult = { typename: result.constructor.name, data: { ...(result as Record<string, unknown>) } };
      await settleSafely(ctx, "store", () =>
        ctx.protection.idempotency.complete(claim!.key, claim!.token, claim!.fingerprint, stored, ctx.protection.idempotencyTtlMs),
      );
    }
    return result;
  } catch (error) {
    if (!(error instanceof ProtectionStoreError)) throw error;
    // A full in-memory store is warned about once a minute by the store (protection/index.ts), not once per request.
    if (error instanceof MemoryStoreFullError) ctx.log.info({ otpSend: { field, refused: "memory store full" } }, "otp send refused: in-memory store full");
    else ctx.log.error({ err: error }, "otp send refused: protection store unavailable");
    ctx.observe.protectionUnavailable(field);
    await release(ctx, claim).catch(() => undefined);
    return protectionUnavailable();
  }
}

/** The destinations GUARDED_MUTATIONS names, read from the canonical input. A missing one is a bug in the list. */
function destinationsOf(field: string, spec: GuardSpec, input: object): OtpSubject["destinations"] {
  return spec.destinations.map(({ kind, field: inputField }) => {
    const value = (input as Record<string, unknown>)[inputField];
    if (typeof value !== "string" || value === "") throw new Error(`guardOtpSend: ${field} has no destination field ${inputField}`);
    return { kind, value };
  });
}

async function beginIdempotency(
  ctx: GraphQLContext,
  field: string,
  send: Pick<OtpSend<unknown, unknown>, "input" | "resultTypes">,
): Promise<{ claim?: Claim } | { replay: object }> {
  const raw = ctx.idempotencyKey;
  if (raw === undefined) return {};
  if (!IDEMPOTENCY_KEY.test(raw)) {
    throw new SafeMessageError("The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is recommended).", {
      extensions: { code: "BAD_USER_INPUT", fields: [{ field: "Idempotency-Key", problem: "must be 1 to 255 visible ASCII characters" }] },
    });
  }
  const { hasher, idempotency, pendingTtlMs } = ctx.protection;
  // Scoped to the client and the mutation, so two clients (or two mutations) never share a key.
  const key = hasher.hash("idempotency", `${ctx.client.id}\n${field}\n${raw}`);
  const fingerprint = hasher.hash("fingerprint", `${field}\n${canonicalJson(send.input)}`);
  const begun = await idempotency.begin(key, fingerprint, pendingTtlMs);
  switch (begun.kind) {
    case "acquired":
      return { claim: { key, token: begun.token, fingerprint } };
    case "mismatch":
      throw new IdempotencyKeyReusedError();
    case "in-flight":
      ctx.log.info({ otpSend: { field, idempotency: "in-flight" } }, "idempotency key in flight");
      return { replay: idempotencyConflict(CONFLICT_RETRY_SECONDS) };
    case "replay": {
      const type = send.resultTypes.find((t) => t.name === begun.result.typename);
      if (!type) throw new ProtectionStoreError("idempotency", new Error(`unknown stored type ${begun.result.typename}`));
      ctx.responseHeaders.set("idempotent-replayed", "true");
      ctx.log.info({ otpSend: { field, idempotency: "replayed" } }, "idempotent replay");
      ctx.observe.replayed(field);
      return { replay: Object.assign(new type(), begun.result.data) };
    }
  }
}

async function release(ctx: GraphQLContext, claim: Claim | undefined): Promise<void> {
  if (claim) await ctx.protection.idempotency.release(claim.key, claim.token);
}

/** After the upstream call, store trouble must not turn a real result into an error: log it and carry on. */
async function settleSafely(ctx: GraphQLContext, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    ctx.log.error({ err: error }, `otp settle step failed: ${what}`);
  }
}

/** JSON with object keys sorted at every level, so the same input always has the same fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
