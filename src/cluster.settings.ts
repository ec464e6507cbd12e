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
  },
});
