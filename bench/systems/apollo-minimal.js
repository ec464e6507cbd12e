// @ts-check
"use strict";
/**
 * System 2, a MINIMAL APOLLO SERVER 5: the usual way people build this. `startStandaloneServer` with default
 * settings, a tiny SDL schema (the same mutation name, an input and a small object result with the same fields as
 * our CibilOtpChallenge), and one plain resolver that calls the upstream with `undici.request` (its global
 * dispatcher, default settings) and maps the answer.
 *
 * Env: UPSTREAM_URL (origin of the fake upstream), PORT (0), HOST (127.0.0.1). NODE_ENV is set to production by the
 * bench, as a deployed server would run.
 * Prints {"msg":"GraphQL server ready","url":"http://127.0.0.1:NNNN/graphql"} like our server does.
 */
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");
const { request } = require("undici");
const { GENERATE_OTP_PATH, generateOtpWireBody, mapGenerateOtp, isSuccess } = require("../lib/aopay-wire");

const upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) throw new Error("UPSTREAM_URL is required");
const endpoint = `${upstreamUrl}${GENERATE_OTP_PATH}`;

const typeDefs = /* GraphQL */ `
  input GenerateCibilOtpInput {
    cibilId: String!
    accessToken: String!
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
  type Query {
    ok: Boolean
  }
  type Mutation {
    generateCibilOtp(input: GenerateCibilOtpInput!): CibilOtpChallenge!
  }
`;

const resolvers = {
  Query: { ok: () => true },
  Mutation: {
    /** @param {unknown} _parent @param {{ input: { cibilId: string, accessToken: string } }} args */
    async generateCibilOtp(_parent, { input }) {
      const { statusCode, body } = await request(endpoint, {
        method: "GET",
        headers: { "content-type": "application/json" },
        body: generateOtpWireBody(input.cibilId, input.accessToken),
      });
      const envelope = await body.json();
      if (statusCode !== 200 || !isSuccess(envelope)) throw new Error(`upstream answered ${statusCode}`);
      return mapGenerateOtp(envelope, input.cibilId);
    },
  },
};

async function main() {
  const server = new ApolloServer({ typeDefs, resolvers });
  const host = process.env.HOST ?? "127.0.0.1";
  const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.PORT ?? "0"), host } });
  // startStandaloneServer serves GraphQL on every path; /graphql keeps the URL the same as the other systems'.
  process.stdout.write(`${JSON.stringify({ msg: "GraphQL server ready", url: new URL("/graphql", url).href })}\n`);
}

process.on("disconnect", () => process.exit(0));
// Under --cpu-prof (npm run bench -- --cpu-prof) the profile is written at a normal exit; Apollo's own SIGTERM handler
// re-raises the signal after stopping, which would lose it. Only then does SIGTERM exit directly.
if (process.execArgv.some((a) => a.startsWith("--cpu-prof"))) process.on("SIGTERM", () => process.exit(0));
main().catch((e) => {
  process.stderr.write(`apollo-minimal failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
