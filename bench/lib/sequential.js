// @ts-check
"use strict";
/**
 * Unloaded latency: one connection, one request at a time (an undici Pool of one connection), timed with
 * process.hrtime.bigint() from just before the request is handed to undici to the last byte of the answer. The first
 * `warmup` requests are not timed. Every answer is checked like the load runs check theirs, and the destinations of
 * the correct ones are kept for the upstream check.
 *
 * The client's own overhead (undici in this process) is the same for every system, so it cancels in "added latency
 * over the floor".
 */
const { Pool } = require("undici");
const { classify } = require("./mutations");
const { percentiles } = require("./stats");

/**
 * @param {{ url: string, mutation: import("./mutations").Mutation, bodies: { next(): { id: number, body: string } },
 *   headers?: Record<string, string>, perRequestHeaders?: (id: number) => Record<string, string>,
 *   warmup: number, requests: number }} opts
 */
async function sequential(opts) {
  const target = new URL(opts.url);
  const pool = new Pool(target.origin, { connections: 1, pipelining: 1 });
  const headers = { "content-type": "application/json", ...opts.headers };
  /** @type {number[]} */
  const micros = [];
  /** @type {number[]} */
  const okIds = [];
  const counts = { ok: 0, shed: 0, non2xx: 0, graphqlErrors: 0, wrong: 0, errors: 0 };
  try {
    for (let i = 0; i < opts.warmup + opts.requests; i++) {
      const { id, body } = opts.bodies.next();
      const h = opts.perRequestHeaders ? { ...headers, ...opts.perRequestHeaders(id) } : headers;
      const t0 = process.hrtime.bigint();
      /** @type {keyof typeof counts} */
      let verdict;
      try {
        const res = await pool.request({ path: target.pathname, method: "POST", headers: h, body });
        const text = await res.body.text();
        const v = classify(opts.mutation, res.statusCode, text, id);
        verdict = v === "graphqlError" ? "graphqlErrors" : v;
      } catch {
        verdict = "errors";
      }
      const t1 = process.hrtime.bigint();
      if (verdict === "ok") okIds.push(id);
      if (i < opts.warmup) continue;
      micros.push(Number(t1 - t0) / 1000);
      counts[verdict] += 1;
    }
  } finally {
    await pool.close();
  }
  return { ...counts, latencyUs: percentiles(micros), okIds };
}

module.exports = { sequential };
