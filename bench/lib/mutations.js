// @ts-check
"use strict";
/**
 * The two mutations the bench drives, and the check of every answer.
 *
 *   cibil: `generateCibilOtp`, upstream `GET /api/AOP/CibilScore/GenerateOTP` with a JSON body;
 *   aeps:  `resendAepsOtp`, upstream `POST /api/AOP/V1/AEPS/UserRegisterBankWise/ResendOTP`.
 *
 * Every request has a destination no other request of the run has (a counter): a fresh `cibilId` (12 to 15 digits),
 * or a fresh mobile number (10 digits, 6000000000 upwards) with a fresh Aadhaar number (valid Verhoeff check digit).
 * So per-destination throttles (cooldown, window, daily cap) can never refuse a bench request, and the fake upstream
 * can tell whether one destination was sent an OTP twice. The request's `id` is that destination as the upstream
 * receives it (cibil_id, or Mobile), a number below 2^53.
 *
 * Our server and the floor get a client's typical document: the success member plus the failure members of the
 * result union (test/helpers/operations.ts selects these too), so an OVERLOADED or throttled answer is visible. The
 * minimal Apollo systems have no union: they get the same operation selecting the same success fields.
 */
const { fixtures } = require("./aopay-wire");

const FAILURE_MEMBERS = `
      ... on Failure { code message retryable }
      ... on UpstreamRejected { upstreamCode upstreamMessage }
      ... on UpstreamUnauthorized { upstreamCode upstreamMessage }
      ... on UpstreamUnavailable { retryAfterSeconds }
      ... on OtpThrottled { retryAfterSeconds scope }
      ... on IdempotencyConflict { retryAfterSeconds }`;

const CIBIL_FIELDS = `cibilId status nextStep nextStepName merchantTransactionId
        question { key text lastChance skipEligible resendEligible answerChoices { id key text } }`;
const AEPS_FIELDS =
  "upstreamMessage upstreamResponseCode upstreamErrorCode primaryKeyId encodeTxnId maskedAadhaar maskedMobile";

/** Verhoeff tables (src/pii/aadhaar.ts), to give every generated Aadhaar number a valid check digit. */
const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/** `payload` followed by its Verhoeff check digit. */
function withVerhoeff(/** @type {string} */ payload) {
  let c = 0;
  for (let i = 0; i < payload.length; i++) c = D[c][P[(i + 1) % 8][payload.charCodeAt(payload.length - 1 - i) - 48]];
  return payload + INV[c];
}

/** The server's Aadhaar rules (src/pii/aadhaar.ts aadhaarProblem): first digit 2-9, not a palindrome. */
const isPalindrome = (/** @type {string} */ s) => s === [...s].reverse().join("");

/**
 * The n-th request's Aadhaar number: a first digit, n as 10 digits, the Verhoeff check digit. The first digit is 2
 * unless that makes a palindrome, which the server refuses (n = abba000 for digits a and b, e.g. 3,003,000, when the
 * check digit is 2 too): then the next of 9, 8, ... 3 that does not. Distinct first digits keep every n's number
 * distinct. The bench's counter runs over the whole run (about 3 million requests in a full one), so the rare cases
 * come up: the fallback used before (29,999,999,999 - n) was itself a palindrome at n = 3,003,000 and 7,007,000, and a
 * full run's last scaling round got one GraphQL error for it. test/unit/bench/bench-identifiers.test.ts holds every
 * generated number to the server's own check.
 */
function aadhaarFor(/** @type {number} */ n) {
  const middle = String(n).padStart(10, "0");
  if (middle.length > 10) throw new Error(`request counter ${n} is past the Aadhaar numbers this bench can make`);
  for (const first of "29876543") {
    const aadhaar = withVerhoeff(first + middle);
    if (!isPalindrome(aadhaar)) return aadhaar;
  }
  throw new Error(`no valid Aadhaar number for request ${n}`);
}

/**
 * @typedef {object} Mutation
 * @property {"cibil" | "aeps"} key
 * @property {string} field              the mutation's field name
 * @property {string} operationName
 * @property {{ union: string, plain: string }} documents
 * @property {(n: number) => { id: number, input: Record<string, string> }} request  the n-th request of the run
 * @property {(body: string, id: number) => boolean} isOk  a correct success answer for destination `id`
 */

const CIBIL_OK = { cibilId: String(fixtures.cibil.result.cibil_id), txn: String(fixtures.cibil.merchant_trans_id) };
const AEPS_OK = { primaryKeyId: String(fixtures.aeps.data.data.primaryKeyId) };

/** @type {Record<"cibil" | "aeps", Mutation>} */
const MUTATIONS = {
  cibil: {
    key: "cibil",
    field: "generateCibilOtp",
    operationName: "GenerateCibilOtp",
    documents: {
      union: `mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {
    generateCibilOtp(input: $input) {
      __typename
      ... on CibilOtpChallenge { ${CIBIL_FIELDS} }${FAILURE_MEMBERS}
    }
  }`,
      plain: `mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {
    generateCibilOtp(input: $input) { __typename ${CIBIL_FIELDS} }
  }`,
    },
    request(n) {
      const id = 100_000_000_000 + n;
      // A token of its own per request, as the CIBIL id: the send is budgeted on both (src/graphql/guarded-mutations.ts
      // CIBIL_TOKEN), so a shared token would meet its cooldown from the second request on.
      return { id, input: { cibilId: String(id), accessToken: `bench-token-${n}` } };
    },
    // The documented example answers with its own cibil_id (9362678) whatever was asked (src/aopay/endpoints/
    // cibil-generate-otp.ts: the answer wins), so the answer cannot name its request: that link is checked at the
    // upstream instead (lib/hits.js).
    isOk: (body) =>
      body.includes('"__typename":"CibilOtpChallenge"') &&
      body.includes(`"cibilId":"${CIBIL_OK.cibilId}"`) &&
      body.includes(`"merchantTransactionId":"${CIBIL_OK.txn}"`),
  },
  aeps: {
    key: "aeps",
    field: "resendAepsOtp",
    operationName: "ResendAepsOtp",
    documents: {
      union: `mutation ResendAepsOtp($input: ResendAepsOtpInput!) {
    resendAepsOtp(input: $input) {
      __typename
      ... on AepsOtpResent { ${AEPS_FIELDS} }${FAILURE_MEMBERS}
    }
  }`,
      plain: `mutation ResendAepsOtp($input: ResendAepsOtpInput!) {
    resendAepsOtp(input: $input) { __typename ${AEPS_FIELDS} }
  }`,
    },
    request(n) {
      const id = 6_000_000_000 + n;
      const aadhaar = aadhaarFor(n);
      return {
        id,
        // The user key and the registration references are budgeted as destinations too (src/graphql/
        // guarded-mutations.ts AEPS_REGISTRATION): each request has its own, as it has its own mobile and Aadhaar.
        input: {
          userKey: `BK${n.toString(36)}`,
          mobile: String(id),
          aadhaar,
          primaryKeyId: `PK${n}`,
          encodeTxnId: `TX${n}`,
        },
      };
    },
    isOk: (body, id) =>
      body.includes('"__typename":"AepsOtpResent"') &&
      body.includes(`"maskedMobile":"XXXXXX${String(id).slice(-4)}"`) &&
      body.includes(`"primaryKeyId":"${AEPS_OK.primaryKeyId}"`),
  },
};

/** The request counter: shared by every run of the process, so no two requests of a bench run share a destination. */
let counter = 0;

/**
 * A factory of request bodies for one mutation and document: `next()` returns the destination id and the JSON body.
 * The body is built by concatenation around the variables (cheap: the load generator shares the machine).
 * @param {Mutation} m @param {"union" | "plain"} flavour
 */
function bodyFactory(m, flavour) {
  const marker = "@@INPUT@@";
  const template = JSON.stringify({
    operationName: m.operationName,
    query: m.documents[flavour],
    variables: { input: marker },
  });
  const [head, tail] = template.split(`"${marker}"`);
  return {
    next() {
      const { id, input } = m.request(counter++);
      return { id, body: head + JSON.stringify(input) + tail };
    },
  };
}

/**
 * Classifies one answer: "ok" (HTTP 200, the success member for this destination, no GraphQL errors), "shed" (HTTP
 * 503, or the typed OVERLOADED failure), "non2xx", "graphqlError" (HTTP 200 with `errors`), or "wrong" (anything
 * else, e.g. another typed failure such as a throttle).
 * @param {Mutation} m @param {number} status @param {string} body @param {number} id
 * @returns {"ok" | "shed" | "non2xx" | "graphqlError" | "wrong"}
 */
function classify(m, status, body, id) {
  if (status === 503) return "shed";
  if (status < 200 || status >= 300) return "non2xx";
  if (body.includes('"code":"OVERLOADED"')) return "shed";
  if (body.includes('"errors":')) return "graphqlError";
  return m.isOk(body, id) ? "ok" : "wrong";
}

/**
 * A printer of the first `max` answers of one run that are neither correct nor shed, as they came (class, status,
 * request id, body up to 400 characters): an error count alone left a full run's one GraphQL error unexplained (a
 * generated Aadhaar number the server refused, found afterwards by hand). Used by both load generators.
 */
function unexpectedAnswers(max = 3) {
  let shown = 0;
  return (
    /** @type {string} */ verdict,
    /** @type {number} */ status,
    /** @type {string} */ body,
    /** @type {number} */ id,
  ) => {
    if (verdict === "ok" || verdict === "shed" || shown >= max) return;
    shown += 1;
    process.stdout.write(`  unexpected answer (${verdict}, HTTP ${status}, request ${id}): ${body.slice(0, 400)}\n`);
  };
}

module.exports = { MUTATIONS, bodyFactory, classify, unexpectedAnswers, withVerhoeff, aadhaarFor };
