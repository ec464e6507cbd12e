// @ts-check
"use strict";
/**
 * Unloaded latency, paired: every system is up at once, each behind its own connection (an undici Pool of one), and the
 * client sends one request at a time, `block` requests in a row to one system, then `block` to the next, in an order
 * that changes with each turn (`balancedOrder`), so each system follows each other one about equally often. After
 * sitting idle while the others ran, a system's first `rewarm` requests of a block are not timed. The first `warmup`
 * requests of each system are not timed either. A request is timed with process.hrtime.bigint() from just before it is
 * handed to undici to the last byte of the answer. Every answer is checked like the load runs check theirs, and the
 * destinations of the correct ones are kept for the upstream check.
 *
 * Why paired: measured one system after another, each right after its own fixed-rate run, the same code's added
 * latency over the floor ran from −146 to 635 µs between rounds (docs/performance-runs.md, the a0e4fe5 run): one second
 * of this shared host is slower or faster than the next. In blocks a few tens of milliseconds long, the floor and the
 * system under test see nearly the same moments of the machine.
 *
 * Why blocks and a re-warm, not one request each: a process that sat idle for a few milliseconds answers its next
 * request slower (caches, the scheduler). Measured with the floor and ours alone (2026-12-02, median per position in a
 * block of 20 after the others' blocks): the floor 847, 540, 541, 477, 446, then about 400 µs from the 10th on; ours
 * 1,221, 856, 859, 814, 746, then about 640. One request each measured that cold start, about 250 µs more than back
 * to back for both, and more for the larger process. The defaults (`--seq-block 50 --seq-rewarm 10`) time a warm
 * process, as the sequential client of earlier runs did.
 *
 * The client's own overhead (undici in this process) is the same for every system, so it cancels in "added latency
 * over the floor".
 */
const { Pool } = require("undici");
const { classify } = require("./mutations");
const { percentiles } = require("./stats");

/**
 * @typedef {object} Target
 * @property {string} key
 * @property {string} url
 * @property {import("./mutations").Mutation} mutation
 * @property {{ next(): { id: number, body: string } }} bodies
 * @property {Record<string, string>} [headers]
 * @property {(id: number) => Record<string, string>} [perRequestHeaders]
 */

/**
 * @param {{ targets: Target[], warmup: number, requests: number, block?: number, rewarm?: number }} opts
 * @returns {Promise<Record<string, { ok: number, shed: number, non2xx: number, graphqlErrors: number, wrong: number,
 *   errors: number, latencyUs: ReturnType<typeof percentiles>, okIds: number[] }>>} by target key
 */
async function interleaved(opts) {
  const lanes = opts.targets.map((t) => {
    const target = new URL(t.url);
    return {
      t,
      path: target.pathname,
      pool: new Pool(target.origin, { connections: 1, pipelining: 1 }),
      headers: { "content-type": "application/json", ...t.headers },
      /** @type {number[]} */
      micros: [],
      /** @type {number[]} */
      okIds: [],
      counts: { ok: 0, shed: 0, non2xx: 0, graphqlErrors: 0, wrong: 0, errors: 0 },
    };
  });
  const n = lanes.length;
  /** @param {(typeof lanes)[number]} lane @param {boolean} timed */
  const one = async (lane, timed) => {
    const { id, body } = lane.t.bodies.next();
    const h = lane.t.perRequestHeaders ? { ...lane.headers, ...lane.t.perRequestHeaders(id) } : lane.headers;
    const t0 = process.hrtime.bigint();
    /** @type {keyof typeof lane.counts} */
    let verdict;
    try {
      const res = await lane.pool.request({ path: lane.path, method: "POST", headers: h, body });
      const text = await res.body.text();
      const v = classify(lane.t.mutation, res.statusCode, text, id);
      verdict = v === "graphqlError" ? "graphqlErrors" : v;
    } catch {
      verdict = "errors";
    }
    const t1 = process.hrtime.bigint();
    if (verdict === "ok") lane.okIds.push(id);
    if (!timed) return;
    lane.micros.push(Number(t1 - t0) / 1000);
    lane.counts[verdict] += 1;
  };
  try {
    const block = Math.max(1, opts.block ?? 1);
    const rewarm = opts.rewarm ?? 0;
    const turns = Math.ceil((opts.warmup + opts.requests) / block);
    for (let i = 0, sent = 0; i < turns; i++, sent += block) {
      for (const l of balancedOrder(n, i)) {
        const lane = lanes[l];
        for (let k = 0; k < rewarm + block; k++) {
          const timed = k >= rewarm && sent + k - rewarm >= opts.warmup;
          await one(lane, timed);
        }
      }
    }
  } finally {
    await Promise.all(lanes.map((l) => l.pool.close()));
  }
  return Object.fromEntries(
    lanes.map((l) => [l.t.key, { ...l.counts, latencyUs: percentiles(l.micros), okIds: l.okIds }]),
  );
}

/**
 * One system alone (bench:callgrind, bench:syscalls): a single lane.
 * @param {Omit<Target, "key"> & { warmup: number, requests: number }} opts
 */
async function sequential(opts) {
  const { warmup, requests, ...target } = opts;
  return (await interleaved({ targets: [{ ...target, key: "only" }], warmup, requests })).only;
}

/**
 * Row `index` of a Williams design for `n` systems: an order of 0..n-1 in which, over n consecutive rows (2n when n is
 * odd), every system comes right after every other system equally often, and runs in every position equally often.
 * A rotation alone (i, i+1, ...) keeps every system after the same neighbour: in a trial of phase A in turns that
 * way, identical code measured 0.98 to 1.16× itself, the system after the heaviest one paying for what that one left
 * running (docs/performance-runs.md, "Round a6d9cff").
 * @param {number} n @param {number} index
 */
function balancedOrder(n, index) {
  const first = [0];
  for (let k = 1; first.length < n; k++) {
    first.push(k);
    if (first.length < n) first.push(n - k);
  }
  const rows = n % 2 === 0 ? n : 2 * n;
  const r = ((index % rows) + rows) % rows;
  const row = first.map((x) => (x + r) % n);
  return n % 2 === 1 && r >= n ? row.reverse() : row;
}

module.exports = { interleaved, sequential, balancedOrder };
