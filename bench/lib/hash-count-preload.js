// @ts-check
"use strict";
/**
 * Loaded into our server by bench/hash-count.js (`node --require`): records every hash it computes, per request, with
 * no identifier in what it records. node:crypto's `hash`, `createHash` and `createHmac` are wrapped (algorithm, bytes
 * hashed, the first call site outside this file), and KeyHasher's `hash` (protection/key-hasher.js of the build
 * HASH_COUNT_DIST names, dist/ by default): dimension, identifier bytes, call site, and whether the same hasher hashed
 * the same (dimension, identifier) before in the same request, told by a tag (an HMAC of both under a random key of
 * this process, kept for the request only, never written out). A request is everything between its "request" event
 * and the next one's: the driver sends one request at a time. On SIGUSR2 the records go to the file HASH_COUNT_OUT
 * names (JSON).
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

/** @typedef {{ what: string, site: string, bytes: number, repeat?: boolean }} HashEvent */
/** @type {HashEvent[][]} */
const requests = [];
/** @type {HashEvent[]} startup, before the first request */
let current = [];
/** The (hasher, dimension, identifier) tags of this request's KeyHasher calls. @type {Set<string>} */
let seen = new Set();
/** Only for the tags: random per process, so a tag names no identifier to anyone who reads the process's memory. */
const tagKey = crypto.randomBytes(32);
let inside = 0;
/** Each KeyHasher seen, numbered. @type {Map<object, number>} */
const hasherIds = new Map();

const original = { hash: crypto.hash, createHash: crypto.createHash, createHmac: crypto.createHmac };

/** The first stack frame outside this file and outside KeyHasher, as file:line relative to the repository. */
function site(skipKeyHasher = true) {
  const stack = new Error().stack?.split("\n").slice(2) ?? [];
  for (const frame of stack) {
    if (frame.includes(__filename)) continue;
    if (skipKeyHasher && frame.includes("key-hasher")) continue;
    const m = /\(?([^()\s]+):(\d+):\d+\)?$/.exec(frame.trim());
    if (m) return `${path.relative(path.resolve(__dirname, "../.."), m[1])}:${m[2]}`;
  }
  return "?";
}

/** @param {unknown} data */
const byteLength = (data) =>
  typeof data === "string" ? Buffer.byteLength(data) : ArrayBuffer.isView(data) ? data.byteLength : 0;

/** @type {any} */ (crypto).hash = function hash(
  /** @type {string} */ algorithm,
  /** @type {any} */ data,
  /** @type {any[]} */ ...rest
) {
  // Inside KeyHasher.hash the two SHA-256 are its HMAC's: recorded there, once, with its dimension.
  if (inside === 0) current.push({ what: `crypto.hash ${algorithm}`, site: site(false), bytes: byteLength(data) });
  return /** @type {(...args: any[]) => unknown} */ (original.hash)(algorithm, data, ...rest);
};
for (const name of /** @type {const} */ (["createHash", "createHmac"])) {
  /** @type {any} */ (crypto)[name] = function create(/** @type {string} */ algorithm, /** @type {any[]} */ ...rest) {
    const h = /** @type {(...args: any[]) => any} */ (original[name])(algorithm, ...rest);
    /** @type {HashEvent} */
    const event = { what: `crypto.${name} ${algorithm}`, site: site(false), bytes: 0 };
    current.push(event);
    const update = h.update;
    h.update = function (/** @type {any} */ data, /** @type {any[]} */ ...args) {
      event.bytes += byteLength(data);
      return update.call(this, data, ...args);
    };
    return h;
  };
}

const dist = process.env.HASH_COUNT_DIST ?? path.resolve(__dirname, "../../dist");
const { KeyHasher } = require(path.join(dist, "protection/key-hasher.js"));
const keyHash = KeyHasher.prototype.hash;
KeyHasher.prototype.hash = function (
  /** @type {string} */ dimension,
  /** @type {string} */ identifier,
  /** @type {any[]} */ ...rest
) {
  // Per hasher: the same identifier under another secret (HMAC_SECRET_PREVIOUS, customer references) is another key.
  let id = hasherIds.get(this);
  if (id === undefined) hasherIds.set(this, (id = hasherIds.size));
  const digest = original.createHmac("sha256", tagKey).update(`${dimension}\0${identifier}`).digest("hex");
  const tag = `${id}:${digest}`;
  const repeat = seen.has(tag);
  seen.add(tag);
  current.push({ what: `HMAC ${dimension}`, site: site(), bytes: Buffer.byteLength(identifier), repeat });
  inside++;
  try {
    return keyHash.call(this, dimension, identifier, ...rest);
  } finally {
    inside--;
  }
};

/** @type {(this: http.Server, event: string | symbol, ...args: any[]) => boolean} */
const emit = /** @type {any} */ (http.Server.prototype.emit);
http.Server.prototype.emit = function (/** @type {string | symbol} */ event, /** @type {any[]} */ ...args) {
  if (event === "request") {
    requests.push((current = []));
    seen = new Set();
  }
  return emit.call(this, event, ...args);
};

process.on("SIGUSR2", () => {
  const out = process.env.HASH_COUNT_OUT;
  if (out) fs.writeFileSync(out, JSON.stringify({ requests }));
});
