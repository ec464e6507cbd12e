// @ts-check
"use strict";
/**
 * System 1, the FLOOR: the least a pass-through can do. A raw node:http server that reads the GraphQL POST body,
 * parses it, takes `variables.input`, calls the upstream with undici (CIBIL: GET with a JSON body; AEPS: POST, like
 * our server), parses and maps the answer into the same GraphQL-shaped JSON (`{"data":{"<field>":{...}}}`) and
 * answers. It picks the mutation by `operationName`. No GraphQL library, no validation beyond what the upstream call
 * needs, no logging.
 *
 * Upstream sockets are reused: undici closes the socket after any request whose method does not expect a body (GET)
 * but carries one, unless the request says `reset: false` (lib/dispatcher/client-h1.js). The floor says so, as the
 * least costly way to make this call; FLOOR_RESET=1 gives undici's default (a new connection per call) instead.
 *
 * Env: UPSTREAM_URL (origin of the fake upstream), UPSTREAM_CONNECTIONS (undici Pool size, default 128 like our
 * server's AOPAY_CONNECTIONS), FLOOR_RESET, PORT (0), HOST (127.0.0.1).
 * Prints {"msg":"GraphQL server ready","url":"http://127.0.0.1:NNNN/graphql"} like our server does.
 */
const http = require("node:http");
const { Pool } = require("undici");
const {
  CIBIL_PATH,
  AEPS_PATH,
  cibilWireBody,
  aepsWireBody,
  mapGenerateOtp,
  mapResendOtp,
  isSuccess,
} = require("../lib/aopay-wire");

const upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) throw new Error("UPSTREAM_URL is required");
const pool = new Pool(upstreamUrl, { connections: Number(process.env.UPSTREAM_CONNECTIONS ?? "128"), pipelining: 1 });
const BODY_LIMIT = 32 * 1024;
const JSON_HEADERS = { "content-type": "application/json" };
const RESET = process.env.FLOOR_RESET === "1" ? undefined : false;

function send(/** @type {http.ServerResponse} */ res, /** @type {number} */ status, /** @type {unknown} */ payload) {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

const error = (/** @type {string} */ message) => ({ errors: [{ message }] });

/** The two mutations: how to call the upstream and how to map its answer. */
const CALLS = {
  GenerateCibilOtp: {
    field: "generateCibilOtp",
    valid: (/** @type {any} */ i) => typeof i?.cibilId === "string" && typeof i.accessToken === "string",
    request: (/** @type {any} */ i) => ({
      path: CIBIL_PATH,
      method: /** @type {const} */ ("GET"),
      reset: RESET,
      headers: JSON_HEADERS,
      body: cibilWireBody(i),
    }),
    map: (/** @type {any} */ envelope, /** @type {any} */ i) => mapGenerateOtp(envelope, i.cibilId),
  },
  ResendAepsOtp: {
    field: "resendAepsOtp",
    valid: (/** @type {any} */ i) =>
      ["userKey", "mobile", "aadhaar", "primaryKeyId", "encodeTxnId"].every((k) => typeof i?.[k] === "string"),
    request: (/** @type {any} */ i) => ({
      path: AEPS_PATH,
      method: /** @type {const} */ ("POST"),
      headers: JSON_HEADERS,
      body: aepsWireBody(i),
    }),
    map: (/** @type {any} */ envelope, /** @type {any} */ i) => mapResendOtp(envelope, i),
  },
};

async function handle(/** @type {Buffer} */ raw, /** @type {http.ServerResponse} */ res) {
  /** @type {any} */
  let request;
  try {
    request = JSON.parse(raw.toString("utf8"));
  } catch {
    return send(res, 400, error("Request body is not valid JSON."));
  }
  const call = CALLS[/** @type {keyof typeof CALLS} */ (request?.operationName)];
  const input = request?.variables?.input;
  if (!call) return send(res, 400, error("operationName must be GenerateCibilOtp or ResendAepsOtp."));
  if (!call.valid(input)) return send(res, 400, error("variables.input is incomplete."));
  try {
    const { statusCode, body } = await pool.request(call.request(input));
    const envelope = await body.json();
    if (statusCode !== 200 || !isSuccess(envelope)) return send(res, 502, error(`upstream answered ${statusCode}`));
    send(res, 200, { data: { [call.field]: call.map(envelope, input) } });
  } catch (e) {
    send(res, 502, error(`upstream call failed: ${e instanceof Error ? e.message : String(e)}`));
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/graphql") return send(res, 404, error("Not found."));
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  req.on("data", (/** @type {Buffer} */ c) => {
    size += c.length;
    if (size > BODY_LIMIT) {
      send(res, 413, error("Request body is too large."));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on("end", () => void handle(Buffer.concat(chunks, size), res));
});

process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => server.close(() => void pool.close().then(() => process.exit(0))));

const host = process.env.HOST ?? "127.0.0.1";
server.listen({ port: Number(process.env.PORT ?? "0"), host, backlog: 511 }, () => {
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  process.stdout.write(`${JSON.stringify({ msg: "GraphQL server ready", url: `http://${host}:${port}/graphql` })}\n`);
});
