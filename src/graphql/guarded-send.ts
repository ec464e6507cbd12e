import { randomUUID } from "node:crypto";
import type { GraphQLResolveInfo } from "graphql";
import { isAopayError } from "../aopay/errors";
import type { GuardedCallOptions } from "../aopay/client";
import type { StoredResult } from "../protection/idempotency-store";
import { noteAccess } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import type { MaybePromise, OtpSubject } from "../protection/otp-throttle";
import { isPromiseLike } from "../util/promise-like";
import type { SendInfo, SendOutcome } from "../protection/send-guard";
import type { GraphQLContext } from "./context";
import { EdgeCode } from "./edge-code";
import { type GuardedFailure, RegistrationRefused } from "./failures/failure.types";
import {
  idempotencyConflict,
  protectionUnavailable,
  registrationRefused,
  registrationThrottled,
  throttledFailure,
  toFailure,
} from "./failures/to-failure";
import { noteCustomerRef, noteDestinationRefs } from "./customer-refs";
import {
  anyCaseKey,
  GUARDED_MUTATIONS,
  type GuardedMutationName,
  type GuardSpec,
  isGuardedMutation,
} from "./guarded-mutations";
import type { RegisteredMobileStore, RegisteredPan, StoreSendMark } from "../protection/registered-mobiles";
import { canonicalCibilId } from "../pii/cibil-id";
import { SafeMessageError } from "./plugins/safe-message-error";

/**
 * A guarded mutation's upstream write, as GraphQL sees it: the field's budget and destinations from
 * GUARDED_MUTATIONS (guarded-mutations.ts), the request handed once, and the send guard's outcome
 * (protection/send-guard.ts, which decides everything) mapped to the mutation's result union members.
 */
export interface GuardedSend<In extends object, T, R> {
  /**
   * The validated, canonical input (validation/canonical.ts), as the AopayClient method takes it: the destinations
   * are read from it, by the field names GUARDED_MUTATIONS gives, and it is the idempotency fingerprint.
   */
  request: In;
  /** The AopayClient method (e.g. `ctx.aopay.cibil.generateOtp`), called at most once with `request`. */
  send: (request: In, options: GuardedCallOptions) => Promise<T>;
  /** Builds the success member; `sent.nextSendAt` is when the destination takes another send. */
  toResult: (value: T, sent: SendInfo) => R;
  /** The classes of the mutation's result union: what a stored result may be revived as on replay. */
  resultTypes: ReadonlyArray<new () => object>;
  /**
   * What the answer of a call made by this request grants (submitCibilOtp's SUCCESS: the customer's consent), run
   * once the send guard answers `sent`, never on any other answer: a replay of an Idempotency-Key returns the stored
   * result and changes nothing. Before, the resolver granted the consent on whatever guardedSend returned, so each
   * replay of a verified OTP gave the client CIBIL_CONSENT_TTL_SECONDS more of the customer's credit report with no
   * new OTP (test/e2e/idempotency-replay-effects.test.ts). Its failures are its own to handle: the answer stands.
   */
  afterSent?: (result: R | GuardedFailure) => Promise<void>;
}

/** Visible ASCII, 1 to 255 characters (Stripe's bound; a UUID v4 is the recommended value). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/**
 * A wait (ProtectionRefusal.retryAfterMs, an Idempotency-Key's in flight: send-guard.ts inFlightWaitMs) as the
 * client's whole seconds: rounded up, at least 1, so that a client retrying after it is not refused again (1.4 s is 2,
 * never 1; 0.3 s is 1, never 0); null when no wait ends it.
 */
function wholeSeconds(ms: number): number;
function wholeSeconds(ms: number | undefined): number | null;
function wholeSeconds(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.max(1, Math.ceil(ms / 1000));
}

export class IdempotencyKeyReusedError extends SafeMessageError {
  constructor() {
    super("This Idempotency-Key was already used with different input. Use a new key for a new request.", {
      extensions: { code: EdgeCode.IDEMPOTENCY_KEY_REUSED, http: { status: 422 } },
    });
  }
}

/**
 * Runs a guarded mutation's upstream write. `info` is the resolver's own: the field is the one actually executing,
 * never a name a resolver could get wrong, and it must be a Mutation field listed in GUARDED_MUTATIONS.
 */
export function guardedSend<In extends object, T, R extends object>(
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
  send: GuardedSend<In, T, R>,
): Promise<R | GuardedFailure> {
  const field = info.fieldName;
  if (info.parentType !== info.schema.getMutationType() || !isGuardedMutation(field)) {
    // A bug (masked for the client, logged): nothing has been claimed, reserved or sent.
    return Promise.reject(
      new Error(`guardedSend: ${info.parentType.name}.${field} is not a mutation in GUARDED_MUTATIONS`),
    );
  }
  const spec: GuardSpec = GUARDED_MUTATIONS[field];
  const registered = ctx.protection.registeredMobiles;
  const recalls = spec.destinations.some((d) => "registeredFor" in d);
  // A registration's room, and the CIBIL ids a send marked as under way, are given back inside `guarded`'s own
  // `finally` (no `.finally` on its promise: one promise and one closure less per send). Only what a send needs is
  // made: a room for a registration, a list for a send that recalls a CIBIL id's mobiles (prepareOf), and for either
  // the state its call's outcome leaves (`mayStillApply`).
  return guarded(
    ctx,
    field,
    spec,
    send,
    registered,
    recalls ? [] : NO_MARKS,
    spec.registers || recalls ? { reserved: false } : NO_ROOM,
  );
}

/** What a send that recalls no CIBIL id marks: nothing (prepareOf never pushes to it). */
const NO_MARKS: string[] = Object.freeze([]) as unknown as string[];
/** The room of a send that registers and recalls nothing: never reserved (only a registration's prepare sets it). */
const NO_ROOM: Registration = Object.freeze({ reserved: false });
/**
 * A registration's state across its steps: whether `ready` set room aside (given back after it), and its PAN's link
 * key (RegisteredMobileStore.pan), made in `prepare` and used again by `remember`. A send that recalls a CIBIL id's
 * mobiles has one too, for `mayStillApply` alone (never reserved).
 */
interface Registration {
  reserved: boolean;
  pan?: RegisteredPan;
  /**
   * Its own token: the hold of its PAN when the PAN is linked to no CIBIL id here yet (RegisteredMobileStore
   * registering, firstEnded). Set once `prepare` runs.
   */
  first?: string;
  /**
   * Its call failed in a way that leaves AOPay's outcome unknown: a registration's hold, a send's marks of the CIBIL
   * ids it recalled, are then left to expire (AOPay may still take the registration, or still be sending the OTP).
   */
  mayStillApply?: boolean;
}

async function guarded<In extends object, T, R extends object>(
  ctx: GraphQLContext,
  field: GuardedMutationName,
  spec: GuardSpec,
  send: GuardedSend<In, T, R>,
  registered: RegisteredMobileStore,
  marked: string[],
  /** A registration's: set once `ready` has set room aside for it. */
  room: Registration,
): Promise<R | GuardedFailure> {
  // A CIBIL send's mark, made by its budgets' take in Redis (one round trip less) and taken up by `prepare`'s
  // `sending`; undefined in memory and for a send that recalls no CIBIL id.
  const mark =
    marked !== NO_MARKS && registered.sendMark ? sendMarkOf(field, spec, send.request, registered) : undefined;
  try {
    const destinations = destinationsOf(field, spec, send.request);
    // The customers it names, for its access line (customer-refs.ts): from the canonical values the guard budgets, and
    // a registration's mobile and PAN; a recalled mobile and a registration's CIBIL id are added where they are known.
    noteDestinationRefs(ctx, destinations);
    if (spec.registers) {
      noteCustomerRef(ctx, "mobile", inputString(field, send.request, spec.registers.mobileField));
      noteCustomerRef(ctx, "pan", inputString(field, send.request, spec.registers.panField));
    }
    const outcome = await ctx.protection.guard.run<T, R | GuardedFailure>({
      field,
      budget: spec.budget,
      subject: { destinations, ip: ctx.ip, clientId: ctx.client.id },
      prepare: prepareOf(field, spec, send.request, registered, marked, ctx, room, mark),
      mark,
      remember: rememberOf(field, spec, send.request, registered, ctx, room),
      input: send.request,
      idempotencyKey: checkedIdempotencyKey(ctx.idempotencyKey),
      log: ctx.log,
      call:
        room !== NO_ROOM
          ? (pass) =>
              send.send(send.request, { ...ctx.callOptions(), pass }).catch((error: unknown) => {
                // Whether AOPay may still take this registration, or send this OTP, after we gave up on it: an unknown
                // outcome, or a bug once the call may have left (SendGuard keeps its key). Answered or never sent: no.
                room.mayStillApply = !isAopayError(error) || error.code === "OUTCOME_UNKNOWN";
                throw error;
              })
          : (pass) => send.send(send.request, { ...ctx.callOptions(), pass }),
      settle: (answer, sent) => ("value" in answer ? send.toResult(answer.value, sent) : toFailure(answer.error)),
      store: (result) => ({ typename: result.constructor.name, data: { ...(result as Record<string, unknown>) } }),
      revive: (stored: StoredResult) => {
        const type = send.resultTypes.find((t) => t.name === stored.typename);
        return type ? (Object.assign(new type(), stored.data) as R | GuardedFailure) : undefined;
      },
    });
    if (outcome.kind === "sent" && send.afterSent) await send.afterSent(outcome.result);
    return answerOf(ctx, field, spec, send, outcome);
  } finally {
    // Whatever the outcome: the room `ready` set aside for a registration's records is given back
    // (RegisteredMobileStore.released), and the CIBIL ids this send marked as under way are unmarked. The unmark is
    // not awaited (`sent` never throws): the answer does not wait for it, which at worst refuses a registration of the
    // id's PAN a round trip longer.
    if (room.reserved) registered.released(ctx.protection.hasher.memoized("client", ctx.client.id));
    // A first registration's hold of its PAN: dropped once answered (linked by `remember`) or sure never to reach
    // AOPay, left to expire when AOPay may still take it. Not awaited, as the unmarks below.
    if (room.first !== undefined && room.pan !== undefined)
      void registered.firstEnded(room.pan, room.first, room.mayStillApply === true);
    // A send whose outcome is unknown leaves its marks to expire: AOPay may still be sending its OTP, to whichever
    // mobile a registration meanwhile gave the customer (RegisteredMobileStore.sent).
    for (const cibilId of marked) void registered.sent(cibilId, room.mayStillApply === true);
    // A mark the take made that `sending` never took up (nothing between them throws today): ended all the same, not
    // left to refuse the PAN's registrations until it expires.
    if (mark?.unclaimed) void registered.sent(mark.cibilId, room.mayStillApply === true);
  }
}

/** The mark of a send's first recalled CIBIL id (with its token), for its budgets' take to make (Redis only). */
function sendMarkOf(
  field: string,
  spec: GuardSpec,
  input: object,
  store: RegisteredMobileStore,
): StoreSendMark | undefined {
  for (const d of spec.destinations)
    if ("registeredFor" in d)
      return store.sendMark?.(
        inputString(field, input, d.registeredFor),
        d.orToken === undefined ? undefined : anyCaseKey(inputString(field, input, d.orToken)),
      );
  return undefined;
}

/** The send guard's outcome as the mutation's answer (a result union member), or the error GraphQL reports. */
function answerOf<In extends object, T, R extends object>(
  ctx: GraphQLContext,
  field: GuardedMutationName,
  spec: GuardSpec,
  send: GuardedSend<In, T, R>,
  outcome: SendOutcome<R | GuardedFailure>,
): R | GuardedFailure {
  // A throttle or an Idempotency-Key's answer is noted on the access line, not logged on a line of its own
  // (logging/access-log.ts AccessSummary: a client can repeat either at will).
  switch (outcome.kind) {
    case "sent":
      return outcome.result;
    case "replayed":
      noteAccess(ctx.summary, "idempotency", "replayed");
      ctx.responseHeaders.set("idempotent-replayed", "true");
      return outcome.result;
    case "unread":
      // No Idempotent-Replayed: nothing was read (send-guard.ts #answerUnread).
      noteAccess(ctx.summary, "idempotency", "unread");
      return outcome.result;
    case "in-flight":
      noteAccess(ctx.summary, "idempotency", "in-flight");
      return idempotencyConflict(wholeSeconds(outcome.retryAfterMs));
    case "key-reused":
      throw new IdempotencyKeyReusedError();
    case "throttled":
      noteAccess(ctx.summary, "throttled", outcome.scope);
      // A registration's union has no OtpThrottled (it sends no OTP): its budgets answer RegistrationRefused with
      // RATE_LIMITED, a member and a code its clients already know (no new union member for generated clients).
      if (spec.budget === "register") return registrationThrottled(outcome.retryAfterSeconds);
      return throttledFailure(outcome.code, outcome.scope, outcome.retryAfterSeconds);
    case "refused":
      // Only a mutation whose union has the member can be refused by a rule (a registration, `registers`); any other
      // is a bug in the store's contract: masked for the client, logged, and nothing was sent.
      if (!send.resultTypes.includes(RegistrationRefused))
        throw new Error(`guardedSend: ${field} was refused (${outcome.code}) but cannot answer RegistrationRefused`);
      return registrationRefused(outcome.code, wholeSeconds(outcome.retryAfterMs));
    case "unavailable":
      return protectionUnavailable();
  }
}

/** The raw header, when sent, if it has a key's shape; else a BAD_USER_INPUT error (nothing claimed or sent). */
function checkedIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined || IDEMPOTENCY_KEY.test(raw)) return raw;
  throw new SafeMessageError(
    "The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is recommended).",
    {
      extensions: {
        code: EdgeCode.BAD_USER_INPUT,
        fields: [{ field: "Idempotency-Key", problem: "must be 1 to 255 visible ASCII characters" }],
      },
    },
  );
}

/** The destinations GUARDED_MUTATIONS names, read from the canonical input. A missing one is a bug in the list. */
function destinationsOf(field: string, spec: GuardSpec, input: object): OtpSubject["destinations"] {
  const destinations: Array<OtpSubject["destinations"][number]> = [];
  for (const destination of spec.destinations) {
    // A registered mobile is recalled from the store (prepareOf), not read from the input.
    if ("field" in destination) {
      const value = inputString(field, input, destination.field);
      // The budget's key only: the value sent upstream stays as typed (guarded-mutations.ts AEPS_REGISTRATION).
      destinations.push({ kind: destination.kind, value: destination.anyCase ? anyCaseKey(value) : value });
    }
  }
  return destinations;
}

/** A canonical input field by name; its absence is a bug in GUARDED_MUTATIONS. */
function inputString(field: string, input: object, name: string): string {
  const value = (input as Record<string, unknown>)[name];
  if (typeof value !== "string" || value === "") throw new Error(`guardedSend: ${field} has no input field ${name}`);
  return value;
}

/**
 * What the send needs from the registered-mobile store before anything goes out (SendRequest.prepare):
 * - a `registeredFor` destination: every mobile the CIBIL id was registered with here (the latest few), each
 *   budgeted as a "mobile" destination (its cooldown, window, daily cap and prefix, shared with AEPS sends to that
 *   phone); nothing when none is known;
 * - `registers`: proof that the record can be kept (room in memory, Redis answering), else the registration is
 *   refused before AOPay creates a customer whose mobile we would not know; then, when the PAN was registered here
 *   before, its mobile added to that CIBIL id's record at once: AOPay may send that id's OTPs to it as soon as the
 *   registration reaches it, long before it answers (test/e2e/registration-race.test.ts).
 * A store failure throws ProtectionStoreError: the guard answers PROTECTION_UNAVAILABLE and sends nothing. A rule's
 * refusal of a registration (a send to its CIBIL id under way, one mobile too many) throws ProtectionRefusal: the
 * guard answers RegistrationRefused with its code, and sends nothing.
 */
function prepareOf(
  field: string,
  spec: GuardSpec,
  input: object,
  store: RegisteredMobileStore,
  /** Where the CIBIL ids marked as sending are listed, for guardedSend to unmark. */
  marked: string[],
  /** The request's: the recalled mobiles' references go on its access line (customer-refs.ts). */
  ctx: GraphQLContext,
  /** A registration's: set once `ready` has set room aside, for guardedSend to give back; its PAN's link key. */
  room: Registration,
  /** The send's mark its budgets' take made (sendMarkOf), for `sending` to take up (it ignores one not made). */
  mark?: StoreSendMark,
): (() => MaybePromise<OtpSubject["destinations"] | undefined>) | undefined {
  // Most mutations recall nothing and register nothing: no array and no closure for them.
  const registers = spec.registers;
  if (registers) {
    const pan = inputString(field, input, registers.panField);
    const mobile = inputString(field, input, registers.mobileField);
    // The client the records count for (in memory, each client's registrations hold at most its share of them).
    const owner = ctx.protection.hasher.memoized("client", ctx.client.id);
    return () => {
      // The PAN's link key, once per registration, once its budgets allowed it: `registering` here and `remember` after
      // the call (rememberOf) both use it.
      const linked = (room.pan = store.pan(pan));
      // Set before `registering` may hold the PAN under it: whatever follows, guardedSend's `finally` ends the hold.
      const first = (room.first = randomUUID());
      const ready = store.ready(owner);
      if (!isPromiseLike(ready)) {
        room.reserved = true;
        const added = store.registering(linked, mobile, first);
        return isPromiseLike(added) ? added.then(() => undefined) : undefined;
      }
      return ready
        .then(() => {
          room.reserved = true;
          return store.registering(linked, mobile, first);
        })
        .then(() => undefined);
    };
  }
  if (!spec.destinations.some((d) => "registeredFor" in d)) return undefined;
  const recalled = spec.destinations.flatMap((d) =>
    "registeredFor" in d
      ? [
          {
            cibilId: inputString(field, input, d.registeredFor),
            // As its budget key (upper-cased, CIBIL_TOKEN), as `remember` keys it: one spelling per token.
            token: d.orToken === undefined ? undefined : anyCaseKey(inputString(field, input, d.orToken)),
          },
        ]
      : [],
  );
  return () => {
    // Marked as sending as it recalls (RegisteredMobileStore.sending): a registration of the id's PAN either added
    // its mobile before, or sees the mark and is refused. In memory the store answers without a promise: no
    // microtask hop on the send path. One CIBIL id per send today; the list keeps the spec's shape general. The id the
    // token was issued with, when another, is marked too, and listed in `marked` by the store.
    const mobiles = recalled.map(({ cibilId, token }) => {
      const found = store.sending(cibilId, token, marked, mark);
      if (!isPromiseLike(found)) {
        marked.push(cibilId);
        return found;
      }
      return found.then((list) => {
        marked.push(cibilId);
        return list;
      });
    });
    if (!mobiles.some(isPromiseLike)) return asMobiles(mobiles as Array<readonly string[]>, ctx);
    return Promise.all(mobiles.map(async (found) => found)).then((found) => asMobiles(found, ctx));
  };
}

/** The recalled mobiles as destinations, each named on the access line: the phone the CIBIL OTP goes to. */
function asMobiles(mobiles: ReadonlyArray<readonly string[]>, ctx: GraphQLContext): OtpSubject["destinations"] {
  return mobiles.flatMap((values) =>
    values.map((value) => {
      noteCustomerRef(ctx, "mobile", value);
      return { kind: "mobile" as const, value };
    }),
  );
}

/**
 * After AOPay answered a registration: "this CIBIL id's OTPs go to this mobile" (SendRequest.remember). The id is
 * AOPay's, canonicalised like every CIBIL id we take (pii/cibil-id.ts), so that generateCibilOtp's canonical input
 * finds it. An answer without a usable id is logged (without the value) and not remembered.
 */
function rememberOf<T>(
  field: string,
  spec: GuardSpec,
  input: object,
  store: RegisteredMobileStore,
  ctx: GraphQLContext,
  /** The registration's: its PAN's link key, made by `prepare` (the PAN itself if it was not: hashed then). */
  room: Registration,
): ((value: T) => Promise<void>) | undefined {
  const registers = spec.registers;
  if (!registers) return undefined;
  const log: Logger = ctx.log;
  const mobile = inputString(field, input, registers.mobileField);
  const pan = inputString(field, input, registers.panField);
  return async (value) => {
    const raw = (value as Record<string, unknown>)[registers.cibilIdAnswerField];
    const cibilId = typeof raw === "string" ? canonicalCibilId(raw) : null;
    if (cibilId === null) {
      log.warn(
        { otpSend: { field, registeredMobile: raw == null ? "no CIBIL id in the answer" : "CIBIL id not digits" } },
        "registration answered without a usable CIBIL id: its mobile is not remembered",
      );
      return;
    }
    // The id AOPay gave the customer, beside their mobile and PAN: support who holds only those finds the id's sends.
    noteCustomerRef(ctx, "cibil", cibilId);
    // The token as AOPay issued it (the one its GenerateOTP may find the customer by), keyed as its budget is.
    const issuedToken = (value as Record<string, unknown>)[registers.tokenAnswerField];
    const token = typeof issuedToken === "string" && issuedToken !== "" ? anyCaseKey(issuedToken) : undefined;
    const owner = ctx.protection.hasher.memoized("client", ctx.client.id);
    await store.remember(cibilId, mobile, room.pan ?? pan, owner, token);
  };
}
