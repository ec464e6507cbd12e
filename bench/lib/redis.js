// @ts-check
"use strict";
/**
 * The bench's own use of Redis (for the `ours-redis` system and the worker-scaling scenario): is it there, and
 * delete a run's keys afterwards. Each run gets its own REDIS_KEY_PREFIX, so runs never see each other's budgets or
 * idempotency records, and deleting the prefix leaves the shared Redis as it was (a full run writes about ten
 * throttle keys per request, some with a day's TTL). ioredis is our server's own client.
 */
const { Redis } = require("ioredis");

/** True when `url` answers PING within 2 s. */
async function redisReachable(/** @type {string} */ url) {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK); returns how many. */
async function deletePrefix(/** @type {string} */ url, /** @type {string} */ prefix) {
  if (!/^bench-/.test(prefix)) throw new Error(`refusing to delete keys outside the bench's prefixes (${prefix})`);
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
  return deleted;
}

module.exports = { redisReachable, deletePrefix };
