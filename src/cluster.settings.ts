import { defineSettings, int } from "./settings/schema";

/** Worker processes (src/cluster.ts): one by default, i.e. no cluster at all. */
export const clusterSettings = defineSettings({
  title: "Workers",
  module: "src/cluster.ts",
  prefixes: [],
  settings: {
    WEB_CONCURRENCY: int({
      default: 1,
      min: 1,
      max: 256,
      doc:
        "server processes (`node:cluster` workers), each a full server on the same port; Node uses one core per process. More than 1 needs " +
        "`REDIS_URL` (throttle budgets, idempotency keys and consents must be shared) and `AOPAY_BASE_URL` (each worker would have its own simulator). " +
        "Metrics of all workers are served by the primary on `METRICS_PORT`. Some platforms set it themselves (Heroku's Node.js buildpack, " +
        "from the dyno's memory): see [Workers](docs/deploying.md#workers); sizing in [Workers](docs/performance.md#workers)",
    }),
    WORKER_HANG_TIMEOUT_MS: int({
      default: 30_000,
      min: 1_000,
      max: 3_600_000,
      doc:
        "with `WEB_CONCURRENCY` above 1: how long a worker may leave the primary's heartbeat (sent over the cluster's IPC channel, " +
        "answered from the worker's event loop) unanswered before the primary kills it (SIGKILL) and starts another, as for a worker " +
        "that died (`cluster_worker_restarts_total`). Until then the primary kept handing it connections that were never answered, and " +
        "a liveness probe on `/healthz`, answered by each worker in turn, passed every other time: see [Workers](docs/deploying.md#workers)",
    }),
  },
});
