import { bool, defineSettings, int, LISTEN_ADDRESS, text } from "../settings/schema";

/** Prometheus's registered default port for Node exporters. */
export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_METRICS_HOST = "127.0.0.1";

/** The Prometheus listener as loadConfig reads it from metricsSettings (http/metrics-server.ts serves it). */
export interface MetricsConfig {
  enabled: boolean;
  /** A listener of its own, on loopback by default: never on the public port. */
  host: string;
  /** 0: an ephemeral port (tests). */
  port: number;
  /** If set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | null;
  /** METRICS_TOKEN_PREVIOUS: also accepted, during a rotation (only with `token`). */
  previousToken: string | null;
}

/** The Prometheus listener (src/http/metrics-server.ts), never on the public API port. */
export const metricsSettings = defineSettings({
  title: "Metrics",
  module: "src/http/metrics-server.ts",
  prefixes: ["METRICS_"],
  settings: {
    METRICS_ENABLED: bool({ default: true, doc: "serve Prometheus metrics" }),
    METRICS_HOST: text({
      ...LISTEN_ADDRESS,
      default: DEFAULT_METRICS_HOST,
      doc: "the metrics listener's address; `0.0.0.0` in the Docker image (see [docs/deploying.md](docs/deploying.md#docker))",
    }),
    METRICS_PORT: int({
      default: DEFAULT_METRICS_PORT,
      min: 0,
      max: 65_535,
      doc: "the metrics listener's port, separate from the API port (`0`: ephemeral)",
    }),
    METRICS_TOKEN: text({
      minLength: 16,
      howToMake: "`openssl rand -hex 24`",
      secret: true,
      doc: "if set (at least 16 characters), scrapes must send `Authorization: Bearer <token>`",
    }),
    // One token alone cannot be rotated without a gap: the replicas and the scraper never switch at the same moment,
    // and every scrape refused meanwhile reads as the target down (`up` 0) and leaves holes in every alert's series.
    METRICS_TOKEN_PREVIOUS: text({
      minLength: 16,
      howToMake: "the token METRICS_TOKEN replaced",
      secret: true,
      doc:
        "the token `METRICS_TOKEN` replaced, still accepted while the scrapers move to the new one; remove it once they have " +
        '(docs/operations.md, "Rotating the metrics token"). Needs `METRICS_TOKEN`',
    }),
  },
});
