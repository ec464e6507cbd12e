// @ts-check
"use strict";
/**
 * The mutation every system is driven with, and the check of every answer.
 *
 * Our server and the floor get a client's typical document: the success member plus the upstream failure members of
 * the result union (test/helpers/operations.ts selects these and the throttle and idempotency members too; the
 * generated clients' wire text also adds __typename to every object). It is kept as it is so that runs stay
 * comparable with docs/performance.md's tables. The minimal Apollo server has no union, so it gets the same operation
 * selecting the same success fields of its small object type. All three answer the same JSON for a success.
 *
 * Every request carries a fresh `cibilId` (a counter, digits only, at most 15 digits), so per-destination throttling
 * in our server can never trigger, and every answer is checked to belong to its own request.
 */

const OURS_DOCUMENT = `
  mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {
    generateCibilOtp(input: $input) {
      __typename
      ... on CibilOtpChallenge {
        cibilId status nextStep nextStepName merchantTransactionId
        question { key text lastChance skipEligible resendEligible answerChoices { id key text } }
      }
      ... on Failure { code message retryable }
      ... on UpstreamRejected { upstreamCode upstreamMessage }
      ... on UpstreamUnauthorized { upstreamCode upstreamMessage }
      ... on UpstreamUnavailable { retryAfterSeconds }
    }
  }
`;

const APOLLO_MINIMAL_DOCUMENT = `
  mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {
    generateCibilOtp(input: $input) {
      __typename
      cibilId status nextStep nextStepName merchantTransactionId
      question { key text lastChance skipEligible resendEligible answerChoices { id key text } }
    }
  }
`;

const ACCESS_TOKEN = "123456542124";

/** First id of the run: 12 digits, so a run has room for 10^15 - 10^11 ids and every id has 12 to 15 digits. */
let nextId = 100_000_000_000;

/**
 * A factory of request bodies for `document`: `next()` returns a fresh id and the JSON body carrying it. The body is
 * built by concatenation around the id (cheap: the load generator shares the machine with the systems).
 * @param {string} document
 */
function bodyFactory(document) {
  const marker = "@@CIBIL_ID@@";
  const template = JSON.stringify({
    operationName: "GenerateCibilOtp",
    query: document,
    variables: { input: { cibilId: marker, accessToken: ACCESS_TOKEN } },
  });
  const [head, tail] = template.split(marker);
  return {
    next() {
      const id = String(nextId++);
      return { id, body: head + id + tail };
    },
  };
}

/**
 * Classifies one answer: "ok" (HTTP 200, the challenge for this very id, no GraphQL errors), "non2xx",
 * "graphqlError" (HTTP 200 with `errors`), or "wrong" (HTTP 200, no errors, but not the challenge for this id, e.g. a
 * typed failure member).
 * @param {number} status @param {string} body @param {string} id
 * @returns {"ok" | "non2xx" | "graphqlError" | "wrong"}
 */
function classify(status, body, id) {
  if (status < 200 || status >= 300) return "non2xx";
  if (body.includes('"errors":')) return "graphqlError";
  if (body.includes(`"cibilId":"${id}"`) && body.includes('"__typename":"CibilOtpChallenge"')) return "ok";
  return "wrong";
}

module.exports = { OURS_DOCUMENT, APOLLO_MINIMAL_DOCUMENT, bodyFactory, classify };
