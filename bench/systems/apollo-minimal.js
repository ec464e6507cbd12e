// @ts-check
"use strict";
/**
 * System 2, a MINIMAL APOLLO SERVER 5: the usual way people build this, with no protection at all.
 * `startStandaloneServer` with default settings, a tiny SDL schema (systems/minimal-schema.js) and one plain resolver
 * per mutation that calls the upstream with `undici.request` (its global dispatcher: an Agent, keep-alive, default
 * settings) and maps the answer.
 *
 * The one change from the plainest code: the CIBIL call (a GET with a body) passes `reset: false`, so undici keeps the
 * socket for the next call as it does after the AEPS POST. Without it undici closes the connection after every such
 * GET (lib/dispatcher/client-h1.js) and this system would pay a TCP connect per call that ours and the floor do not:
 * every system gets the same connection reuse (`--floor-reset` shows what the reconnects cost).
 *
 * Env: UPSTREAM_URL (origin of the fake upstream), PORT (0), HOST (127.0.0.1). NODE_ENV is set to production by the
 * bench, as a deployed server would run.
 */
const { ApolloServer } = require("@apollo/server");
const { request } = require("undici");
const {
  CIBIL_PATH,
  AEPS_PATH,
  cibilWireBody,
  aepsWireBody,
  mapGenerateOtp,
  mapResendOtp,
  isSuccess,
} = require("../lib/aopay-wire");
const { typeDefs, listen, lifecycle } = require("./minimal-schema");

const upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) throw new Error("UPSTREAM_URL is required");
const JSON_HEADERS = { "content-type": "application/json" };

/** @param {import("undici").Dispatcher.ResponseData} r */
async function envelopeOf(r) {
  const envelope = await r.body.json();
  if (r.statusCode !== 200 || !isSuccess(envelope)) throw new Error(`upstream answered ${r.statusCode}`);
  return envelope;
}

const resolvers = {
  Query: { ok: () => true },
  Mutation: {
    /** @param {unknown} _parent @param {{ input: { cibilId: string, accessToken: string } }} args */
    async generateCibilOtp(_parent, { input }) {
      const r = await request(`${upstreamUrl}${CIBIL_PATH}`, {
        method: "GET",
        reset: false,
        headers: JSON_HEADERS,
        body: cibilWireBody(input),
      });
      return mapGenerateOtp(await envelopeOf(r), input.cibilId);
    },
    /** @param {unknown} _parent @param {{ input: import("../lib/aopay-wire").AepsInput }} args */
    async resendAepsOtp(_parent, { input }) {
      const r = await request(`${upstreamUrl}${AEPS_PATH}`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: aepsWireBody(input),
      });
      return mapResendOtp(await envelopeOf(r), input);
    },
  },
};

lifecycle("apollo-minimal", () => listen(new ApolloServer({ typeDefs, resolvers })));
