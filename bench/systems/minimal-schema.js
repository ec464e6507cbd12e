// @ts-check
"use strict";
/**
 * The small SDL schema both Apollo reference systems serve (systems/apollo-minimal.js, systems/apollo-rest.js): the
 * same two mutation names as ours, plain inputs (strings, no validation) and small object results with the same
 * fields as our CibilOtpChallenge and AepsOtpResent. No unions, no failure members: the usual build.
 */
const typeDefs = /* GraphQL */ `
  input GenerateCibilOtpInput {
    cibilId: String!
    accessToken: String!
  }
  input ResendAepsOtpInput {
    userKey: String!
    mobile: String!
    aadhaar: String!
    primaryKeyId: String!
    encodeTxnId: String!
  }
  type CibilAnswerChoice {
    id: String!
    key: String!
    text: String!
  }
  type CibilOtpQuestion {
    key: String
    text: String
    lastChance: Boolean
    skipEligible: Boolean
    resendEligible: Boolean
    answerChoices: [CibilAnswerChoice!]!
  }
  type CibilOtpChallenge {
    cibilId: String!
    status: String!
    nextStep: String
    nextStepName: String
    merchantTransactionId: String
    question: CibilOtpQuestion
  }
  type AepsOtpResent {
    upstreamMessage: String
    upstreamResponseCode: Int
    upstreamErrorCode: String
    primaryKeyId: String
    encodeTxnId: String
    maskedAadhaar: String!
    maskedMobile: String!
  }
  type Query {
    ok: Boolean
  }
  type Mutation {
    generateCibilOtp(input: GenerateCibilOtpInput!): CibilOtpChallenge!
    resendAepsOtp(input: ResendAepsOtpInput!): AepsOtpResent!
  }
`;

/**
 * Starts `server` with startStandaloneServer (default settings) and prints the ready line the bench waits for.
 * @param {import("@apollo/server").ApolloServer<any>} server @param {Parameters<typeof import("@apollo/server/standalone").startStandaloneServer>[1]} [options]
 */
async function listen(server, options) {
  const { startStandaloneServer } = require("@apollo/server/standalone");
  const host = process.env.HOST ?? "127.0.0.1";
  const { url } = await startStandaloneServer(server, {
    ...options,
    listen: { port: Number(process.env.PORT ?? "0"), host },
  });
  // startStandaloneServer serves GraphQL on every path; /graphql keeps the URL the same as the other systems'.
  process.stdout.write(`${JSON.stringify({ msg: "GraphQL server ready", url: new URL("/graphql", url).href })}\n`);
}

/** Exit with the bench; write --cpu-prof profiles (Apollo's own SIGTERM handler re-raises the signal, losing them). */
function lifecycle(/** @type {string} */ name, /** @type {() => Promise<void>} */ main) {
  process.on("disconnect", () => process.exit(0));
  if (process.execArgv.some((a) => a.startsWith("--cpu-prof"))) process.on("SIGTERM", () => process.exit(0));
  main().catch((e) => {
    process.stderr.write(`${name} failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}

module.exports = { typeDefs, listen, lifecycle };
