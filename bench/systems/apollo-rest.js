// @ts-check
"use strict";
/**
 * System 3, APOLLO SERVER 5 + RESTDataSource (`@apollo/datasource-rest`): the usual "GraphQL over REST" build.
 * `startStandaloneServer` with default settings, the same small schema as the minimal system
 * (systems/minimal-schema.js), and a RESTDataSource subclass made per request in the context function with the
 * server's shared cache, as Apollo's documentation shows. Its `get`/`post` serialise the body, consult the HTTP cache
 * and the per-request deduplication, parse the JSON answer and throw on a non-2xx status.
 *
 * **The GET with a body.** RESTDataSource's default fetch is node-fetch 2, which refuses a body on a GET ("Request
 * with GET/HEAD method cannot have body"), as the WHATWG fetch in Node does; its TypeScript types forbid it too
 * (`GetRequest.body?: never`). At run time `get(path, { body })` passes the body through to the `fetch` option
 * (a `Fetcher`, @apollo/utils.fetcher), so this system gives it one backed by `undici.request`: the same client, the
 * same global dispatcher (keep-alive) and the same `reset: false` after a GET with a body as the minimal Apollo
 * system, for both mutations. The answer is wrapped in a WHATWG `Response` (what fetch would return). This is likely
 * cheaper than node-fetch, so it favours this reference, never ours.
 *
 * Caveat of that build, not of the bench: RESTDataSource keys its HTTP cache and its deduplication by method and URL,
 * not by body, so two GETs to GenerateOTP with different ids look alike to it. The fake upstream sends no caching
 * headers and every request makes its own data source, so nothing is cached or deduplicated here; the bench checks
 * that every answer reached the upstream (lib/hits.js), which would catch it.
 *
 * Env: UPSTREAM_URL (origin of the fake upstream), PORT (0), HOST (127.0.0.1).
 */
const { ApolloServer } = require("@apollo/server");
const { RESTDataSource } = require("@apollo/datasource-rest");
const { request } = require("undici");
const { API_PREFIX, cibilWire, aepsWire, mapGenerateOtp, mapResendOtp, isSuccess } = require("../lib/aopay-wire");
const { typeDefs, listen, lifecycle } = require("./minimal-schema");

const upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) throw new Error("UPSTREAM_URL is required");

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `Fetcher` on undici.request: a GET may carry a body, and the socket is kept after it (`reset: false`).
 * @type {import("@apollo/utils.fetcher").Fetcher}
 */
async function undiciFetch(url, init = {}) {
  const method = /** @type {import("undici").Dispatcher.HttpMethod} */ (init.method ?? "GET");
  const r = await request(url, {
    method,
    headers: init.headers,
    body: init.body,
    ...(method === "GET" && init.body != null ? { reset: false } : {}),
  });
  const text = await r.body.text();
  const headers = new Headers();
  for (const [name, value] of Object.entries(r.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  const response = new Response(NULL_BODY_STATUSES.has(r.statusCode) ? null : text, { status: r.statusCode, headers });
  return /** @type {import("@apollo/utils.fetcher").FetcherResponse} */ (/** @type {unknown} */ (response));
}

class AopayAPI extends RESTDataSource {
  baseURL = `${upstreamUrl}${API_PREFIX}/`;

  /** @param {{ cibilId: string, accessToken: string }} input */
  async generateOtp(input) {
    // GetRequest's types say `body?: never`; the body goes through at run time (see the header comment).
    const envelope = await this.get("CibilScore/GenerateOTP", /** @type {any} */ ({ body: cibilWire(input) }));
    if (!isSuccess(envelope)) throw new Error("upstream refused");
    return mapGenerateOtp(envelope, input.cibilId);
  }

  /** @param {import("../lib/aopay-wire").AepsInput} input */
  async resendOtp(input) {
    const envelope = await this.post("V1/AEPS/UserRegisterBankWise/ResendOTP", { body: aepsWire(input) });
    if (!isSuccess(envelope)) throw new Error("upstream refused");
    return mapResendOtp(envelope, input);
  }
}

/** @typedef {{ dataSources: { aopay: AopayAPI } }} Context */

const resolvers = {
  Query: { ok: () => true },
  Mutation: {
    /** @param {unknown} _p @param {{ input: { cibilId: string, accessToken: string } }} args @param {Context} ctx */
    generateCibilOtp: (_p, { input }, ctx) => ctx.dataSources.aopay.generateOtp(input),
    /** @param {unknown} _p @param {{ input: import("../lib/aopay-wire").AepsInput }} args @param {Context} ctx */
    resendAepsOtp: (_p, { input }, ctx) => ctx.dataSources.aopay.resendOtp(input),
  },
};

lifecycle("apollo-rest", async () => {
  /** @type {ApolloServer<Context>} */
  const server = new ApolloServer({ typeDefs, resolvers });
  await listen(server, {
    context: async () => ({ dataSources: { aopay: new AopayAPI({ cache: server.cache, fetch: undiciFetch }) } }),
  });
});
